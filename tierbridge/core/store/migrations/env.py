"""Alembic environment of the state store.

`Store.open` passes its open connection in `config.attributes["connection"]`, so no
alembic.ini is needed at run time. The `alembic` command works too when its ini file sets
`script_location` to this folder and `sqlalchemy.url` to the store.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from tierbridge.core.store.tables import Base


def _run(connection: Connection) -> None:
    # SQLite cannot alter most constraints in place, so batch mode copies the table instead.
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        msg = "no connection given and sqlalchemy.url is not set in the Alembic config"
        raise RuntimeError(msg)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
