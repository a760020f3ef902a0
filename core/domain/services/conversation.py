"""Conversation state and duplicate-update protection for the chat layer."""

from __future__ import annotations

import dataclasses

from core.domain.models import ConversationState
from core.domain.ports import Clock, UnitOfWorkFactory


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def load(self, learner_id: str) -> ConversationState:
        """The learner's flow state; `flow` None when they are in no flow."""
        async with self._uow() as uow:
            return await uow.conversations.get(learner_id)

    async def save(self, state: ConversationState) -> None:
        """Store the state, stamped with the current time."""
        async with self._uow() as uow:
            await uow.conversations.save(dataclasses.replace(state, updated_at=self._clock()))
            await uow.commit()

    async def clear(self, learner_id: str) -> None:
        await self.save(ConversationState(learner_id=learner_id, flow=None, data={}))

    async def first_delivery(self, platform: str, update_key: str) -> bool:
        """True the first time an update is seen; False for a duplicate delivery."""
        async with self._uow() as uow:
            first = await uow.updates.mark_processed(platform, update_key)
            await uow.commit()
            return first
