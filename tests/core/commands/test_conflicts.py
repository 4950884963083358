"""Tests of `tierbridge conflicts` on conflicts the engine logged between the emulators."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.ops.support import escalate, run_captured, write_config


def settled_conflict(stack: Stack) -> None:
    """Change the status on both sides before a sync; `last_writer` keeps the newer JSM one."""
    linked = escalate(stack)
    stack.l1.update_incident(linked.sys_id, state="2")
    stack.l2.transition_to(linked.key, "Waiting for customer")
    stack.process("snow", linked.sys_id)


def test_settled_conflict_listed(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A conflict a policy settled is listed as settled, with the field and the outcome."""
    settled_conflict(stack)
    config = write_config(stack, tmp_path)

    status, out, _err = run_captured(capsys, "conflicts", "--config", str(config), "--json")

    (item,) = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert item["fields"] == ["status"]
    assert item["held"] is False
    assert "target value kept" in item["detail"]


def test_held_leaves_out_settled(
    stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--held lists only conflicts left for a person, so a settled one is not shown."""
    settled_conflict(stack)
    config = write_config(stack, tmp_path)

    status, out, _err = run_captured(capsys, "conflicts", "--config", str(config), "--held")

    assert status == 0
    assert out.strip() == "no conflicts recorded"
