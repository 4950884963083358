"""Recorded exchanges and the calls of a cassette that replay them.

An exchange (`recorded/<system>/exchanges/<name>.json`) is one documented request and the
response the vendor sends for it. A `Call` is one entry of a cassette: the exchange, what
the request must contain, and the changes to its response body.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

__all__ = ["RECORDED", "Call", "Exchange", "load_exchange"]

RECORDED = Path(__file__).parent / "recorded"
_PLACEHOLDER = re.compile(r"\\\{[a-z_]+\\\}")


@dataclass(frozen=True)
class Exchange:
    """One documented request and response of a vendor API."""

    name: str
    method: str
    path: str
    query: Mapping[str, str]
    status: int
    headers: Mapping[str, str]
    body: Any = None
    text: str | None = None
    form: Mapping[str, str] | None = None
    json_body: Any = None
    #: Dotted path of the body's list of records, which a call's `rows` fills from its first row.
    rows: str | None = None
    #: True when the emulator's body must have exactly the recorded keys, not only these keys.
    strict: bool = False
    fidelity: Mapping[str, Any] | None = None

    def path_pattern(self) -> re.Pattern[str]:
        """Return a regex of the path in which `{name}` placeholders match one segment."""
        escaped = _PLACEHOLDER.sub(r"[^/]+", re.escape(self.path))
        return re.compile(f"^{escaped}$")


@functools.cache
def load_exchange(system: str, name: str) -> Exchange:
    """Read `recorded/<system>/exchanges/<name>.json`; the body is shared, so copy it to change it."""
    raw = json.loads((RECORDED / system / "exchanges" / f"{name}.json").read_text("utf-8"))
    request = raw["request"]
    return Exchange(
        name=name,
        method=request["method"],
        path=request["path"],
        query=request.get("query", {}),
        status=raw["status"],
        headers=raw.get("headers", {}),
        body=raw.get("body"),
        text=raw.get("text"),
        form=request.get("form"),
        json_body=request.get("json"),
        rows=raw.get("rows"),
        strict=raw.get("strict", False),
        fidelity=raw.get("fidelity"),
    )


def _step(node: Any, dotted: str) -> tuple[str, str | None]:
    """Split a dotted path into the key of `node` it starts with and the rest.

    Keys may contain dots themselves (`@odata.nextLink`), so the longest key of `node` that
    prefixes the path wins; otherwise the first segment is the key.
    """
    if isinstance(node, Mapping):
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            key = ".".join(parts[:end])
            if key in node:
                return key, ".".join(parts[end:]) or None
    key, _, rest = dotted.partition(".")
    return key, rest or None


def _set_path(document: Any, dotted: str, value: Any) -> None:
    """Replace the value at a dotted path (`result.0.state`) of a JSON document."""
    node = document
    key, rest = _step(node, dotted)
    while rest is not None:
        node = node[int(key)] if isinstance(node, list) else node[key]
        key, rest = _step(node, rest)
    if isinstance(node, list):
        node[int(key)] = value
    else:
        node[key] = value


def _get_path(document: Any, dotted: str) -> Any:
    key, rest = _step(document, dotted)
    while True:
        document = document[int(key)] if isinstance(document, list) else document[key]
        if rest is None:
            return document
        key, rest = _step(document, rest)


def _row(body: Any, rows_path: str, changes: Mapping[str, Any]) -> Any:
    """Return a copy of the body's first record with `changes` (dotted paths) applied."""
    row = copy.deepcopy(_get_path(body, rows_path)[0])
    for dotted, value in changes.items():
        _set_path(row, dotted, value)
    return row


def _contains(expected: Any, actual: Any) -> bool:
    """Tell whether `actual` has every key and value of `expected` (a JSON subset)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return False
        return all(
            key in actual and _contains(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


@dataclass
class Call:
    """One expected request of a cassette and the response it gets."""

    exchange: Exchange
    query: Mapping[str, str] = field(default_factory=dict)
    json_subset: Any = None
    form: Mapping[str, str] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    rows: list[Mapping[str, Any]] | None = None

    def mismatch(self, request: requests.PreparedRequest) -> str | None:
        """Return why `request` is not this call, or None if it is."""
        url = urlsplit(request.url or "")
        exchange = self.exchange
        if request.method != exchange.method or not exchange.path_pattern().match(url.path):
            return f"expected {exchange.method} {exchange.path}"

        sent_query = {key: values[0] for key, values in parse_qs(url.query).items()}
        for key, part in self.query.items():
            if part not in sent_query.get(key, ""):
                return f"query {key} should contain {part!r}, was {sent_query.get(key)!r}"

        return self._body_mismatch(request.body)

    def _body_mismatch(self, raw: object) -> str | None:
        if isinstance(raw, bytes):
            body = raw.decode()
        elif isinstance(raw, str):
            body = raw
        else:
            body = ""
        if self.json_subset is not None and not _contains(
            self.json_subset, json.loads(body or "null")
        ):
            return f"JSON body should contain {self.json_subset!r}, was {body!r}"
        sent_form = {key: values[0] for key, values in parse_qs(body).items()}
        for key, part in self.form.items():
            if part not in sent_form.get(key, ""):
                return f"form field {key} should contain {part!r}"
        return None

    def response(self, base_url: str) -> tuple[int, dict[str, str], bytes]:
        """Return the status, headers and body to respond with."""
        exchange = self.exchange
        headers = {
            key: value.replace("{base}", base_url) for key, value in exchange.headers.items()
        }
        headers.update(self.headers)
        if exchange.text is not None:
            return self.status or exchange.status, headers, exchange.text.encode("utf-8")
        if exchange.body is None:
            return self.status or exchange.status, headers, b""
        body = copy.deepcopy(exchange.body)
        if self.rows is not None:
            _set_path(
                body, str(exchange.rows), [_row(body, str(exchange.rows), row) for row in self.rows]
            )
        for dotted, value in self.changes.items():
            _set_path(body, dotted, value)
        text = json.dumps(body).replace("{base}", base_url)
        return self.status or exchange.status, headers, text.encode("utf-8")
