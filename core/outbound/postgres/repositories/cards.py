"""Flashcards: the due queue and FSRS schedules.

The review loop runs `get_due_card`, `save_schedule` and `next_due`/`next_new` once per answer,
so each is a single prepared statement built once at import (no ORM objects, no refresh).
`queue` (-1 suspended, 0 new, 1 scheduled) is kept in step with `state` and `suspended` here, so
the next card of a pair is the first entry of the (pair_id, queue, due) index range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.errors import AlreadyReviewed, Conflict
from core.domain.models import CardDirection, CardState, DueCard, Flashcard
from core.outbound.postgres.entities import (
    QUEUE_NEW,
    QUEUE_SCHEDULED,
    QUEUE_SUSPENDED,
    FlashcardEntity,
    LanguagePairEntity,
    UTCDateTime,
    WordBankEntryEntity,
)
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories._base import (
    ConnectionScope,
    SqlRepository,
    is_unique_violation,
    parse_id,
    table_of,
    to_uuid,
)

_card = table_of(FlashcardEntity)
_entry = table_of(WordBankEntryEntity)
_pair = table_of(LanguagePairEntity)

_INSERT = sa.insert(_card)

# A card with the two sides it shows: flashcard → word_bank_entry → language_pair.
_SELECT_DUE_CARD = sa.select(
    *_card.c, _entry.c.term, _entry.c.translation, _entry.c.context, _pair.c.target, _pair.c.native
).select_from(_card.join(_entry, _entry.c.id == _card.c.entry_id).join(_pair, _pair.c.id == _card.c.pair_id))

_CARD_BY_ID = sa.select(_card).where(_card.c.id == sa.bindparam("card_id"))

_DUE_CARD_BY_ID = _SELECT_DUE_CARD.where(_card.c.id == sa.bindparam("card_id"))

# The next card of a pair in one queue, due by :until (public so the plan test and the benchmark
# EXPLAIN exactly what runs). New cards are due from their creation, so the earliest-due new card
# is the oldest one.
NEXT_CARD_IN_QUEUE = (
    _SELECT_DUE_CARD.where(
        _card.c.pair_id == sa.bindparam("pair_id"),
        _card.c.queue == sa.bindparam("queue", type_=sa.SmallInteger()),
        _card.c.due <= sa.bindparam("until", type_=UTCDateTime()),
    )
    .order_by(_card.c.due)
    .limit(1)
)

# The same, for the learner's active pair found by a scalar subquery: one statement (and one round
# trip) instead of reading the pair first. Postgres runs the subquery once (an InitPlan) and then
# the same index range scan; SQLite evaluates it once too (it is not correlated).
_ACTIVE_PAIR_ID = (
    sa.select(_pair.c.id)
    .where(_pair.c.learner_id == sa.bindparam("learner_id"), _pair.c.is_active.is_(True))
    .limit(1)
    .scalar_subquery()
)
NEXT_CARD_IN_QUEUE_FOR_LEARNER = (
    _SELECT_DUE_CARD.where(
        _card.c.pair_id == _ACTIVE_PAIR_ID,
        _card.c.queue == sa.bindparam("queue", type_=sa.SmallInteger()),
        _card.c.due <= sa.bindparam("until", type_=UTCDateTime()),
    )
    .order_by(_card.c.due)
    .limit(1)
)

_SAVE_SCHEDULE = (
    sa.update(_card)
    .where(_card.c.id == sa.bindparam("card_id"))
    .values(
        state=sa.bindparam("new_state", type_=sa.SmallInteger()),
        step=sa.bindparam("new_step", type_=sa.Integer()),
        stability=sa.bindparam("new_stability", type_=sa.Double()),
        difficulty=sa.bindparam("new_difficulty", type_=sa.Double()),
        due=sa.bindparam("new_due", type_=UTCDateTime()),
        last_review=sa.bindparam("new_last_review", type_=UTCDateTime()),
        queue=sa.case(
            (_card.c.suspended, QUEUE_SUSPENDED), else_=sa.bindparam("active_queue", type_=sa.SmallInteger())
        ),
    )
)

# Optimistic concurrency: the schedule is written only over the version of the card this unit of
# work read (same due and last_review), so two transactions rating one showing can't both win.
# Under READ COMMITTED the second UPDATE waits for the first and re-checks the WHERE on the new row.
_SAVE_SCHEDULE_IF_UNCHANGED = _SAVE_SCHEDULE.where(
    _card.c.due == sa.bindparam("due_before", type_=UTCDateTime()),
    _card.c.last_review.is_not_distinct_from(sa.bindparam("last_review_before", type_=UTCDateTime())),
)

# Later than any real due date: lets next_new share the next_due statement.
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)


class SqlFlashcardRepository(SqlRepository):
    """Cards; `save_schedule` of a card read by this unit of work is conditional on it being unchanged."""

    def __init__(self, session: AsyncSession | ConnectionScope, dialect: str) -> None:
        super().__init__(session, dialect)
        self._read: dict[str, tuple[datetime, datetime | None]] = {}  # card id → (due, last_review) read

    def _remember(self, card: Flashcard) -> Flashcard:
        self._read[card.id] = (card.due, card.last_review)
        return card

    async def add_many(self, cards: Sequence[Flashcard]) -> None:
        """Insert cards with one executemany.

        A second card for an entry and direction → Conflict; on Postgres the failed statement ends
        the transaction, so the caller abandons this unit of work.
        """
        if not cards:
            return
        try:
            await self._execute(_INSERT, [_to_row(card) for card in cards])
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise Conflict("that word already has a card in this direction") from exc

    async def get(self, card_id: str) -> Flashcard | None:
        uid = parse_id(card_id)
        if uid is None:
            return None
        hot = await self._hot()
        if hot is not None:
            row = await hot.fetchrow(hot_sql.CARD_BY_ID, uid)
        else:
            row = (await self._execute(_CARD_BY_ID, {"card_id": uid})).first()
        return None if row is None else self._remember(_to_model(row))

    async def get_due_card(self, card_id: str) -> DueCard | None:
        uid = parse_id(card_id)
        if uid is None:
            return None
        row = (await self._execute(_DUE_CARD_BY_ID, {"card_id": uid})).first()
        if row is None:
            return None
        due = _to_due_card(row)
        self._remember(due.card)
        return due

    async def next_due(self, pair_id: str, now: datetime) -> DueCard | None:
        return await self._next_in_queue(pair_id, QUEUE_SCHEDULED, now)

    async def next_new(self, pair_id: str) -> DueCard | None:
        return await self._next_in_queue(pair_id, QUEUE_NEW, _END_OF_TIME)

    async def next_due_for_learner(self, learner_id: str, now: datetime) -> DueCard | None:
        return await self._next_for_learner(learner_id, QUEUE_SCHEDULED, now)

    async def next_new_for_learner(self, learner_id: str) -> DueCard | None:
        return await self._next_for_learner(learner_id, QUEUE_NEW, _END_OF_TIME)

    async def save_schedule(self, card: Flashcard) -> None:
        """Store the schedule; AlreadyReviewed when the card changed since this unit of work read it."""
        uid = parse_id(card.id)
        if uid is None:
            return
        params: dict[str, Any] = {
            "card_id": uid,
            "new_state": int(card.state),
            "new_step": card.step,
            "new_stability": card.stability,
            "new_difficulty": card.difficulty,
            "new_due": card.due,
            "new_last_review": card.last_review,
            "active_queue": QUEUE_NEW if card.state == CardState.NEW else QUEUE_SCHEDULED,
        }
        read = self._read.get(card.id)
        if read is None:
            await self._execute(_SAVE_SCHEDULE, params)
            return
        if await self._save_if_unchanged(params, *read) != 1:
            raise AlreadyReviewed()
        self._remember(card)

    async def _save_if_unchanged(
        self, params: dict[str, Any], due_before: datetime, last_review_before: datetime | None
    ) -> int:
        """The conditional UPDATE; returns how many rows it changed (0 or 1)."""
        hot = await self._hot()
        if hot is None:
            params.update(due_before=due_before, last_review_before=last_review_before)
            return (await self._execute(_SAVE_SCHEDULE_IF_UNCHANGED, params)).rowcount
        utc = hot_sql.utc
        return await hot.execute(
            hot_sql.SAVE_SCHEDULE_IF_UNCHANGED,
            params["new_state"],
            params["new_step"],
            params["new_stability"],
            params["new_difficulty"],
            utc(params["new_due"]),
            utc(params["new_last_review"]),
            QUEUE_SUSPENDED,
            params["active_queue"],
            params["card_id"],
            utc(due_before),
            utc(last_review_before),
        )

    async def count_due(self, learner_id: str, until: datetime) -> int:
        uid = parse_id(learner_id)
        if uid is None:
            return 0
        statement = (
            sa.select(sa.func.count())
            .select_from(_card)
            .where(_card.c.learner_id == uid, _card.c.queue == QUEUE_SCHEDULED, _card.c.due <= until)
        )
        return int((await self._execute(statement)).scalar_one())

    async def due_dates_between(self, learner_id: str, start: datetime, end: datetime) -> list[datetime]:
        """Due dates of scheduled cards with start <= due < end, earliest first."""
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = (
            sa.select(_card.c.due)
            .where(
                _card.c.learner_id == uid,
                _card.c.queue == QUEUE_SCHEDULED,
                _card.c.due >= start,
                _card.c.due < end,
            )
            .order_by(_card.c.due)
        )
        return list((await self._execute(statement)).scalars())

    async def entry_ids_with_cards(self, pair_id: str, direction: str) -> set[str]:
        uid = parse_id(pair_id)
        if uid is None:
            return set()
        statement = sa.select(_card.c.entry_id).where(_card.c.pair_id == uid, _card.c.direction == str(direction))
        return {str(entry_id) for entry_id in (await self._execute(statement)).scalars()}

    async def set_direction_suspended(self, learner_id: str, direction: str, suspended: bool) -> None:
        """Suspended cards keep their schedule and history; resuming puts them back in their queue."""
        uid = parse_id(learner_id)
        if uid is None:
            return
        queue: Any = (
            QUEUE_SUSPENDED
            if suspended
            else sa.case((_card.c.state == int(CardState.NEW), QUEUE_NEW), else_=QUEUE_SCHEDULED)
        )
        await self._execute(
            sa.update(_card)
            .where(_card.c.learner_id == uid, _card.c.direction == str(direction))
            .values(suspended=suspended, queue=queue)
        )

    async def list_for_learner(self, learner_id: str) -> list[Flashcard]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = sa.select(_card).where(_card.c.learner_id == uid).order_by(_card.c.created_at, _card.c.id)
        return [_to_model(row) for row in await self._execute(statement)]

    async def _next_in_queue(self, pair_id: str, queue: int, until: datetime) -> DueCard | None:
        uid = parse_id(pair_id)
        if uid is None:
            return None
        hot = await self._hot()
        if hot is not None:
            row = await hot.fetchrow(hot_sql.NEXT_CARD_IN_QUEUE, uid, queue, hot_sql.utc(until), 1)
        else:
            row = (await self._execute(NEXT_CARD_IN_QUEUE, {"pair_id": uid, "queue": queue, "until": until})).first()
        return None if row is None else _to_due_card(row)

    async def _next_for_learner(self, learner_id: str, queue: int, until: datetime) -> DueCard | None:
        uid = parse_id(learner_id)
        if uid is None:
            return None
        params = {"learner_id": uid, "queue": queue, "until": until}
        row = (await self._execute(NEXT_CARD_IN_QUEUE_FOR_LEARNER, params)).first()
        return None if row is None else _to_due_card(row)


def queue_of(card: Flashcard) -> int:
    """The queue a card waits in: suspended, new (never reviewed) or scheduled."""
    if card.suspended:
        return QUEUE_SUSPENDED
    return QUEUE_NEW if card.state == CardState.NEW else QUEUE_SCHEDULED


def _to_row(card: Flashcard) -> dict[str, Any]:
    return {
        "id": to_uuid(card.id),
        "learner_id": to_uuid(card.learner_id),
        "pair_id": to_uuid(card.pair_id),
        "entry_id": to_uuid(card.entry_id),
        "direction": str(card.direction),
        "state": int(card.state),
        "step": card.step,
        "stability": card.stability,
        "difficulty": card.difficulty,
        "due": card.due,
        "last_review": card.last_review,
        "created_at": card.created_at,
        "suspended": card.suspended,
        "queue": queue_of(card),
    }


def _to_model(row: Sequence[Any]) -> Flashcard:
    """From a flashcard row (an sa.Row or an asyncpg Record: the table's columns first, in order)."""
    (
        card_id,
        learner_id,
        pair_id,
        entry_id,
        direction,
        state,
        step,
        stability,
        difficulty,
        due,
        last_review,
        created_at,
        suspended,
    ) = row[:13]
    return Flashcard(
        id=str(card_id),
        learner_id=str(learner_id),
        pair_id=str(pair_id),
        entry_id=str(entry_id),
        direction=CardDirection(direction),
        state=CardState(state),
        step=step,
        stability=stability,
        difficulty=difficulty,
        due=due,
        last_review=last_review,
        created_at=created_at,
        suspended=suspended,
    )


def _to_due_card(row: Sequence[Any]) -> DueCard:
    """From a `_SELECT_DUE_CARD` row: the flashcard columns (14), then term … native."""
    card = _to_model(row)
    term, translation, context, target, native = row[14:19]
    translation = translation or ""  # entries get cards only once translated
    if card.direction == CardDirection.PRODUCTION:
        front, back, answer_language = translation, term, target
    else:
        front, back, answer_language = term, translation, native
    return DueCard(
        card=card, front=front, back=back, target_language=target, answer_language=answer_language, context=context
    )
