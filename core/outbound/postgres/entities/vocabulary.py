"""Language pairs and the word bank."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, UTCDateTime


class LanguagePairEntity(Base):
    __tablename__ = "language_pair"
    __table_args__ = (sa.UniqueConstraint("learner_id", "target", "native"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(sa.String(8))
    native: Mapped[str] = mapped_column(sa.String(8))
    level: Mapped[str] = mapped_column(sa.String(2))
    is_active: Mapped[bool] = mapped_column(sa.Boolean())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WordBankEntryEntity(Base):
    __tablename__ = "word_bank_entry"
    __table_args__ = (
        # De-duplication by lemma within a pair; also serves lookups by pair.
        sa.UniqueConstraint("pair_id", "lemma"),
        # Newest-first pages of a pair's bank.
        sa.Index(None, "pair_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"), index=True)
    pair_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("language_pair.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(sa.Text())
    lemma: Mapped[str] = mapped_column(sa.Text())
    translation: Mapped[str | None] = mapped_column(sa.Text())
    context: Mapped[str | None] = mapped_column(sa.Text())
    example: Mapped[str | None] = mapped_column(sa.Text())
    source: Mapped[str] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
