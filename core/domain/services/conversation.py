"""Conversation state and duplicate-update protection for the chat layer."""

from __future__ import annotations

from core.domain.models import ConversationState
from core.domain.ports import Clock, UnitOfWorkFactory


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def load(self, learner_id: str) -> ConversationState:
        raise NotImplementedError

    async def save(self, state: ConversationState) -> None:
        raise NotImplementedError

    async def clear(self, learner_id: str) -> None:
        raise NotImplementedError

    async def first_delivery(self, platform: str, update_key: str) -> bool:
        """True the first time an update is seen; False for a duplicate delivery."""
        raise NotImplementedError
