"""Learners and their chat identities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from core.domain.errors import Conflict
from core.domain.models import ChatIdentity, Learner, LearnerSettings
from core.outbound.postgres.entities import ChatIdentityEntity, LearnerEntity
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_learner = table_of(LearnerEntity)
_identity = table_of(ChatIdentityEntity)

# Every incoming event and every review reads a learner: built once, bound per call.
_BY_ID = sa.select(_learner).where(_learner.c.id == sa.bindparam("learner_id"))
BY_IDENTITY = (
    sa.select(_learner)
    .join(_identity, _identity.c.learner_id == _learner.c.id)
    .where(
        _identity.c.platform == sa.bindparam("platform"),
        _identity.c.platform_user_id == sa.bindparam("platform_user_id"),
    )
)


class SqlLearnerRepository(SqlRepository):
    async def get(self, learner_id: str) -> Learner | None:
        uid = parse_id(learner_id)
        if uid is None:
            return None
        row = (await self._execute(_BY_ID, {"learner_id": uid})).first()
        return None if row is None else learner_from_row(row)

    async def get_by_identity(self, platform: str, platform_user_id: str) -> Learner | None:
        hot = await self._hot()
        if hot is not None:
            row = await hot.fetchrow(hot_sql.LEARNER_BY_IDENTITY, platform, platform_user_id)
        else:
            params = {"platform": platform, "platform_user_id": platform_user_id}
            row = (await self._execute(BY_IDENTITY, params)).first()
        return None if row is None else learner_from_row(row)

    async def add(self, learner: Learner, identity: ChatIdentity) -> None:
        """Insert both; Conflict when the identity already exists (a concurrent first message won).

        The identity insert skips conflicts instead of failing, so the transaction stays usable
        on Postgres and the half-made learner is removed before raising.
        """
        await self._execute(sa.insert(_learner), _learner_row(learner))
        inserted = await self._execute(
            self._insert_ignoring_conflicts(_identity, ["platform", "platform_user_id"]), _identity_row(identity)
        )
        if inserted.rowcount == 0:
            await self._execute(sa.delete(_learner).where(_learner.c.id == to_uuid(learner.id)))
            raise Conflict(f"{identity.platform} user {identity.platform_user_id} already has a learner")

    async def link_identity(self, identity: ChatIdentity) -> None:
        """Link another identity; a no-op when already linked here, Conflict when linked elsewhere."""
        inserted = await self._execute(
            self._insert_ignoring_conflicts(_identity, ["platform", "platform_user_id"]), _identity_row(identity)
        )
        if inserted.rowcount:
            return
        owner = await self._execute(
            sa.select(_identity.c.learner_id).where(
                _identity.c.platform == identity.platform,
                _identity.c.platform_user_id == identity.platform_user_id,
            )
        )
        if owner.scalar_one() != to_uuid(identity.learner_id):
            raise Conflict(f"{identity.platform} user {identity.platform_user_id} belongs to another learner")

    async def list_identities(self, learner_id: str) -> list[ChatIdentity]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = (
            sa.select(_identity)
            .where(_identity.c.learner_id == uid)
            .order_by(_identity.c.platform, _identity.c.platform_user_id)
        )
        return [_identitylearner_from_row(row) for row in await self._execute(statement)]

    async def update_settings(self, learner_id: str, settings: LearnerSettings) -> None:
        uid = parse_id(learner_id)
        if uid is None:
            return
        await self._execute(sa.update(_learner).where(_learner.c.id == uid).values(**_settings_row(settings)))

    async def delete(self, learner_id: str) -> None:
        """Every table references the learner with ON DELETE CASCADE, so one statement does it."""
        uid = parse_id(learner_id)
        if uid is None:
            return
        await self._execute(sa.delete(_learner).where(_learner.c.id == uid))


def _settings_row(settings: LearnerSettings) -> dict[str, Any]:
    return {
        "timezone": settings.timezone,
        "reminder_time": settings.reminder_time,
        "new_cards_per_day": settings.new_cards_per_day,
        "directions": settings.directions,
        "audio_on_cards": settings.audio_on_cards,
    }


def _learner_row(learner: Learner) -> dict[str, Any]:
    return {
        "id": to_uuid(learner.id),
        "display_name": learner.display_name,
        "desired_retention": learner.desired_retention,
        "fsrs_parameters": list(learner.fsrs_parameters),
        "created_at": learner.created_at,
        **_settings_row(learner.settings),
    }


def _identity_row(identity: ChatIdentity) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "platform": identity.platform,
        "platform_user_id": identity.platform_user_id,
        "learner_id": to_uuid(identity.learner_id),
    }


def learner_from_row(row: Sequence[Any]) -> Learner:
    """From a learner row (an sa.Row or an asyncpg Record: columns in table order)."""
    (
        learner_id,
        display_name,
        timezone,
        reminder_time,
        new_cards_per_day,
        directions,
        audio_on_cards,
        desired_retention,
        fsrs_parameters,
        created_at,
    ) = row[:10]
    return Learner(
        id=str(learner_id),
        display_name=display_name,
        settings=LearnerSettings(
            timezone=timezone,
            reminder_time=reminder_time,
            new_cards_per_day=new_cards_per_day,
            directions=directions,
            audio_on_cards=audio_on_cards,
        ),
        desired_retention=desired_retention,
        fsrs_parameters=tuple(map(float, fsrs_parameters)),
        created_at=created_at,
    )


def _identitylearner_from_row(row: sa.Row[Any]) -> ChatIdentity:
    return ChatIdentity(platform=row.platform, platform_user_id=row.platform_user_id, learner_id=str(row.learner_id))
