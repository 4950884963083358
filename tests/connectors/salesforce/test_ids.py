from __future__ import annotations

import pytest

from tierbridge.connectors.salesforce.ids import is_record_id, normalize_id, suffix_of

#: 15-character ids and their 18-character forms, as published for the checksum algorithm.
VECTORS = [
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("500Hs00001XyZaB", "500Hs00001XyZaBIAV"),
    ("005Hs000001AbCd", "005Hs000001AbCdIAK"),
    ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
]


@pytest.mark.parametrize(("short", "long"), VECTORS)
def test_suffix_vectors(short: str, long: str) -> None:
    """The checksum of each 15-character id is the published suffix."""
    assert short + suffix_of(short) == long


@pytest.mark.parametrize(("short", "long"), VECTORS)
def test_normalize_forms(short: str, long: str) -> None:
    """15 characters, or 18 in any case, normalise to the exact 18-character id."""
    assert normalize_id(short) == long
    assert normalize_id(long) == long
    assert normalize_id(long.lower()) == long
    assert normalize_id(long.upper()) == long
    assert normalize_id(f"  {long} ") == long


def test_ids_compare_case_sensitively() -> None:
    """Two 15-character ids differing only in case are different records."""
    assert normalize_id("500Hs00001XyZaB") != normalize_id("500Hs00001xyzab")


@pytest.mark.parametrize(
    "value",
    ["", "500Hs00001XyZa", "500Hs00001XyZaB-AV", "500Hs00001XyZaB9Z9", "500Hs00001XyZaBÄAV"],
)
def test_normalize_rejects(value: str) -> None:
    """Wrong lengths, punctuation, non-ASCII and suffix characters outside A-Z0-5 raise."""
    with pytest.raises(ValueError, match=r"Salesforce id|checksum"):
        normalize_id(value)


def test_is_record_id_prefix() -> None:
    """is_record_id checks validity and, when given, the object's key prefix."""
    assert is_record_id("500Hs00001XyZaB", "500")
    assert not is_record_id("005Hs000001AbCd", "500")
    assert not is_record_id("nope")
