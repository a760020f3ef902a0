"""The review loop's hot statements, run straight on asyncpg under the unit of work (Postgres only).

Why: every button press runs these eight statements, and SQLAlchemy's execution path (Core
execution, the asyncpg adapter, a greenlet switch) costs ≈ 0.17 ms of CPU a statement against
≈ 0.03 ms for asyncpg itself; with a few learners on one event loop that CPU is the latency.

What stays the same: the SQL text of each constant is exactly what SQLAlchemy compiles for the
Core statement the SQLite path (and any non-hot caller) runs — tests/integration/
test_asyncpg_hot.py compares them — so the server sees the same statements and plans; asyncpg
prepares each once per connection (its own statement cache). Rows are mapped by the same
functions as the Core rows (columns by position). Begin/commit/rollback stay SQLAlchemy's:
`HotConnection` only joins the transaction the unit of work's connection is in (see `_joined`).
Values are bound as SQLAlchemy would bind them: UUIDs as `uuid.UUID`, times as aware UTC
datetimes, JSONB as JSON text (the dialect's connection codec encodes text and decodes to Python).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

MARK_PROCESSED = (
    "INSERT INTO processed_update (platform, update_key, created_at) VALUES ($1::VARCHAR, $2::VARCHAR, "
    "$3::TIMESTAMP WITH TIME ZONE) ON CONFLICT (platform, update_key) DO NOTHING"
)
LEARNER_BY_IDENTITY = (
    "SELECT learner.id, learner.display_name, learner.timezone, learner.reminder_time, learner.new_cards_per_day, "
    "learner.directions, learner.audio_on_cards, learner.desired_retention, learner.fsrs_parameters, "
    "learner.created_at \nFROM learner JOIN chat_identity ON chat_identity.learner_id = learner.id \n"
    "WHERE chat_identity.platform = $1::VARCHAR AND chat_identity.platform_user_id = $2::VARCHAR"
)
# Postgres only (SQLite has no INSERT in a WITH clause), so unlike the others it has no Core twin:
# the SQLite path runs MARK_PROCESSED, LEARNER_BY_IDENTITY and CONVERSATION's Core statements in turn,
# and tests/integration/test_open_turn.py checks both paths give the same answers. In a read-only
# (AUTOCOMMIT) unit of work this is the whole start of a turn: one round trip, committed on its own.
# $3 NULL (an event without an update id) marks nothing and is always fresh.
OPEN_TURN = (
    "WITH mark AS (INSERT INTO processed_update (platform, update_key, created_at) "
    "SELECT $1::VARCHAR, $3::VARCHAR, $4::TIMESTAMP WITH TIME ZONE WHERE $3::VARCHAR IS NOT NULL "
    "ON CONFLICT (platform, update_key) DO NOTHING RETURNING 1) "
    "SELECT ($3::VARCHAR IS NULL OR EXISTS (SELECT 1 FROM mark)) AS fresh, "
    "learner.id, learner.display_name, learner.timezone, learner.reminder_time, learner.new_cards_per_day, "
    "learner.directions, learner.audio_on_cards, learner.desired_retention, learner.fsrs_parameters, "
    "learner.created_at, conversation_state.learner_id, conversation_state.flow, conversation_state.data, "
    "conversation_state.updated_at "
    "FROM (SELECT 1) AS turn "
    "LEFT JOIN (learner JOIN chat_identity ON chat_identity.learner_id = learner.id "
    "AND chat_identity.platform = $1::VARCHAR AND chat_identity.platform_user_id = $2::VARCHAR) ON true "
    "LEFT JOIN conversation_state ON conversation_state.learner_id = learner.id"
)
CONVERSATION = (
    "SELECT conversation_state.learner_id, conversation_state.flow, conversation_state.data, "
    "conversation_state.updated_at \nFROM conversation_state \nWHERE conversation_state.learner_id = $1::UUID"
)
SAVE_CONVERSATION = (
    "INSERT INTO conversation_state (learner_id, flow, data, updated_at) VALUES ($1::UUID, $2::VARCHAR, "
    "$3::JSONB, $4::TIMESTAMP WITH TIME ZONE) ON CONFLICT (learner_id) DO UPDATE SET flow = excluded.flow, "
    "data = excluded.data, updated_at = excluded.updated_at"
)
_CARD_COLUMNS = (
    "flashcard.id, flashcard.learner_id, flashcard.pair_id, flashcard.entry_id, flashcard.direction, "
    "flashcard.state, flashcard.step, flashcard.stability, flashcard.difficulty, flashcard.due, "
    "flashcard.last_review, flashcard.created_at, flashcard.suspended, flashcard.queue"
)
CARD_BY_ID = f"SELECT {_CARD_COLUMNS} \nFROM flashcard \nWHERE flashcard.id = $1::UUID"
# $7 is QUEUE_SUSPENDED and $8 the queue of the new state, as the Core statement binds them.
SAVE_SCHEDULE_IF_UNCHANGED = (
    "UPDATE flashcard SET state=$1::SMALLINT, step=$2::INTEGER, stability=$3::FLOAT, difficulty=$4::FLOAT, "
    "due=$5::TIMESTAMP WITH TIME ZONE, last_review=$6::TIMESTAMP WITH TIME ZONE, "
    "queue=CASE WHEN flashcard.suspended THEN $7::INTEGER ELSE $8::SMALLINT END "
    "WHERE flashcard.id = $9::UUID AND flashcard.due = $10::TIMESTAMP WITH TIME ZONE "
    "AND flashcard.last_review IS NOT DISTINCT FROM $11::TIMESTAMP WITH TIME ZONE"
)
INSERT_REVIEW_EVENT = (
    "INSERT INTO review_event (id, card_id, learner_id, rating, mode, answer_text, state_before, due_before, "
    "due_after, stability_after, difficulty_after, reviewed_at) VALUES ($1::UUID, $2::UUID, $3::UUID, "
    "$4::SMALLINT, $5::VARCHAR, $6::VARCHAR, $7::SMALLINT, $8::TIMESTAMP WITH TIME ZONE, "
    "$9::TIMESTAMP WITH TIME ZONE, $10::FLOAT, $11::FLOAT, $12::TIMESTAMP WITH TIME ZONE)"
)
# $4 is the LIMIT (1), as the Core statement binds it.
NEXT_CARD_IN_QUEUE = (
    f"SELECT {_CARD_COLUMNS}, word_bank_entry.term, word_bank_entry.translation, word_bank_entry.context, "
    "language_pair.target, language_pair.native \nFROM flashcard JOIN word_bank_entry ON word_bank_entry.id = "
    "flashcard.entry_id JOIN language_pair ON language_pair.id = flashcard.pair_id \n"
    "WHERE flashcard.pair_id = $1::UUID AND flashcard.queue = $2::SMALLINT "
    "AND flashcard.due <= $3::TIMESTAMP WITH TIME ZONE ORDER BY flashcard.due \n LIMIT $4::INTEGER"
)


def utc(value: datetime | None) -> datetime | None:
    """A time bound as `UTCDateTime` binds it on Postgres: aware, in UTC (a naive value is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_json(value: Any) -> str:
    """JSONB is bound as text, as SQLAlchemy's JSON type serialises it (json.dumps)."""
    return json.dumps(value)


def rowcount(status: str) -> int:
    """Rows affected, from asyncpg's command status ("INSERT 0 1", "UPDATE 1")."""
    _, _, count = status.rpartition(" ")
    return int(count) if count.isdigit() else 0


class HotConnection:
    """The asyncpg connection under one unit of work's AsyncConnection, joined to its transaction.

    Two rules follow from talking to the driver directly. A unit of work is used by one task at a
    time (as everywhere in langlearn): SQLAlchemy's per-connection mutex is not taken here. And
    asyncpg prepares and caches these statements itself, so a transaction-pooling PgBouncer needs
    `statement_cache_size=0` in the engine's connect_args, not only SQLAlchemy's cache setting.
    """

    __slots__ = ("_adapter", "_connection", "_driver")

    def __init__(self, connection: AsyncConnection, adapter: Any, driver: Any) -> None:
        self._connection = connection
        self._adapter = adapter  # SQLAlchemy's AsyncAdapt_asyncpg_connection
        self._driver = driver  # the asyncpg Connection

    @classmethod
    async def of(cls, connection: AsyncConnection) -> HotConnection:
        """Looked up without a greenlet switch while the connection is checked out and valid."""
        sync = connection.sync_connection
        if sync is not None and not sync.closed and not sync.invalidated:
            raw = sync.connection  # no I/O: the pooled connection it already holds
        else:  # pragma: no cover - an invalidated connection reconnects, which needs the greenlet
            raw = await connection.get_raw_connection()
        return cls(connection, raw.dbapi_connection, raw.driver_connection)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        """The first row (an asyncpg Record, indexable like an sa.Row) or None."""
        try:
            driver = await self._joined()
            return await driver.fetchrow(sql, *args)
        except Exception as error:
            raise await self._translated(sql, error) from error

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a write; returns the number of rows it affected."""
        try:
            driver = await self._joined()
            status: str = await driver.execute(sql, *args)
        except Exception as error:
            raise await self._translated(sql, error) from error
        return rowcount(status)

    async def _joined(self) -> Any:
        """The driver, inside the unit of work's transaction, begun as SQLAlchemy would begin it.

        SQLAlchemy's `Connection.begin()` is bookkeeping only (the asyncpg dialect's do_begin sends
        nothing), so its commit/rollback then reach the adapter; the adapter sends BEGIN lazily
        before its first statement, so it is asked to when it has not yet (`_start_transaction`
        does nothing under AUTOCOMMIT, where each statement runs on its own).
        """
        sync = self._connection.sync_connection
        if sync is not None and not sync.in_transaction():
            sync.begin()
        if self._adapter._transaction is None:
            await self._adapter._start_transaction()
        return self._driver

    async def _translated(self, sql: str, error: Exception) -> Exception:
        """The error SQLAlchemy would raise (IntegrityError, OperationalError, …), parameters hidden.

        A lost connection is handled as SQLAlchemy's own execution path handles it: this connection
        is invalidated (never checked back in as healthy) and so is the pool, so the connections
        opened before a server restart are replaced on their next checkout instead of failing.
        """
        try:
            self._adapter._handle_exception(error)  # raises the dialect's DBAPI-level error
        except Exception as dbapi_error:
            dialect = self._connection.dialect
            wrapped = DBAPIError.instance(
                sql, None, dbapi_error, self._adapter.dbapi.Error, hide_parameters=True, dialect=dialect
            )
            if isinstance(wrapped, DBAPIError) and dialect.is_disconnect(
                dbapi_error,  # type: ignore[arg-type]  # the dialect's own DBAPI error, as SQLAlchemy passes it
                self._adapter,
                None,
            ):
                await self._invalidate(wrapped)
            return wrapped
        return error  # pragma: no cover - _handle_exception always raises

    async def _invalidate(self, error: DBAPIError) -> None:
        error.connection_invalidated = True
        sync = self._connection.sync_connection
        if sync is not None and not sync.invalidated:
            pooled = sync.connection
            sync.engine.pool._invalidate(pooled, error)  # what Connection._handle_dbapi_exception does
        await self._connection.invalidate(error)
