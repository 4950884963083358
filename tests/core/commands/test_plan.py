"""Tests of `tierbridge plan`: a mapping that now maps category plans and applies its writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, Stack
from tests.core.ops.support import escalate, run_captured, write_config

CATEGORY_FIELD = "customfield_10050"


def jira_mapping_with_category(folder: Path) -> Path:
    """Write the shipped Jira mapping plus the Category select field and its options."""
    text = (ROOT / "mappings" / "jira.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  correlation_id: customfield_10060\n",
        f"  correlation_id: customfield_10060\n  category: {CATEGORY_FIELD}\n",
    )
    text = text.replace(
        "values:\n",
        "values:\n  category:\n    inbound: {Network: network, Hardware: hardware}\n",
    )
    path = folder / "jira-category.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class TestPlan:
    def test_lists_new_field(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A field the new mapping writes shows as a planned write with its native value."""
        linked = escalate(stack, category="network")
        config = write_config(stack, tmp_path, {"jsm": jira_mapping_with_category(tmp_path)})

        status, out, _err = run_captured(capsys, "plan", "--config", str(config))

        assert status == 0
        assert f"-> jsm:{linked.key} (L1 -> L2)" in out
        assert f'  category: null -> "network"  writes {CATEGORY_FIELD} = "Network"' in out
        assert out.splitlines()[-1] == "1 field writes planned on 1 tickets"
        assert stack.l2.get_issue(linked.key)["fields"].get(CATEGORY_FIELD) is None

    def test_apply_writes_and_logs(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--apply writes the field, logs a resynced row, and a second plan is empty."""
        linked = escalate(stack, category="network")
        config = write_config(stack, tmp_path, {"jsm": jira_mapping_with_category(tmp_path)})

        status, out, _err = run_captured(capsys, "plan", "--config", str(config), "--apply")
        _status, again, _err = run_captured(capsys, "plan", "--config", str(config), "--json")

        issue = stack.l2.get_issue(linked.key)
        (row,) = [r for r in stack.rt.store.sync_log(limit=100) if r.action == "resynced"]
        assert status == 0
        assert f"wrote jsm:{linked.key}: category" in out
        assert issue["fields"][CATEGORY_FIELD]["value"] == "Network"
        assert (row.outcome, row.fields, row.target_ticket) == ("ok", ["category"], linked.key)
        assert again == ""

    def test_json_lines(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json prints one planned write a line, with the fields' values on both sides."""
        escalate(stack, category="network")
        config = write_config(stack, tmp_path, {"jsm": jira_mapping_with_category(tmp_path)})

        _status, out, _err = run_captured(capsys, "plan", "--config", str(config), "--json")

        (line,) = out.splitlines()
        planned = json.loads(line)["planned"]
        assert planned["direction"] == "L1 -> L2"
        assert planned["changes"] == [
            {
                "field": "category",
                "current": None,
                "wanted": "network",
                "native": {CATEGORY_FIELD: "Network"},
            }
        ]

    def test_unmapped_value_is_error(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A value the new mapping cannot write is listed as an error, and the exit status is 1."""
        escalate(stack, category="software")
        config = write_config(stack, tmp_path, {"jsm": jira_mapping_with_category(tmp_path)})

        status, out, _err = run_captured(capsys, "plan", "--config", str(config))

        assert status == 1
        assert "  error: category: " in out
        assert "software" in out
