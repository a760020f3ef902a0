"""Chat-flow state per learner, and the updates already handled (duplicate-delivery guard)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, PortableJSON, UTCDateTime


class ConversationStateEntity(Base):
    __tablename__ = "conversation_state"

    learner_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("learner.id", ondelete="CASCADE"), primary_key=True)
    flow: Mapped[str | None] = mapped_column(sa.String(32))
    data: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedUpdateEntity(Base):
    __tablename__ = "processed_update"

    platform: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(sa.Text(), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
