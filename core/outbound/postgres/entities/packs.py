"""Packs: admin-curated word lists and their entries."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.outbound.postgres.entities.base import Base, UTCDateTime


class PackEntity(Base):
    __tablename__ = "pack"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.Text())
    target: Mapped[str] = mapped_column(sa.String(8))
    native: Mapped[str] = mapped_column(sa.String(8))
    level: Mapped[str] = mapped_column(sa.String(2))
    published: Mapped[bool] = mapped_column(sa.Boolean())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PackEntryEntity(Base):
    __tablename__ = "pack_entry"
    __table_args__ = (sa.Index(None, "pack_id", "position"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid(), primary_key=True, default=uuid.uuid4)
    pack_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("pack.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(sa.Text())
    lemma: Mapped[str] = mapped_column(sa.Text())
    translation: Mapped[str] = mapped_column(sa.Text())
    example: Mapped[str | None] = mapped_column(sa.Text())
    position: Mapped[int] = mapped_column(sa.Integer())
