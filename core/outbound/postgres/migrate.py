"""Run the Alembic migrations programmatically (`langlearn migrate`, the embedded SQLite start-up).

The migrations live in `migrations/` at the repository root; they are found relative to this file,
so it works from any working directory. Alembic runs on a connection opened in the caller's event
loop (`run_sync`), not in a second loop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.outbound.postgres.database import ensure_sqlite_directory

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` without alembic.ini (the caller's logging is left alone)."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise FileNotFoundError(f"Alembic migrations not found at {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    config.attributes["configure_logger"] = False
    return config


async def upgrade_to_head(url: str) -> None:
    """Bring the database at `url` to the latest revision (creates a SQLite file and its folder)."""
    await _run(url, lambda config: command.upgrade(config, "head"))


async def downgrade_to(url: str, revision: str) -> None:
    """Downgrade to `revision` ("base" drops every table)."""
    await _run(url, lambda config: command.downgrade(config, revision))


async def current_revision(url: str) -> str | None:
    """The revision the database is at, None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


async def _run(url: str, action: Callable[[Config], None]) -> None:
    ensure_sqlite_directory(url)
    config = alembic_config(url)
    # Foreign keys stay OFF here on SQLite (no pragma listener): see migrations/env.py.
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_with_connection, config, action)
    finally:
        await engine.dispose()


def _with_connection(connection: Connection, config: Config, action: Callable[[Config], None]) -> None:
    config.attributes["connection"] = connection
    action(config)
