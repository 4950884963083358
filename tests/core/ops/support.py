"""Helpers for the operator-tool tests: a config file on disk for a test stack, a filled store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import DEMO_CONFIG, ROOT, Stack
from tierbridge.core.cli import main


def write_config(
    stack: Stack, folder: Path, mappings: dict[str, Path] | None = None, **extra: Any
) -> Path:
    """Write the demo config, pointed at the stack's emulators and store, to `folder`.

    `mappings` replaces connectors' mapping files and keyword arguments replace top-level
    sections. The commands under test load this file, so they see the stack's store and
    emulators.
    """
    yaml = YAML()
    data = yaml.load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data["store"] = {"url": stack.rt.config.store.url}
    data["server"] = {"host": "127.0.0.1", "port": 0}
    urls = {"snow": stack.emulators.snow.base_url, "jsm": stack.emulators.jira.base_url}
    for name, entry in data["connectors"].items():
        entry["base_url"] = urls[name]
        entry["ca_bundle"] = str(stack.emulators.snow.ca_cert)
        shipped = ROOT / "mappings" / Path(entry["mapping"]).name
        entry["mapping"] = str((mappings or {}).get(name, shipped).resolve())
    data.update(extra)
    path = folder / "config.yaml"
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)
    return path


@dataclass
class Linked:
    """An escalated incident: its ServiceNow sys_id and the key of its JSM request."""

    sys_id: str
    key: str
    issue_id: str


def escalate(stack: Stack, **fields: str) -> Linked:
    """Open a P1 incident, handle its event, and return it with its JSM counterpart."""
    incident = stack.open_incident(impact="1", urgency="1", **fields)
    stack.process("snow", incident["sys_id"])
    ref = stack.rt.store.find_ref("snow", incident["sys_id"])
    assert ref is not None
    (issue,) = [r for r in stack.rt.store.refs_of_link(ref.link_id) if r.connector == "jsm"]
    assert issue.ticket_key is not None
    return Linked(incident["sys_id"], issue.ticket_key, issue.ticket_id)


def run_cli(*argv: str) -> int:
    """Run `tierbridge ARGV` in this process and return its exit status."""
    return main(list(argv))


def run_captured(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `tierbridge ARGV`; return its status, stdout and stderr, without earlier output.

    structlog prints to stdout until `main` configures it, so the log lines of the test's
    set-up are read and dropped first.
    """
    capsys.readouterr()
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err
