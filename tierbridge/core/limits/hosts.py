"""Keep a connector's calls on its configured host.

Vendor responses carry URLs (attachment `content` links, `self` links, paging `Link`
headers). Following one to another host would send the connector's credentials there, so
every URL taken from a response is checked against `base_url` first.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from tierbridge.core.errors import PermanentError

__all__ = ["ensure_same_host"]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def ensure_same_host(
    url: str, base_url: str, *, connector: str = "connector", operation: str = "follow a link"
) -> str:
    """Return `url` made absolute against `base_url`; raise PermanentError for another origin.

    The origin is the scheme, host and port. A URL with user info (`https://x@host/`) is
    rejected too, since it can make a reader misjudge the host.
    """
    absolute = urljoin(base_url.rstrip("/") + "/", url)
    if "@" in urlsplit(absolute).netloc:
        msg = "URL from the response carries user info; it is not followed"
        raise PermanentError(msg, connector=connector, operation=operation)

    wanted = _origin(base_url)
    found = _origin(absolute)
    if found != wanted:
        msg = (
            f"URL from the response points at {found[0]}://{found[1]}:{found[2]}, not at the "
            f"configured base_url {wanted[0]}://{wanted[1]}:{wanted[2]}; it is not followed"
        )
        raise PermanentError(msg, connector=connector, operation=operation)
    return absolute
