"""Tests for `validate_config`, the summary line and the issue listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.core.errors import ConfigIssue
from tierbridge.core.validate import check_config, format_issues, summary, validate_config

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


class TestValidateConfig:
    def test_demo_config_is_valid(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The shipped demo config has no issues, even with no secret variable set."""
        monkeypatch.delenv("TIERBRIDGE_SNOW_PASSWORD", raising=False)

        assert validate_config(ROOT / "config" / "demo.yaml") == []

    def test_example_config_is_valid(self) -> None:
        """The shipped example config has no issues."""
        assert validate_config(ROOT / "config" / "example.yaml") == []

    def test_bad_config_lists_all(self) -> None:
        """Every problem of a bad config is returned, not only the first."""
        issues = validate_config(FIXTURES / "several_errors.yaml")

        assert len(issues) == 6
        assert all(issue.line > 0 and issue.column > 0 for issue in issues)

    def test_mapping_problems_included(self) -> None:
        """Problems inside a mapping file are returned with that file's path."""
        issues = validate_config(FIXTURES / "with_bad_mapping.yaml")

        assert {issue.file for issue in issues} == {str(FIXTURES / "bad_mapping.yaml")}

    def test_syntax_error_is_an_issue(self) -> None:
        """A YAML syntax error comes back as an issue, not an exception."""
        (issue,) = validate_config(FIXTURES / "syntax_error.yaml")

        assert issue.message.startswith("invalid YAML")

    def test_missing_file_is_an_issue(self, tmp_path: Path) -> None:
        """A missing config file comes back as an issue naming it."""
        (issue,) = validate_config(tmp_path / "absent.yaml")

        assert issue.file == str(tmp_path / "absent.yaml")


class TestSummary:
    def test_counts_connectors_and_mappings(self) -> None:
        """The summary counts connectors and distinct mapping files."""
        config, issues = check_config(ROOT / "config" / "demo.yaml")

        assert issues == []
        assert config is not None
        assert summary(config) == "config OK: 2 connectors, 2 mappings"

    def test_check_returns_none_when_invalid(self) -> None:
        """check_config returns no config when there are issues."""
        config, issues = check_config(FIXTURES / "several_errors.yaml")

        assert config is None
        assert issues


class TestFormatIssues:
    def test_one_line_per_issue(self) -> None:
        """Each issue is one `file:line:column: path: message` line, then a count."""
        issues = [
            ConfigIssue("a.yaml", 3, 5, "server.port", "Input should be greater than 0; got -1"),
            ConfigIssue("b.yaml", 1, 1, "", "invalid YAML: found a tab"),
        ]

        text = format_issues(issues)

        assert text.splitlines() == [
            "a.yaml:3:5: server.port: Input should be greater than 0; got -1",
            "b.yaml:1:1: invalid YAML: found a tab",
            "2 problems found",
        ]

    def test_single_problem_wording(self) -> None:
        """One issue is counted in the singular."""
        text = format_issues([ConfigIssue("a.yaml", 1, 1, "x", "bad")])

        assert text.splitlines()[-1] == "1 problem found"
