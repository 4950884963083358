"""Lookups between reference sys_ids and the readable values the mapping uses.

Users are identified by e-mail address and groups by name. Each connector keeps one cache
for its lifetime, so a renamed group or a changed e-mail address is seen only after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from tierbridge.connectors.servicenow.client import TableClient
from tierbridge.core.errors import RejectedError

__all__ = ["ReferenceCache"]

_log = structlog.get_logger(__name__)
#: sys_ids per `sys_idIN` lookup; keeps the query string far below URL length limits.
_LOOKUP_CHUNK = 50


class ReferenceCache:
    """sys_id <-> e-mail for sys_user and sys_id <-> name for sys_user_group, cached."""

    def __init__(self, client: TableClient) -> None:
        self._client = client
        self._emails: dict[str, str | None] = {}
        self._group_names: dict[str, str | None] = {}
        self._user_ids: dict[str, str] = {}
        self._group_ids: dict[str, str] = {}

    # -- reads: sys_id -> readable value --------------------------------------------------

    def prefetch(
        self, user_ids: Iterable[str], group_ids: Iterable[str], *, operation: str
    ) -> None:
        """Load the users and groups not cached yet, 50 per request."""
        self._load("sys_user", "email", [i for i in user_ids if i not in self._emails], operation)
        self._load(
            "sys_user_group",
            "name",
            [i for i in group_ids if i not in self._group_names],
            operation,
        )

    def _load(self, table: str, field: str, sys_ids: list[str], operation: str) -> None:
        cache = self._emails if table == "sys_user" else self._group_names
        for start in range(0, len(sys_ids), _LOOKUP_CHUNK):
            chunk = sys_ids[start : start + _LOOKUP_CHUNK]
            query = "sys_idIN" + ",".join(chunk)
            for row in self._client.query(table, query, ["sys_id", field], operation=operation):
                cache[row["sys_id"]] = row.get(field) or None
            for sys_id in chunk:
                if sys_id not in cache:
                    _log.warning("reference_not_found", table=table, sys_id=sys_id)
                    cache[sys_id] = None
                elif cache[sys_id] is None:
                    _log.warning("reference_without_value", table=table, sys_id=sys_id, field=field)

    def user_email(self, sys_id: str) -> str | None:
        """Return the e-mail of a user loaded by `prefetch`; None if missing or blank."""
        return self._emails.get(sys_id)

    def group_name(self, sys_id: str) -> str | None:
        """Return the name of a group loaded by `prefetch`; None if missing."""
        return self._group_names.get(sys_id)

    # -- writes: readable value -> sys_id -------------------------------------------------

    def user_id(self, email: str, *, field: str, operation: str) -> str:
        """Return the sys_id of the one user with this e-mail; raise RejectedError otherwise."""
        if email not in self._user_ids:
            sys_id = self._find_one("sys_user", "email", email, field, operation)
            self._user_ids[email] = sys_id
            self._emails[sys_id] = email
        return self._user_ids[email]

    def group_id(self, name: str, *, field: str, operation: str) -> str:
        """Return the sys_id of the one group with this name; raise RejectedError otherwise."""
        if name not in self._group_ids:
            sys_id = self._find_one("sys_user_group", "name", name, field, operation)
            self._group_ids[name] = sys_id
            self._group_names[sys_id] = name
        return self._group_ids[name]

    def _find_one(self, table: str, key: str, value: str, field: str, operation: str) -> str:
        def reject(problem: str) -> RejectedError:
            msg = (
                f"{field} value {value!r} {problem} in {table}.{key}; "
                f"fix the mapping or the {table} data"
            )
            return RejectedError(
                msg, connector=self._client.connector, operation=operation, record=table
            )

        if "^" in value or not value.strip():
            raise reject("cannot be looked up (empty, or contains '^', the query separator)")
        rows = self._client.query(
            table, f"{key}={value}", ["sys_id", key], operation=operation, limit=2
        )
        if not rows:
            raise reject("matches nothing")
        if len(rows) > 1:
            raise reject("matches more than one record")
        return rows[0]["sys_id"]
