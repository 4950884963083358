"""Webhook signatures against the vendors' documented test vectors, offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.exchanges import RECORDED
from tests.contract.recorded import BASE_URL
from tierbridge.core.errors import WebhookAuthError
from tierbridge.testing import adapter, adapters
from tierbridge.testing.adapter import SECRET_ENV
from tierbridge.testing.settings import build_connector


def _vectors() -> Iterator[Any]:
    for contract in adapters():
        path = RECORDED / contract.system / "webhook_vector.json"
        if path.exists():
            yield pytest.param(
                contract.system,
                json.loads(path.read_text("utf-8")),
                id=f"{contract.system}-recorded-vector",
                marks=pytest.mark.recorded,
            )


@pytest.mark.parametrize(("system", "vector"), list(_vectors()))
def test_documented_vector_verifies(
    system: str, vector: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connector accepts the documented signature, and the adapter signs the same way."""
    contract = adapter(system)
    monkeypatch.setenv(SECRET_ENV.credential, "unused")
    monkeypatch.setenv(SECRET_ENV.webhook, vector["secret"])
    connector = build_connector(system, contract.recorded_settings(BASE_URL, SECRET_ENV))
    body = vector["text"].encode("utf-8")

    try:
        connector.verify_webhook(vector["headers"], body)
        with pytest.raises(WebhookAuthError):
            connector.verify_webhook(vector["headers"], body + b" ")
    finally:
        connector.close()

    assert contract.sign(body, vector["secret"]) == vector["headers"]
