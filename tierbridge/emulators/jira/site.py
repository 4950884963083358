"""What every route of the emulator needs: the data, the renderer, injected faults, the caller."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import Request

from tierbridge.emulators.jira.catalog import UserProfile
from tierbridge.emulators.jira.render import Renderer
from tierbridge.emulators.jira.state import JiraState, StoredAttachment
from tierbridge.emulators.jira.wire import verify_basic_auth

__all__ = ["DEFAULT_ATTACHMENT_MAX_BYTES", "Fault", "Faults", "Site", "current_user", "site_of"]

#: Default maximum size of one uploaded file: 10 MB (10485760 bytes). The emulator keeps files
#: in memory, and tests set a lower limit through `JiraEmulator.attachment_max_bytes`.
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Fault:
    """One injected error answer: its status and, for 429, the wait it announces."""

    status: int
    retry_after: int | None = None


@dataclass
class Faults:
    """A FIFO of error answers, each served to exactly one incoming request."""

    pending: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault, count: int) -> None:
        with self.lock:
            self.pending.extend([fault] * count)

    def take(self) -> Fault | None:
        with self.lock:
            return self.pending.pop(0) if self.pending else None


@dataclass
class Site:
    state: JiraState
    renderer: Renderer
    faults: Faults = field(default_factory=Faults)
    #: Maximum size of one uploaded file, in bytes.
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES
    #: Whether the project's edit screen contains the Resolution field, so that an edit (PUT)
    #: may change the resolution of a done issue. Most sites leave it off that screen.
    resolution_on_edit_screen: bool = False
    #: Key that signs the `token` of download redirects, new for every emulator.
    media_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def media_token(self, attachment: StoredAttachment) -> str:
        """Return the read token that the download redirect of `attachment` carries."""
        message = attachment.media_id.encode()
        return hmac.new(self.media_key, message, hashlib.sha256).hexdigest()

    def rate_limit_reset(self, retry_after: int) -> str:
        """The `X-RateLimit-Reset` value: when the wait ends, ISO 8601 to the minute, UTC."""
        moment = self.state.now() + timedelta(seconds=retry_after)
        return moment.strftime("%Y-%m-%dT%H:%MZ")


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site


def current_user(request: Request) -> UserProfile:
    """Return the caller's profile from Basic auth, or raise 401."""
    state = site_of(request).state
    return verify_basic_auth(request.headers.get("authorization"), state.tokens, state.profiles)
