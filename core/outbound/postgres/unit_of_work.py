"""The SQL unit of work: one AsyncSession (one transaction) shared by every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.outbound.postgres.repositories import (
    SqlConversationRepository,
    SqlFlashcardRepository,
    SqlLanguagePairRepository,
    SqlLearnerRepository,
    SqlPackRepository,
    SqlProcessedUpdateRepository,
    SqlReviewRepository,
    SqlWordBankRepository,
)


class SqlUnitOfWork:
    """`async with uow:` opens a session; leaving it rolls back whatever was not committed."""

    learners: SqlLearnerRepository
    pairs: SqlLanguagePairRepository
    words: SqlWordBankRepository
    cards: SqlFlashcardRepository
    reviews: SqlReviewRepository
    packs: SqlPackRepository
    conversations: SqlConversationRepository
    updates: SqlProcessedUpdateRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], dialect: str, *, read_only: bool = False) -> None:
        self._sessions = sessions
        self._dialect = dialect
        self._read_only = read_only  # `sessions` then run each statement on its own (AUTOCOMMIT)
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._sessions()
        self._session = session
        dialect = self._dialect
        self.learners = SqlLearnerRepository(session, dialect)
        self.pairs = SqlLanguagePairRepository(session, dialect)
        self.words = SqlWordBankRepository(session, dialect)
        self.cards = SqlFlashcardRepository(session, dialect)
        self.reviews = SqlReviewRepository(session, dialect)
        self.packs = SqlPackRepository(session, dialect)
        self.conversations = SqlConversationRepository(session, dialect)
        self.updates = SqlProcessedUpdateRepository(session, dialect)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self._require_session()
        self._session = None
        await session.close()  # rolls back whatever was not committed, returns the connection

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self._require_session().commit()

    async def rollback(self) -> None:
        await self._require_session().rollback()

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("use the unit of work inside `async with`")
        return self._session
