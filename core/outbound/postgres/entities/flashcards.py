"""Flashcards with their FSRS schedule, and the review events they produce."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, UTCDateTime

# `flashcard.queue`: which queue a card waits in, derived from state and suspended by the
# repository so that "next due" and "next new" are one range scan of (pair_id, queue, due).
QUEUE_SUSPENDED = -1
QUEUE_NEW = 0
QUEUE_SCHEDULED = 1


class FlashcardEntity(Base):
    __tablename__ = "flashcard"
    __table_args__ = (
        sa.UniqueConstraint("entry_id", "direction"),
        # Next due / next new card of a pair: independent of how many cards the learner has.
        sa.Index(None, "pair_id", "queue", "due"),
        # Due counts and forecasts over all pairs of a learner.
        sa.Index(None, "learner_id", "queue", "due"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"))
    pair_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("language_pair.id", ondelete="CASCADE"))
    entry_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("word_bank_entry.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[int] = mapped_column(sa.SmallInteger())
    step: Mapped[int | None] = mapped_column(sa.Integer())
    stability: Mapped[float | None] = mapped_column(sa.Double())
    difficulty: Mapped[float | None] = mapped_column(sa.Double())
    due: Mapped[datetime] = mapped_column(UTCDateTime())
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended: Mapped[bool] = mapped_column(sa.Boolean())
    queue: Mapped[int] = mapped_column(sa.SmallInteger())


class ReviewEventEntity(Base):
    __tablename__ = "review_event"
    __table_args__ = (sa.Index(None, "learner_id", "reviewed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    # Events outlive their card (a removed word keeps its history until the learner is deleted).
    card_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("flashcard.id", ondelete="SET NULL"), index=True)
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(sa.SmallInteger())
    mode: Mapped[str] = mapped_column(sa.String(16))
    answer_text: Mapped[str | None] = mapped_column(sa.Text())
    state_before: Mapped[int] = mapped_column(sa.SmallInteger())
    due_before: Mapped[datetime] = mapped_column(UTCDateTime())
    due_after: Mapped[datetime] = mapped_column(UTCDateTime())
    stability_after: Mapped[float | None] = mapped_column(sa.Double())
    difficulty_after: Mapped[float | None] = mapped_column(sa.Double())
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
