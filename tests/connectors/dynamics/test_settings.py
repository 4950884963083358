from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from tests.connectors.dynamics.conftest import MakeSettings


def test_defaults(make_settings: MakeSettings) -> None:
    """Defaults: header auth, new_externalref, 8 concurrent requests, <org>/.default scope."""
    settings = make_settings(webhook={"secret": {"env": "X"}})

    assert settings.webhook is not None
    assert settings.webhook.auth == "header"
    assert settings.webhook_header == "x-tierbridge-webhook-key"
    assert settings.correlation_field == "new_externalref"
    assert settings.max_concurrent_requests == 8
    assert settings.scope == f"{settings.url}/.default"
    assert settings.authority == f"{settings.url}/{settings.tenant_id}"


def test_attachment_limit_default(make_settings: MakeSettings) -> None:
    """By default a file is copied only if its Base64 form fits Dataverse's 5 MB note limit."""
    settings = make_settings()

    assert settings.attachments.enabled is True
    assert settings.attachments.max_size_mb == 3.75
    largest = bytes(settings.attachments.max_bytes)
    assert len(base64.b64encode(largest)) == 5 * 1024 * 1024


def test_attachment_limit_override(make_settings: MakeSettings) -> None:
    """An organisation with a raised maxuploadfilesize sets its own limit."""
    settings = make_settings(attachments={"max_size_mb": 96})

    assert settings.attachments.max_size_mb == 96


def test_partial_block_keeps_default(make_settings: MakeSettings) -> None:
    """An `attachments:` block without max_size_mb keeps the Dynamics default, not 10 MB."""
    settings = make_settings(attachments={"enabled": True})

    assert settings.attachments.max_size_mb == 3.75


def test_default_authority_host(make_settings: MakeSettings) -> None:
    """Without authority_host tokens come from login.microsoftonline.com."""
    values: dict[str, Any] = {}
    settings = make_settings(**values)
    default = type(settings).model_validate(
        {**settings.model_dump(exclude={"authority_host"}), "system": "dynamics"}
    )

    assert default.authority.startswith("https://login.microsoftonline.com/")


@pytest.mark.parametrize(
    "overrides",
    [
        {"authority_host": "http://127.0.0.1:1"},
        {"auth": {"type": "basic", "username": "u", "password": {"env": "X"}}},
        {
            "auth": {
                "type": "oauth_client_credentials",
                "client_id": "c",
                "client_secret": {"env": "X"},
                "token_url": "https://x.example.com/t",
            }
        },
        {"default_customer": "accounts(1)"},
        {"date_only_fields": ["New Due Date"]},
        {"public_notes_as": "note"},
        {"webhook": {"secret": {"env": "X"}, "auth": "hmac"}},
        {"max_concurrent_requests": 0},
        {"tenant_id": "a/b"},
    ],
)
def test_invalid(make_settings: MakeSettings, overrides: dict[str, Any]) -> None:
    """Settings the connector cannot use are refused when the config loads."""
    with pytest.raises(ValidationError):
        make_settings(**overrides)
