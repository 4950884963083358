from __future__ import annotations

from tierbridge.emulators.servicenow import ChangeEvent, ServiceNowState


def test_seeded_users_and_groups() -> None:
    """The integration user, the L1 agent and both groups exist from the start."""
    state = ServiceNowState()

    assert state.user_by_name("svc.tierbridge") is not None
    assert state.user_by_name("agent.l1") is not None
    assert {group["name"] for group in state.rows("sys_user_group")} == {
        "Service Desk",
        "Outsourced L2",
    }


def test_ensure_user_from_label() -> None:
    """A dataset label becomes a user with a derived user_name and e-mail."""
    state = ServiceNowState()

    user = state.ensure_user("Resolver 149")

    assert user["user_name"] == "resolver.149"
    assert user["email"] == "resolver.149@example.com"
    assert user["name"] == "Resolver 149"
    assert state.ensure_user("resolver.149@example.com")["sys_id"] == user["sys_id"]


def test_ensure_user_from_email() -> None:
    """An e-mail becomes a user named after its local part."""
    state = ServiceNowState()

    user = state.ensure_user("sam.roe@example.com")

    assert user["user_name"] == "sam.roe"
    assert user["name"] == "Sam Roe"


def test_ensure_group_once() -> None:
    """ensure_group returns the existing group on the second call."""
    state = ServiceNowState()

    first = state.ensure_group("Group 56")

    assert state.ensure_group("Group 56")["sys_id"] == first["sys_id"]
    assert len(state.rows("sys_user_group")) == 3


def test_seed_is_deterministic() -> None:
    """The same seed gives the same sys_ids."""
    assert ServiceNowState(seed=3).new_guid() == ServiceNowState(seed=3).new_guid()
    assert ServiceNowState(seed=3).new_guid() != ServiceNowState(seed=4).new_guid()


def test_listeners_see_changes() -> None:
    """Direct writes run the rules and notify listeners like API writes."""
    state = ServiceNowState()
    events: list[ChangeEvent] = []
    state.listeners.append(events.append)

    record = state.insert("incident", {"impact": "1", "urgency": "1"}, user="agent.l1")
    state.update("incident", record["sys_id"], {"work_notes": "note"}, user="agent.l1")

    assert record["priority"] == "1"
    assert [(e.operation, e.record["sys_mod_count"]) for e in events] == [
        ("insert", "0"),
        ("update", "1"),
    ]
    assert events[1].changed == ("work_notes",)
    assert state.journal(record["sys_id"])[0]["value"] == "note"
