"""Emulator fidelity: each emulator responds to a recorded request in the recorded shape.

Every exchange fixture with a `fidelity` block is sent to the system's emulator, after the
block's `arrange` steps (`seed` a ticket, `comment_public`, `comment_internal`, `missing`
to address an id that does not exist, `throttle` or `fail_500` for the next request).
`auth` is `account` (default), `none` (no credentials) or `expired` (a token the emulator
has since invalidated). The emulator's status, headers and body must have the recorded
shape (see `shapes.py`), so an emulator that drifts from the documented format fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import requests

from tests.contract.exchanges import RECORDED, Exchange, load_exchange
from tests.contract.shapes import compare
from tierbridge.testing import EmulatedTarget, EmulatorPool, Seeded, adapter, adapters
from tierbridge.testing.rawapi import RawApi

#: Drifts found and not fixed yet, by (system, exchange), with the difference. They run as
#: strict xfails, so the fixed emulator fails the run until its entry is removed.
KNOWN_DRIFTS: dict[tuple[str, str], str] = {}


def _cases() -> Iterator[Any]:
    for contract in adapters():
        for path in sorted((RECORDED / contract.system / "exchanges").glob("*.json")):
            if load_exchange(contract.system, path.stem).fidelity is None:
                continue
            marks = [pytest.mark.emulator]
            drift = KNOWN_DRIFTS.get((contract.system, path.stem))
            if drift is not None:
                marks.append(pytest.mark.xfail(reason=drift, strict=True))
            yield pytest.param(
                contract.system,
                path.stem,
                id=f"{contract.system}-fidelity-{path.stem}",
                marks=marks,
            )


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    """Replace `{name}` placeholders in the strings of a JSON value."""
    if isinstance(value, str):
        for name, text in values.items():
            value = value.replace(f"{{{name}}}", text)
        return value
    if isinstance(value, Mapping):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def _arrange(target: EmulatedTarget, steps: list[str]) -> dict[str, str]:
    """Run the steps that come before the request and return the placeholder values."""
    seeded: list[Seeded] = []
    values = target.emulated.placeholders()
    for step in steps:
        if step == "seed":
            seeded.append(target.seed("Fidelity check"))
        elif step in ("comment_public", "comment_internal"):
            public = step == "comment_public"
            target.connector().add_comment(seeded[0].id, f"{step} for fidelity", public=public)
        elif step == "missing":
            values["ticket"] = target.facts.missing_id
    if seeded and "ticket" not in values:
        values["ticket"] = seeded[0].id
        values["key"] = seeded[0].key or seeded[0].id
    for name in ("id", "sys_id"):
        if "ticket" in values:
            values[name] = values["ticket"]
    return values


def _api(target: EmulatedTarget, auth: str) -> RawApi:
    if auth == "none":
        return RawApi(target.emulated.base_url, ca_cert=target.emulated.ca_cert)
    api = target.emulated.api()
    if auth == "expired":
        target.expire_sessions()
    return api


def _send(target: EmulatedTarget, exchange: Exchange) -> requests.Response:
    fidelity = dict(exchange.fidelity or {})
    steps = list(fidelity.get("arrange", []))
    values = _arrange(target, steps)
    api = _api(target, str(fidelity.get("auth", "account")))
    try:
        if "throttle" in steps:
            target.throttle()
        if "fail_500" in steps:
            target.fail_next(500)
        request = json.loads(
            (RECORDED / target.system / "exchanges" / f"{exchange.name}.json").read_text()
        )["request"]
        return api.request(
            exchange.method,
            _fill(fidelity.get("path", exchange.path), values),
            params=_fill(dict(exchange.query), values),
            headers=_fill(request.get("headers", {}), values),
            json=_fill(exchange.json_body, values),
            data=_fill(exchange.form, values),
        )
    finally:
        api.close()


def _body(response: requests.Response) -> Any:
    if not response.content:
        return b""
    try:
        return response.json()
    except ValueError:
        return response.content


@pytest.mark.parametrize(("system", "name"), list(_cases()))
def test_emulator_matches_recording(system: str, name: str, emulator_pool: EmulatorPool) -> None:
    """The emulator's response to a recorded request has the recorded shape."""
    target = EmulatedTarget(adapter(system), emulator_pool)
    try:
        exchange = load_exchange(system, name)
        response = _send(target, exchange)
        problems = compare(
            response.status_code,
            dict(response.headers),
            _body(response),
            recorded_status=exchange.status,
            recorded_headers=exchange.headers,
            recorded_body=exchange.body,
            strict=exchange.strict,
            nulls=bool((exchange.fidelity or {}).get("null_scalars", True)),
            rows=frozenset({f"$.{exchange.rows}"} if exchange.rows else ()),
        )
    finally:
        target.close()

    assert problems == [], f"{system} emulator drifted from recorded/{system}/exchanges/{name}.json"
