"""The `Prefer` request header and the `$skiptoken` paging cookie.

`Prefer` is a comma-separated list such as `odata.maxpagesize=2,
odata.include-annotations="*", return=representation`. The paging cookie carries the sort
key of the last row served, so the next page starts right after it even when rows change
between requests; clients must send the `@odata.nextLink` back unchanged.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error

__all__ = ["MAX_PAGE_SIZE", "Preferences", "decode_skiptoken", "encode_skiptoken", "parse_prefer"]

#: Largest and default page size of the Web API.
MAX_PAGE_SIZE = 5000


@dataclass(frozen=True)
class Preferences:
    """The preferences the emulator honours; `annotations` None means none were asked for."""

    max_page_size: int | None = None
    annotations: tuple[str, ...] | None = None
    return_representation: bool = False

    def wants_annotation(self, name: str) -> bool:
        """Tell whether an instance annotation (`OData.Community.Display.V1.FormattedValue`) is asked for."""
        if self.annotations is None:
            return False
        return any(
            pattern in ("*", name) or (pattern.endswith(".*") and name.startswith(pattern[:-1]))
            for pattern in self.annotations
        )


def _split(header: str) -> list[str]:
    """Split on commas outside double quotes, since the annotation list is quoted."""
    parts: list[str] = []
    current = ""
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def parse_prefer(header: str | None) -> Preferences:
    """Read the preferences from a `Prefer` header; unknown ones are ignored, as servers may."""
    max_page_size: int | None = None
    annotations: tuple[str, ...] | None = None
    representation = False
    for part in _split(header or ""):
        name, _, value = part.partition("=")
        name = name.strip().lower()
        value = value.strip()
        if name == "odata.maxpagesize" and value.isdigit() and int(value) > 0:
            max_page_size = min(int(value), MAX_PAGE_SIZE)
        elif name == "odata.include-annotations":
            names = value.strip('"').split(",")
            annotations = tuple(item.strip() for item in names if item.strip())
        elif name == "return" and value == "representation":
            representation = True
    return Preferences(max_page_size, annotations, representation)


def encode_skiptoken(page: int, last_key: list[Any]) -> str:
    """Build the paging cookie for the page after the one that ended with `last_key`."""
    cookie = base64.urlsafe_b64encode(json.dumps(last_key).encode("utf-8")).decode("ascii")
    return f'<cookie pagenumber="{page}" pagingcookie="{cookie}" istracking="False" />'


def decode_skiptoken(token: str) -> tuple[int, list[Any]]:
    """Return (page number, last key) from a cookie; raise the 400 for one not made here."""
    try:
        page = int(token.split('pagenumber="', 1)[1].split('"', 1)[0])
        cookie = token.split('pagingcookie="', 1)[1].split('"', 1)[0]
        last_key = json.loads(base64.urlsafe_b64decode(cookie.encode("ascii")))
    except (IndexError, ValueError, binascii.Error) as exc:
        raise odata_error(
            400, NOT_FOUND_SEGMENT, "The paging cookie in $skiptoken is not valid."
        ) from exc
    if not isinstance(last_key, list):
        raise odata_error(400, NOT_FOUND_SEGMENT, "The paging cookie in $skiptoken is not valid.")
    return page, last_key
