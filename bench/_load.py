"""Bulk loading of learners, pairs, word-bank entries and cards with COPY (asyncpg).

The loader writes rows exactly as the repositories would (state/queue consistent: NEW → queue 0,
scheduled → queue 1), so the code under test reads them as its own. Foreign-key triggers are
switched off for the loading session only (`session_replication_role = replica`, we are the
superuser of a throw-away database); indexes are maintained as usual and ANALYZE runs at the end.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

QUEUE_NEW = 0
QUEUE_SCHEDULED = 1
STATE_NEW = 0
STATE_REVIEW = 2


def stable_uuid(kind: str, n: int) -> uuid.UUID:
    """A random-looking but reproducible UUID (so cards can point at entries without keeping them)."""
    return uuid.UUID(bytes=hashlib.blake2b(f"{kind}:{n}".encode(), digest_size=16).digest(), version=4)


@dataclass
class LearnerSpec:
    """One learner to load: how many cards, and which share is due now / new."""

    cards: int
    due_share: float = 0.1  # scheduled cards already due (the rest are due in the future)
    new_share: float = 0.1  # never-reviewed cards
    platform: str = "bench"
    platform_user_id: str = ""
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    pair_id: uuid.UUID = field(default_factory=uuid.uuid4)


def _fsrs_defaults() -> list[float]:
    from core.outbound.fsrs import FsrsScheduler

    return list(FsrsScheduler().default_parameters())


def _learner_rows(specs: list[LearnerSpec], created: datetime) -> Iterator[tuple[object, ...]]:
    params = json.dumps(_fsrs_defaults())
    for spec in specs:
        yield (spec.id, f"bench {spec.platform_user_id}", "UTC", None, 20, "recognition", False, 0.9, params, created)


def _card_plan(spec: LearnerSpec, i: int, rng: random.Random, now: datetime) -> tuple[int, datetime, float | None]:
    """(state, due, stability) of the i-th card of a learner."""
    new_cut = int(spec.cards * spec.new_share)
    due_cut = new_cut + int(spec.cards * spec.due_share)
    if i < new_cut:
        return STATE_NEW, now - timedelta(days=1, seconds=i), None
    if i < due_cut:
        return STATE_REVIEW, now - timedelta(minutes=rng.uniform(1, 60 * 24 * 20)), rng.uniform(2, 60)
    return STATE_REVIEW, now + timedelta(minutes=rng.uniform(60, 60 * 24 * 365)), rng.uniform(2, 300)


class BulkLoader:
    """Loads `LearnerSpec`s into a migrated database; entry/card ids derive from a global counter."""

    def __init__(self, conn: asyncpg.Connection, now: datetime | None = None, seed: int = 7) -> None:
        self._conn = conn
        self._now = now or datetime.now(UTC)
        self._rng = random.Random(seed)
        self._next = 0

    async def load(self, specs: list[LearnerSpec], *, target: str = "es", native: str = "en") -> None:
        await self._conn.execute("SET session_replication_role = replica")
        created = self._now - timedelta(days=400)
        await self._copy("learner", _learner_rows(specs, created))
        identities = [(uuid.uuid4(), s.platform, s.platform_user_id or str(s.id), s.id) for s in specs]
        await self._conn.copy_records_to_table(
            "chat_identity", records=identities, columns=["id", "platform", "platform_user_id", "learner_id"]
        )
        pairs = [(s.pair_id, s.id, target, native, "A2", True, created) for s in specs]
        await self._copy("language_pair", iter(pairs))
        start = self._next
        await self._copy("word_bank_entry", self._entries(specs, start, created))
        await self._copy("flashcard", self._cards(specs, start, created))
        self._next = start + sum(s.cards for s in specs)
        await self._conn.execute("SET session_replication_role = DEFAULT")
        await self._conn.execute("ANALYZE")

    async def _copy(self, table: str, rows: Iterator[tuple[object, ...]]) -> None:
        columns = _COLUMNS[table]
        await self._conn.copy_records_to_table(table, records=rows, columns=columns)

    def _entries(self, specs: list[LearnerSpec], start: int, created: datetime) -> Iterator[tuple[object, ...]]:
        n = start
        for spec in specs:
            for i in range(spec.cards):
                term = f"palabra{n}"
                yield (
                    stable_uuid("e", n),
                    spec.id,
                    spec.pair_id,
                    term,
                    term,
                    f"word {n}",
                    None,
                    None,
                    "manual",
                    created + timedelta(seconds=i),
                )
                n += 1

    def _cards(self, specs: list[LearnerSpec], start: int, created: datetime) -> Iterator[tuple[object, ...]]:
        n = start
        rng = self._rng
        for spec in specs:
            for i in range(spec.cards):
                state, due, stability = _card_plan(spec, i, rng, self._now)
                scheduled = state != STATE_NEW
                last = due - timedelta(days=stability) if scheduled and stability else None
                yield (
                    stable_uuid("c", n),
                    spec.id,
                    spec.pair_id,
                    stable_uuid("e", n),
                    "recognition",
                    state,
                    None,
                    stability,
                    rng.uniform(3, 8) if scheduled else None,
                    due,
                    last,
                    created + timedelta(seconds=i),
                    False,
                    QUEUE_SCHEDULED if scheduled else QUEUE_NEW,
                )
                n += 1


_COLUMNS: dict[str, list[str]] = {
    "learner": [
        "id",
        "display_name",
        "timezone",
        "reminder_time",
        "new_cards_per_day",
        "directions",
        "audio_on_cards",
        "desired_retention",
        "fsrs_parameters",
        "created_at",
    ],
    "language_pair": ["id", "learner_id", "target", "native", "level", "is_active", "created_at"],
    "word_bank_entry": [
        "id",
        "learner_id",
        "pair_id",
        "term",
        "lemma",
        "translation",
        "context",
        "example",
        "source",
        "created_at",
    ],
    "flashcard": [
        "id",
        "learner_id",
        "pair_id",
        "entry_id",
        "direction",
        "state",
        "step",
        "stability",
        "difficulty",
        "due",
        "last_review",
        "created_at",
        "suspended",
        "queue",
    ],
}
