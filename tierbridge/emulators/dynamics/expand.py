"""The OData `$expand` option for single-valued navigation properties, with a nested `$select`."""

from __future__ import annotations

from dataclasses import dataclass

from tierbridge.emulators.dynamics.envelope import NOT_FOUND_SEGMENT, odata_error
from tierbridge.emulators.dynamics.odata import parse_select
from tierbridge.emulators.dynamics.schema import EXPANSIONS, TABLES, Binding, Table

__all__ = ["Expansion", "parse_expand"]


@dataclass(frozen=True)
class Expansion:
    """One `$expand` term: a navigation property and the columns selected from its target."""

    name: str
    binding: Binding
    select: list[str] | None


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def parse_expand(table: Table, text: str | None) -> list[Expansion]:
    """Parse `$expand=nav($select=a,b),other`; only single-valued navigation properties."""
    expansions: list[Expansion] = []
    for term in _split_top_level(text or ""):
        name, _, options = term.partition("(")
        binding = EXPANSIONS.get(table.logical_name, {}).get(name.strip())
        if binding is None:
            msg = f"Could not find a property named '{name.strip()}' on type 'Microsoft.Dynamics.CRM.{table.logical_name}'."
            raise odata_error(400, NOT_FOUND_SEGMENT, msg)
        select: list[str] | None = None
        options = options.rstrip(")").strip()
        if options:
            key, _, value = options.partition("=")
            if key.strip() != "$select":
                raise odata_error(
                    400,
                    NOT_FOUND_SEGMENT,
                    f"Only $select is supported inside $expand, got '{options}'.",
                )
            select = [part.strip() for part in value.split(",") if part.strip()]
            for target in binding.targets:
                parse_select(TABLES[target], value)
        expansions.append(Expansion(name.strip(), binding, select))
    return expansions
