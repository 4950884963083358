"""Status changes: each step of the system's workflow is written and read back."""

from __future__ import annotations

from tierbridge.testing import Target


def test_status_steps_read_back(target: Target) -> None:
    """Every status step (work started, then resolved) reads back as written."""
    facts = target.facts
    seeded = target.seed("Disk full on file server")
    connector = target.connector()

    for step in facts.status_steps:
        target.advance(60)
        record = connector.update_record(seeded.id, step)

        assert str(record.fields[facts.status_field]) == str(step[facts.status_field])
        assert str(connector.get_record(seeded.id).fields[facts.status_field]) == str(
            step[facts.status_field]
        )
