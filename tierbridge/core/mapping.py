"""Field mappings (`mappings/<system>.yaml`) and the engine that applies them.

A mapping names, for each canonical `Ticket` field, the native field that stores it, and may
translate values both ways. `Mapper.to_ticket` reads a `NativeRecord` into a `Ticket` and
`Mapper.to_native` writes a `Ticket`'s fields back as native values. Both are pure: no I/O.

Native values are matched as strings, so a connector that reports `2` matches the YAML key
`"2"`. Outbound maps are the inverse of the inbound ones unless `outbound:` is given.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from tierbridge.connectors.registry import SETTINGS_MODELS
from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import ConfigError, MappingError
from tierbridge.core.model import Priority, Status, Ticket, TicketRef
from tierbridge.core.yamlfile import Loc, issues_from_validation_error, load_yaml

__all__ = [
    "MAPPABLE_FIELDS",
    "TRUNCATION_MARKER",
    "CommentFields",
    "Mapper",
    "MappingSpec",
    "ValueMap",
    "ValueMaps",
    "load_mapping",
    "mapping_problems",
    "truncate_text",
]

#: Canonical fields a mapping may name: the sync fields plus the cross-reference field.
MAPPABLE_FIELDS: tuple[str, ...] = (*Ticket.SYNC_FIELDS, "correlation_id")

Level = Literal[1, 2, 3]
T = TypeVar("T")


def _known_field(name: str) -> str:
    if name not in MAPPABLE_FIELDS:
        msg = f"not a canonical field; allowed: {', '.join(MAPPABLE_FIELDS)}"
        raise ValueError(msg)
    return name


def _known_system(name: str) -> str:
    if name not in SETTINGS_MODELS:
        msg = f"unknown system; allowed: {', '.join(sorted(SETTINGS_MODELS))}"
        raise ValueError(msg)
    return name


CanonicalName = Annotated[str, AfterValidator(_known_field)]
NativeName = Annotated[str, Field(min_length=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ValueMap(BaseModel, Generic[T]):
    """Translation of one field's values: `inbound` is native -> canonical."""

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)

    inbound: dict[str, T]
    #: canonical -> native; needed when two native values share one canonical value.
    outbound: dict[T, str] | None = None

    def outbound_map(self) -> dict[T, str]:
        """Return the explicit outbound map, or the inverse of `inbound` (first wins)."""
        if self.outbound is not None:
            return dict(self.outbound)
        inverse: dict[T, str] = {}
        for native, canonical in self.inbound.items():
            inverse.setdefault(canonical, native)
        return inverse


class ValueMaps(_Frozen):
    """Value maps per canonical field; a field without one passes values through."""

    title: ValueMap[str] | None = None
    description: ValueMap[str] | None = None
    status: ValueMap[Status] | None = None
    priority: ValueMap[Priority] | None = None
    impact: ValueMap[Level] | None = None
    urgency: ValueMap[Level] | None = None
    category: ValueMap[str] | None = None
    subcategory: ValueMap[str] | None = None
    assignment_group: ValueMap[str] | None = None
    assignee: ValueMap[str] | None = None
    reporter: ValueMap[str] | None = None
    resolution_code: ValueMap[str] | None = None
    resolution_notes: ValueMap[str] | None = None
    correlation_id: ValueMap[str] | None = None

    def given(self) -> dict[str, ValueMap[Any]]:
        """Return the value maps that the file sets, by canonical field."""
        maps = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: value_map for name, value_map in maps.items() if value_map is not None}


class CommentFields(_Frozen):
    """Native names that mark a comment's visibility: journal fields or flag values."""

    public: NativeName
    internal: NativeName | None = None


#: Appended to text cut to a field's `max_length`, so readers see that text is missing.
TRUNCATION_MARKER = " [truncated]"


def truncate_text(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters (code points), ending with the marker.

    Python strings index by code point, so a character outside the Basic Multilingual Plane
    (an emoji, say) is never split into half a surrogate pair.
    """
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_MARKER)].rstrip() + TRUNCATION_MARKER


class MappingSpec(_Frozen):
    """One mapping file, validated. `source` is the file it was loaded from, if any."""

    system: Annotated[str, AfterValidator(_known_system)]
    #: canonical field -> native field (a key of `NativeRecord.fields`)
    fields: dict[CanonicalName, NativeName]
    #: canonical fields that are read but never written
    read_only: tuple[CanonicalName, ...] = ()
    values: ValueMaps = ValueMaps()
    #: impact -> urgency -> priority, the ITIL lookup
    priority_matrix: dict[Level, dict[Level, Priority]] | None = None
    #: priority -> [impact, urgency], used to write a priority the system derives
    priority_to_impact_urgency: dict[Priority, tuple[Level, Level]] | None = None
    comments: CommentFields | None = None
    #: native field -> value written on create when the ticket gives none
    defaults: dict[NativeName, Any] = Field(default_factory=dict)
    #: native text field -> most characters the system stores; longer text is cut with a marker
    max_length: dict[NativeName, Annotated[int, Field(ge=len(TRUNCATION_MARKER) + 1)]] = Field(
        default_factory=dict
    )

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source

    def native_fields(self) -> list[str]:
        """Return the native fields this mapping reads, in file order."""
        return list(self.fields.values())

    def derive_priority(self, impact: int, urgency: int) -> Priority | None:
        """Look up the priority for impact x urgency, or None without a matrix entry."""
        if self.priority_matrix is None:
            return None
        row: dict[int, Priority] = self.priority_matrix.get(impact, {})  # type: ignore[call-overload]
        return row.get(urgency)


def load_mapping(path: Path) -> MappingSpec:
    """Load and check one mapping file. Raise ConfigError listing every problem in it."""
    data, locator = load_yaml(path)
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            issues_from_validation_error(exc, locator.file, locator, model=MappingSpec)
        ) from None

    problems = mapping_problems(spec)
    if problems:
        issues = [locator.issue(loc, message, at_key=at_key) for loc, message, at_key in problems]
        raise ConfigError(sorted(issues, key=lambda issue: (issue.line, issue.column)))
    spec._source = path
    return spec


# -- checks that span several keys --------------------------------------------------------

#: A problem found after field validation: where it is, the message, and whether it is the key.
Problem = tuple[Loc, str, bool]


def mapping_problems(spec: MappingSpec) -> list[Problem]:
    """Return the problems pydantic cannot see: keys that disagree with one another."""
    return [
        *_unmapped_names(spec),
        *_shared_native_fields(spec),
        *_ambiguous_inverses(spec),
        *_priority_tables(spec),
    ]


def _unmapped_names(spec: MappingSpec) -> list[Problem]:
    problems: list[Problem] = []
    for index, name in enumerate(spec.read_only):
        if name not in spec.fields:
            msg = f"read-only field {name!r} is not under fields; map it there or remove it here"
            problems.append((("read_only", index), msg, False))
    for name in spec.values.given():
        if name not in spec.fields:
            msg = (
                f"field {name!r} has a value map but is not under fields; map it or remove the map"
            )
            problems.append((("values", name), msg, True))
    return problems


def _shared_native_fields(spec: MappingSpec) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, str] = {}
    for canonical, native in spec.fields.items():
        if native in first:
            msg = (
                f"native field {native!r} is already mapped to {first[native]!r}; map each one once"
            )
            problems.append((("fields", canonical), msg, False))
        first.setdefault(native, canonical)
    return problems


def _ambiguous_inverses(spec: MappingSpec) -> list[Problem]:
    problems: list[Problem] = []
    for name, value_map in spec.values.given().items():
        if value_map.outbound is None:
            shared = _shared_targets(value_map.inbound)
            if shared:
                canonical, natives = next(iter(shared.items()))
                msg = (
                    f"native values {', '.join(map(repr, natives))} all read as "
                    f"{_text(canonical)!r}, so the value to write back is ambiguous; "
                    "add an outbound: map"
                )
                problems.append((("values", name, "inbound"), msg, True))
            continue
        for canonical, native in value_map.outbound.items():
            if native not in value_map.inbound:
                msg = (
                    f"outbound value {native!r} is not a key of inbound, "
                    "so reading it back would fail"
                )
                problems.append((("values", name, "outbound", _text(canonical)), msg, False))
    return problems


def _shared_targets(inbound: Mapping[str, Any]) -> dict[Any, list[str]]:
    natives: dict[Any, list[str]] = {}
    for native, canonical in inbound.items():
        natives.setdefault(canonical, []).append(native)
    return {canonical: names for canonical, names in natives.items() if len(names) > 1}


def _priority_tables(spec: MappingSpec) -> list[Problem]:
    problems: list[Problem] = []
    matrix = spec.priority_matrix
    if matrix is not None:
        missing = [f"{i}x{u}" for i in _LEVELS for u in _LEVELS if u not in matrix.get(i, {})]  # type: ignore[call-overload]
        if missing:
            msg = (
                f"priority_matrix lacks impact x urgency cells {', '.join(missing)}; give all nine"
            )
            problems.append((("priority_matrix",), msg, True))

    table = spec.priority_to_impact_urgency
    for priority, (impact, urgency) in (table or {}).items():
        derived = spec.derive_priority(impact, urgency)
        if derived is not None and derived != priority:
            msg = (
                f"impact {impact} x urgency {urgency} reads back as {derived.value}, "
                f"not {priority.value}"
            )
            problems.append((("priority_to_impact_urgency", priority.value), msg, False))

    writes_levels = all(n in spec.fields and n not in spec.read_only for n in ("impact", "urgency"))
    if "priority" in spec.read_only and writes_levels:
        absent = [p.value for p in Priority if p not in (table or {})]
        if absent:
            msg = (
                f"priority is read-only, so it is written as impact and urgency; "
                f"add {', '.join(absent)} to priority_to_impact_urgency"
            )
            problems.append((("read_only", spec.read_only.index("priority")), msg, False))
    return problems


_LEVELS = (1, 2, 3)


class Mapper:
    """Translator between one connector's native records and canonical tickets."""

    def __init__(self, spec: MappingSpec, connector: str) -> None:
        self.spec = spec
        self.connector = connector
        self.name = spec.source.name if spec.source is not None else f"{spec.system} mapping"
        self._value_maps = spec.values.given()
        self._outbound = {name: vm.outbound_map() for name, vm in self._value_maps.items()}

    def maps(self, field: str) -> bool:
        """Tell whether the mapping names a native field for canonical `field`."""
        return field in self.spec.fields

    # -- inbound ------------------------------------------------------------------------

    def to_ticket(self, record: NativeRecord) -> Ticket:
        """Read a record into a ticket. Native keys missing from `record.fields` stay absent.

        A priority that is missing or empty is derived from impact and urgency when both are
        present. Raises MappingError for a native value the mapping cannot translate.
        """
        values: dict[str, Any] = {
            "ref": TicketRef(connector=self.connector, id=record.id, key=record.key),
            "version": record.version,
            "updated": record.updated,
        }
        if record.created is not None:
            values["created"] = record.created

        for canonical, native in self.spec.fields.items():
            if native in record.fields:
                values[canonical] = self._inbound(canonical, record.fields[native])

        self._derive_priority(values)
        return Ticket(**values)

    def _inbound(self, canonical: str, raw: Any) -> Any:
        if raw is None:
            return None
        value_map = self._value_maps.get(canonical)
        if value_map is not None:
            key = raw if isinstance(raw, str) else str(raw)
            if key not in value_map.inbound:
                where = f"values.{canonical}.inbound"
                raise MappingError(self.name, canonical, raw, list(value_map.inbound), where)
            return value_map.inbound[key]
        return self._pass_through(canonical, raw)

    def _pass_through(self, canonical: str, raw: Any) -> Any:
        """Check an untranslated native value against the canonical field's type."""
        allowed = _ALLOWED_PLAIN.get(canonical)
        text = raw if isinstance(raw, str) else str(raw)
        if allowed is not None:
            if text not in allowed:
                raise MappingError(self.name, canonical, raw, allowed)
            return int(text) if canonical in ("impact", "urgency") else text
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            return text
        raise MappingError(self.name, canonical, f"<{type(raw).__name__}>", [])

    def _derive_priority(self, values: dict[str, Any]) -> None:
        if values.get("priority") is not None:
            return
        impact, urgency = values.get("impact"), values.get("urgency")
        if impact is None or urgency is None:
            return
        derived = self.spec.derive_priority(impact, urgency)
        if derived is not None:
            values["priority"] = derived

    # -- outbound -----------------------------------------------------------------------

    def to_native(self, ticket: Ticket, fields: Iterable[str]) -> dict[str, Any]:
        """Return native values for the requested fields that the ticket reports.

        Read-only and unmapped fields are skipped. A requested read-only `priority` is
        written as impact and urgency when the mapping maps both: the ticket's own pair
        when it gives that priority, otherwise the pair from `priority_to_impact_urgency`.
        Raises MappingError for a canonical value the mapping cannot translate.
        """
        requested = set(fields)
        present = ticket.model_fields_set
        native: dict[str, Any] = {}
        for canonical, native_name in self.spec.fields.items():
            if canonical in requested and canonical in present and self._writable(canonical):
                native[native_name] = self._outbound_value(canonical, getattr(ticket, canonical))

        if "priority" in requested and not self._writable("priority"):
            self._write_priority_as_levels(ticket, native)
        for name, limit in self.spec.max_length.items():
            if isinstance(native.get(name), str):
                native[name] = truncate_text(native[name], limit)
        return native

    def as_written(self, ticket: Ticket, fields: Iterable[str]) -> Ticket:
        """Return the ticket with the text of `fields` cut as `to_native` cuts it."""
        cut: dict[str, str] = {}
        for canonical in fields:
            limit = self.spec.max_length.get(self.spec.fields.get(canonical, ""))
            value = getattr(ticket, canonical, None)
            if limit is not None and isinstance(value, str) and len(value) > limit:
                cut[canonical] = truncate_text(value, limit)
        return ticket.model_copy(update=cut) if cut else ticket

    def apply_defaults(self, native: Mapping[str, Any]) -> dict[str, Any]:
        """Return `native` plus the mapping's create-time defaults for fields left empty."""
        filled = dict(native)
        for name, value in self.spec.defaults.items():
            if filled.get(name) is None:
                filled[name] = value
        return filled

    def _writable(self, canonical: str) -> bool:
        return canonical in self.spec.fields and canonical not in self.spec.read_only

    def _outbound_value(self, canonical: str, value: Any) -> Any:
        if value is None:
            return None
        outbound = self._outbound.get(canonical)
        if outbound is None:
            return value.value if isinstance(value, enum.Enum) else value
        if value not in outbound:
            raise MappingError(self.name, canonical, _text(value), [_text(key) for key in outbound])
        return outbound[value]

    def _write_priority_as_levels(self, ticket: Ticket, native: dict[str, Any]) -> None:
        if not (self._writable("impact") and self._writable("urgency")):
            return
        if "priority" not in ticket.model_fields_set or ticket.priority is None:
            return

        impact, urgency = self._levels_for(ticket, ticket.priority)
        native.setdefault(self.spec.fields["impact"], self._outbound_value("impact", impact))
        native.setdefault(self.spec.fields["urgency"], self._outbound_value("urgency", urgency))

    def _levels_for(self, ticket: Ticket, priority: Priority) -> tuple[int, int]:
        """Return the ticket's impact and urgency if they give `priority`, else the table's."""
        impact, urgency = ticket.impact, ticket.urgency
        if impact is not None and urgency is not None:
            derived = self.spec.derive_priority(impact, urgency)
            if derived is None or derived == priority:
                return impact, urgency

        table = self.spec.priority_to_impact_urgency or {}
        if priority not in table:
            allowed = [str(p) for p in table]
            where = "priority_to_impact_urgency"
            raise MappingError(self.name, "priority", priority.value, allowed, where)
        return table[priority]


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


#: Native values accepted without a value map, for canonical fields with a closed set.
_ALLOWED_PLAIN: dict[str, list[str]] = {
    "status": [status.value for status in Status],
    "priority": [priority.value for priority in Priority],
    "impact": ["1", "2", "3"],
    "urgency": ["1", "2", "3"],
}
