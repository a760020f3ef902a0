"""Learners (with their settings and FSRS parameters) and the chat identities that reach them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, PortableJSON, UTCDateTime


class LearnerEntity(Base):
    __tablename__ = "learner"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    display_name: Mapped[str] = mapped_column(sa.Text())
    timezone: Mapped[str] = mapped_column(sa.String(64))
    reminder_time: Mapped[str | None] = mapped_column(sa.String(5))
    new_cards_per_day: Mapped[int] = mapped_column(sa.Integer())
    directions: Mapped[str] = mapped_column(sa.String(16))
    audio_on_cards: Mapped[bool] = mapped_column(sa.Boolean())
    desired_retention: Mapped[float] = mapped_column(sa.Double())
    fsrs_parameters: Mapped[list[Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatIdentityEntity(Base):
    __tablename__ = "chat_identity"
    __table_args__ = (sa.UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    platform: Mapped[str] = mapped_column(sa.String(16))
    platform_user_id: Mapped[str] = mapped_column(sa.Text())
    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"), index=True)
