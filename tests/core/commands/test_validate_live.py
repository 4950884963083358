"""Tests of `tierbridge validate --live` against the emulators' fields, choices and workflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, Stack
from tests.core.ops.support import escalate, run_captured, write_config


def line_of(path: Path, text: str) -> int:
    """Return the 1-based number of the first line of `path` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def edited_mapping(folder: Path, name: str, old: str, new: str) -> Path:
    """Copy a shipped mapping into `folder` with one text replaced."""
    text = (ROOT / "mappings" / name).read_text(encoding="utf-8")
    assert old in text
    path = folder / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


class TestValidateLive:
    def test_shipped_mappings_pass(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The shipped mappings have no errors; the pass-through choice fields are warnings."""
        escalate(stack)
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        lines = out.splitlines()
        assert status == 0, out
        assert lines[0] == "config OK: 2 connectors, 2 mappings"
        assert lines[-1].startswith("live check: 0 errors, ")
        warnings = "\n".join(lines[1:-1])
        assert "incident.close_code has 10 choices and no value map" in warnings
        assert "status 'Closed' is neither the status of one of the 1 newest issues" in warnings

    def test_unknown_choice_at_its_line(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A state value the instance lacks is an error at that key's line of the mapping."""
        escalate(stack)
        mapping = edited_mapping(tmp_path, "servicenow.yaml", '"8": canceled', '"9": canceled')
        config = write_config(stack, tmp_path, {"snow": mapping})

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        line = line_of(mapping, '"9": canceled')
        (error,) = [text for text in out.splitlines() if ": error: " in text]
        assert status == 1
        assert error.startswith(f"{mapping}:{line}:")
        assert "values.status.inbound.9: error: '9' is not a choice of incident.state" in error

    def test_unknown_column(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A column the table does not have is an error naming where the columns came from."""
        escalate(stack)
        mapping = edited_mapping(tmp_path, "servicenow.yaml", "close_notes", "close_note")
        config = write_config(stack, tmp_path, {"snow": mapping})

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        assert status == 1
        assert f"{mapping}:{line_of(mapping, 'resolution_notes: close_note')}:" in out
        assert (
            "column 'close_note' not found on table incident (columns read from the newest record)"
            in out
        )

    def test_jira_priority_and_field(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A priority name and a field id the site lacks are both reported."""
        escalate(stack)
        mapping = edited_mapping(tmp_path, "jira.yaml", "Highest: P1", "Blocker: P1")
        mapping.write_text(
            mapping.read_text(encoding="utf-8").replace(
                "reporter: reporter", "reporter: customfield_99999"
            ),
            encoding="utf-8",
        )
        config = write_config(stack, tmp_path, {"jsm": mapping})

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        errors = [text for text in out.splitlines() if ": error: " in text]
        assert status == 1
        assert len(errors) == 2
        assert "fields.reporter: error: field 'customfield_99999' not found in /field" in errors[0]
        assert "values.priority.inbound.Blocker: error: priority 'Blocker' not found" in errors[1]

    def test_unreachable_instance(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An instance that cannot be reached is an error at the connector's base_url."""
        config = write_config(stack, tmp_path)
        text = config.read_text(encoding="utf-8").replace(
            stack.emulators.jira.base_url, "https://127.0.0.1:9"
        )
        config.write_text(text, encoding="utf-8")

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        assert status == 1
        assert "connectors.jsm.base_url: error: cannot read the instance's metadata: " in out

    def test_empty_project_warns(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without any JSM issue the statuses cannot be checked, which is a warning."""
        stack.open_incident()
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")

        assert status == 0
        assert "statuses not checked: project L2 has no issue to read the workflow from" in out
