"""An empty store for one bench run: a SQLite file, or a new PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

__all__ = ["bench_store"]


@contextmanager
def bench_store(postgres_url: str | None, workdir: Path) -> Iterator[str]:
    """Yield the URL of an empty store, and drop it afterwards if it is a PostgreSQL schema.

    With `postgres_url` None the store is `tierbridge.db` in `workdir`. Otherwise a schema
    named `tb_bench_<random>` is created on that server and selected through `search_path`.
    """
    if postgres_url is None:
        yield f"sqlite:///{workdir / 'tierbridge.db'}"
        return

    schema = f"tb_bench_{uuid.uuid4().hex[:12]}"
    url = make_url(postgres_url)
    admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
