"""Print the contract suite's results as a table of connector by mode.

    python -m bench.contract_table report.xml      # pytest --junitxml=report.xml
    python -m bench.contract_table report.json     # pytest-json-report's --json-report-file

Contract tests carry `[<system>-<mode>...]` in their ids (`test_x[jira-emulator]`,
`test_emulator_matches_recording[jira-fidelity-issue_get]`); tests without such an id are
not counted. Expected failures (known gaps, run as strict xfails) have a column of their
own. The exit status is 1 when a test failed, 2 when the report has no contract test.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

__all__ = ["MODES", "OUTCOMES", "Result", "main", "read_json", "read_junit", "render", "tabulate"]

MODES = ("recorded", "emulator", "fidelity", "live")
OUTCOMES = ("passed", "failed", "skipped", "xfailed")
_ID = re.compile(r"\[(?P<system>[a-z0-9_]+)-(?P<mode>" + "|".join(MODES) + r")(?:-[^\]]*)?\]$")


@dataclass(frozen=True)
class Result:
    """One test's system, mode and outcome (one of `OUTCOMES`)."""

    system: str
    mode: str
    outcome: str


def _result(name: str, outcome: str) -> Result | None:
    found = _ID.search(name)
    if found is None:
        return None
    return Result(found["system"], found["mode"], outcome)


def _junit_outcome(case: ElementTree.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    skipped = case.find("skipped")
    if skipped is None:
        return "passed"
    return "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"


def read_junit(path: Path) -> list[Result]:
    """Read a JUnit XML report; an error in setup or teardown counts as a failure."""
    # The report is written by our own pytest run, not received from elsewhere.
    root = ElementTree.parse(path).getroot()  # noqa: S314
    results = (
        _result(case.get("name", ""), _junit_outcome(case)) for case in root.iter("testcase")
    )
    return [result for result in results if result is not None]


def read_json(path: Path) -> list[Result]:
    """Read a pytest-json-report file (`{"tests": [{"nodeid", "outcome"}]}`)."""
    report = json.loads(path.read_text("utf-8"))
    outcomes = {"error": "failed", "xpassed": "failed"}
    results = (
        _result(test["nodeid"], outcomes.get(test["outcome"], test["outcome"]))
        for test in report.get("tests", [])
    )
    return [result for result in results if result is not None]


def tabulate(results: Iterable[Result]) -> dict[tuple[str, str], Counter[str]]:
    """Count outcomes per (system, mode), in system then mode order."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for result in results:
        counts.setdefault((result.system, result.mode), Counter())[result.outcome] += 1
    order = {mode: index for index, mode in enumerate(MODES)}
    return dict(sorted(counts.items(), key=lambda item: (item[0][0], order[item[0][1]])))


def render(table: dict[tuple[str, str], Counter[str]]) -> str:
    """Return the table as aligned text, with a total line."""
    header = ("connector", "mode", *OUTCOMES)
    rows = [
        (system, mode, *(str(counts[name]) for name in OUTCOMES))
        for (system, mode), counts in table.items()
    ]
    total: Counter[str] = sum(table.values(), Counter())
    rows.append(("total", "", *(str(total[name]) for name in OUTCOMES)))
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        left = [cell.ljust(width) for cell, width in zip(cells[:2], widths[:2], strict=True)]
        right = [cell.rjust(width) for cell, width in zip(cells[2:], widths[2:], strict=True)]
        return "  ".join([*left, *right]).rstrip()

    return "\n".join([line(header), *(line(row) for row in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table of one report; see the module docstring for the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.contract_table", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "report", type=Path, help="pytest report: JUnit XML (.xml) or pytest-json-report (.json)"
    )
    args = parser.parse_args(argv)

    reader = read_json if args.report.suffix == ".json" else read_junit
    table = tabulate(reader(args.report))
    if not table:
        print(
            f"{args.report}: no contract test results (ids like [jira-emulator])", file=sys.stderr
        )
        return 2
    print(render(table))
    return 1 if any(counts["failed"] for counts in table.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
