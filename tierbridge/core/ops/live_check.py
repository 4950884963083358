"""`tierbridge validate --live`: check each mapping against what its instance allows.

Each finding points at the mapping file's line (or the config file's, for connector keys).
An error is a value or field the instance does not have, which would fail a sync. A warning
is a check that could not run, values the mapping passes through without a value map, or a
field the instance accepts in some writes only, while everything else syncs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tierbridge.core.errors import ConfigError, ConfigIssue, ConnectorError
from tierbridge.core.yamlfile import Loc, Locator, load_yaml

if TYPE_CHECKING:
    from tierbridge.connectors.jira.settings import JiraSettings
    from tierbridge.core.config import AppConfig
    from tierbridge.core.mapping import MappingSpec
    from tierbridge.core.ops.metadata import JiraMetadata, ServiceNowMetadata

__all__ = ["LiveIssue", "check_live", "run_live_check"]

Severity = Literal["error", "warning"]
#: Canonical fields with a closed set of values, which pass through as their own names.
_CLOSED_FIELDS = ("status", "priority", "impact", "urgency")
_MAX_LISTED = 12


@dataclass(frozen=True)
class LiveIssue:
    """One finding of the live check, located in a config or mapping file."""

    severity: Severity
    issue: ConfigIssue

    def __str__(self) -> str:
        issue = self.issue
        where = f"{issue.file}:{issue.line}:{issue.column}"
        path = f" {issue.path}:" if issue.path else ""
        return f"{where}:{path} {self.severity}: {issue.message}"


class _Findings:
    """Collects findings for one connector, located by its mapping's and config's locators."""

    def __init__(self, mapping: Locator, config: Locator, connector: str) -> None:
        self.mapping = mapping
        self.config = config
        self.connector = connector
        self.items: list[LiveIssue] = []

    def add(self, severity: Severity, loc: Loc, message: str, *, at_key: bool = False) -> None:
        self.items.append(LiveIssue(severity, self.mapping.issue(loc, message, at_key=at_key)))

    def add_config(self, severity: Severity, key: str, message: str) -> None:
        loc = ("connectors", self.connector, key)
        self.items.append(LiveIssue(severity, self.config.issue(loc, message)))


def check_live(config: AppConfig, config_path: Path) -> list[LiveIssue]:
    """Read each connector's metadata and return every mismatch with its mapping, sorted."""
    config_locator = load_yaml(config_path)[1]
    findings: list[LiveIssue] = []
    for name, settings in config.connectors.items():
        spec = config.mapping_for(name)
        mapping_locator = load_yaml(spec.source)[1] if spec.source else config_locator
        found = _Findings(mapping_locator, config_locator, name)
        try:
            _check_connector(found, settings, spec)
        except ConnectorError as exc:
            found.add_config("error", "base_url", f"cannot read the instance's metadata: {exc}")
        except ConfigError as exc:
            found.add_config("error", "auth", f"cannot connect: {exc}")
        findings.extend(found.items)
    return sorted(findings, key=lambda f: (f.issue.file, f.issue.line, f.issue.column))


def run_live_check(config: AppConfig, config_path: Path) -> int:
    """Print every finding and a count; return 1 if any is an error, else 0."""
    findings = check_live(config, config_path)
    for finding in findings:
        print(finding)
    errors = sum(finding.severity == "error" for finding in findings)
    warnings = len(findings) - errors
    print(f"live check: {_count(errors, 'error')}, {_count(warnings, 'warning')}")
    return 1 if errors else 0


def _count(number: int, noun: str) -> str:
    """Return `number` with `noun`, in the plural unless it is 1: "1 error", "2 errors"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _check_connector(found: _Findings, settings: Any, spec: MappingSpec) -> None:
    if settings.system == "servicenow":
        from tierbridge.connectors.servicenow.client import TableClient
        from tierbridge.core.ops.metadata import read_servicenow_metadata

        client = TableClient(settings, found.connector)
        try:
            _servicenow(found, read_servicenow_metadata(client, settings), spec)
        finally:
            client.close()
    elif settings.system == "jira":
        from tierbridge.connectors.jira.client import JiraClient
        from tierbridge.core.ops.metadata import read_jira_metadata

        jira = JiraClient(found.connector, settings)
        try:
            _jira(found, read_jira_metadata(jira, settings), settings, spec)
        finally:
            jira.close()
    else:
        # TODO: read the metadata of Salesforce and Dynamics 365 (picklists, status codes).
        found.add_config("warning", "system", f"no live check for system {settings.system!r} yet")


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


def _listed(values: Iterable[str]) -> str:
    items = sorted(values)
    shown = ", ".join(repr(item) for item in items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


# -- ServiceNow ---------------------------------------------------------------------------


def _servicenow(found: _Findings, meta: ServiceNowMetadata, spec: MappingSpec) -> None:
    _servicenow_columns(found, meta, spec)
    for canonical, column in spec.fields.items():
        allowed = meta.choices.get(column)
        if allowed:
            _servicenow_choices(found, meta, spec, canonical, column, allowed)
    for column, value in spec.defaults.items():
        allowed = meta.choices.get(column)
        if allowed and str(value) not in allowed:
            msg = f"default {value!r} is not a choice of {meta.table}.{column}; choices: {_listed(allowed)}"
            found.add("error", ("defaults", column), msg)


def _servicenow_columns(found: _Findings, meta: ServiceNowMetadata, spec: MappingSpec) -> None:
    if not meta.columns:
        msg = (
            f"column names not checked: sys_dictionary is not readable and table {meta.table} "
            "has no record to read them from"
        )
        found.add("warning", ("fields",), msg, at_key=True)
        return

    def check(loc: Loc, column: str, *, at_key: bool = False) -> None:
        if column not in meta.columns:
            msg = f"column {column!r} not found on table {meta.table} (columns read from {meta.columns_from})"
            found.add("error", loc, msg, at_key=at_key)

    for canonical, column in spec.fields.items():
        check(("fields", canonical), column)
    if spec.comments is not None:
        check(("comments", "public"), spec.comments.public)
        if spec.comments.internal is not None:
            check(("comments", "internal"), spec.comments.internal)
    for column in spec.defaults:
        check(("defaults", column), column, at_key=True)
    for column in spec.max_length:
        check(("max_length", column), column, at_key=True)


def _servicenow_choices(
    found: _Findings,
    meta: ServiceNowMetadata,
    spec: MappingSpec,
    canonical: str,
    column: str,
    allowed: dict[str, str],
) -> None:
    where = f"{meta.table}.{column}"
    value_map = spec.values.given().get(canonical)
    if value_map is not None:
        for native in value_map.inbound:
            if native not in allowed:
                msg = f"{native!r} is not a choice of {where}; choices: {_listed(allowed)}"
                found.add("error", ("values", canonical, "inbound", native), msg, at_key=True)
        for wanted, native in (value_map.outbound or {}).items():
            if native not in allowed:
                msg = f"{native!r} is not a choice of {where}; choices: {_listed(allowed)}"
                found.add("error", ("values", canonical, "outbound", _text(wanted)), msg)
        return

    if canonical in _CLOSED_FIELDS:
        missing = _canonical_values(canonical) - set(allowed)
        if missing:
            msg = (
                f"{where} has no choices {_listed(missing)}, which pass through without a "
                f"value map; add values.{canonical}"
            )
            found.add("error", ("fields", canonical), msg)
    elif canonical not in spec.read_only:
        msg = (
            f"{where} has {len(allowed)} choices and no value map, so values from other "
            f"systems are written as they arrive; they must be one of {_listed(allowed)}"
        )
        found.add("warning", ("fields", canonical), msg)


def _canonical_values(canonical: str) -> set[str]:
    from tierbridge.core.model import Priority, Status

    if canonical == "status":
        return {status.value for status in Status}
    if canonical == "priority":
        return {priority.value for priority in Priority}
    return {"1", "2", "3"}


# -- Jira ---------------------------------------------------------------------------------


def _jira(found: _Findings, meta: JiraMetadata, settings: JiraSettings, spec: MappingSpec) -> None:
    for canonical, field_id in spec.fields.items():
        if field_id not in meta.field_ids:
            found.add("error", ("fields", canonical), f"field {field_id!r} not found in /field")
    for key in ("correlation_field", "category_field"):
        field_id = getattr(settings, key)
        if (
            key == "correlation_field" or "category" in spec.fields
        ) and field_id not in meta.field_ids:
            found.add_config("error", key, f"field {field_id!r} not found in /field")

    _jira_names(found, spec, "priority", meta.priorities, "priority")
    _jira_names(found, spec, "resolution_code", meta.resolutions, "resolution")
    if settings.default_resolution not in meta.resolutions:
        msg = f"resolution {settings.default_resolution!r} not found; resolutions: {_listed(meta.resolutions)}"
        found.add_config("error", "default_resolution", msg)
    _jira_statuses(found, meta, settings, spec)
    _jira_edit_screen(found, meta, settings, spec)


def _writes(spec: MappingSpec, canonical: str) -> bool:
    """Return whether the mapping writes `canonical` to its system: mapped, not read-only."""
    return canonical in spec.fields and canonical not in spec.read_only


def _jira_names(
    found: _Findings, spec: MappingSpec, canonical: str, names: frozenset[str], noun: str
) -> None:
    """Check that every native value of a value map, or every passed-through value, exists."""
    if canonical not in spec.fields:
        return
    value_map = spec.values.given().get(canonical)
    if value_map is None:
        if canonical == "priority" and not _canonical_values(canonical) <= names:
            msg = f"priorities {_listed(_canonical_values(canonical) - names)} pass through without a value map but are not {noun} names; add values.priority"
            found.add("error", ("fields", canonical), msg)
        return
    for native in value_map.inbound:
        if native not in names:
            msg = f"{noun} {native!r} not found; {noun}s: {_listed(names)}"
            found.add("error", ("values", canonical, "inbound", native), msg, at_key=True)
    for wanted, native in (value_map.outbound or {}).items():
        if native not in names:
            msg = f"{noun} {native!r} not found; {noun}s: {_listed(names)}"
            found.add("error", ("values", canonical, "outbound", _text(wanted)), msg)


def _jira_statuses(
    found: _Findings, meta: JiraMetadata, settings: JiraSettings, spec: MappingSpec
) -> None:
    if "status" not in spec.fields:
        return
    if meta.issues_read == 0 and not meta.statuses_complete:
        msg = f"statuses not checked: project {settings.project} has no issue to read the workflow from"
        found.add("warning", ("fields", "status"), msg)
        return

    value_map = spec.values.given().get("status")
    names = list(value_map.inbound) if value_map else sorted(_canonical_values("status"))
    for name in names:
        if name in meta.statuses:
            continue
        if meta.statuses_complete:
            severity: Severity = "error"
            msg = f"status {name!r} not found in project {settings.project}; statuses: {_listed(meta.statuses)}"
        else:
            # The walk from the newest issues' statuses can miss a status, so this may be fine.
            severity = "warning"
            msg = (
                f"status {name!r} is neither the status of one of the {meta.issues_read} newest "
                f"issues of project {settings.project} nor one transition away from one; "
                f"statuses seen: {_listed(meta.statuses)}"
            )
        loc: Loc = ("values", "status", "inbound", name) if value_map else ("fields", "status")
        found.add(severity, loc, msg, at_key=value_map is not None)
    _jira_transition_fields(found, meta, settings, spec, names)


def _jira_transition_fields(
    found: _Findings,
    meta: JiraMetadata,
    settings: JiraSettings,
    spec: MappingSpec,
    names: list[str],
) -> None:
    """Report transitions that require a screen field the connector does not fill."""
    resolution_filled = (
        _writes(spec, "resolution_code") or settings.default_resolution in meta.resolutions
    )
    reported: set[tuple[str, str]] = set()
    for transition in meta.transitions:
        for field_id in transition.required:
            if field_id == "resolution" and resolution_filled:
                continue
            if (transition.target, field_id) in reported:
                continue
            reported.add((transition.target, field_id))
            msg = (
                f"transition {transition.name!r} from {transition.source!r} to "
                f"{transition.target!r} requires field {field_id!r}, which tierbridge does not fill"
            )
            in_map = transition.target in names and spec.values.status is not None
            loc: Loc = (
                ("values", "status", "inbound", transition.target)
                if in_map
                else ("fields", "status")
            )
            found.add("error", loc, msg, at_key=in_map)


def _jira_edit_screen(
    found: _Findings, meta: JiraMetadata, settings: JiraSettings, spec: MappingSpec
) -> None:
    """Warn when the edit screen lacks the Resolution field, or could not be read.

    A resolution that changes while the status stays resolved goes in an edit, not in a
    transition, and Jira accepts it there only from an edit screen with the Resolution field.
    """
    if not _writes(spec, "resolution_code") or meta.resolution_on_edit_screen:
        return
    if meta.resolution_on_edit_screen is None:
        _jira_edit_screen_unknown(found, meta, settings)
        return

    msg = (
        f"the edit screen of project {settings.project} has no Resolution field, so a "
        "resolution changed on a ticket that stays resolved is not written to Jira (sync log: "
        "resolution_skipped); add the field to the edit screen to sync it"
    )
    found.add("warning", ("fields", "resolution_code"), msg)


def _jira_edit_screen_unknown(found: _Findings, meta: JiraMetadata, settings: JiraSettings) -> None:
    """Add a warning that the Resolution field was not checked, with the reason and next step."""
    project = settings.project
    if meta.issues_read == 0:
        reason = f"project {project} has no issue to read the edit screen from"
        fix = "run validate --live again once it has one"
    else:
        reason = f"the edit screen (editmeta) of project {project}'s newest issue is not readable"
        fix = "check that the edit screen has the Resolution field"
    msg = (
        f"the edit screen's Resolution field is not checked: {reason}; without that field, a "
        "resolution changed on a ticket that stays resolved is not written to Jira (sync log: "
        f"resolution_skipped); {fix}"
    )
    found.add("warning", ("fields", "resolution_code"), msg)
