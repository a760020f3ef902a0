"""Background work: generation jobs, the speech cache, and when each learner was last reminded."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, PortableJSON, UTCDateTime


class GenerationJobEntity(Base):
    __tablename__ = "generation_job"
    __table_args__ = (
        # The sweep: queued rows not touched for a while, running rows started long ago.
        sa.Index(None, "status", "updated_at"),
        # /jobs and the daily quota: a learner's jobs by creation time.
        sa.Index(None, "learner_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    params: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    steps: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    platform: Mapped[str] = mapped_column(sa.String(16))
    chat_id: Mapped[str] = mapped_column(sa.Text())
    user_id: Mapped[str] = mapped_column(sa.Text())
    attempts: Mapped[int] = mapped_column(sa.Integer())
    last_error: Mapped[str | None] = mapped_column(sa.Text())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SpeechClipEntity(Base):
    """Shared by every learner: keyed by sha256(text|language|voice|model), the text itself is not kept."""

    __tablename__ = "speech_clip"
    # The daily speech quota counts a learner's syntheses by time.
    __table_args__ = (sa.Index(None, "requested_by", "created_at"),)

    cache_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    media_key: Mapped[str] = mapped_column(sa.Text())
    language: Mapped[str] = mapped_column(sa.String(16))
    voice: Mapped[str] = mapped_column(sa.String(64))
    model: Mapped[str] = mapped_column(sa.String(128))
    duration_s: Mapped[float] = mapped_column(sa.Double())
    platform_refs: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    # The learner whose request paid for the synthesis; the clip outlives them (cache for everyone).
    requested_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("learner.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LearnerReminderEntity(Base):
    """The learner's local day of their last reminder (its own table: the learner row is on the hot path)."""

    __tablename__ = "learner_reminder"

    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True)
    last_reminded_on: Mapped[date | None] = mapped_column(sa.Date())
