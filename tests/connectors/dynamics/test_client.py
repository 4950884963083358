from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.dynamics.conftest import MakeSettings
from tests.emulators.dynamics.support import FakeClock, new_case
from tierbridge.connectors.dynamics.client import WebApiClient
from tierbridge.core.errors import NotFoundError, PermanentError, RetryableError, ThrottledError
from tierbridge.emulators.dynamics import DynamicsEmulator

MISSING = "3f2a8c1e-5b7d-4e9f-a1c2-0d9e8f7a6b5c"
QUERY = {"$select": "title", "$orderby": "modifiedon asc,incidentid asc"}


class StepClock:
    """A monotonic clock for the client that moves only when a test sets it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def step_clock() -> StepClock:
    return StepClock()


@pytest.fixture
def client(make_settings: MakeSettings, step_clock: StepClock) -> Iterator[WebApiClient]:
    web_api = WebApiClient(make_settings(), "dyn", clock=step_clock)
    yield web_api
    web_api.close()


def _seed(emulator: DynamicsEmulator, clock: FakeClock, count: int) -> None:
    for index in range(count):
        new_case(emulator, title=f"Case {index}")
        clock.advance(60)


def test_pages_follow_next_link(
    client: WebApiClient, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """pages() requests odata.maxpagesize and follows @odata.nextLink to the last page."""
    _seed(emulator, clock, 5)

    pages = [
        [row["title"] for row in page]
        for page in client.pages("incidents", QUERY, operation="read")
    ]

    assert pages == [["Case 0", "Case 1"], ["Case 2", "Case 3"], ["Case 4"]]


def test_repeated_next_link(
    client: WebApiClient, emulator: DynamicsEmulator, clock: FakeClock
) -> None:
    """A next link seen before raises RetryableError instead of looping."""
    _seed(emulator, clock, 5)
    emulator.inject_repeated_next_link()

    with pytest.raises(RetryableError, match="repeats a link"):
        list(client.pages("incidents", QUERY, operation="read"))


def test_next_link_other_host(client: WebApiClient) -> None:
    """A next link to another host raises PermanentError and is never requested."""
    followed: set[str] = set()

    with pytest.raises(PermanentError, match="outside"):
        client._next("https://evil.example.com/api/data/v9.2/incidents", followed, "read", None)

    assert followed == set()


def test_throttled_retry_after(client: WebApiClient, emulator: DynamicsEmulator) -> None:
    """429 with Retry-After raises ThrottledError carrying the wait and the limit."""
    emulator.inject_429(1, retry_after=7)

    with pytest.raises(ThrottledError) as caught:
        client.get("WhoAmI", operation="who")

    assert caught.value.retry_after == 7.0
    assert caught.value.status == 429
    assert "number of requests" in str(caught.value)


def test_nothing_sent_during_wait(
    client: WebApiClient, emulator: DynamicsEmulator, step_clock: StepClock
) -> None:
    """Inside the Retry-After wait the client raises without sending; after it, it sends."""
    emulator.inject_429(2, retry_after=30)
    with pytest.raises(ThrottledError):
        client.get("WhoAmI", operation="who")

    step_clock.now += 10
    with pytest.raises(ThrottledError) as waiting:
        client.get("WhoAmI", operation="who")
    step_clock.now += 21
    with pytest.raises(ThrottledError) as sent:
        client.get("WhoAmI", operation="who")

    assert waiting.value.status is None
    assert waiting.value.retry_after == pytest.approx(20.0)
    assert sent.value.status == 429


def test_update_never_upserts(client: WebApiClient, emulator: DynamicsEmulator) -> None:
    """update() sends If-Match, so a missing id raises NotFoundError and creates nothing."""
    with pytest.raises(NotFoundError):
        client.update(
            "incidents", MISSING, {"title": "x"}, "incidentid", etag="*", operation="update"
        )

    assert emulator.state.get("incident", MISSING) is None


def test_request_other_host(client: WebApiClient) -> None:
    """An absolute URL on another host is refused before the token is sent."""
    with pytest.raises(PermanentError, match="other than base_url"):
        client.request("GET", "https://evil.example.com/x", operation="read")
