"""What every SQL repository shares: the session, id parsing and dialect-aware upserts.

Repositories read rows (Core `select` of table columns), never ORM objects: the session's
identity map stays empty, so a Core UPDATE can never leave a stale object behind, nothing
lazy-loads, and each method is the statements it shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.outbound.postgres.entities import Base
from core.outbound.postgres.repositories._asyncpg_hot import HotConnection

# Stay well under the bind-parameter limits of asyncpg (32,767) and SQLite (32,766).
IN_CLAUSE_CHUNK = 2_000


class ConnectionScope:
    """The unit of work's connection, offering the two calls repositories make (as a session would)."""

    __slots__ = ("_connection", "_hot")

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._hot: HotConnection | None = None

    async def execute(
        self, statement: sa.Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> CursorResult[Any]:
        return await self._connection.execute(statement, params)

    async def connection(self) -> AsyncConnection:
        return self._connection

    async def hot(self) -> HotConnection:
        """The asyncpg connection underneath (Postgres only), looked up once per unit of work."""
        if self._hot is None:
            self._hot = await HotConnection.of(self._connection)
        return self._hot


class SqlRepository:
    """Base of the repositories: the unit of work's connection (or a session) and its dialect name."""

    def __init__(self, session: AsyncSession | ConnectionScope, dialect: str) -> None:
        self._session = session
        self._dialect = dialect

    async def _execute(
        self, statement: sa.Executable, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> CursorResult[*tuple[Any, ...]]:
        """Run a Core statement in the unit of work's transaction."""
        result = await self._session.execute(statement, params)
        return result  # type: ignore[return-value]

    async def _hot(self) -> HotConnection | None:
        """The asyncpg connection in the unit of work's transaction on Postgres; None → use Core.

        Only the review loop's hot statements use it (see `_asyncpg_hot`); SQLite and a bare
        session always take the Core path.
        """
        if self._dialect != "postgresql" or not isinstance(self._session, ConnectionScope):
            return None
        return await self._session.hot()

    def _dialect_insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT that supports ON CONFLICT (both Postgres and SQLite ≥ 3.24 do)."""
        return dialect_insert(table, self._dialect)

    def _insert_ignoring_conflicts(self, table: sa.Table, index_elements: Sequence[str]) -> sa.Insert:
        """INSERT … ON CONFLICT (…) DO NOTHING (rowcount 0 means the row was already there)."""
        return self._dialect_insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def dialect_insert(table: sa.Table, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The dialect's INSERT that supports ON CONFLICT (for statements built once per dialect)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def is_unique_violation(error: IntegrityError) -> bool:
    """A duplicate key (as opposed to a foreign-key or NOT NULL failure), on either database."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # asyncpg: unique_violation
        return True
    name = getattr(original, "sqlite_errorname", "")
    return name in {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}


def parse_id(value: str) -> uuid.UUID | None:
    """The UUID behind a domain id, or None when `value` is not one (so it matches no row)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def to_uuid(value: str) -> uuid.UUID:
    """A domain id the application generated itself (uuid4 strings)."""
    return uuid.UUID(value)


def chunks[T](items: Sequence[T], size: int = IN_CLAUSE_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def table_of(entity: type[Base]) -> sa.Table:
    """The Core table of a mapped entity (repositories query tables, not ORM objects)."""
    table = entity.__table__
    if not isinstance(table, sa.Table):  # pragma: no cover - every entity maps one table
        raise TypeError(f"{entity.__name__} is not mapped to a table")
    return table
