"""The read-only status page at `/status`: connectors, queue, recent failures, ticket trails.

The page is off unless `server.status_token` is set. Every request must carry that token as
`Authorization: Bearer <token>` or as `?token=<token>`; links on the page keep a token given
in the query, so a browser can follow them.
"""

from tierbridge.core.statuspage.router import status_router

__all__ = ["status_router"]
