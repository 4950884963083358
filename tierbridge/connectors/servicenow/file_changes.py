"""Files attached since a poll's watermark, and the records they change.

Attaching a file in ServiceNow changes neither `sys_updated_on` nor `sys_mod_count` of the
record, so a poll on `sys_updated_on` alone would miss it. `changed_since` therefore also
reads the sys_attachment rows of its table created since the watermark. A record whose
newest such file is not older than its last field change is reported as changed by the file:

* `updated` is the file's `sys_created_on`, and `updated_by` the user who attached it;
* `version` is the field version with the file's time appended (`attachment_version`). It
  differs from the version of the last field change, so the poller's
  `poll:<ticket id>:<version>` key is new, and it still sorts in change order.

Single reads (`get_record`) do not look at files, so they return the field version alone,
which sorts before the extended one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from tierbridge.connectors.servicenow.attachments import AttachmentClient
from tierbridge.connectors.servicenow.client import Page
from tierbridge.connectors.servicenow.paging import read_all_pages
from tierbridge.connectors.servicenow.records import (
    attachment_version,
    format_datetime,
    parse_datetime,
)
from tierbridge.core.connector import NativeRecord
from tierbridge.core.errors import RetryableError

__all__ = ["NewestFile", "fold_newest_file", "newest_files", "read_newest_files"]

_SYS_ID = re.compile(r"[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class NewestFile:
    """Creation time and creator (a user_name) of a record's newest file."""

    created: datetime
    created_by: str | None


def newest_files(rows: Iterable[Mapping[str, str]]) -> dict[str, NewestFile]:
    """Map each record's sys_id to its newest file among sys_attachment `rows`.

    Rows whose `table_sys_id` is not a sys_id are skipped. Raises ValueError for a
    `sys_created_on` that is empty or not `YYYY-MM-DD HH:MM:SS`.
    """
    newest: dict[str, NewestFile] = {}
    for row in rows:
        parent = row.get("table_sys_id", "")
        if not _SYS_ID.fullmatch(parent):
            continue
        created = parse_datetime(row.get("sys_created_on", ""))
        if created is None:
            raise ValueError("attachment row without sys_created_on")

        known = newest.get(parent)
        if known is None or created >= known.created:
            newest[parent] = NewestFile(created, row.get("sys_created_by") or None)
    return newest


def read_newest_files(
    files: AttachmentClient,
    table: str,
    since: datetime,
    page_size: int,
    fail: Callable[[str], RetryableError],
) -> dict[str, NewestFile]:
    """Read every file attached to a record of `table` at or after `since`, to the last page."""
    query = "^".join(
        [
            f"table_name={table}",
            f"sys_created_on>={format_datetime(since)}",
            "ORDERBYsys_created_on",
            "ORDERBYsys_id",
        ]
    )

    def fetch(offset: int, limit: int) -> Page:
        return files.page(
            query, operation="changed_since", table="sys_attachment", limit=limit, offset=offset
        )

    return newest_files(read_all_pages(fetch, page_size, fail))


def fold_newest_file(record: NativeRecord, newest: NewestFile | None) -> NativeRecord:
    """Return the record as changed by its newest file, unless that file predates its fields.

    A file from the same second as the field change counts as newer, because the two cannot
    be ordered, and a poll that ran between them then still gets a new version.
    """
    if newest is None or newest.created < record.updated:
        return record
    return replace(
        record,
        version=attachment_version(record.version, newest.created),
        updated=newest.created,
        updated_by=newest.created_by or record.updated_by,
    )
