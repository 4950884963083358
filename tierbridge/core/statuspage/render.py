"""HTML of the status page, built with the standard library's `html.escape` on every value.

The pages show states, ids, keys, actions and error messages, never a ticket's title,
description or comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote, urlencode

from tierbridge.core.ops.status import ConnectorStatus, QueueStatus
from tierbridge.core.ops.synclog import HEADERS, row_cells
from tierbridge.core.store import InboxRow, RefRow, SyncLogRow

__all__ = ["Links", "overview_page", "ticket_page"]

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td { overflow-wrap: anywhere; } td:first-child { white-space: nowrap; }
th { background: #f4f4f4; }
.bad { color: #a40000; font-weight: 600; } .ok { color: #176b00; }
.muted { color: #666; }
"""


class Links:
    """Builder of page links that carry the query token, when the request used one."""

    def __init__(self, token: str | None) -> None:
        self._query = "?" + urlencode({"token": token}) if token else ""

    def overview(self) -> str:
        return "/status" + self._query

    def ticket(self, ref: str) -> str:
        return "/status/ticket/" + quote(ref, safe=":") + self._query

    def lookup_token(self) -> str | None:
        """Return the token to repeat in the ticket lookup form, or None."""
        return self._query.removeprefix("?token=") if self._query else None


def _page(title: str, body: str, *, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="30">' if refresh else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{meta}<style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """Render a table. Cells are HTML already, and headers are escaped here."""
    if not rows:
        return f'<p class="muted">{escape(empty)}</p>'
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _connector_rows(statuses: Sequence[ConnectorStatus]) -> list[list[str]]:
    rows = []
    for status in statuses:
        health = (
            '<span class="ok">ok</span>'
            if status.healthy
            else f'<span class="bad">unhealthy</span>: {escape(status.reason)}'
        )
        rows.append(
            [
                escape(status.connector),
                escape(status.system),
                escape(status.tier or "-"),
                health,
                _time(status.last_poll),
                _time(status.throttled_until),
                str(status.queue_depth),
                _time(status.oldest_pending),
                str(status.dead_letters),
            ]
        )
    return rows


def _log_rows(rows: Sequence[SyncLogRow], links: Links) -> list[list[str]]:
    rendered = []
    for row in rows:
        cells = [escape(cell) for cell in row_cells(row)]
        ticket = f"{row.connector}:{row.ticket_key or row.ticket_id}"
        cells[1] = f'<a href="{escape(links.ticket(ticket))}">{escape(ticket)}</a>'
        if row.outcome == "failed":
            cells[3] = f'<span class="bad">{cells[3]}</span>'
        rendered.append(cells)
    return rendered


def _dead_rows(events: Sequence[InboxRow], links: Links) -> list[list[str]]:
    rows = []
    for event in events:
        ticket = f"{event.connector}:{event.ticket_id}"
        rows.append(
            [
                str(event.id),
                f'<a href="{escape(links.ticket(ticket))}">{escape(ticket)}</a>',
                escape(event.kind),
                str(event.attempts),
                _time(event.finished_at),
                escape(event.last_error or "-"),
            ]
        )
    return rows


def _lookup_form(links: Links) -> str:
    token = links.lookup_token()
    hidden = f'<input type="hidden" name="token" value="{escape(token)}">' if token else ""
    return (
        '<form method="get" action="/status/ticket">'
        '<label>Ticket <input name="ref" placeholder="snow:INC0010001 or L2-12" required></label>'
        f"{hidden} <button>Show trail</button></form>"
    )


def overview_page(
    statuses: Sequence[ConnectorStatus],
    queue: QueueStatus,
    failures: Sequence[SyncLogRow],
    dead: Sequence[InboxRow],
    now: datetime,
    links: Links,
) -> str:
    """Render `/status`: connectors, queue, recent failures, dead letters and a ticket lookup."""
    connectors = _table(
        (
            "Connector",
            "System",
            "Tier",
            "Health",
            "Last poll",
            "Throttled until",
            "Queue",
            "Oldest",
            "Dead",
        ),
        _connector_rows(statuses),
        "no connectors configured",
    )
    summary = (
        f"<p>{queue.depth} events waiting, sync lag {queue.lag_seconds:.0f} s, "
        f"{queue.dead_letters} dead letters.</p>"
    )
    body = (
        f'<h1>tierbridge status</h1><p class="muted">{_time(now)} UTC, refreshed every 30 s</p>'
        f"<h2>Connectors</h2>{connectors}<h2>Queue</h2>{summary}"
        f"<h2>Recent failures</h2>{_table(HEADERS, _log_rows(failures, links), 'no failures logged')}"
        f"<h2>Dead letters</h2>"
        f"{_table(('Event', 'Ticket', 'Kind', 'Attempts', 'Parked at', 'Last error'), _dead_rows(dead, links), 'no dead letters')}"
        f"<h2>Ticket trail</h2>{_lookup_form(links)}"
    )
    return _page("tierbridge status", body, refresh=True)


def ticket_page(ref: str, refs: Sequence[RefRow], rows: Sequence[SyncLogRow], links: Links) -> str:
    """Render `/status/ticket/{ref}`: the linked tickets and the sync log trail, oldest first."""
    linked = _table(
        ("Connector", "Id", "Key", "Tier", "Linked at"),
        [
            [
                escape(r.connector),
                escape(r.ticket_id),
                escape(r.ticket_key or "-"),
                escape(r.tier),
                _time(r.created_at),
            ]
            for r in refs
        ],
        "not linked to another ticket",
    )
    trail = _table(HEADERS, _log_rows(rows, links), "no sync log rows for this ticket")
    body = (
        f'<h1>Ticket {escape(ref)}</h1><p><a href="{escape(links.overview())}">back to status</a></p>'
        f"<h2>Linked tickets</h2>{linked}<h2>Trail</h2>{trail}"
    )
    return _page(f"tierbridge: {ref}", body)
