"""Run parsed SOQL against the emulator's records and render the rows as the REST API does.

Rows come back under the fields' API names, whatever case the query used. Text comparisons ignore case, ids compare exactly after normalisation to 18 characters, and
date-times compare as instants. Nulls sort first unless NULLS LAST is given.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tierbridge.emulators.salesforce.fieldpaths import (
    Record,
    RecordSource,
    invalid_field,
    read_path,
    render_field,
    resolve_path,
)
from tierbridge.emulators.salesforce.files import check_link_filter
from tierbridge.emulators.salesforce.ids import canonical_id
from tierbridge.emulators.salesforce.schema import OBJECTS, FieldDef, FieldType, ObjectDef
from tierbridge.emulators.salesforce.soql_syntax import (
    Comparison,
    Condition,
    FieldPath,
    Junction,
    LikeMatch,
    Membership,
    Negation,
    OrderItem,
    Query,
    SoqlError,
    SubQuery,
    Value,
)

__all__ = ["run_query"]

_TEXT_TYPES = {FieldType.STRING, FieldType.TEXTAREA, FieldType.PICKLIST, FieldType.EMAIL}
_ID_TYPES = {FieldType.ID, FieldType.REFERENCE}


def _literal(field: FieldDef, value: Value, path: str) -> Any:
    """Convert a literal to the field's type; raise the errors SOQL gives for a mismatch."""
    if value.kind == "null":
        return None
    if field.type in _ID_TYPES:
        normalized = canonical_id(value.value) if value.kind == "string" else None
        if normalized is None:
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value.value}")
        return normalized
    kinds = {FieldType.DATETIME: "datetime", FieldType.BOOLEAN: "boolean", FieldType.INT: "number"}
    expected = kinds.get(field.type, "string")
    if value.kind != expected:
        quoting = "be enclosed" if expected == "string" else "not be enclosed"
        raise invalid_field(
            f"value of filter criterion for field '{path}' must be of type {expected} "
            f"and should {quoting} in quotes"
        )
    return value.value


def _key(field: FieldDef, value: Any) -> Any:
    return value.casefold() if field.type in _TEXT_TYPES and isinstance(value, str) else value


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
        index += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

#: A compiled condition: record -> bool.
_Predicate = Callable[[Record], bool]


class _Compiler:
    def __init__(self, definition: ObjectDef, source: RecordSource) -> None:
        self._definition = definition
        self._source = source

    def _reader(self, path: FieldPath) -> tuple[FieldDef, Callable[[Record], Any]]:
        steps, final = resolve_path(self._definition, path)
        if not final.filter:
            raise invalid_field(f"field '{final.name}' can not be filtered in a query call")
        return final, lambda record: read_path(self._source, record, steps, final)

    def compile(self, condition: Condition) -> _Predicate:
        if isinstance(condition, Junction):
            parts = [self.compile(part) for part in condition.parts]
            if condition.operator == "AND":
                return lambda record: all(part(record) for part in parts)
            return lambda record: any(part(record) for part in parts)
        if isinstance(condition, Negation):
            inner = self.compile(condition.part)
            return lambda record: not inner(record)
        if isinstance(condition, LikeMatch):
            return self._like(condition)
        if isinstance(condition, Membership):
            return self._membership(condition)
        return self._comparison(condition)

    def _like(self, condition: LikeMatch) -> _Predicate:
        field, read = self._reader(condition.path)
        if field.type not in _TEXT_TYPES:
            raise invalid_field(f"invalid operator on {field.type.value} field: LIKE")
        regex = _like_regex(condition.pattern)
        return lambda record: (
            isinstance(value := read(record), str) and bool(regex.fullmatch(value))
        )

    def _membership(self, condition: Membership) -> _Predicate:
        field, read = self._reader(condition.path)
        wanted = {_key(field, _literal(field, v, condition.path.text)) for v in condition.values}

        def matches(record: Record) -> bool:
            found = _key(field, read(record)) in wanted
            return not found if condition.negated else found

        return matches

    def _comparison(self, condition: Comparison) -> _Predicate:
        field, read = self._reader(condition.path)
        expected = _key(field, _literal(field, condition.value, condition.path.text))
        operator = condition.operator
        if operator in ("=", "!="):
            equal = operator == "="
            return lambda record: (_key(field, read(record)) == expected) is equal
        if expected is None:
            return lambda record: False
        if field.type is FieldType.BOOLEAN:
            raise invalid_field(f"invalid operator on boolean field: {operator}")
        compare = _ORDERING[operator]

        def matches(record: Record) -> bool:
            actual = _key(field, read(record))
            return actual is not None and compare(actual, expected)

        return matches


def _sorter(
    definition: ObjectDef, source: RecordSource, order: Sequence[OrderItem]
) -> Callable[[Record, Record], int]:
    readers = []
    for item in order:
        steps, final = resolve_path(definition, item.path)
        readers.append((item, final, steps))

    def compare(left: Record, right: Record) -> int:
        for item, final, steps in readers:
            a = _key(final, read_path(source, left, steps, final))
            b = _key(final, read_path(source, right, steps, final))
            if a == b:
                continue
            if a is None or b is None:
                null_first = -1 if a is None else 1
                return -null_first if item.nulls_last else null_first
            result = -1 if a < b else 1
            return -result if item.descending else result
        return 0

    return compare


def _child(definition: ObjectDef, relationship: str) -> tuple[str, ObjectDef, str]:
    wanted = relationship.lower()
    for name, (child, link) in definition.children.items():
        if name.lower() == wanted:
            return name, OBJECTS[child], link
    raise invalid_field(
        f"Didn't understand relationship '{relationship}' in FROM part of query call. "
        "If you are attempting to use a custom relationship, be sure to append the '__r' "
        "after the custom relationship name."
    )


@dataclass(frozen=True)
class _Context:
    source: RecordSource
    version: str
    include_deleted: bool


def _attributes(definition: ObjectDef, record_id: str, version: str, type_name: str) -> Any:
    url = f"/services/data/v{version}/sobjects/{definition.name}/{record_id}"
    return {"type": type_name, "url": url}


def _render_path(
    out: Record, ctx: _Context, record: Record, path: FieldPath, root: ObjectDef
) -> None:
    steps, final = resolve_path(root, path)
    if not steps:
        out[final.name] = render_field(root, record, final, ctx.version)
        return
    target = out
    current: Record = record
    definition = root
    for step in steps:
        target_id = current.get(step.field.name)
        found = ctx.source.find(target_id) if target_id else None
        if found is None:
            target[step.relationship] = None
            return
        definition, current = found
        nested = target.get(step.relationship)
        if not isinstance(nested, dict):
            type_name = "Name" if len(step.field.reference_to) > 1 else definition.name
            nested = {"attributes": _attributes(definition, current["Id"], ctx.version, type_name)}
            target[step.relationship] = nested
        target = nested
    target[final.name] = render_field(definition, current, final, ctx.version)


def _children_of(link: str, parent_id: str) -> Callable[[Record], bool]:
    return lambda row: row.get(link) == parent_id


def _render(ctx: _Context, definition: ObjectDef, record: Record, query: Query) -> Record:
    out: Record = {
        "attributes": _attributes(definition, record["Id"], ctx.version, definition.name)
    }
    for item in query.select:
        if isinstance(item, SubQuery):
            name, child, link = _child(definition, item.query.source)
            rows = _select(ctx, child, item.query, _children_of(link, record["Id"]))
            out[name] = {"totalSize": len(rows), "done": True, "records": rows} if rows else None
        else:
            _render_path(out, ctx, record, item, definition)
    return out


def _select(
    ctx: _Context, definition: ObjectDef, query: Query, scope: Callable[[Record], bool]
) -> list[Record]:
    for item in query.select:
        if isinstance(item, FieldPath):
            resolve_path(definition, item)
    predicate = _Compiler(definition, ctx.source).compile(query.where) if query.where else None
    rows = [
        row
        for row in ctx.source.rows(definition.name, include_deleted=ctx.include_deleted)
        if scope(row) and (predicate is None or predicate(row))
    ]
    if query.order:
        rows.sort(key=functools.cmp_to_key(_sorter(definition, ctx.source, query.order)))
    if query.limit is not None:
        rows = rows[: query.limit]
    return [_render(ctx, definition, row, query) for row in rows]


def run_query(
    query: Query, source: RecordSource, *, version: str, include_deleted: bool
) -> list[Record]:
    """Return the rendered rows of a query; raise SoqlError for unknown objects or fields."""
    definition = OBJECTS.get(query.source) or next(
        (item for name, item in OBJECTS.items() if name.lower() == query.source.lower()), None
    )
    if definition is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.source}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name.",
        )
    if definition.name == "ContentDocumentLink":
        check_link_filter(query)
    ctx = _Context(source, version, include_deleted)
    return _select(ctx, definition, query, lambda _row: True)
