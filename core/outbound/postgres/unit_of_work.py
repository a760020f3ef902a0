"""The SQL unit of work: one AsyncConnection (one transaction) shared by every repository.

The repositories run Core statements only (no ORM entities), so the unit of work holds a plain
connection rather than an ORM session: the session's bookkeeping cost ≈ 15–20 % of the CPU of a
short transaction and bought nothing here.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.outbound.postgres.repositories import (
    SqlConversationRepository,
    SqlFlashcardRepository,
    SqlJobRepository,
    SqlLanguagePairRepository,
    SqlLearnerRepository,
    SqlPackRepository,
    SqlProcessedUpdateRepository,
    SqlReminderRepository,
    SqlReviewRepository,
    SqlSpeechCacheRepository,
    SqlWordBankRepository,
)
from core.outbound.postgres.repositories._base import ConnectionScope


class SqlUnitOfWork:
    """`async with uow:` takes a pooled connection; leaving it rolls back whatever was not committed."""

    learners: SqlLearnerRepository
    pairs: SqlLanguagePairRepository
    words: SqlWordBankRepository
    cards: SqlFlashcardRepository
    reviews: SqlReviewRepository
    packs: SqlPackRepository
    conversations: SqlConversationRepository
    updates: SqlProcessedUpdateRepository
    jobs: SqlJobRepository
    speech_cache: SqlSpeechCacheRepository
    reminders: SqlReminderRepository

    def __init__(self, engine: AsyncEngine, dialect: str, *, read_only: bool = False) -> None:
        self._engine = engine
        self._dialect = dialect
        self._read_only = read_only  # `engine` then runs each statement on its own (AUTOCOMMIT)
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        connection = await self._engine.connect()
        self._connection = connection
        scope = ConnectionScope(connection)
        dialect = self._dialect
        self.learners = SqlLearnerRepository(scope, dialect)
        self.pairs = SqlLanguagePairRepository(scope, dialect)
        self.words = SqlWordBankRepository(scope, dialect)
        self.cards = SqlFlashcardRepository(scope, dialect)
        self.reviews = SqlReviewRepository(scope, dialect)
        self.packs = SqlPackRepository(scope, dialect)
        self.conversations = SqlConversationRepository(scope, dialect)
        self.updates = SqlProcessedUpdateRepository(scope, dialect)
        self.jobs = SqlJobRepository(scope, dialect)
        self.speech_cache = SqlSpeechCacheRepository(scope, dialect)
        self.reminders = SqlReminderRepository(scope, dialect)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._require_connection()
        self._connection = None
        await connection.close()  # rolls back whatever was not committed, returns the connection

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._require_connection().commit()

    async def rollback(self) -> None:
        await self._require_connection().rollback()

    def _require_connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._connection
