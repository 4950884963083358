"""Tests of `tierbridge validate --live` on the Jira edit screen's Resolution field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, Stack
from tests.core.ops.support import escalate, run_captured, write_config

WARNING = "the edit screen of project L2 has no Resolution field"
MAPPED = "resolution_code: resolution"


def jira_mapping(folder: Path, old: str = "", new: str = "") -> Path:
    """Copy the shipped Jira mapping into `folder`, with `old` replaced by `new` if given."""
    text = (ROOT / "mappings" / "jira.yaml").read_text(encoding="utf-8")
    assert old in text
    path = folder / "jira.yaml"
    path.write_text(text.replace(old, new) if old else text, encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    """Return the 1-based number of the first line of `path` that contains `text`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def live_check(
    stack: Stack, folder: Path, capsys: pytest.CaptureFixture[str], mapping: Path
) -> tuple[int, str]:
    """Run `validate --live` with `mapping` for `jsm`, and return the status and stdout."""
    config = write_config(stack, folder, {"jsm": mapping})
    status, out, _err = run_captured(capsys, "validate", "--config", str(config), "--live")
    return status, out


class TestEditScreenResolution:
    def test_missing_field_warns(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without Resolution on the edit screen, a written resolution_code is one warning."""
        escalate(stack)
        mapping = jira_mapping(tmp_path)

        status, out = live_check(stack, tmp_path, capsys, mapping)

        (warning,) = [text for text in out.splitlines() if WARNING in text]
        assert status == 0, out
        assert warning.startswith(f"{mapping}:{line_of(mapping, MAPPED)}:")
        assert "fields.resolution_code: warning: " in warning
        assert "(sync log: resolution_skipped)" in warning
        assert warning.endswith("add the field to the edit screen to sync it")

    def test_field_present_is_silent(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With Resolution on the edit screen, no warning about it is printed."""
        escalate(stack)
        stack.emulators.jira.resolution_on_edit_screen = True

        status, out = live_check(stack, tmp_path, capsys, jira_mapping(tmp_path))

        assert status == 0, out
        assert WARNING not in out

    def test_read_only_resolution_is_silent(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A read-only resolution_code is never written, so the edit screen does not matter."""
        escalate(stack)
        mapping = jira_mapping(tmp_path, "\nvalues:", "\nread_only: [resolution_code]\n\nvalues:")

        status, out = live_check(stack, tmp_path, capsys, mapping)

        assert status == 0, out
        assert WARNING not in out

    def test_unmapped_resolution_is_silent(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A mapping without resolution_code writes no resolution, so no warning is printed."""
        escalate(stack)
        mapping = jira_mapping(tmp_path, f"  {MAPPED}\n", "")

        status, out = live_check(stack, tmp_path, capsys, mapping)

        assert status == 0, out
        assert WARNING not in out

    def test_empty_project_is_silent(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without any JSM issue the edit screen is unknown, so no warning is printed."""
        stack.open_incident()

        status, out = live_check(stack, tmp_path, capsys, jira_mapping(tmp_path))

        assert status == 0, out
        assert "has no issue to read the workflow from" in out
        assert WARNING not in out
