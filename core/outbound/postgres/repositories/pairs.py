"""Language pairs of a learner (several, exactly one active once they have any)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.domain.errors import Conflict
from core.domain.models import LanguagePair
from core.outbound.postgres.entities import LanguagePairEntity
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_pair = table_of(LanguagePairEntity)


class SqlLanguagePairRepository(SqlRepository):
    async def add(self, pair: LanguagePair) -> None:
        """The learner already has a pair for these languages → Conflict (the transaction stays usable)."""
        row = {
            "id": to_uuid(pair.id),
            "learner_id": to_uuid(pair.learner_id),
            "target": pair.target,
            "native": pair.native,
            "level": pair.level,
            "is_active": pair.is_active,
            "created_at": pair.created_at,
        }
        inserted = await self._execute(self._insert_ignoring_conflicts(_pair, ["learner_id", "target", "native"]), row)
        if inserted.rowcount == 0:
            raise Conflict(f"there is already a {pair.target}→{pair.native} pair")

    async def get(self, pair_id: str) -> LanguagePair | None:
        uid = parse_id(pair_id)
        if uid is None:
            return None
        return await self._first(sa.select(_pair).where(_pair.c.id == uid))

    async def find(self, learner_id: str, target: str, native: str) -> LanguagePair | None:
        uid = parse_id(learner_id)
        if uid is None:
            return None
        return await self._first(
            sa.select(_pair).where(_pair.c.learner_id == uid, _pair.c.target == target, _pair.c.native == native)
        )

    async def list_for_learner(self, learner_id: str) -> list[LanguagePair]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = sa.select(_pair).where(_pair.c.learner_id == uid).order_by(_pair.c.created_at, _pair.c.id)
        return [_to_model(row) for row in await self._execute(statement)]

    async def get_active(self, learner_id: str) -> LanguagePair | None:
        uid = parse_id(learner_id)
        if uid is None:
            return None
        return await self._first(sa.select(_pair).where(_pair.c.learner_id == uid, _pair.c.is_active.is_(True)))

    async def set_active(self, learner_id: str, pair_id: str) -> None:
        """One UPDATE flips every pair of the learner, so there is never a moment with two active."""
        learner_uid, pair_uid = parse_id(learner_id), parse_id(pair_id)
        if learner_uid is None or pair_uid is None:
            return
        await self._execute(
            sa.update(_pair).where(_pair.c.learner_id == learner_uid).values(is_active=_pair.c.id == pair_uid)
        )

    async def update_level(self, pair_id: str, level: str) -> None:
        uid = parse_id(pair_id)
        if uid is None:
            return
        await self._execute(sa.update(_pair).where(_pair.c.id == uid).values(level=level))

    async def targets_in_use(self) -> list[str]:
        statement = sa.select(_pair.c.target).distinct().order_by(_pair.c.target)
        return [str(target) for target in (await self._execute(statement)).scalars()]

    async def _first(self, statement: sa.Select[Any]) -> LanguagePair | None:
        row = (await self._execute(statement)).first()
        return None if row is None else _to_model(row)


def _to_model(row: sa.Row[Any]) -> LanguagePair:
    return LanguagePair(
        id=str(row.id),
        learner_id=str(row.learner_id),
        target=row.target,
        native=row.native,
        level=row.level,
        is_active=row.is_active,
        created_at=row.created_at,
    )
