"""The emulators' generated CA and server certificate, shared by every emulator in a folder."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from tierbridge.emulators import _tls
from tierbridge.emulators._tls import TlsFiles, ensure_tls_files

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]


def issued_by_ca(files: TlsFiles) -> bool:
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    try:
        server.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def test_valid_files_reused(tmp_path: Path) -> None:
    """A second call keeps the CA and certificate the first one wrote."""
    first = ensure_tls_files(tmp_path)
    before = first.ca_cert.read_bytes()

    second = ensure_tls_files(tmp_path)

    assert second.ca_cert.read_bytes() == before


def test_mismatched_files_replaced(tmp_path: Path) -> None:
    """A server certificate that the folder's CA did not sign is made again, with a new CA."""
    mixed = ensure_tls_files(tmp_path / "a")
    other = ensure_tls_files(tmp_path / "b")
    shutil.copy(other.server_cert, mixed.server_cert)
    shutil.copy(other.server_key, mixed.server_key)
    assert not issued_by_ca(mixed)

    files = ensure_tls_files(tmp_path / "a")

    assert issued_by_ca(files)


@pytest.mark.skipif(fcntl is None, reason="file locks need fcntl, which Windows lacks")
def test_creation_holds_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The certificates are made under the folder's lock, so emulators starting together wait."""
    seen: list[bool] = []
    build_ca = _tls._build_ca

    def build_and_probe(now: datetime) -> Any:
        with (tmp_path / ".lock").open("a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                seen.append(True)
            else:
                seen.append(False)
        return build_ca(now)

    monkeypatch.setattr(_tls, "_build_ca", build_and_probe)

    ensure_tls_files(tmp_path)

    assert seen == [True]
