"""Authentication: valid credentials read, wrong ones raise, expired sessions are renewed."""

from __future__ import annotations

import pytest

from tierbridge.core.errors import AuthenticationError
from tierbridge.testing import Target, Unsupported


def test_valid_credentials_read(target: Target) -> None:
    """A connector with the account's credentials reads a ticket a person created."""
    seeded = target.seed("VPN drops every 10 minutes")
    connector = target.connector()

    record = connector.get_record(seeded.id)

    assert record.id == seeded.id
    assert str(record.fields[target.facts.title_field]).endswith("VPN drops every 10 minutes")


def test_wrong_secret_rejected(target: Target) -> None:
    """A wrong password, token or client secret raises AuthenticationError, not a retry."""
    seeded = target.seed("Printer jams on tray 2")
    connector = target.connector(**target.invalid_credentials())

    with pytest.raises(AuthenticationError) as raised:
        connector.get_record(seeded.id)

    assert raised.value.connector == connector.name
    assert raised.value.operation


def test_expired_session_renewed(target: Target) -> None:
    """After the system expires every session, the next read gets a new one and succeeds."""
    if not target.facts.session_expiry:
        raise Unsupported(
            f"{target.system} sends its credentials on every call; no session expires"
        )
    seeded = target.seed("Printer jams on tray 2")
    connector = target.connector()
    connector.get_record(seeded.id)

    target.expire_sessions()
    record = connector.get_record(seeded.id)

    assert record.id == seeded.id
