"""Tests for the `tierbridge` command line, run in-process through `main()`."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tierbridge.core.commands as command_modules
from tierbridge.core.cli import main
from tierbridge.emulators.jira import __main__ as jira_main

ROOT = Path(__file__).resolve().parents[2]
BUILT_IN = ["run", "validate", "emulate", "demo"]


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """Copy the demo config and the shipped mappings, and return the config's path."""
    shutil.copytree(ROOT / "config", tmp_path / "config")
    shutil.copytree(ROOT / "mappings", tmp_path / "mappings")
    return tmp_path / "config" / "demo.yaml"


def break_status(mapping: Path) -> tuple[int, int]:
    """Misspell the in_progress status in a mapping and return the bad value's line and column."""
    lines = mapping.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if '"2": in_progress' in line:
            lines[index] = line.replace('"2": in_progress', '"2": in_progres')
            column = lines[index].index("in_progres") + 1
            mapping.write_text("".join(lines), encoding="utf-8")
            return index + 1, column
    raise AssertionError(f"no status 2 entry in {mapping}")


class TestValidate:
    def test_bad_mapping_located(
        self, config_copy: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad status value exits 1 and is reported as mapping:line:column."""
        mapping = config_copy.parent.parent / "mappings" / "servicenow.yaml"
        line, column = break_status(mapping)

        status = main(["validate", "--config", str(config_copy)])

        err = capsys.readouterr().err
        assert status == 1
        assert f"{mapping}:{line}:{column}:" in err
        assert "in_progres" in err
        assert "1 problem found" in err

    def test_valid_config_summary(
        self, config_copy: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A valid config exits 0 and prints the one-line summary."""
        status = main(["validate", "--config", str(config_copy)])

        assert status == 0
        assert capsys.readouterr().out.strip() == "config OK: 2 connectors, 2 mappings"

    def test_missing_config_reported(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A config path that does not exist exits 1 and names the path."""
        missing = tmp_path / "absent.yaml"

        status = main(["validate", "--config", str(missing)])

        assert status == 1
        assert str(missing) in capsys.readouterr().err


class TestRun:
    def test_bad_config_exits_2(
        self, config_copy: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`run` with an invalid config exits 2 before starting anything."""
        break_status(config_copy.parent.parent / "mappings" / "servicenow.yaml")

        status = main(["run", "--config", str(config_copy)])

        assert status == 2
        assert "in_progres" in capsys.readouterr().err


class TestEmulate:
    def test_unset_secret_variable_exits_2(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`emulate` with --webhook-secret-env naming an unset variable exits 2 before serving."""
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(jira_main, "serve", lambda *args: calls.append(args))
        monkeypatch.delenv("TB_TEST_UNSET_SECRET", raising=False)
        argv = ["emulate", "jira", "--tls-dir", str(tmp_path)]

        status = main([*argv, "--webhook-secret-env", "TB_TEST_UNSET_SECRET"])

        assert status == 2
        assert "TB_TEST_UNSET_SECRET is not set or empty" in capsys.readouterr().err
        assert calls == []

    def test_secret_reaches_serve(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """`emulate` passes port, folder, URL and the secret read from the variable to serve."""
        calls: list[tuple[object, ...]] = []
        monkeypatch.setattr(jira_main, "serve", lambda *args: calls.append(args))
        monkeypatch.setenv("TB_TEST_SECRET", "k3y")
        url = "http://127.0.0.1:1/webhooks/jsm"
        argv = ["emulate", "jira", "--port", "18444", "--tls-dir", str(tmp_path)]

        status = main([*argv, "--webhook-url", url, "--webhook-secret-env", "TB_TEST_SECRET"])

        assert status == 0
        assert calls == [(18444, tmp_path, url, "k3y")]


class TestHelp:
    def test_help_lists_commands(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help exits 0 and lists the built-in and the discovered subcommands."""
        with pytest.raises(SystemExit) as exited:
            main(["--help"])

        out = capsys.readouterr().out
        assert exited.value.code == 0
        discovered = [
            info.name
            for info in pkgutil.iter_modules(command_modules.__path__)
            if not info.name.startswith("_")
        ]
        for command in BUILT_IN + discovered:
            assert f"    {command} " in out, f"{command} missing from --help"

    def test_no_command_is_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Running without a subcommand exits 2 with a usage line."""
        with pytest.raises(SystemExit) as exited:
            main([])

        assert exited.value.code == 2
        assert "usage: tierbridge" in capsys.readouterr().err

    def test_console_script_help(self) -> None:
        """The installed `tierbridge` script starts and prints the usage."""
        script = Path(sys.executable).with_name("tierbridge")

        result = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(script), "--help"], capture_output=True, text=True, timeout=60, check=False
        )

        assert result.returncode == 0
        assert result.stdout.startswith("usage: tierbridge")
