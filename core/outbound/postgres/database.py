"""The engine and session factory for one database URL (Postgres via asyncpg, or SQLite via aiosqlite).

Build one `Database` per process in a start-up hook and `dispose()` it on shutdown; nothing here
connects at import time. `Database.unit_of_work` is the `UnitOfWorkFactory` the services take.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from core.outbound.postgres.unit_of_work import SqlUnitOfWork

SQLITE_BUSY_TIMEOUT_SECONDS = 30
# How long a new Postgres connection may take, handshake included (asyncpg's own default is 60 s):
# with the server unreachable (a dropped route, a firewall that drops packets) an update that needs
# a new connection gets its apology after this, not after a minute.
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10.0
# How long one statement may run on a connection already open (asyncpg has no limit by default): a
# connection whose server went silent mid-way fails then instead of holding its update forever. No
# statement of the app comes near it (a 50,000-row pack import is one COPY of < 1 s).
POSTGRES_COMMAND_TIMEOUT_SECONDS = 60.0
POOL_SIZE = 20  # connections a process keeps open (see `Database`)
POOL_OVERFLOW = 10  # more, opened in a burst and closed when they come back


class Database:
    """One async engine and its session factory.

    The pool keeps `pool_size` connections (20) open and opens up to `max_overflow` (10) more in a
    burst, closing those when they come back: at 16 updates in flight a pool of 10 opened and
    closed a connection every dozen updates (each a Postgres backend started, ≈ 4 ms of the bot's
    CPU, the statement cache cold), 20–25 % of the bot's CPU per review press
    (bench/telegram_updates.py). Up to 30 a process: Postgres' `max_connections` must cover every
    process (docker-compose.yml sets 200: the bot and up to 5 workers).
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = POOL_OVERFLOW,
        echo: bool = False,
        connect_timeout: float = POSTGRES_CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url  # may hold a password: never log it; repr() masks it
        self._engine = create_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, echo=echo, connect_timeout=connect_timeout
        )
        self._sessions = async_sessionmaker(self._engine, expire_on_commit=False, autoflush=False)
        # Reads only: each statement runs on its own, saving the BEGIN and ROLLBACK round trips
        # (same pool; the isolation level is reset when the connection goes back).
        self._read_engine = self._engine.execution_options(isolation_level="AUTOCOMMIT")

    def __repr__(self) -> str:
        return f"Database({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def dialect_name(self) -> str:
        """The SQLAlchemy dialect: "postgresql" or "sqlite"."""
        return self._engine.dialect.name

    def session(self) -> AsyncSession:
        """A bare session, for tests and tools that need SQL outside the repositories."""
        return self._sessions()

    def unit_of_work(self, *, read_only: bool = False) -> SqlUnitOfWork:
        """A fresh unit of work (the `UnitOfWorkFactory` the services are built with).

        `read_only`: no transaction, each statement on its own (see `UnitOfWorkFactory`).
        """
        if read_only:
            return SqlUnitOfWork(self._read_engine, self.dialect_name, read_only=True)
        return SqlUnitOfWork(self._engine, self.dialect_name)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()


def _postgres_connect_args(url: str, connect_timeout: float) -> dict[str, object]:
    server_settings = {"jit": "off", "application_name": "langlearn"}
    if make_url(url).get_driver_name() == "asyncpg":
        return {
            "server_settings": server_settings,
            "timeout": connect_timeout,
            "command_timeout": POSTGRES_COMMAND_TIMEOUT_SECONDS,
        }
    return {"connect_timeout": max(1, round(connect_timeout))}  # psycopg: whole seconds, libpq's option


def is_sqlite_url(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str | URL) -> None:
    """Create the folder of a SQLite file URL (the embedded default lives in ./data/)."""
    parsed = make_url(url)
    database = parsed.database
    if not is_sqlite_url(parsed) or not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(
    url: str,
    *,
    pool_size: int = POOL_SIZE,
    max_overflow: int = POOL_OVERFLOW,
    echo: bool = False,
    connect_timeout: float = POSTGRES_CONNECT_TIMEOUT_SECONDS,
) -> AsyncEngine:
    """An async engine with the per-dialect settings langlearn relies on."""
    if is_sqlite_url(url):
        ensure_sqlite_directory(url)
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        # Bound values are learners' words and messages: never in logs or exception texts.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        # JIT compilation only slows the short OLTP statements this app runs.
        connect_args=_postgres_connect_args(url, connect_timeout),
    )
    if engine.dialect.driver == "asyncpg":
        event.listen(engine.sync_engine.pool, "checkout", _refuse_closed_asyncpg_connection)
    return engine


def _refuse_closed_asyncpg_connection(
    _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """A pooled connection the server has closed is replaced at checkout, not handed out to fail.

    After a restart of Postgres every pooled connection is dead: the server ended its session and
    closed the socket, and asyncpg has seen it (`is_closed()`). Without this, the first statement
    of the next unit of work would fail on such a connection, an update that arrives after the
    restart would get an apology, and only that failure would invalidate the pool. Raising
    `DisconnectionError` here makes the pool open a fresh connection instead. Unlike
    `pool_pre_ping` (three round trips per checkout on asyncpg: BEGIN, ";", ROLLBACK), this costs
    no round trip; a connection whose socket still looks open (a silent network partition) is
    still caught by the first failing statement, as before.
    """
    driver = record.driver_connection
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the server closed this pooled connection (restart or terminated session)")


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Per-connection SQLite setup.

    Cascades need foreign_keys=ON on every connection; WAL lets readers run beside a writer;
    `lower()` becomes Python's so case-insensitive matching of non-ASCII words agrees with Postgres.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


__all__ = ["Database", "create_engine", "ensure_sqlite_directory", "is_sqlite_url"]
