"""`Store`: the one object the engine, the poller and the webhook server share."""

from __future__ import annotations

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from tierbridge.core.errors import StoreError
from tierbridge.core.store._attachments import AttachmentStore
from tierbridge.core.store._base import describe
from tierbridge.core.store._database import build_engine, is_memory, normalize_url, upgrade_schema
from tierbridge.core.store._inbox import InboxStore
from tierbridge.core.store._journal import JournalStore
from tierbridge.core.store._links import LinkStore
from tierbridge.core.store._sla import SlaStore

__all__ = ["Store"]

_log = structlog.get_logger(__name__)


class Store(LinkStore, AttachmentStore, InboxStore, JournalStore, SlaStore):
    """The daemon's state: links, snapshots, comment and file maps, cursors, inbox, outbox
    and sync log.

    Open it with `Store.open(url)`. Every method runs in its own short transaction and
    returns plain frozen dataclasses, so one store may serve several threads. The store
    never reads the clock for times that matter to sync decisions: callers pass `now`.
    Only record-keeping times (`created_at`, `updated_at`, `finished_at` when no `now`
    is given) come from the system clock.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        super().__init__(engine, serialize=is_memory(engine.url))
        self._url = url

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to `url`, upgrade the schema to the newest revision and return the store.

        `url` is a SQLAlchemy URL: `sqlite:///path/to/state.db` (the folder is created) or
        `postgresql+psycopg://user@host/db` (`postgresql://` selects psycopg as well).
        """
        try:
            parsed = normalize_url(url)
        except (SQLAlchemyError, ValueError) as exc:
            msg = (
                f"store URL is invalid ({exc}); use sqlite:///path/to/state.db or postgresql://..."
            )
            raise StoreError(msg) from exc

        masked_url = parsed.render_as_string(hide_password=True)
        try:
            engine = build_engine(parsed)
        except OSError as exc:
            msg = f"cannot create the folder of the state store {masked_url}: {exc}"
            raise StoreError(msg) from exc

        try:
            upgrade_schema(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            msg = f"cannot open the state store at {masked_url}: {describe(exc)}"
            raise StoreError(msg) from exc

        store = cls(engine, masked_url)
        _log.info("store_opened", url=store.url, dialect=store.dialect)
        return store

    @property
    def url(self) -> str:
        """The store's URL, with any password masked."""
        return self._url

    def close(self) -> None:
        """Close the pooled connections. Call it once the store is no longer used.

        A method called after `close` opens a new connection instead of failing.
        """
        self._engine.dispose()
