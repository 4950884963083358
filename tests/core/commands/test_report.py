"""`tierbridge report` on a store filled by the demo scenario, and its argument checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tierbridge.core.cli import main
from tierbridge.core.demo import run_scenario

ROOT = Path(__file__).resolve().parents[3]
#: Variables the demo stack sets for its daemon; restored after the module.
_DEMO_VARIABLES = (
    "TIERBRIDGE_SNOW_PASSWORD",
    "TIERBRIDGE_JIRA_TOKEN",
    "TIERBRIDGE_SNOW_WEBHOOK_SECRET",
    "TIERBRIDGE_JIRA_WEBHOOK_SECRET",
)


_TODAY = datetime.now(UTC).date()
#: A period around the demo run, which uses real time; days are whole, so midnight is safe.
AROUND_NOW = ["--from", str(_TODAY - timedelta(days=1)), "--to", str(_TODAY + timedelta(days=1))]


def demo_config(folder: Path, database: Path) -> Path:
    """Write the demo config with absolute mapping paths and the given SQLite store."""
    text = (ROOT / "config" / "demo.yaml").read_text(encoding="utf-8")
    text = text.replace("sqlite:///../var/tierbridge.db", f"sqlite:///{database}")
    text = text.replace("../mappings/", f"{ROOT / 'mappings'}/")
    path = folder / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Replay 6 demo incidents once; return a config whose store holds what the daemon saw."""
    workdir = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        for name in _DEMO_VARIABLES:
            patch.setenv(name, "replaced-by-the-demo")
        run_scenario(workdir, 6)
    return demo_config(workdir, workdir / "tierbridge.db")


def test_json_kpis_of_demo(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON report of the demo store has L1 and L2 rows whose escalations add up."""
    status = main(["report", "--config", str(demo_store), *AROUND_NOW, "--format", "json"])

    document = json.loads(capsys.readouterr().out)
    rows = {row["tier"]: row for row in document["rows"]}
    assert status == 0
    assert set(rows) == {"L1", "L2"}
    assert rows["L1"]["client"] == "snow"
    assert rows["L1"]["received"] == 6
    assert rows["L1"]["escalated_to_L2"] == rows["L2"]["received"] > 0
    assert rows["L2"]["resolve_mean_h"] is not None
    assert rows["L1"]["acknowledge_mean_h"] is not None


def test_table_is_default(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --format the report is a table with a column per client and tier."""
    status = main(["report", "--config", str(demo_store), *AROUND_NOW])

    out = capsys.readouterr().out
    assert status == 0
    assert "snow L1" in out
    assert "escalated_to_L2" in out


def test_empty_period(demo_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A period before any ticket reports nothing received."""
    status = main(
        [
            "report",
            "--config",
            str(demo_store),
            "--from",
            "2001-01-01",
            "--to",
            "2001-01-31",
            "--format",
            "csv",
        ]
    )

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].startswith("client,tier,received")
    assert all(line.split(",")[2] == "0" for line in lines[1:])


def test_reversed_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--to before --from is rejected with both values named."""
    config = demo_config(tmp_path, tmp_path / "empty.db")

    status = main(["report", "--config", str(config), "--from", "2030-02-01", "--to", "2030-01-01"])

    assert status == 2
    assert "must be after --from" in capsys.readouterr().err


def test_invalid_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed date is rejected by argparse with the expected form."""
    with pytest.raises(SystemExit):
        main(
            [
                "report",
                "--config",
                str(tmp_path / "x.yaml"),
                "--from",
                "yesterday",
                "--to",
                "2030-01-01",
            ]
        )

    assert "ISO 8601" in capsys.readouterr().err
