from __future__ import annotations

from typing import Any

from tests.emulators.jira.support import Api


def _transitions(api: Api, key: str) -> list[dict[str, Any]]:
    response = api.get(
        f"/rest/api/3/issue/{key}/transitions", params={"expand": "transitions.fields"}
    )
    listed: list[dict[str, Any]] = response.json()["transitions"]
    return listed


def _move(api: Api, key: str, transition_id: str, **fields: Any) -> Any:
    return api.post(
        f"/rest/api/3/issue/{key}/transitions",
        json={"transition": {"id": transition_id}, "fields": fields},
    )


def test_only_available_transitions_listed(svc: Api) -> None:
    """A new request lists the transitions leaving Waiting for support, with targets."""
    key = svc.create_request()["issueKey"]

    targets = {item["to"]["name"] for item in _transitions(svc, key)}

    assert targets == {"In Progress", "Waiting for customer", "Resolved", "Canceled"}


def test_transition_shape(svc: Api) -> None:
    """Each transition carries its target status with category and the screen fields."""
    key = svc.create_request()["issueKey"]

    resolve = next(t for t in _transitions(svc, key) if t["to"]["name"] == "Resolved")
    start = next(t for t in _transitions(svc, key) if t["to"]["name"] == "In Progress")

    assert resolve["to"]["statusCategory"]["key"] == "done"
    assert resolve["looped"] is False
    assert resolve["fields"]["resolution"]["required"] is True
    assert resolve["fields"]["resolution"]["operations"] == ["set"]
    assert start["fields"] == {}


def test_fields_only_with_expand(svc: Api) -> None:
    """Without expand=transitions.fields the screen fields are left out."""
    key = svc.create_request()["issueKey"]

    listed = svc.get(f"/rest/api/3/issue/{key}/transitions").json()["transitions"]

    assert all("fields" not in item for item in listed)


def test_resolve_requires_resolution(svc: Api) -> None:
    """Resolving without a resolution fails with 400 under errors.resolution."""
    key = svc.create_request()["issueKey"]

    response = _move(svc, key, "51")

    assert response.status_code == 400
    assert response.json() == {
        "errorMessages": [],
        "errors": {"resolution": "Resolution is required."},
    }


def test_resolve_sets_resolution(svc: Api) -> None:
    """A transition with a resolution returns 204 and sets status and resolution."""
    key = svc.create_request()["issueKey"]

    response = _move(svc, key, "51", resolution={"name": "Duplicate"})
    fields = svc.get(f"/rest/api/3/issue/{key}").json()["fields"]

    assert response.status_code == 204
    assert fields["status"]["name"] == "Resolved"
    assert fields["resolution"]["name"] == "Duplicate"
    assert fields["resolutiondate"] is not None


def test_reopen_clears_resolution(svc: Api) -> None:
    """Leaving a done status removes the resolution."""
    key = svc.create_request()["issueKey"]
    _move(svc, key, "51", resolution={"name": "Done"})

    _move(svc, key, "81")
    fields = svc.get(f"/rest/api/3/issue/{key}").json()["fields"]

    assert fields["status"]["name"] == "In Progress"
    assert fields["resolution"] is None


def test_cancel_sets_default_resolution(svc: Api) -> None:
    """Canceling without a resolution sets Won't Do, as the workflow's post function does."""
    key = svc.create_request()["issueKey"]

    _move(svc, key, "61")

    assert svc.get(f"/rest/api/3/issue/{key}").json()["fields"]["resolution"]["name"] == (
        "Won't Do"
    )


def test_unavailable_transition_gives_400(svc: Api) -> None:
    """A transition not available from the current status is refused."""
    key = svc.create_request()["issueKey"]

    response = _move(svc, key, "71")

    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["Transition id '71' is not valid for this issue."]


def test_field_not_on_screen_gives_400(svc: Api) -> None:
    """Fields the transition screen does not offer are refused."""
    key = svc.create_request()["issueKey"]

    response = _move(svc, key, "11", resolution={"name": "Done"})

    assert response.status_code == 400
    assert "resolution" in response.json()["errors"]
