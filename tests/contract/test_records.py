"""Tickets: create, read, update, correlation search and missing records."""

from __future__ import annotations

import pytest

from tierbridge.core.errors import NotFoundError
from tierbridge.testing import MARKER, Target

TITLE = f"{MARKER} VPN drops every 10 minutes"


def test_create_reads_back(target: Target) -> None:
    """A created ticket comes back with its title, and reads the same by id."""
    facts = target.facts
    connector = target.connector()

    created = connector.create_record(
        {facts.title_field: TITLE, **facts.create_fields}, target.correlation_key()
    )
    target.created(created.id)
    read = connector.get_record(created.id)

    assert created.fields[facts.title_field] == TITLE
    assert read.id == created.id
    assert read.fields[facts.title_field] == TITLE
    assert read.version == created.version


def test_find_by_correlation(target: Target) -> None:
    """The ticket created for a correlation key is found by that key; another key finds none."""
    facts = target.facts
    connector = target.connector()
    key = target.correlation_key()
    created = connector.create_record({facts.title_field: TITLE, **facts.create_fields}, key)
    target.created(created.id)

    found = connector.find_by_correlation(key)
    other = connector.find_by_correlation("servicenow:ffffffffffffffffffffffffffffffff")

    assert found is not None
    assert found.id == created.id
    assert other is None


def test_update_reads_back(target: Target) -> None:
    """An update returns the ticket as stored, with the new value and a later version."""
    facts = target.facts
    seeded = target.seed("Laptop does not boot")
    connector = target.connector()
    before = connector.get_record(seeded.id)
    target.advance(60)

    after = connector.update_record(seeded.id, {facts.description_field: "Fan noise, then off."})

    assert after.id == seeded.id
    assert after.fields[facts.description_field] == "Fan noise, then off."
    assert after.version > before.version
    assert after.updated >= before.updated


def test_read_missing_record(target: Target) -> None:
    """Reading an id that does not exist raises NotFoundError naming the connector."""
    connector = target.connector()

    with pytest.raises(NotFoundError) as raised:
        connector.get_record(target.facts.missing_id)

    assert raised.value.connector == connector.name
