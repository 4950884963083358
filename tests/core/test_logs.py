"""Tests for the structlog set-up: JSON lines on stderr with secrets redacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog

from tierbridge.core import logs
from tierbridge.core.logs import configure_logging, register_secret

SECRET = "hunter2-very-secret-value"


@pytest.fixture(autouse=True)
def own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give each test its own secret registry. The root conftest restores the logging set-up."""
    monkeypatch.setattr(logs, "_known_secrets", set())


def json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


class TestRedaction:
    def test_registered_secret_masked(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A registered secret inside any value is replaced in the rendered line."""
        configure_logging("info")
        register_secret(SECRET)

        structlog.get_logger("t").info("login", url=f"https://svc:{SECRET}@example.com/api")

        err = capsys.readouterr().err
        assert SECRET not in err
        (line,) = json_lines(err)
        assert line["url"] == "https://svc:[redacted]@example.com/api"

    @pytest.mark.parametrize(
        "key", ["password", "client_secret", "token", "Authorization", "api_key", "signature"]
    )
    def test_secret_keys_masked(self, key: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Values under secret-looking keys are redacted even if never registered."""
        configure_logging("info")

        structlog.get_logger("t").info("call", **{key: "plain-value-123"})

        (line,) = json_lines(capsys.readouterr().err)
        assert line[key] == "[redacted]"

    def test_nested_values_masked(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Secrets inside dicts and lists are masked, by key and by registered value."""
        configure_logging("info")
        register_secret(SECRET)

        structlog.get_logger("t").info(
            "request",
            headers={"Authorization": "Basic abc123", "Accept": "application/json"},
            args=[f"--password={SECRET}", "--verbose"],
        )

        err = capsys.readouterr().err
        assert "abc123" not in err
        assert SECRET not in err
        (line,) = json_lines(err)
        assert line["headers"] == {"Authorization": "[redacted]", "Accept": "application/json"}
        assert line["args"] == ["--password=[redacted]", "--verbose"]

    def test_exception_text_masked(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A registered secret in a logged exception's traceback is masked too."""
        configure_logging("info")
        register_secret(SECRET)

        try:
            raise RuntimeError(f"connect failed for token {SECRET}")
        except RuntimeError:
            structlog.get_logger("t").exception("call_failed")

        err = capsys.readouterr().err
        assert SECRET not in err
        (line,) = json_lines(err)
        assert "RuntimeError: connect failed for token [redacted]" in line["exception"]

    def test_short_values_not_registered(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Values under four characters are not registered, so common words stay readable."""
        configure_logging("info")
        register_secret("ok")

        structlog.get_logger("t").info("status", result="ok")

        (line,) = json_lines(capsys.readouterr().err)
        assert line["result"] == "ok"

    def test_plain_fields_untouched(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Ordinary keys and values pass through, with level and timestamp added."""
        configure_logging("info")

        structlog.get_logger("t").info("poll", connector="snow", read=3)

        (line,) = json_lines(capsys.readouterr().err)
        assert line["event"] == "poll"
        assert line["connector"] == "snow"
        assert line["read"] == 3
        assert line["level"] == "info"
        assert line["timestamp"].endswith("Z")


class TestLevels:
    def test_level_filters_lower(self, capsys: pytest.CaptureFixture[str]) -> None:
        """At level warning, info lines are dropped and warnings kept."""
        configure_logging("warning")
        logger = structlog.get_logger("t")

        logger.info("quiet")
        logger.warning("loud")

        lines = json_lines(capsys.readouterr().err)
        assert [line["event"] for line in lines] == ["loud"]

    def test_console_renderer(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The console renderer writes readable lines, still redacted."""
        configure_logging("info", renderer="console")

        structlog.get_logger("t").info("login", password="plain-value-123")

        err = capsys.readouterr().err
        assert "login" in err
        assert "plain-value-123" not in err
