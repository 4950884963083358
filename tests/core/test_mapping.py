"""Tests for mapping files and the Mapper that applies them in both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import ConfigError, MappingError
from tierbridge.core.mapping import (
    MAPPABLE_FIELDS,
    Mapper,
    MappingSpec,
    ValueMaps,
    load_mapping,
    mapping_problems,
)
from tierbridge.core.model import Priority, Status, Ticket, TicketRef

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SNOW_MAPPING = ROOT / "mappings" / "servicenow.yaml"
JIRA_MAPPING = ROOT / "mappings" / "jira.yaml"
UPDATED = datetime(2024, 5, 1, 9, 15, tzinfo=UTC)

SNOW_FIELDS: dict[str, Any] = {
    "short_description": "VPN drops every 10 minutes",
    "description": "Since Monday the client disconnects.",
    "state": "2",
    "impact": "2",
    "urgency": "1",
    "priority": "2",
    "category": "network",
    "subcategory": "vpn",
    "assignment_group": "Service Desk",
    "assigned_to": "alex.doe",
    "caller_id": "sam.roe@example.com",
    "close_code": None,
    "close_notes": None,
    "correlation_id": None,
}


def record(
    fields: dict[str, Any], *, record_id: str = "a1b2", key: str = "INC0010023"
) -> NativeRecord:
    return NativeRecord(id=record_id, key=key, version="0000000007", updated=UPDATED, fields=fields)


def ticket(**values: Any) -> Ticket:
    return Ticket(ref=TicketRef(connector="other", id="x1"), **values)


@pytest.fixture(scope="module")
def snow() -> Mapper:
    return Mapper(load_mapping(SNOW_MAPPING), "snow")


@pytest.fixture(scope="module")
def jira() -> Mapper:
    return Mapper(load_mapping(JIRA_MAPPING), "jsm")


def spec_from(**overrides: Any) -> MappingSpec:
    data: dict[str, Any] = {"system": "servicenow", "fields": {"status": "state"}}
    data.update(overrides)
    return MappingSpec.model_validate(data)


class TestShippedMappings:
    def test_servicenow_mapping_loads(self) -> None:
        """The shipped ServiceNow mapping is valid and remembers its file."""
        spec = load_mapping(SNOW_MAPPING)

        assert spec.system == "servicenow"
        assert spec.source == SNOW_MAPPING
        assert spec.read_only == ("priority",)
        assert spec.fields["title"] == "short_description"

    def test_jira_mapping_loads(self) -> None:
        """The shipped Jira mapping is valid and uses the default correlation field."""
        spec = load_mapping(JIRA_MAPPING)

        assert spec.system == "jira"
        assert spec.fields["correlation_id"] == "customfield_10060"
        assert spec.read_only == ()

    def test_value_maps_cover_mappable_fields(self) -> None:
        """ValueMaps has exactly one entry per mappable canonical field."""
        assert tuple(ValueMaps.model_fields) == MAPPABLE_FIELDS

    def test_mappable_fields_follow_ticket(self) -> None:
        """The mappable fields are the ticket's sync fields plus correlation_id."""
        assert set(MAPPABLE_FIELDS) == {*Ticket.SYNC_FIELDS, "correlation_id"}
        assert all(name in Ticket.model_fields for name in MAPPABLE_FIELDS)


class TestLoadMapping:
    def test_bad_value_has_position(self) -> None:
        """A wrong canonical value is reported at its line, with the allowed values."""
        path = FIXTURES / "bad_mapping.yaml"

        with pytest.raises(ConfigError) as caught:
            load_mapping(path)

        issues = {issue.path: issue for issue in caught.value.issues}
        status = issues["values.status.inbound.6"]
        assert status.file == str(path)
        assert (status.line, status.column) == (9, 48)
        assert "'done'" in status.message
        assert "'resolved'" in status.message

    def test_unknown_field_lists_allowed(self) -> None:
        """A misspelt canonical field is reported at the key with the allowed names."""
        with pytest.raises(ConfigError) as caught:
            load_mapping(FIXTURES / "bad_mapping.yaml")

        issues = {issue.path: issue for issue in caught.value.issues}
        field = issues["fields.sumary"]
        assert (field.line, field.column) == (6, 3)
        assert "not a canonical field" in field.message
        assert "resolution_notes" in field.message

    def test_inconsistent_keys_all_reported(self) -> None:
        """Keys that disagree with one another are each reported at their line."""
        with pytest.raises(ConfigError) as caught:
            load_mapping(FIXTURES / "inconsistent_mapping.yaml")

        messages = {issue.path: issue.message for issue in caught.value.issues}
        assert "is already mapped to 'title'" in messages["fields.description"]
        assert "'category' is not under fields" in messages["read_only.1"]
        assert "has a value map but is not under fields" in messages["values.category"]
        assert "add an outbound: map" in messages["values.status.inbound"]
        assert "'9' is not a key of inbound" in messages["values.priority.outbound.P2"]
        assert "cells 2x3, 3x1, 3x2, 3x3" in messages["priority_matrix"]
        assert "reads back as P3, not P2" in messages["priority_to_impact_urgency.P2"]
        assert "add P3, P4, P5" in messages["read_only.0"]

    def test_inconsistent_issues_sorted_by_line(self) -> None:
        """Problems found after validation are listed in file order."""
        with pytest.raises(ConfigError) as caught:
            load_mapping(FIXTURES / "inconsistent_mapping.yaml")

        lines = [issue.line for issue in caught.value.issues]
        assert lines == sorted(lines)

    def test_unknown_system_lists_known(self, tmp_path: Path) -> None:
        """A system without a connector is rejected with the known systems."""
        path = tmp_path / "m.yaml"
        path.write_text("system: zendesk\nfields: {title: subject}\n", encoding="utf-8")

        with pytest.raises(ConfigError) as caught:
            load_mapping(path)

        (issue,) = caught.value.issues
        assert issue.path == "system"
        assert "allowed: dynamics, jira, salesforce, servicenow" in issue.message
        assert "'zendesk'" in issue.message

    def test_explicit_outbound_resolves_ambiguity(self) -> None:
        """Two native values for one canonical value are fine with an outbound map."""
        inbound = {"6": "resolved", "7": "resolved"}

        ambiguous = spec_from(values={"status": {"inbound": inbound}})
        explicit = spec_from(values={"status": {"inbound": inbound, "outbound": {"resolved": "6"}}})

        assert len(mapping_problems(ambiguous)) == 1
        assert mapping_problems(explicit) == []


class TestServiceNowInbound:
    def test_full_record_translates(self, snow: Mapper) -> None:
        """Every mapped column becomes its canonical field, translated."""
        result = snow.to_ticket(record(SNOW_FIELDS))

        assert result.ref == TicketRef(connector="snow", id="a1b2", key="INC0010023")
        assert result.version == "0000000007"
        assert result.updated == UPDATED
        assert result.title == "VPN drops every 10 minutes"
        assert result.status is Status.IN_PROGRESS
        assert result.priority is Priority.P2
        assert (result.impact, result.urgency) == (2, 1)
        assert result.assignee == "alex.doe"
        assert result.reporter == "sam.roe@example.com"

    def test_cleared_differs_from_absent(self, snow: Mapper) -> None:
        """A None column is cleared (present); a missing column stays absent."""
        result = snow.to_ticket(record({"state": "1", "assigned_to": None}))

        assert result.present_fields() == {"status", "assignee"}
        assert result.assignee is None
        assert "assignee" in result.snapshot()
        assert "title" not in result.snapshot()

    def test_priority_derived_when_missing(self, snow: Mapper) -> None:
        """Without a priority, impact x urgency gives it through the matrix."""
        result = snow.to_ticket(record({"impact": "1", "urgency": "3"}))

        assert result.priority is Priority.P3
        assert "priority" in result.present_fields()

    def test_priority_derived_when_empty(self, snow: Mapper) -> None:
        """An empty priority column is derived as well."""
        result = snow.to_ticket(record({"impact": "3", "urgency": "3", "priority": None}))

        assert result.priority is Priority.P5

    def test_reported_priority_wins(self, snow: Mapper) -> None:
        """A priority the system reports is kept even if the matrix gives another."""
        result = snow.to_ticket(record({"impact": "3", "urgency": "3", "priority": "1"}))

        assert result.priority is Priority.P1

    def test_no_derivation_without_both(self, snow: Mapper) -> None:
        """With only impact, priority stays absent."""
        result = snow.to_ticket(record({"impact": "1"}))

        assert "priority" not in result.present_fields()

    def test_unmapped_value_raises(self, snow: Mapper) -> None:
        """An unknown state raises MappingError naming file, field, value and choices."""
        with pytest.raises(MappingError) as caught:
            snow.to_ticket(record({"state": "42"}))

        error = caught.value
        assert error.mapping == "servicenow.yaml"
        assert error.field == "status"
        assert error.value == "42"
        assert error.allowed == ("1", "2", "3", "6", "7", "8")
        assert "'42'" in str(error)
        fix = "add it under values.status.inbound in servicenow.yaml or use one of: '1',"
        assert fix in str(error)

    def test_numbers_match_string_keys(self, snow: Mapper) -> None:
        """A connector that reports 2 for state matches the key "2"."""
        result = snow.to_ticket(record({"state": 2, "impact": 1, "urgency": 1}))

        assert result.status is Status.IN_PROGRESS
        assert result.priority is Priority.P1

    def test_created_copied_when_known(self, snow: Mapper) -> None:
        """The record's creation time is copied; an unknown one stays absent."""
        created = datetime(2024, 4, 30, tzinfo=UTC)
        native = NativeRecord(
            id="a", key=None, version="1", updated=UPDATED, fields={}, created=created
        )

        assert snow.to_ticket(native).created == created
        assert "created" not in snow.to_ticket(record({})).model_fields_set


class TestServiceNowOutbound:
    def test_fields_translate_back(self, snow: Mapper) -> None:
        """Requested fields come back as native columns and values."""
        source = ticket(title="Printer jam", status=Status.RESOLVED, resolution_code="Solved")

        native = snow.to_native(source, {"title", "status", "resolution_code"})

        assert native == {"short_description": "Printer jam", "state": "6", "close_code": "Solved"}

    def test_absent_fields_not_written(self, snow: Mapper) -> None:
        """A requested field the ticket does not report is left out."""
        native = snow.to_native(ticket(title="T"), {"title", "description", "category"})

        assert native == {"short_description": "T"}

    def test_cleared_field_written_as_none(self, snow: Mapper) -> None:
        """A cleared field is written as None so the target clears it too."""
        native = snow.to_native(ticket(assignee=None), {"assignee"})

        assert native == {"assigned_to": None}

    def test_read_only_priority_never_written(self, snow: Mapper) -> None:
        """Priority is never written to the read-only priority column."""
        native = snow.to_native(ticket(priority=Priority.P4), {"priority"})

        assert "priority" not in native

    def test_priority_written_as_levels(self, snow: Mapper) -> None:
        """A requested priority becomes impact and urgency from the table."""
        native = snow.to_native(ticket(priority=Priority.P2), {"priority"})

        assert native == {"impact": "1", "urgency": "2"}

    def test_ticket_levels_used_when_consistent(self, snow: Mapper) -> None:
        """The ticket's own impact and urgency are kept when they give its priority."""
        source = ticket(priority=Priority.P3, impact=1, urgency=3)

        assert snow.to_native(source, {"priority"}) == {"impact": "1", "urgency": "3"}

    def test_inconsistent_levels_replaced(self, snow: Mapper) -> None:
        """Impact and urgency that give another priority are replaced from the table."""
        source = ticket(priority=Priority.P1, impact=3, urgency=3)

        assert snow.to_native(source, {"priority"}) == {"impact": "1", "urgency": "1"}

    def test_explicit_levels_not_overridden(self, snow: Mapper) -> None:
        """Requested impact and urgency keep the ticket's values."""
        source = ticket(priority=Priority.P1, impact=2, urgency=2)

        native = snow.to_native(source, {"priority", "impact", "urgency"})

        assert native == {"impact": "2", "urgency": "2"}

    def test_cleared_priority_writes_nothing(self, snow: Mapper) -> None:
        """A cleared priority cannot be expressed as impact and urgency, so nothing is written."""
        assert snow.to_native(ticket(priority=None), {"priority"}) == {}

    def test_unmapped_canonical_value_raises(self) -> None:
        """A canonical value without an outbound entry raises MappingError with choices."""
        spec = spec_from(values={"status": {"inbound": {"1": "new", "2": "in_progress"}}})
        mapper = Mapper(spec, "snow")

        with pytest.raises(MappingError) as caught:
            mapper.to_native(ticket(status=Status.CLOSED), {"status"})

        assert caught.value.field == "status"
        assert caught.value.value == "closed"
        assert caught.value.allowed == ("new", "in_progress")

    def test_priority_missing_from_table(self) -> None:
        """A priority the impact and urgency table lacks names that table as the place to fix."""
        spec = spec_from(
            fields={"priority": "priority", "impact": "impact", "urgency": "urgency"},
            read_only=["priority"],
            priority_to_impact_urgency={"P1": [1, 1], "P2": [1, 2]},
        )
        mapper = Mapper(spec, "snow")

        with pytest.raises(MappingError) as caught:
            mapper.to_native(ticket(priority=Priority.P4), {"priority"})

        assert caught.value.allowed == ("P1", "P2")
        assert "add it under priority_to_impact_urgency" in str(caught.value)

    def test_round_trip_keeps_values(self, snow: Mapper) -> None:
        """Reading the written values back gives the same canonical values."""
        original = snow.to_ticket(record(SNOW_FIELDS))
        writable = set(MAPPABLE_FIELDS) - {"priority"}

        native = snow.to_native(original, writable)
        again = snow.to_ticket(record(native))

        assert again.snapshot() | {"ref": None} == original.snapshot() | {"ref": None}


class TestJira:
    def test_inbound_translates(self, jira: Mapper) -> None:
        """Jira status and priority names become canonical values."""
        fields = {
            "summary": "VPN drops",
            "status": "Waiting for customer",
            "priority": "Highest",
            "customfield_10050": "Network",
            "customfield_10060": "snow:a1b2",
            "resolution": None,
        }

        result = jira.to_ticket(record(fields, key="L2-7"))

        assert result.ref.key == "L2-7"
        assert result.status is Status.PENDING
        assert result.priority is Priority.P1
        assert "category" not in result.present_fields()  # not mapped in the shipped file
        assert result.correlation_id == "snow:a1b2"
        assert result.resolution_code is None

    def test_outbound_writes_priority(self, jira: Mapper) -> None:
        """Jira's priority is writable and translated by name."""
        source = ticket(priority=Priority.P4, status=Status.NEW, title="T")

        native = jira.to_native(source, {"priority", "status", "title"})

        assert native == {"summary": "T", "status": "Waiting for support", "priority": "Low"}

    def test_unmapped_fields_skipped(self, jira: Mapper) -> None:
        """Fields Jira does not map (impact, group) are not written."""
        source = ticket(impact=1, urgency=1, assignment_group="Service Desk")

        assert jira.to_native(source, {"impact", "urgency", "assignment_group"}) == {}

    def test_unknown_status_raises(self, jira: Mapper) -> None:
        """A workflow status missing from the mapping raises MappingError."""
        with pytest.raises(MappingError) as caught:
            jira.to_ticket(record({"status": "Escalated"}))

        assert caught.value.mapping == "jira.yaml"
        assert "Waiting for support" in caught.value.allowed

    def test_correlation_id_written(self, jira: Mapper) -> None:
        """A correlation id set on a copy of the ticket is written to its custom field."""
        stamped = ticket().model_copy(update={"correlation_id": "INC0010023"})

        assert jira.to_native(stamped, {"correlation_id"}) == {"customfield_10060": "INC0010023"}


class TestPassThrough:
    def test_canonical_status_accepted(self) -> None:
        """Without a value map, a canonical status name is accepted as is."""
        mapper = Mapper(spec_from(), "x")

        assert mapper.to_ticket(record({"state": "pending"})).status is Status.PENDING

    def test_invalid_status_raises(self) -> None:
        """Without a value map, a non-canonical status raises MappingError."""
        mapper = Mapper(spec_from(), "x")

        with pytest.raises(MappingError) as caught:
            mapper.to_ticket(record({"state": "2"}))

        assert caught.value.mapping == "servicenow mapping"
        assert "in_progress" in caught.value.allowed

    def test_numbers_become_text(self) -> None:
        """A number in a text field is read as its decimal text."""
        mapper = Mapper(spec_from(fields={"category": "cat"}), "x")

        assert mapper.to_ticket(record({"cat": 42})).category == "42"

    def test_structured_value_rejected(self) -> None:
        """A dict in a text field raises MappingError without echoing its content."""
        mapper = Mapper(spec_from(fields={"title": "summary"}), "x")

        with pytest.raises(MappingError) as caught:
            mapper.to_ticket(record({"summary": {"text": "private"}}))

        assert "private" not in str(caught.value)


class TestHelpers:
    def test_maps_reports_mapped_fields(self, snow: Mapper, jira: Mapper) -> None:
        """maps() is true only for canonical fields with a native field."""
        assert snow.maps("correlation_id")
        assert not jira.maps("assignment_group")

    def test_defaults_fill_empty_fields(self) -> None:
        """Create-time defaults fill missing and empty native fields only."""
        mapper = Mapper(spec_from(defaults={"category": "inquiry", "contact_type": "api"}), "x")

        filled = mapper.apply_defaults({"category": None, "contact_type": "email"})

        assert filled == {"category": "inquiry", "contact_type": "email"}

    def test_native_fields_in_file_order(self, snow: Mapper) -> None:
        """native_fields() lists the columns a connector should read."""
        assert snow.spec.native_fields()[:3] == ["short_description", "description", "state"]
