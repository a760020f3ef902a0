"""Where each learner is in a chat flow, so a restart resumes a review session."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.domain.models import ConversationState, OpenedTurn
from core.outbound.postgres.entities import ConversationStateEntity
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories._base import SqlRepository, dialect_insert, parse_id, table_of, to_uuid
from core.outbound.postgres.repositories.learners import BY_IDENTITY, learner_from_row
from core.outbound.postgres.repositories.updates import mark_statement

_state = table_of(ConversationStateEntity)

# Read and written on every chat event: built once (the upsert once per dialect), bound per call.
_GET = sa.select(_state).where(_state.c.learner_id == sa.bindparam("learner_id"))


@functools.cache
def _upsert(dialect: str) -> sa.Insert:
    insert = dialect_insert(_state, dialect)
    return insert.on_conflict_do_update(
        index_elements=[_state.c.learner_id],
        set_={"flow": insert.excluded.flow, "data": insert.excluded.data, "updated_at": insert.excluded.updated_at},
    )


class SqlConversationRepository(SqlRepository):
    async def get(self, learner_id: str) -> ConversationState:
        """The stored state, or an empty one (no flow) when nothing was saved."""
        uid = parse_id(learner_id)
        row = None
        if uid is not None:
            hot = await self._hot()
            if hot is not None:
                row = await hot.fetchrow(hot_sql.CONVERSATION, uid)
            else:
                row = (await self._execute(_GET, {"learner_id": uid})).first()
        return ConversationState(learner_id, None, {}) if row is None else _to_model(row)

    async def open_turn(
        self, platform: str, platform_user_id: str, update_key: str | None, now: datetime
    ) -> OpenedTurn:
        """The mark, the learner and their state: one statement on Postgres, three in turn elsewhere."""
        hot = await self._hot()
        if hot is not None:
            row = await hot.fetchrow(hot_sql.OPEN_TURN, platform, platform_user_id, update_key, hot_sql.utc(now))
            values = tuple(row)
            if not values[0]:
                return OpenedTurn(fresh=False)
            if values[1] is None:
                return OpenedTurn(fresh=True)
            learner = learner_from_row(values[1:11])
            state = ConversationState(learner.id, None, {}) if values[11] is None else _to_model(values[11:15])
            return OpenedTurn(fresh=True, learner=learner, state=state)
        if update_key is not None:
            marked = await self._execute(
                mark_statement(self._dialect), {"platform": platform, "update_key": update_key, "created_at": now}
            )
            if marked.rowcount != 1:
                return OpenedTurn(fresh=False)
        params = {"platform": platform, "platform_user_id": platform_user_id}
        found = (await self._execute(BY_IDENTITY, params)).first()
        if found is None:
            return OpenedTurn(fresh=True)
        learner = learner_from_row(found)
        return OpenedTurn(fresh=True, learner=learner, state=await self.get(learner.id))

    async def save(self, state: ConversationState) -> None:
        """Upsert in one statement (INSERT … ON CONFLICT (learner_id) DO UPDATE)."""
        uid, updated_at = to_uuid(state.learner_id), state.updated_at or datetime.now(UTC)
        hot = await self._hot()
        if hot is not None:
            args = (uid, state.flow, hot_sql.to_json(state.data), hot_sql.utc(updated_at))
            await hot.execute(hot_sql.SAVE_CONVERSATION, *args)
            return
        values = {"learner_id": uid, "flow": state.flow, "data": state.data, "updated_at": updated_at}
        await self._execute(_upsert(self._dialect), values)


def _to_model(row: Sequence[Any]) -> ConversationState:
    """From a conversation_state row (an sa.Row or an asyncpg Record: columns in table order)."""
    learner_id, flow, data, updated_at = row[:4]
    return ConversationState(learner_id=str(learner_id), flow=flow, data=dict(data or {}), updated_at=updated_at)
