"""Connect procrastinate to the store's PostgreSQL database, in a schema of its own.

procrastinate names its tables, types and functions without a schema, so the schema is
chosen through `search_path` on every connection. The store URL's other libpq options
are kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
import structlog
from psycopg import sql
from sqlalchemy.engine import make_url

from tierbridge.core.errors import StoreError

if TYPE_CHECKING:
    from procrastinate import PsycopgConnector

    from tierbridge.core.config import AppConfig

__all__ = ["build_connector", "ensure_job_schema", "job_connection_args"]

_log = structlog.get_logger(__name__)

#: Key of the advisory lock that lets one process at a time create procrastinate's tables.
_SCHEMA_LOCK_KEY = 0x7462_6A6F_6273  # "tbjobs"


def job_connection_args(store_url: str, job_schema: str) -> tuple[str, dict[str, Any]]:
    """Return the libpq URL and connection keywords that reach `job_schema` in the store's database.

    The SQLAlchemy driver suffix and any `search_path` setting are dropped from the URL,
    and `options` sets `search_path` to `job_schema`.
    """
    url = make_url(store_url)
    if not url.drivername.startswith("postgresql"):
        msg = f"procrastinate needs a PostgreSQL store, not {url.drivername}"
        raise StoreError(msg)
    existing = url.query.get("options")
    options = existing if isinstance(existing, str) else " ".join(existing or ())
    url = url.set(drivername="postgresql").difference_update_query(["options"])
    conninfo = url.render_as_string(hide_password=False)
    return conninfo, {"options": _with_search_path(options, job_schema)}


def _with_search_path(options: str, schema: str) -> str:
    """Replace any `-c search_path=...` in libpq `options` with one naming `schema`."""
    kept: list[str] = []
    parts = options.split()
    index = 0
    while index < len(parts):
        part = parts[index]
        if part == "-c" and index + 1 < len(parts):
            setting, index = parts[index + 1], index + 2
        elif part.startswith("-c"):
            setting, index = part[2:], index + 1
        else:
            kept.append(part)
            index += 1
            continue
        if not setting.startswith("search_path="):
            kept.append(f"-c {setting}")
    kept.append(f"-c search_path={schema}")
    return " ".join(kept)


def build_connector(config: AppConfig, *, max_connections: int) -> PsycopgConnector:
    """Return a procrastinate connector on the job schema, with a pool of up to `max_connections`."""
    from procrastinate import PsycopgConnector

    conninfo, kwargs = job_connection_args(config.store.url, config.procrastinate.job_schema)
    return PsycopgConnector(
        conninfo=conninfo, kwargs=kwargs, min_size=1, max_size=max(2, max_connections)
    )


def ensure_job_schema(config: AppConfig) -> bool:
    """Create the job schema and procrastinate's tables in it if missing; return whether it did.

    Every worker and webhook node calls this at start. An advisory lock lets one of them
    create the tables while the others wait, then find them.
    """
    from procrastinate.schema import SchemaManager

    schema = config.procrastinate.job_schema
    conninfo, kwargs = job_connection_args(config.store.url, schema)
    try:
        with psycopg.connect(conninfo, autocommit=True, **kwargs) as connection:
            connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))
            try:
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
                row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
                if row is not None and row[0] is not None:
                    return False
                # NOTE: this creates the tables of the installed procrastinate version only.
                # An upgrade that changes them needs procrastinate's SQL migrations, applied
                # by hand before the new version starts.
                connection.execute(SchemaManager.get_schema())
            finally:
                connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_KEY,))
    except psycopg.Error as exc:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        msg = f"cannot prepare procrastinate's schema {schema!r}: {first_line}"
        raise StoreError(msg) from exc
    _log.info("job_schema_created", schema=schema)
    return True
