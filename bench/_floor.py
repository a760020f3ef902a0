"""The raw-asyncpg floor of the review loop: the statements one press issues, written by hand.

Mirrors, statement for statement and transaction for transaction, what the real path sent when
this file was written (captured with before_cursor_execute; review_loop.py prints the current
capture in its JSON line, so a drift shows):

every press      WITH mark AS (INSERT processed_update … ON CONFLICT DO NOTHING RETURNING 1) SELECT
                 fresh, learner JOIN chat_identity, conversation_state: ONE statement on its own, no
                 transaction block (ConversationService.begin_turn → open_turn in a read-only unit)
/review          SELECT next due card of the active pair (joins; the pair found by a subquery), on its
                 own: no transaction (ReviewService.next_card reads with a read-only unit of work)
              T2 INSERT conversation_state … ON CONFLICT DO UPDATE; COMMIT
Show answer   T2 SELECT flashcard by id (the learner comes from T1); INSERT conversation_state … ON CONFLICT DO UPDATE;
                 COMMIT
rating        T2 SELECT flashcard by id (the learner comes from T1); UPDATE flashcard … WHERE id AND due AND
                 last_review IS NOT DISTINCT FROM (the version read); INSERT review_event;
                 SELECT next due card (joins); INSERT conversation_state … ON CONFLICT DO UPDATE; COMMIT

No Python work beyond building parameters: no FSRS (the new due is a fixed interval), no
rendering. asyncpg prepares each statement once per connection (its statement cache), as
SQLAlchemy's asyncpg dialect does on the real path; both are warmed up before measuring.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

_update_ids = itertools.count(1)

OPEN_TURN = """WITH mark AS (INSERT INTO processed_update (platform, update_key, created_at) VALUES ($1, $3, $4)
ON CONFLICT (platform, update_key) DO NOTHING RETURNING 1)
SELECT EXISTS (SELECT 1 FROM mark) AS fresh, l.id, l.display_name, l.timezone, l.reminder_time, l.new_cards_per_day,
l.directions, l.audio_on_cards, l.desired_retention, l.fsrs_parameters, l.created_at, c.learner_id, c.flow, c.data,
c.updated_at FROM (SELECT 1) AS turn LEFT JOIN (learner l JOIN chat_identity i ON i.learner_id = l.id
AND i.platform = $1 AND i.platform_user_id = $2) ON true LEFT JOIN conversation_state c ON c.learner_id = l.id"""
CARD = """SELECT id, learner_id, pair_id, entry_id, direction, state, step, stability, difficulty, due, last_review,
created_at, suspended, queue FROM flashcard WHERE id = $1"""
NEXT_DUE = """SELECT f.id, f.learner_id, f.pair_id, f.entry_id, f.direction, f.state, f.step, f.stability,
f.difficulty, f.due, f.last_review, f.created_at, f.suspended, f.queue, e.term, e.translation, e.context,
p.target, p.native FROM flashcard f JOIN word_bank_entry e ON e.id = f.entry_id
JOIN language_pair p ON p.id = f.pair_id WHERE f.pair_id = $1 AND f.queue = 1 AND f.due <= $2
ORDER BY f.due LIMIT 1"""
NEXT_DUE_FOR_LEARNER = """SELECT f.id, f.learner_id, f.pair_id, f.entry_id, f.direction, f.state, f.step,
f.stability, f.difficulty, f.due, f.last_review, f.created_at, f.suspended, f.queue, e.term, e.translation,
e.context, p.target, p.native FROM flashcard f JOIN word_bank_entry e ON e.id = f.entry_id
JOIN language_pair p ON p.id = f.pair_id
WHERE f.pair_id = (SELECT id FROM language_pair WHERE learner_id = $1 AND is_active LIMIT 1)
AND f.queue = 1 AND f.due <= $2 ORDER BY f.due LIMIT 1"""
UPDATE_CARD = """UPDATE flashcard SET state = $1, step = $2, stability = $3, difficulty = $4, due = $5,
last_review = $6, queue = CASE WHEN suspended THEN -1 ELSE 1 END
WHERE id = $7 AND due = $8 AND last_review IS NOT DISTINCT FROM $9"""
INSERT_EVENT = """INSERT INTO review_event (id, card_id, learner_id, rating, mode, answer_text, state_before,
due_before, due_after, stability_after, difficulty_after, reviewed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"""
SAVE_CONVERSATION = """INSERT INTO conversation_state (learner_id, flow, data, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (learner_id) DO UPDATE SET flow = excluded.flow, data = excluded.data, updated_at = excluded.updated_at"""

RATING_VALUES = {"Again": 1, "Hard": 2, "Good": 3, "Easy": 4}


@dataclass
class FloorLearner:
    platform: str
    platform_user_id: str
    learner_id: uuid.UUID
    pair_id: uuid.UUID | None = None
    card: asyncpg.Record | None = None
    data: dict[str, Any] = field(default_factory=dict)
    seq: int = 0

    @classmethod
    def of(cls, spec: Any) -> FloorLearner:
        return cls(platform=spec.platform, platform_user_id=spec.platform_user_id, learner_id=spec.id)


def _now() -> datetime:
    return datetime.now(UTC)


async def _incoming(conn: asyncpg.Connection, learner: FloorLearner) -> None:
    """Duplicate guard, who is this, which flow are they in: one statement, committed on its own."""
    update_key = f"floor-{next(_update_ids)}"  # the chat path counts its own ids from 1 too
    row = await conn.fetchrow(OPEN_TURN, learner.platform, learner.platform_user_id, update_key, _now())
    assert row is not None and row["fresh"] and row["id"] is not None


def _showing(learner: FloorLearner) -> str:
    """The review session's state with the current card on screen, as JSON."""
    learner.seq += 1
    card = learner.card
    learner.data.update(
        seq=learner.seq,
        card_id=str(card["id"]) if card else None,
        due=card["due"].isoformat() if card else None,
        front=card["term"] if card else None,
        back=card["translation"] if card else None,
        shown=False,
    )
    return json.dumps(learner.data)


async def _save_flow(conn: asyncpg.Connection, learner: FloorLearner) -> None:
    """T2 of /review: the session's state in its own transaction."""
    async with conn.transaction():
        await conn.execute(SAVE_CONVERSATION, learner.learner_id, "review", _showing(learner), _now())


async def floor_start(conn: asyncpg.Connection, learner: FloorLearner) -> None:
    """/review: find the first card and store the session."""
    await _incoming(conn, learner)
    learner.card = await conn.fetchrow(NEXT_DUE_FOR_LEARNER, learner.learner_id, _now())
    assert learner.card is not None
    learner.pair_id = learner.card["pair_id"]
    learner.data = {"reviewed": 0, "correct": 0, "started_at": _now().isoformat()}
    await _save_flow(conn, learner)


async def floor_show(conn: asyncpg.Connection, learner: FloorLearner) -> None:
    """Show answer: reload the card (to preview the intervals) and mark it shown."""
    await _incoming(conn, learner)
    assert learner.card is not None
    async with conn.transaction():
        await conn.fetchrow(CARD, learner.card["id"])
        learner.data.update(shown=True)
        await conn.execute(SAVE_CONVERSATION, learner.learner_id, "review", json.dumps(learner.data), _now())


async def floor_answer(conn: asyncpg.Connection, learner: FloorLearner, rating: str) -> None:
    """A rating: store the schedule and the event, fetch the next card, store the session."""
    await _incoming(conn, learner)
    assert learner.card is not None and learner.pair_id is not None
    now = _now()
    async with conn.transaction():
        card = await conn.fetchrow(CARD, learner.card["id"])
        due = now + timedelta(days=3)
        stability, difficulty = random.uniform(2, 100), random.uniform(3, 8)
        await conn.execute(
            UPDATE_CARD, 2, None, stability, difficulty, due, now, card["id"], card["due"], card["last_review"]
        )
        await conn.execute(
            INSERT_EVENT,
            uuid.uuid4(),
            card["id"],
            learner.learner_id,
            RATING_VALUES[rating],
            "button",
            None,
            card["state"],
            card["due"],
            due,
            stability,
            difficulty,
            now,
        )
        learner.card = await conn.fetchrow(NEXT_DUE, learner.pair_id, now)
        learner.data["reviewed"] = learner.data.get("reviewed", 0) + 1
        await conn.execute(SAVE_CONVERSATION, learner.learner_id, "review", _showing(learner), now)
