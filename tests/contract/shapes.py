"""Compare a recorded response with an emulator's: status, headers, keys, types, string formats.

Values differ between the two (ids, texts, counts); what must agree is the shape a
connector parses. `compare` returns one line per difference, empty when they agree:

* the status, and the media type of `Content-Type`;
* every recorded header is sent, numbers stay numbers, and `Link` offers the same `rel`s;
* every recorded key is present (or exactly the recorded keys, for `strict` error bodies),
  with the same JSON type. A recorded null accepts any value, and an object or list may be
  null in the emulator's body, as an empty reference is. An OData annotation
  (`prioritycode@OData.Community.Display.V1.FormattedValue`) is required only when the
  property it annotates has a value, because Dataverse leaves it out for nulls;
* a scalar may be null only where the system sends nulls (`null_scalars`); ServiceNow, for
  one, sends empty strings instead;
* a string in a recognised format (a date-time, an id, a number) keeps that format;
* each item of an emulator list has the shape of one of the recorded items. Lists may be
  empty, except the list of records (`rows`), because the fidelity check seeds records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FORMATS", "compare", "compare_bodies", "string_format"]

#: String formats, tried in order; the first that matches names the string's format.
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("ServiceNow date-time", r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"),
        (
            "ISO date-time with milliseconds and offset",
            r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$",
        ),
        ("ISO date-time with offset", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"),
        (
            "ISO date-time with milliseconds in UTC",
            r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
        ),
        ("ISO date-time in UTC", r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"),
        ("date", r"^\d{4}-\d{2}-\d{2}$"),
        ("WCF date", r"^/Date\(-?\d+([+-]\d{4})?\)/$"),
        ("GUID", r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        ("sys_id", r"^[0-9a-f]{32}$"),
        ("18-character Salesforce id", r"^[0-9A-Za-z]{15}[A-Z0-5]{3}$"),
        ("weak ETag", r'^W/"\d+"$'),
        ("number as text", r"^\d+$"),
        ("boolean as text", r"^(true|false)$"),
    )
)
_INCIDENTAL_HEADERS = frozenset({"content-length", "date", "server", "connection"})
_LINK_REL = re.compile(r'rel="?([a-z]+)"?')


def string_format(text: str) -> str | None:
    """Return the name of the first format `text` matches, or None."""
    return next((name for name, pattern in FORMATS if pattern.match(text)), None)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _compare_string(recorded: str, emulated: str, where: str) -> list[str]:
    expected = string_format(recorded)
    if expected is None or emulated == "":
        return []
    found = string_format(emulated)
    if found != expected:
        return [f"{where}: recorded {expected} ({recorded!r}), emulator sent {emulated!r}"]
    return []


def _optional(key: str, emulated: Mapping[str, Any]) -> bool:
    """Tell whether `key` annotates a property that is null in `emulated`."""
    prop, at, _annotation = key.partition("@")
    return bool(prop and at) and prop in emulated and emulated[prop] is None


def _compare_object(
    recorded: Mapping[str, Any], emulated: Mapping[str, Any], where: str, rules: _Rules
) -> list[str]:
    problems = [
        f"{where}.{key}: missing"
        for key in recorded
        if key not in emulated and not _optional(key, emulated)
    ]
    if rules.strict:
        problems += [
            f"{where}.{key}: not in the recording" for key in emulated if key not in recorded
        ]
    for key, value in recorded.items():
        if key in emulated:
            problems += _compare(value, emulated[key], f"{where}.{key}", rules)
    return problems


def _compare_list(recorded: list[Any], emulated: list[Any], where: str, rules: _Rules) -> list[str]:
    if not recorded:
        return []
    if not emulated:
        return [f"{where}: empty, where the recording has items"] if where in rules.rows else []
    problems: list[str] = []
    for index, item in enumerate(emulated):
        # Lists may mix shapes (system and custom fields), so the closest recorded item counts.
        candidates = [_compare(option, item, f"{where}[{index}]", rules) for option in recorded]
        closest: list[str] = min(candidates, key=len)
        problems.extend(closest)
    return problems


@dataclass(frozen=True)
class _Rules:
    strict: bool
    nulls: bool
    rows: frozenset[str]


def compare_bodies(
    recorded: Any,
    emulated: Any,
    where: str = "$",
    *,
    strict: bool = False,
    nulls: bool = True,
    rows: frozenset[str] = frozenset(),
) -> list[str]:
    """Return the differences in shape between two decoded JSON bodies.

    `rows` contains the paths (`$.result`) of lists that must not be empty.
    """
    return _compare(recorded, emulated, where, _Rules(strict, nulls, rows))


def _compare(recorded: Any, emulated: Any, where: str, rules: _Rules) -> list[str]:
    recorded_kind, emulated_kind = _kind(recorded), _kind(emulated)
    if recorded_kind == "null":
        return []
    if emulated_kind == "null":
        if recorded_kind in ("object", "list") or rules.nulls:
            return []
        return [f"{where}: null where the recording has a {recorded_kind}"]
    if recorded_kind != emulated_kind:
        return [f"{where}: recorded a {recorded_kind}, emulator sent a {emulated_kind}"]

    if recorded_kind == "object":
        return _compare_object(recorded, emulated, where, rules)
    if recorded_kind == "list":
        return _compare_list(recorded, emulated, where, rules)
    if recorded_kind == "string":
        return _compare_string(recorded, emulated, where)
    return []


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _compare_header(name: str, recorded: str, emulated: str | None) -> list[str]:
    if emulated is None:
        return [f"header {name}: missing"]
    lowered = name.lower()
    if lowered == "content-type" and _media_type(recorded) != _media_type(emulated):
        return [
            f"header {name}: recorded {_media_type(recorded)}, emulator sent {_media_type(emulated)}"
        ]
    if lowered == "link":
        recorded_rels = set(_LINK_REL.findall(recorded))
        emulated_rels = set(_LINK_REL.findall(emulated))
        if not recorded_rels <= emulated_rels:
            return [f"header Link: rels {sorted(recorded_rels - emulated_rels)} missing"]
        return []
    if recorded.isdigit() and not emulated.isdigit():
        return [f"header {name}: recorded a number, emulator sent {emulated!r}"]
    return []


def compare(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    recorded_status: int,
    recorded_headers: Mapping[str, str],
    recorded_body: Any,
    strict: bool = False,
    nulls: bool = True,
    rows: frozenset[str] = frozenset(),
) -> list[str]:
    """Return every difference between a recorded response and the emulator's.

    `body` is the emulator's decoded JSON body, or its raw bytes when it sent none or
    something that is not JSON.
    """
    problems: list[str] = []
    if status != recorded_status:
        problems.append(f"status: recorded {recorded_status}, emulator sent {status}")
    lowered = {key.lower(): value for key, value in headers.items()}
    for name, value in recorded_headers.items():
        if name.lower() not in _INCIDENTAL_HEADERS:
            problems += _compare_header(name, value, lowered.get(name.lower()))
    if recorded_body is None:
        if body not in (None, b""):
            problems.append("body: the recording has none, the emulator sent one")
        return problems
    if isinstance(body, bytes):
        problems.append("body: the recording has JSON, the emulator sent none or no JSON")
        return problems
    return problems + compare_bodies(recorded_body, body, strict=strict, nulls=nulls, rows=rows)
