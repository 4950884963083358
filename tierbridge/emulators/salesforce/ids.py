"""Salesforce record ids as the emulator issues them: 15 case-sensitive characters plus a checksum.

The 3-character suffix encodes which letters of the 15-character id are upper case, one
character per block of five: bit i of a block is set when its character i is A-Z, and the
5-bit value indexes `ABCDEFGHIJKLMNOPQRSTUVWXYZ012345`. The 18-character form is therefore
safe to compare without regard to case.
"""

from __future__ import annotations

import string
import threading

__all__ = ["IdFactory", "add_checksum", "canonical_id"]

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
#: Base-62 digits in ASCII order, so that ids issued later also sort later as strings.
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_POD = "Hs"


def _block_bits(block: str) -> int:
    return sum(1 << position for position, char in enumerate(block) if char.isupper())


def add_checksum(short_id: str) -> str:
    """Return the 18-character form of a 15-character id."""
    blocks = (short_id[0:5], short_id[5:10], short_id[10:15])
    return short_id + "".join(_SUFFIX_ALPHABET[_block_bits(block)] for block in blocks)


def _restore_case(long_id: str) -> str | None:
    """Return the 15 characters of an 18-character id in their original case, or None."""
    head, suffix = long_id[:15], long_id[15:].upper()
    if any(char not in _SUFFIX_ALPHABET for char in suffix):
        return None
    chars = []
    for position, char in enumerate(head):
        upper = _SUFFIX_ALPHABET.index(suffix[position // 5]) >> (position % 5) & 1
        chars.append(char.upper() if upper else char.lower())
    return "".join(chars)


def canonical_id(text: str) -> str | None:
    """Return the 18-character id that `text` (15 or 18 characters) names, or None if invalid."""
    if not text.isascii() or not text.isalnum():
        return None
    if len(text) == 15:
        return add_checksum(text)
    if len(text) != 18:
        return None
    restored = _restore_case(text)
    if restored is None:
        return None
    return add_checksum(restored)


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_BASE62[remainder])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """Issue ids from one counter shared by every key prefix, so ids sort in creation order."""

    def __init__(self, start: int = 0x10000) -> None:
        self._next = start
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        """Return the next 18-character id with this 3-character key prefix (`500` Case...)."""
        with self._lock:
            number = self._next
            self._next += 1
        return add_checksum(prefix + _POD + _base62(number, 10))
