"""The recorded target: each test's HTTP exchanges replayed from fixtures with `responses`.

Fixtures live in `recorded/<system>/`:

* `exchanges/<name>.json`: one request and the response the vendor documents for it
  (`request`, `status`, `headers`, and `body` as JSON or `text`). An optional `fidelity`
  block makes `test_fidelity.py` send the same request to the emulator and compare shapes.
* `cassettes.yaml`: per test, the `seeds` (the ids `Target.seed` returns, in order) and the
  `calls`: the exchanges the connector must make, in order. A call may add:
  `match` (query substrings, a JSON subset or form values the request must carry);
  `set` (dotted paths of the body to replace, such as `result.description`);
  `rows` (the records of a list, each a copy of the first recorded one with its changes);
  `status` and `headers`. A test without an entry may send no request.
* `webhook.json`: one webhook delivery as the vendor sends it, signed at run time.

Every request goes to `BASE_URL`, where nothing listens. `responses` returns the recorded
response, and a request that does not match the next recorded call fails the test.
"""

from __future__ import annotations

import functools
import json
import re
from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses
from ruamel.yaml import YAML

from tests.contract.exchanges import RECORDED, Call, load_exchange
from tierbridge.core.connector import Connector
from tierbridge.testing import (
    CONTRACT_START,
    ContractAdapter,
    Delivery,
    Seeded,
    Target,
    Unsupported,
)
from tierbridge.testing.adapter import SECRET_ENV, WRONG_SECRET_ENV
from tierbridge.testing.env import ScopedEnv
from tierbridge.testing.settings import build_connector

__all__ = ["BASE_URL", "RecordedTarget", "cassette_key", "load_cassettes"]

#: Port 9 (discard) on the loopback address: nothing listens there if `responses` is off.
BASE_URL = "https://127.0.0.1:9"
#: Secrets the recorded settings read; the webhook secret signs the recorded deliveries.
SECRETS = {
    SECRET_ENV.credential: "recorded-client-secret",
    SECRET_ENV.webhook: "recorded-webhook-secret",
    WRONG_SECRET_ENV.credential: "wrong-recorded-client-secret",
    WRONG_SECRET_ENV.webhook: "wrong-recorded-webhook-secret",
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class RecordingMismatch(AssertionError):
    """A request the recording does not expect at this point."""


def _call(system: str, item: Any) -> Call:
    if isinstance(item, str):
        return Call(load_exchange(system, item))
    match = item.get("match", {})
    return Call(
        load_exchange(system, item["use"]),
        query=match.get("query", {}),
        json_subset=match.get("json"),
        form=match.get("form", {}),
        changes=item.get("set", {}),
        status=item.get("status"),
        headers=item.get("headers", {}),
        rows=item.get("rows"),
    )


class Player:
    """Respond to each request with the next call of a cassette and note every mismatch."""

    def __init__(self, calls: list[Call], base_url: str) -> None:
        self._calls = deque(calls)
        self._base_url = base_url
        self.problems: list[str] = []

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        where = f"{request.method} {urlsplit(request.url or '').path}"
        if not self._calls:
            self.problems.append(f"unexpected request {where}: the recording has ended")
            raise RecordingMismatch(self.problems[-1])
        reason = self._calls[0].mismatch(request)
        if reason is not None:
            self.problems.append(f"request {where} does not match the recording: {reason}")
            raise RecordingMismatch(self.problems[-1])
        return self._calls.popleft().response(self._base_url)

    def unplayed(self) -> list[str]:
        """Return the exchanges the connector never asked for."""
        return [call.exchange.name for call in self._calls]


_yaml = YAML(typ="safe")


@functools.cache
def load_cassettes(system: str) -> dict[str, Any]:
    """Read `recorded/<system>/cassettes.yaml`; the result is shared and must not be changed."""
    loaded: dict[str, Any] = _yaml.load((RECORDED / system / "cassettes.yaml").read_text("utf-8"))
    return loaded


def cassette_key(node: pytest.Item) -> str:
    """Return a test's cassette name: the function name, plus its parameters other than the target."""
    name = getattr(node, "originalname", node.name)
    spec = getattr(node, "callspec", None)
    params = (
        {}
        if spec is None
        else {key: value for key, value in spec.params.items() if key != "target"}
    )
    if not params:
        return str(name)
    return f"{name}[{'-'.join(str(value) for value in params.values())}]"


class RecordedTarget(Target):
    """A system's documented wire format, replayed for one test."""

    def __init__(self, contract: ContractAdapter, key: str) -> None:
        super().__init__(contract.system, "recorded", contract.facts)
        self._contract = contract
        folder = RECORDED / contract.system
        cassettes = load_cassettes(contract.system)
        # A test without a cassette may make no request: any request fails it.
        cassette = cassettes.get(key) or {}
        if "skip" in cassette:
            raise Unsupported(str(cassette["skip"]))
        self._seeds = deque(cassette.get("seeds", cassettes["defaults"]["seeds"]))
        self._player = Player(
            [_call(contract.system, item) for item in cassette.get("calls", [])], BASE_URL
        )
        self._webhook = folder / "webhook.json"
        self._env = ScopedEnv(SECRETS)
        self.settings = contract.recorded_settings(BASE_URL, SECRET_ENV)
        self._mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for method in _METHODS:
            self._mock.add_callback(method, re.compile(re.escape(BASE_URL) + r"/.*"), self._player)
        self._mock.start()

    def _build(self, overrides: Mapping[str, Any]) -> Connector:
        return build_connector(self.system, {**self.settings, **overrides})

    def invalid_credentials(self) -> dict[str, Any]:
        return self._contract.credential_override(self.settings, WRONG_SECRET_ENV.credential)

    def other_webhook_secret(self) -> dict[str, Any]:
        webhook = {**self.settings["webhook"], "secret": {"env": WRONG_SECRET_ENV.webhook}}
        return {"webhook": webhook}

    def now(self) -> datetime:
        return CONTRACT_START

    def seed(self, title: str) -> Seeded:
        if not self._seeds:
            raise AssertionError("the recording lists fewer seeds than the test creates")
        return Seeded(str(self._seeds.popleft()))

    def advance(self, seconds: float) -> None:
        """Nothing to do: the recording contains the later timestamps."""

    def expire_sessions(self) -> None:
        """Nothing to do: the recording contains the expired-session response."""

    def throttle(self) -> None:
        """Nothing to do: the recording contains the throttling response."""

    def fail_next(self, status: int) -> None:
        """Nothing to do: the recording contains the server error."""

    def repeat_next_page(self) -> None:
        """Nothing to do: the recording contains the repeated page link."""

    def delivery(self, seeded: Seeded) -> Delivery:
        raw = json.loads(self._webhook.read_text("utf-8"))
        body = (
            raw["text"].encode("utf-8")
            if "text" in raw
            else json.dumps(raw["body"], separators=(",", ":")).encode()
        )
        return self.resign(Delivery(raw["headers"], b""), body)

    def resign(self, delivery: Delivery, body: bytes) -> Delivery:
        kept = delivery.without(*self._contract.webhook_auth_headers)
        signed = self._contract.sign(body, SECRETS[SECRET_ENV.webhook])
        return Delivery({**kept.headers, **signed}, body)

    def strip_auth(self, delivery: Delivery) -> Delivery:
        return delivery.without(*self._contract.webhook_auth_headers)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._mock.stop()
            self._mock.reset()
            self._env.restore()
        problems = [*self._player.problems]
        unplayed = self._player.unplayed()
        if unplayed:
            problems.append(f"recorded calls never requested: {', '.join(unplayed)}")
        if problems:
            raise AssertionError("; ".join(problems))
