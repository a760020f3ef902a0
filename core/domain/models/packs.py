"""Packs: admin-curated word lists learners subscribe to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Pack:
    id: str
    slug: str
    title: str
    target: str
    native: str
    level: str
    published: bool
    entry_count: int
    created_at: datetime


@dataclass
class PackEntry:
    id: str
    pack_id: str
    term: str
    lemma: str  # computed at import so subscribing needs no NLP
    translation: str
    example: str | None
    position: int


@dataclass(frozen=True)
class RejectedLine:
    line_no: int
    text: str
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    skipped: int = 0  # already in the pack (same term)
    rejected: int = 0
    first_rejected: list[RejectedLine] = field(default_factory=list)  # at most 10


@dataclass
class SubscribeResult:
    pack: Pack
    added: int
    skipped: int  # entries the learner already had
