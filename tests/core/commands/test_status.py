"""Tests of `tierbridge status` on a store the test stack polled and filled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.ops.support import run_captured, write_config
from tierbridge.core.poller import poll_connector


class TestStatus:
    def test_json_after_polls(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After both connectors polled, both are healthy and the new incident is queued."""
        stack.open_incident()
        poll_connector(stack.rt, "snow")
        poll_connector(stack.rt, "jsm")
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(capsys, "status", "--config", str(config), "--json")

        report = json.loads(out)
        snow, jsm = report["connectors"]
        assert status == 0
        assert (snow["healthy"], jsm["healthy"]) == (True, True)
        assert snow["queue_depth"] == 1
        assert snow["last_poll"] is not None
        assert report["queue"]["depth"] == 1
        assert report["queue"]["lag_seconds"] >= 0

    def test_unpolled_exits_1(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A connector that never polled makes the table say UNHEALTHY and the exit status 1."""
        poll_connector(stack.rt, "snow")
        config = write_config(stack, tmp_path)

        status, out, _err = run_captured(capsys, "status", "--config", str(config))

        lines = out.splitlines()
        assert status == 1
        assert lines[0].split()[:3] == ["CONNECTOR", "TIER", "HEALTH"]
        assert lines[1].startswith("snow ")
        assert " ok " in lines[1]
        assert "UNHEALTHY: never polled successfully" in lines[2]
        assert lines[-1] == "queue: 0 waiting, lag 0 s, 0 dead letters"
