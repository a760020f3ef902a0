"""Review events: one row per answer, the source of stats and (later) FSRS optimisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.domain.models import CardState, Rating, ReviewEvent, ReviewMode
from core.outbound.postgres.entities import ReviewEventEntity
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_event = table_of(ReviewEventEntity)
_INSERT = sa.insert(_event)


class SqlReviewRepository(SqlRepository):
    async def add(self, event: ReviewEvent) -> None:
        hot = await self._hot()
        if hot is not None:
            await hot.execute(hot_sql.INSERT_REVIEW_EVENT, *_hot_args(event))
            return
        await self._execute(_INSERT, _to_row(event))

    async def count_since(self, learner_id: str, since: datetime) -> int:
        return await self._count(learner_id, since)

    async def count_new_since(self, learner_id: str, since: datetime) -> int:
        """First reviews only (the card was new before the answer): the daily new-card count."""
        return await self._count(learner_id, since, _event.c.state_before == int(CardState.NEW))

    async def reviewed_at_since(self, learner_id: str, since: datetime) -> list[datetime]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = (
            sa.select(_event.c.reviewed_at)
            .where(_event.c.learner_id == uid, _event.c.reviewed_at >= since)
            .order_by(_event.c.reviewed_at)
        )
        return list((await self._execute(statement)).scalars())

    async def retention_since(self, learner_id: str, since: datetime) -> tuple[int, int]:
        """(reviews of cards that were not new, of which rated above Again) since `since`."""
        uid = parse_id(learner_id)
        if uid is None:
            return 0, 0
        recalled = sa.func.coalesce(sa.func.sum(sa.case((_event.c.rating > int(Rating.AGAIN), 1), else_=0)), 0)
        statement = sa.select(sa.func.count(), recalled).where(
            _event.c.learner_id == uid,
            _event.c.reviewed_at >= since,
            _event.c.state_before != int(CardState.NEW),
        )
        row = (await self._execute(statement)).one()
        return int(row[0]), int(row[1])

    async def list_for_learner(self, learner_id: str) -> list[ReviewEvent]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = sa.select(_event).where(_event.c.learner_id == uid).order_by(_event.c.reviewed_at, _event.c.id)
        return [_to_model(row) for row in await self._execute(statement)]

    async def _count(self, learner_id: str, since: datetime, *conditions: sa.ColumnElement[bool]) -> int:
        uid = parse_id(learner_id)
        if uid is None:
            return 0
        statement = (
            sa.select(sa.func.count())
            .select_from(_event)
            .where(_event.c.learner_id == uid, _event.c.reviewed_at >= since, *conditions)
        )
        return int((await self._execute(statement)).scalar_one())


def _to_row(event: ReviewEvent) -> dict[str, Any]:
    return {
        "id": to_uuid(event.id),
        "card_id": parse_id(event.card_id),
        "learner_id": to_uuid(event.learner_id),
        "rating": int(event.rating),
        "mode": str(event.mode),
        "answer_text": event.answer_text,
        "state_before": int(event.state_before),
        "due_before": event.due_before,
        "due_after": event.due_after,
        "stability_after": event.stability_after,
        "difficulty_after": event.difficulty_after,
        "reviewed_at": event.reviewed_at,
    }


def _hot_args(event: ReviewEvent) -> tuple[Any, ...]:
    """`_to_row`'s values in INSERT_REVIEW_EVENT's order, times bound as UTC."""
    return (
        to_uuid(event.id),
        parse_id(event.card_id),
        to_uuid(event.learner_id),
        int(event.rating),
        str(event.mode),
        event.answer_text,
        int(event.state_before),
        hot_sql.utc(event.due_before),
        hot_sql.utc(event.due_after),
        event.stability_after,
        event.difficulty_after,
        hot_sql.utc(event.reviewed_at),
    )


def _to_model(row: sa.Row[Any]) -> ReviewEvent:
    return ReviewEvent(
        id=str(row.id),
        # The card of a removed word is gone; its events stay with card_id NULL (read as "").
        card_id="" if row.card_id is None else str(row.card_id),
        learner_id=str(row.learner_id),
        rating=Rating(row.rating),
        mode=ReviewMode(row.mode),
        answer_text=row.answer_text,
        state_before=CardState(row.state_before),
        due_before=row.due_before,
        due_after=row.due_after,
        stability_after=row.stability_after,
        difficulty_after=row.difficulty_after,
        reviewed_at=row.reviewed_at,
    )
