"""Tests of `tierbridge backfill`: the progress bar on stderr and the summary line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.ops.support import run_captured, write_config
from tierbridge.core.commands.backfill import ProgressBar


class TestBackfillCommand:
    def test_progress_and_summary(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two incidents are synced; stderr shows the bar, stdout the counts."""
        for _ in range(2):
            stack.open_incident()
        config = write_config(stack, tmp_path)

        status, out, err = run_captured(
            capsys,
            "backfill",
            "--config",
            str(config),
            "--connector",
            "snow",
            "--since",
            "2020-01-01",
        )

        assert status == 0
        assert "] 2/2 tickets\n" in err
        assert (
            "snow: read from 2020-01-01T00:00:00+00:00, 2 tickets read, 2 events queued, 2 processed"
            in out
        )

    def test_unknown_connector_exit_2(
        self, stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unknown connector is reported with the configured names."""
        config = write_config(stack, tmp_path)

        status, _out, err = run_captured(
            capsys,
            "backfill",
            "--config",
            str(config),
            "--connector",
            "crm",
            "--since",
            "2020-01-01",
        )

        assert status == 2
        assert "connector 'crm' is not configured" in err


class TestProgressBar:
    def test_draws_in_place(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The bar redraws with a carriage return and ends its line when done."""
        bar = ProgressBar(sys.stderr, width=4)
        bar(1, 4)
        bar(4, 4)

        assert capsys.readouterr().err == "\r[#---] 1/4 tickets\r[####] 4/4 tickets\n"

    def test_empty_total(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A backfill with nothing to read shows a full bar."""
        ProgressBar(sys.stderr, width=2)(0, 0)

        assert capsys.readouterr().err == "\r[##] 0/0 tickets\n"
