"""Format the sync log of one linked ticket as the demo summary prints it."""

from __future__ import annotations

from tierbridge.core.runtime import Runtime

__all__ = ["format_trail"]

#: Log rows left out of the printed trails; the summary counts them instead.
_QUIET_ACTIONS = {"no_change", "echo_suppressed"}
_DETAILED_ACTIONS = ("escalated", "comment_refused", "attachment_skipped")


def format_trail(rt: Runtime, connector: str, ticket_id: str) -> list[str]:
    """Return one line per logged action on the ticket and every ticket linked to it."""
    rows = []
    for link_ticket in _link_tickets(rt, connector, ticket_id):
        rows.extend(rt.store.sync_log(ticket=link_ticket, limit=100))
    rows = [row for row in rows if row.action not in _QUIET_ACTIONS]
    rows.sort(key=lambda row: (row.at, row.id))
    return [
        f"{row.at:%H:%M:%S} {row.connector}:{row.ticket_key or row.ticket_id} {row.action}"
        + (f" -> {row.target_ticket}" if row.target_ticket else "")
        + (f" [{', '.join(row.fields)}]" if row.fields else "")
        + (f" ({row.detail})" if row.detail and row.action in _DETAILED_ACTIONS else "")
        for row in rows
    ]


def _link_tickets(rt: Runtime, connector: str, ticket_id: str) -> list[str]:
    ref = rt.store.find_ref(connector, ticket_id)
    if ref is None:
        return [ticket_id]
    return [member.ticket_id for member in rt.store.refs_of_link(ref.link_id)]
