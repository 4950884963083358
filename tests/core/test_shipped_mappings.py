"""Every mapping file shipped in `mappings/` loads without a problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierbridge.core.mapping import load_mapping, mapping_problems

MAPPINGS = sorted((Path(__file__).resolve().parents[2] / "mappings").glob("*.yaml"))


def test_mappings_folder_not_empty() -> None:
    """The glob below finds the shipped files, so the parametrized test is not vacuous."""
    assert len(MAPPINGS) >= 3


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.name for p in MAPPINGS])
def test_shipped_mapping_loads(path: Path) -> None:
    """A shipped mapping loads and its keys agree with one another."""
    spec = load_mapping(path)

    assert mapping_problems(spec) == []
