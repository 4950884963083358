"""Salesforce record ids: convert the 15-character form to the 18-character one.

A 15-character id is case-sensitive. The 18-character form appends three characters that
record where the upper-case letters are, one per block of five characters: the value whose
bit n is set when character n of the block is A-Z, written with `A`..`Z` for 0..25 and `0`..`5`
for 26..31. Because the suffix restores the case, an 18-character id may be given in any case;
`normalize_id` returns it in its exact form, which is then compared case-sensitively.
"""

from __future__ import annotations

__all__ = ["is_record_id", "normalize_id", "suffix_of"]

_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def suffix_of(short_id: str) -> str:
    """Return the 3-character checksum of a 15-character id."""
    suffix = ""
    for start in range(0, 15, 5):
        value = 0
        for offset in range(5):
            if short_id[start + offset] in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
                value += 2**offset
        suffix += _SUFFIX_CHARS[value]
    return suffix


def _with_case_from_suffix(long_id: str) -> str:
    """Return the first 15 characters of an 18-character id with the case its suffix records."""
    restored = []
    for index, char in enumerate(long_id[:15]):
        bits = _SUFFIX_CHARS.index(long_id[15 + index // 5].upper())
        restored.append(char.upper() if bits & (1 << index % 5) else char.lower())
    return "".join(restored)


def normalize_id(value: str) -> str:
    """Return the exact 18-character form of a 15- or 18-character id.

    Raises ValueError if `value` is not an id: wrong length, a character other than ASCII
    letters and digits, or an 18-character id whose suffix is not a checksum.
    """
    text = value.strip()
    if len(text) not in (15, 18) or not (text.isascii() and text.isalnum()):
        raise ValueError(f"{value!r} is not a 15- or 18-character Salesforce id")
    if len(text) == 15:
        return text + suffix_of(text)
    if any(char.upper() not in _SUFFIX_CHARS for char in text[15:]):
        raise ValueError(f"{value!r} has an invalid checksum suffix")
    head = _with_case_from_suffix(text)
    return head + suffix_of(head)


def is_record_id(value: str, prefix: str | None = None) -> bool:
    """Tell whether `value` is a valid id, optionally of the object with this key prefix."""
    try:
        normalized = normalize_id(value)
    except ValueError:
        return False
    return prefix is None or normalized.startswith(prefix)
