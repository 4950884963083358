from __future__ import annotations

import pytest

from tierbridge.emulators.salesforce.ids import IdFactory, add_checksum, canonical_id

#: 15-character ids and their 18-character forms, as published for the checksum algorithm.
VECTORS = [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("500Hs00001XyZaB", "500Hs00001XyZaBIAV"),
    ("005Hs000001AbCd", "005Hs000001AbCdIAK"),
    ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
]


@pytest.mark.parametrize(("short", "long"), VECTORS)
def test_checksum_vectors(short: str, long: str) -> None:
    """add_checksum appends the published suffix."""
    assert add_checksum(short) == long


@pytest.mark.parametrize(("short", "long"), VECTORS)
def test_canonical_from_any_case(short: str, long: str) -> None:
    """An 18-character id in any case, or the 15-character one, names the same id."""
    assert canonical_id(short) == long
    assert canonical_id(long.lower()) == long
    assert canonical_id(long.upper()) == long


@pytest.mark.parametrize(
    "text", ["", "500Hs00001XyZa", "500Hs00001XyZaB-AV", "500Hs00001XyZaB99Z", "é" * 15]
)
def test_canonical_rejects_invalid(text: str) -> None:
    """Wrong lengths, punctuation, non-ASCII and suffixes outside the alphabet give None."""
    assert canonical_id(text) is None


def test_factory_ids_sort_by_creation() -> None:
    """Ids from one factory carry valid checksums and sort in the order they were issued."""
    factory = IdFactory()
    issued = [factory.new("500") for _ in range(70)]

    assert issued == sorted(issued)
    assert len(set(issued)) == 70
    assert all(canonical_id(item) == item for item in issued)
    assert all(item.startswith("500Hs") and len(item) == 18 for item in issued)
