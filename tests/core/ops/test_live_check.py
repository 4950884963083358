"""Tests of `tierbridge validate --live`: the Jira edit screen's Resolution field, the summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from tests.conftest import ROOT, Stack
from tierbridge.core.errors import ConfigIssue
from tierbridge.core.ops import live_check as live_check_module
from tierbridge.core.ops.live_check import LiveIssue, Severity

if TYPE_CHECKING:
    from tierbridge.core.config import AppConfig
from tests.core.ops.support import escalate, run_captured, write_config

WARNING = "the edit screen of project L2 has no Resolution field"
UNCHECKED = "the edit screen's Resolution field is not checked"
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

    def test_empty_project_warns_edit_screen_unchecked(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without any JSM issue the edit screen is unknown, which is one warning at the mapping."""
        stack.open_incident()
        mapping = jira_mapping(tmp_path)

        status, out = live_check(stack, tmp_path, capsys, mapping)

        (warning,) = [text for text in out.splitlines() if UNCHECKED in text]
        assert status == 0, out
        assert "has no issue to read the workflow from" in out
        assert WARNING not in out
        assert warning.startswith(f"{mapping}:{line_of(mapping, MAPPED)}:")
        assert "fields.resolution_code: warning: " in warning
        assert "project L2 has no issue to read the edit screen from" in warning
        assert warning.endswith("run validate --live again once it has one")

    def test_empty_project_unmapped_resolution_is_silent(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without any JSM issue and without resolution_code, the edit screen is not mentioned."""
        stack.open_incident()
        mapping = jira_mapping(tmp_path, f"  {MAPPED}\n", "")

        status, out = live_check(stack, tmp_path, capsys, mapping)

        assert status == 0, out
        assert "edit screen" not in out


def finding(severity: Severity, line: int) -> LiveIssue:
    """Return a finding at `line` of a mapping file named jira.yaml."""
    return LiveIssue(severity, ConfigIssue("jira.yaml", line, 3, "fields.status", "example"))


class TestSummary:
    @pytest.mark.parametrize(
        ("severities", "expected"),
        [
            pytest.param(["error", "warning"], "1 error, 1 warning", id="one-each"),
            pytest.param(["error", "error"], "2 errors, 0 warnings", id="two-errors"),
            pytest.param(["warning", "warning"], "0 errors, 2 warnings", id="two-warnings"),
        ],
    )
    def test_counts_in_english(
        self,
        severities: list[Severity],
        expected: str,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The last line counts errors and warnings, singular for one and plural otherwise."""
        findings = [finding(severity, line) for line, severity in enumerate(severities, start=1)]
        monkeypatch.setattr(live_check_module, "check_live", lambda *_args: findings)

        status = live_check_module.run_live_check(cast("AppConfig", None), Path("config.yaml"))

        lines = capsys.readouterr().out.splitlines()
        assert lines[-1] == f"live check: {expected}"
        assert lines[:-1] == [str(item) for item in findings]
        assert status == (1 if "error" in severities else 0)
