"""Run every contract test once per registered system and mode.

The `target` fixture is parametrized over `system-mode` pairs (`servicenow-recorded`,
`jira-emulator`, `dynamics-live`, ...). Each pair carries the `contract` marker and its
mode's marker, so `pytest -m emulator` or `pytest -m "contract and not live"` select them.
Emulators start on first use and run until the session ends. Live pairs are skipped with
the names of the missing `TIERBRIDGE_LIVE_*` variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.recorded import RecordedTarget, cassette_key
from tierbridge.testing import (
    EmulatedTarget,
    EmulatorPool,
    LiveTarget,
    Target,
    Unsupported,
    adapter,
    adapters,
    live_skip_reason,
)

MODES = ("recorded", "emulator", "live")
HERE = Path(__file__).parent

#: Contract checks a connector fails today, by (test function, system), with the gap. They run
#: as strict xfails in every mode, so a fixed connector fails the run until its entry is removed.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _pairs() -> list[object]:
    return [
        pytest.param(
            (contract.system, mode),
            id=f"{contract.system}-{mode}",
            marks=[getattr(pytest.mark, mode)],
        )
        for contract in adapters()
        for mode in MODES
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this directory as a contract test."""
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.contract)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Report a situation the target cannot arrange as a skip, with the target's reason."""
    try:
        return (yield)
    except Unsupported as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def emulator_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorPool]:
    """Emulators shared by the session; each starts when the first test needs it."""
    pool = EmulatorPool(tmp_path_factory.mktemp("contract-tls"))
    yield pool
    pool.close()


@pytest.fixture(params=_pairs())
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The system and mode of this test's parameter, closed after the test."""
    system, mode = request.param
    contract = adapter(system)
    gap = KNOWN_GAPS.get((request.node.originalname, system))
    if gap is not None:
        request.applymarker(pytest.mark.xfail(reason=gap, strict=True))
    built: Target
    try:
        if mode == "recorded":
            built = RecordedTarget(contract, cassette_key(request.node))
        elif mode == "emulator":
            built = EmulatedTarget(contract, request.getfixturevalue("emulator_pool"))
        else:
            reason = live_skip_reason(contract, os.environ)
            if reason is not None:
                pytest.skip(reason)
            built = LiveTarget(contract, os.environ)
    except Unsupported as exc:
        pytest.skip(str(exc))
    try:
        yield built
    finally:
        built.close()
