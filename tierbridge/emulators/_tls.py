"""A throw-away certificate authority and a server certificate for 127.0.0.1 and localhost.

The emulators serve HTTPS because pysnc and simple-salesforce refuse plain http. Clients
trust the generated CA through `REQUESTS_CA_BUNDLE` or a connector's `ca_bundle` setting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

try:
    import fcntl
except ImportError:  # Windows has no fcntl, and there the creation is not locked.
    fcntl = None  # type: ignore[assignment]

__all__ = ["TlsFiles", "ensure_tls_files"]

_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files: the CA certificate, the server certificate and its key."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def _build_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("tierbridge emulator CA"))
        .issuer_name(_name("tierbridge emulator CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _build_server_cert(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(names, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def ensure_tls_files(folder: Path) -> TlsFiles:
    """Create the CA and server certificate in `folder` unless valid ones are already there.

    Emulators started at the same moment share the folder, so the check and the creation
    run under a lock file. Without it, one could write the CA and another the server
    certificate, and a server started later would present a certificate its clients' CA
    did not sign.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    now = datetime.now(UTC)
    with _locked(folder / ".lock"):
        if _usable(files, now):
            return files

        ca_key, ca_cert = _build_ca(now)
        server_key, server_cert = _build_server_cert(ca_key, ca_cert, now)
        files.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        files.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        _write_key(server_key, files.server_key)
    return files


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` where the platform has `fcntl`."""
    with path.open("a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _usable(files: TlsFiles, now: datetime) -> bool:
    """Tell whether the files exist, match one another and stay valid for another day."""
    if not (files.server_cert.exists() and files.server_key.exists() and files.ca_cert.exists()):
        return False
    try:
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
        server.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    if key.public_key() != server.public_key():
        return False
    return server.not_valid_after_utc - now > timedelta(days=1)
