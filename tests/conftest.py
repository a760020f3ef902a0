"""Shared fixtures: real databases for integration tests.

- `pg_url` (session): a fresh database `langlearn_test_<hex>` on the server named by
  TEST_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres), migrated to
  head, dropped at the end of the run. An unreachable server fails the test, never skips it.
- `pg_db`: a `Database` on it, every table truncated before the test.
- `pg_empty_url`: a fresh, unmigrated Postgres database for one test (migration tests).
- `sqlite_url` / `sqlite_db`: a fresh migrated SQLite file in the test's tmp_path.
- `db`: parametrized over ["sqlite", "postgres"] for behaviour that must hold on both.

Everything is imported and connected lazily: tests that use none of these never touch Postgres.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from core.outbound.postgres.database import Database

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
_DB_FIXTURES = {"sqlite": "sqlite_db", "postgres": "pg_db"}


# --- Postgres ---------------------------------------------------------------------------------


def pg_server_url() -> str:
    """TEST_DATABASE_URL as an asyncpg SQLAlchemy URL (a plain postgresql:// URL is accepted too)."""
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def _admin_connection() -> Any:
    """An asyncpg connection to the server's maintenance database, or a clear test failure."""
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(pg_server_url())
    shown = url.render_as_string(hide_password=True)
    try:
        return await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    pytest.fail(f"PostgreSQL not reachable at {shown}: start it (see README). ({reason})", pytrace=False)


async def create_pg_database() -> str:
    """Create an empty database `langlearn_test_<hex>` and return its SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    name = f"langlearn_test_{uuid.uuid4().hex[:12]}"
    admin = await _admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(pg_server_url()).set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    """Drop a database made by `create_pg_database`, ending any connection still open on it."""
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = await _admin_connection()
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def pg_url() -> AsyncIterator[str]:
    """A migrated Postgres database for the whole run."""
    from core.outbound.postgres.migrate import upgrade_to_head

    url = await create_pg_database()
    try:
        await upgrade_to_head(url)
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
async def pg_empty_url() -> AsyncIterator[str]:
    """A fresh Postgres database with no tables, dropped after the test."""
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture
async def pg_db(pg_url: str) -> AsyncIterator[Database]:
    """A `Database` on the run's Postgres database, emptied before the test."""
    import sqlalchemy as sa

    from core.outbound.postgres.database import Database
    from core.outbound.postgres.entities import Base

    database = Database(pg_url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with database.engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
    try:
        yield database
    finally:
        await database.dispose()


# --- SQLite -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
async def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per run; each test gets a copy (migrating per test is slower)."""
    from core.outbound.postgres.migrate import upgrade_to_head

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    await upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """The URL of a fresh, migrated SQLite file in the test's tmp_path."""
    path = tmp_path / "langlearn.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_db(sqlite_url: str) -> AsyncIterator[Database]:
    from core.outbound.postgres.database import Database

    database = Database(sqlite_url)
    try:
        yield database
    finally:
        await database.dispose()


# --- both -------------------------------------------------------------------------------------


@pytest.fixture(params=list(_DB_FIXTURES))
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on Postgres (the Postgres one is set up only when it runs)."""
    database: Database = request.getfixturevalue(_DB_FIXTURES[request.param])
    return database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that need the Postgres server, so `-m "not postgres"` can leave them out."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("db") == "postgres"
        if on_postgres or any(name in fixtures for name in ("pg_url", "pg_db", "pg_empty_url")):
            item.add_marker(pytest.mark.postgres)
