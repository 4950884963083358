"""Tests of `tierbridge log` on a store filled by escalating incidents through the emulators."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.ops.support import escalate, run_captured, run_cli, write_config


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


class TestLog:
    def test_table_lists_actions(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The default view is a table whose rows name the action, target and fields."""
        linked = escalate(stack)
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(capsys, "log", "--config", str(config))

        lines = out.splitlines()
        assert status == 0
        assert lines[0].split() == ["AT", "TICKET", "ACTION", "OUTCOME", "TARGET", "FIELDS", "WHY"]
        escalated = [line for line in lines if " escalated " in line]
        assert len(escalated) == 1
        assert f"jsm:{linked.key}" in escalated[0]
        assert "title" in escalated[0]

    def test_json_has_every_column(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json prints one object a line with action, target, fields, detail and error."""
        escalate(stack)
        config = write_config(stack, tmp_path)

        _status, out, _err = run_captured(capsys, "log", "--config", str(config), "--json")

        rows = json_lines(out)
        (escalated,) = [row for row in rows if row["action"] == "escalated"]
        assert escalated["target_connector"] == "jsm"
        assert "priority" in escalated["fields"]  # type: ignore[operator]
        assert escalated["detail"]
        assert escalated["error"] is None

    def test_ticket_shows_link_trail(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--ticket with the JSM key shows the rows of the linked incident too."""
        first = escalate(stack)
        other = stack.open_incident(impact="3", urgency="3")
        stack.process("snow", other["sys_id"])
        stack.process("jsm", first.issue_id)
        config = write_config(stack, tmp_path)

        _status, out, _err = run_captured(
            capsys, "log", "--config", str(config), "--json", "--ticket", f"jsm:{first.key}"
        )

        rows = json_lines(out)
        assert {row["ticket_id"] for row in rows} == {first.sys_id, first.issue_id}
        assert "escalated" in {row["action"] for row in rows}

    def test_outcome_filter(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--outcome skipped leaves out the ok rows."""
        linked = escalate(stack)
        stack.process("snow", linked.sys_id)
        config = write_config(stack, tmp_path)

        _status, out, _err = run_captured(
            capsys, "log", "--config", str(config), "--json", "--outcome", "skipped"
        )

        rows = json_lines(out)
        assert rows
        assert {row["outcome"] for row in rows} == {"skipped"}

    def test_time_window(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--since after the last row prints no rows; --until after it prints them all."""
        escalate(stack)
        (newest,) = stack.rt.store.sync_log(limit=1)
        later = (newest.at + timedelta(seconds=1)).isoformat()
        config = write_config(stack, tmp_path)

        _status, empty, _err = run_captured(
            capsys, "log", "--config", str(config), "--since", later
        )
        _status, out, _err = run_captured(
            capsys, "log", "--config", str(config), "--json", "--until", later
        )
        rows = json_lines(out)

        assert empty.strip() == "no sync log rows match"
        assert len(rows) == len(stack.rt.store.sync_log(limit=1000))

    def test_bad_time_rejected(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A --since that is not ISO 8601 is rejected by argparse with the expected form."""
        with pytest.raises(SystemExit) as caught:
            run_cli("log", "--config", str(tmp_path / "c.yaml"), "--since", "yesterday")

        assert caught.value.code == 2
        assert "use ISO 8601" in capsys.readouterr().err

    def test_invalid_config_exit_2(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A config that does not load prints its problems and exits 2."""
        config = tmp_path / "config.yaml"
        config.write_text("store: {url: sqlite:///x.db}\n", encoding="utf-8")

        status, _out, err = run_captured(capsys, "log", "--config", str(config))

        assert status == 2
        assert "missing required key 'connectors'" in err
