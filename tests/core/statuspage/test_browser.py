"""The status page in headless Chromium, served by the daemon's own HTTP server on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Stack
from tests.core.ops.support import Linked, escalate
from tests.core.statuspage.test_router import TOKEN, with_token
from tierbridge.core.runner import EmbeddedRunner

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)"
)


@pytest.fixture
def linked(stack: Stack) -> Linked:
    """An escalated incident, synced before the daemon starts."""
    return escalate(stack)


@pytest.fixture
def daemon(stack: Stack, linked: Linked, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the daemon's HTTP server with a status token, without workers; yield its URL.

    Without workers the daemon cannot race the test for the events of `linked`.
    """
    with_token(stack.rt, monkeypatch)
    runner = EmbeddedRunner(stack.rt, workers=0).start()
    yield f"http://127.0.0.1:{runner.port}"
    runner.stop()


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a throw-away profile and no background traffic."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)  # noqa: S603


class TestInBrowser:
    def test_dom_shows_connectors(self, daemon: str, tmp_path: Path) -> None:
        """The rendered DOM contains the title, both connectors and the ticket lookup form."""
        result = chromium(tmp_path / "profile", "--dump-dom", f"{daemon}/status?token={TOKEN}")

        assert result.returncode == 0, result.stderr[-2000:]
        assert "<h1>tierbridge status</h1>" in result.stdout
        assert "<td>snow</td>" in result.stdout
        assert "<td>jsm</td>" in result.stdout
        assert 'action="/status/ticket"' in result.stdout

    def test_screenshot_of_trail(self, linked: Linked, daemon: str, tmp_path: Path) -> None:
        """A ticket's trail renders to a PNG screenshot."""
        picture = tmp_path / "trail.png"

        result = chromium(
            tmp_path / "profile",
            "--window-size=1200,800",
            f"--screenshot={picture}",
            f"{daemon}/status/ticket/jsm:{linked.key}?token={TOKEN}",
        )

        assert result.returncode == 0, result.stderr[-2000:]
        assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
