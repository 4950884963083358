"""`bench.contract_table`: the table of connector by mode that prints `make contract`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.contract_table import main, read_json, read_junit, render, tabulate

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.contract.test_auth" name="test_valid_credentials_read[jira-recorded]"/>
<testcase classname="tests.contract.test_auth" name="test_valid_credentials_read[jira-emulator]"/>
<testcase classname="tests.contract.test_auth" name="test_wrong_secret_rejected[jira-emulator]"><failure message="boom"/></testcase>
<testcase classname="tests.contract.test_auth" name="test_expired_session_renewed[jira-emulator]"><skipped type="pytest.skip" message="no session"/></testcase>
<testcase classname="tests.contract.test_auth" name="test_expired_session_renewed[dynamics-live]"><skipped type="pytest.skip" message="not configured"/></testcase>
<testcase classname="tests.contract.test_auth" name="test_expired_session_renewed[dynamics-recorded]"><skipped type="pytest.xfail" message="known gap"/></testcase>
<testcase classname="tests.contract.test_paging" name="test_pages_read_to_end[jira-emulator-short-last-page]"><error message="teardown"/></testcase>
<testcase classname="tests.contract.test_fidelity" name="test_emulator_matches_recording[jira-fidelity-issue_get]"/>
<testcase classname="tests.contract.test_shapes" name="test_missing_key"/>
</testsuite></testsuites>
"""


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "report.xml"
    path.write_text(JUNIT, encoding="utf-8")
    return path


def test_junit_outcomes_counted(junit: Path) -> None:
    """Passes, failures, errors, skips and xfails land in their system and mode."""
    table = tabulate(read_junit(junit))

    assert list(table) == [
        ("dynamics", "recorded"),
        ("dynamics", "live"),
        ("jira", "recorded"),
        ("jira", "emulator"),
        ("jira", "fidelity"),
    ]
    assert table[("jira", "emulator")] == {"passed": 1, "failed": 2, "skipped": 1}
    assert table[("dynamics", "recorded")] == {"xfailed": 1}
    assert table[("dynamics", "live")] == {"skipped": 1}


def test_render_has_total(junit: Path) -> None:
    """The rendered table has a header, one row per pair and a total line."""
    lines = render(tabulate(read_junit(junit))).splitlines()

    assert lines[0].split() == ["connector", "mode", "passed", "failed", "skipped", "xfailed"]
    assert lines[4].split() == ["jira", "emulator", "1", "2", "1", "0"]
    assert lines[-1].split() == ["total", "3", "2", "2", "1"]


def test_json_report_read(tmp_path: Path) -> None:
    """pytest-json-report outcomes map onto the same columns."""
    path = tmp_path / "report.json"
    tests = [
        {"nodeid": "tests/contract/test_auth.py::test_a[servicenow-emulator]", "outcome": "passed"},
        {"nodeid": "tests/contract/test_auth.py::test_b[servicenow-emulator]", "outcome": "error"},
        {"nodeid": "tests/contract/test_auth.py::test_c[servicenow-live]", "outcome": "skipped"},
    ]
    path.write_text(json.dumps({"tests": tests}), encoding="utf-8")

    table = tabulate(read_json(path))

    assert table[("servicenow", "emulator")] == {"passed": 1, "failed": 1}
    assert table[("servicenow", "live")] == {"skipped": 1}


def test_exit_status(junit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A failure gives exit status 1; a report without contract tests gives 2."""
    empty = tmp_path / "empty.xml"
    empty.write_text("<testsuites/>", encoding="utf-8")

    assert main([str(junit)]) == 1
    assert "jira" in capsys.readouterr().out
    assert main([str(empty)]) == 2
