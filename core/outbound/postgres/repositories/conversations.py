"""Where each learner is in a chat flow, so a restart resumes a review session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.domain.models import ConversationState
from core.outbound.postgres.entities import ConversationStateEntity
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_state = table_of(ConversationStateEntity)


class SqlConversationRepository(SqlRepository):
    async def get(self, learner_id: str) -> ConversationState:
        """The stored state, or an empty one (no flow) when nothing was saved."""
        uid = parse_id(learner_id)
        row = None
        if uid is not None:
            row = (await self._execute(sa.select(_state).where(_state.c.learner_id == uid))).first()
        return ConversationState(learner_id, None, {}) if row is None else _to_model(row)

    async def save(self, state: ConversationState) -> None:
        """Upsert in one statement (INSERT … ON CONFLICT (learner_id) DO UPDATE)."""
        values = {
            "learner_id": to_uuid(state.learner_id),
            "flow": state.flow,
            "data": state.data,
            "updated_at": state.updated_at or datetime.now(UTC),
        }
        insert = self._dialect_insert(_state)
        statement = insert.on_conflict_do_update(
            index_elements=[_state.c.learner_id],
            set_={"flow": insert.excluded.flow, "data": insert.excluded.data, "updated_at": insert.excluded.updated_at},
        )
        await self._execute(statement, values)


def _to_model(row: sa.Row[Any]) -> ConversationState:
    return ConversationState(
        learner_id=str(row.learner_id), flow=row.flow, data=dict(row.data or {}), updated_at=row.updated_at
    )
