"""Tests of `tierbridge preview`: payloads both ways, for a live ticket or a file, no writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.engine.support import writes_during
from tests.core.ops.support import escalate, run_captured, write_config
from tierbridge.core.ops.preview import preview_record


def payload(report: dict[str, object], direction: str) -> dict[str, object]:
    (found,) = [p for p in report["payloads"] if p["direction"] == direction]  # type: ignore[attr-defined]
    return found  # type: ignore[no-any-return]


class TestPreviewRef:
    def test_linked_both_directions(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A linked incident shows the payload to its JSM request and the one coming back."""
        linked = escalate(stack, short_description="Mail server down")
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(
            capsys, "preview", "--config", str(config), "--ref", f"snow:{linked.sys_id}", "--json"
        )

        report = json.loads(out)
        up, down = payload(report, "L1 -> L2"), payload(report, "L2 -> L1")
        assert status == 0
        assert report["ticket"]["title"] == "Mail server down"
        assert report["ticket"]["priority"] == "P1"
        assert up["target"] == f"jsm:{linked.key}"
        assert up["native"]["summary"] == "Mail server down"  # type: ignore[index]
        assert up["native"]["priority"] == "Highest"  # type: ignore[index]
        assert up["differs"] == []
        assert down["source"] == f"jsm:{linked.key}"
        assert down["native"]["state"] == "1"  # type: ignore[index]
        assert "short_description" not in down["native"]  # type: ignore[operator]

    def test_changed_field_differs(self, stack: Stack) -> None:
        """A title changed at L1 since the last sync is listed as differing, and nothing is written."""
        linked = escalate(stack)
        stack.l1.update_incident(linked.sys_id, short_description="Now both sites")

        writes = writes_during(lambda: preview_record(stack.rt, "snow", linked.sys_id))
        preview = preview_record(stack.rt, "snow", linked.sys_id)

        (up,) = [p for p in preview.payloads if p.direction == "L1 -> L2"]
        assert writes == []
        assert up.differs == ["title"]
        assert up.native["summary"] == "Now both sites"

    def test_unlinked_shows_create(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An incident never synced shows the payload that would create it in L2, without status."""
        incident = stack.open_incident(short_description="Printer jam")
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(
            capsys, "preview", "--config", str(config), "--ref", f"snow:{incident['sys_id']}"
        )

        assert status == 0
        assert "create snow:" in out
        assert "-> jsm (L1 -> L2)" in out
        assert '  summary = "Printer jam"' in out
        assert "status" not in out.split("create", 1)[1].split("\n", 1)[0]

    def test_ref_by_key_after_sync(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A JSM key the store has seen is accepted in place of the issue id."""
        linked = escalate(stack)
        stack.process("jsm", linked.issue_id)
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(
            capsys, "preview", "--config", str(config), "--ref", f"jsm:{linked.key}", "--json"
        )

        assert status == 0
        assert json.loads(out)["source"] == f"jsm:{linked.key}"


class TestPreviewFile:
    def test_jira_fields_both_ways(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A file of Jira fields maps to ServiceNow values down, and back to Jira values up."""
        ticket = tmp_path / "issue.json"
        fields = {"summary": "Disk full", "status": "Resolved", "priority": "High"}
        ticket.write_text(json.dumps({"key": "L2-9", "fields": fields}), encoding="utf-8")
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(
            capsys,
            "preview",
            "--config",
            str(config),
            "--file",
            str(ticket),
            "--connector",
            "jsm",
            "--json",
        )

        report = json.loads(out)
        down, back = payload(report, "L2 -> L1"), payload(report, "L1 -> L2")
        assert status == 0
        assert report["source"] == "jsm:L2-9"
        assert report["ticket"]["status"] == "resolved"
        assert down["native"] == {"state": "6"}
        assert back["native"] == {"summary": "Disk full", "priority": "High", "status": "Resolved"}

    def test_file_needs_connector(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--file without --connector is a usage error."""
        with pytest.raises(SystemExit) as caught:
            run_captured(capsys, "preview", "--config", "c.yaml", "--file", str(tmp_path / "t"))

        assert caught.value.code == 2
        assert "--file needs --connector NAME" in capsys.readouterr().err

    def test_unmapped_value_exit_2(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A native value the mapping cannot read is reported, with exit status 2."""
        ticket = tmp_path / "issue.json"
        ticket.write_text(json.dumps({"status": "Triage"}), encoding="utf-8")
        config = write_config(stack, tmp_path)

        status, _out, err = run_captured(
            capsys,
            "preview",
            "--config",
            str(config),
            "--file",
            str(ticket),
            "--connector",
            "jsm",
        )

        assert status == 2
        assert "Triage" in err
