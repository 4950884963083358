"""Find the rows that readable lookup values name, for `@odata.bind` on writes.

The customer is given by e-mail address (a contact's, else an account's `emailaddress1`),
the owner by a user's e-mail address (`internalemailaddress`) or a team's name. Results
are cached for the connector's lifetime, so a changed address is seen after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tierbridge.core.errors import RejectedError

__all__ = ["LookupCache"]

#: Reads every row of `entity_set` matching `$filter`: (entity set, params) -> rows.
Query = Callable[[str, Mapping[str, str]], Iterator[list[dict[str, Any]]]]


def _literal(text: str) -> str:
    """Quote a text for `$filter`; a quote inside is doubled."""
    return "'" + text.replace("'", "''") + "'"


class LookupCache:
    """Readable value -> `/<entity set>(<id>)` for the customer and owner lookups."""

    def __init__(self, query: Query, connector: str) -> None:
        self._query = query
        self._connector = connector
        self._found: dict[tuple[str, str], tuple[str, str]] = {}
        self._lock = threading.Lock()

    def _find(self, entity_set: str, key_column: str, id_column: str, value: str) -> list[str]:
        params = {"$select": id_column, "$filter": f"{key_column} eq {_literal(value)}"}
        ids: list[str] = []
        for page in self._query(entity_set, params):
            ids.extend(str(row[id_column]) for row in page)
        return ids

    def _one(self, field: str, value: str, searches: list[tuple[str, str, str]]) -> tuple[str, str]:
        """Return (navigation suffix, bind path) of the first search that finds one row."""
        with self._lock:
            cached = self._found.get((field, value))
        if cached is not None:
            return cached
        for entity_set, key_column, id_column in searches:
            ids = self._find(entity_set, key_column, id_column, value)
            if len(ids) > 1:
                msg = f"{field} value matches more than one row of {entity_set} by {key_column}; make it unique"
                raise RejectedError(
                    msg, connector=self._connector, operation="find " + field, record=entity_set
                )
            if ids:
                found = (entity_set, f"/{entity_set}({ids[0]})")
                with self._lock:
                    self._found[(field, value)] = found
                return found
        tables = " or ".join(f"{s}.{k}" for s, k, _ in searches)
        msg = f"no row of {tables} matches the {field} value; create it or fix the mapping"
        raise RejectedError(msg, connector=self._connector, operation="find " + field, record=None)

    def customer(self, email: str) -> tuple[str, str]:
        """Return (`customerid_contact` or `customerid_account`, bind path) for an e-mail address."""
        entity_set, path = self._one(
            "customerid",
            email,
            [
                ("contacts", "emailaddress1", "contactid"),
                ("accounts", "emailaddress1", "accountid"),
            ],
        )
        return ("customerid_contact" if entity_set == "contacts" else "customerid_account"), path

    def owner(self, value: str) -> str:
        """Return the bind path of a user (by e-mail address) or a team (by name)."""
        if "@" in value:
            return self._one(
                "ownerid", value, [("systemusers", "internalemailaddress", "systemuserid")]
            )[1]
        return self._one("ownerid", value, [("teams", "name", "teamid")])[1]
