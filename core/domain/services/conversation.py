"""Conversation state and duplicate-update protection for the chat layer."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.domain.errors import Conflict
from core.domain.models import ChatIdentity, ConversationState, Learner
from core.domain.ports import Clock, ReviewScheduler, UnitOfWork, UnitOfWorkFactory
from core.domain.services.accounts import new_learner


@dataclass(frozen=True)
class TurnStart:
    """What an incoming event starts from: its learner (None: unknown and not created) and flow state.

    `duplicate` is True for an update already handled (a re-delivery): nothing else is filled in.
    """

    learner: Learner | None = None
    state: ConversationState | None = None
    duplicate: bool = False


DUPLICATE = TurnStart(duplicate=True)


class ConversationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, scheduler: ReviewScheduler) -> None:
        self._uow = uow
        self._clock = clock
        self._scheduler = scheduler  # the new learner's default FSRS parameters (begin_turn)

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

    async def forget_delivery(self, platform: str, update_key: str) -> None:
        """Undo `begin_turn`'s mark: the handling failed, a redelivery should be handled."""
        async with self._uow() as uow:
            await uow.updates.forget(platform, update_key)
            await uow.commit()

    async def begin_turn(
        self, platform: str, platform_user_id: str, display_name: str, update_key: str | None, create: bool
    ) -> TurnStart:
        """Everything an incoming event needs before its handler runs, in one round trip on Postgres.

        Marks `update_key` processed (a duplicate returns DUPLICATE), finds the learner behind the
        identity and loads their flow state: `open_turn` in a read-only unit of work, where the
        mark commits on its own (no BEGIN/COMMIT). A handling that then fails is undone by
        `forget_delivery`, as before. Only a first contact (`create`) needs a transaction more, for
        the learner and their identity; a concurrent first contact makes one of them win (the
        unique identity) and the other reads the winner.
        """
        async with self._uow(read_only=True) as uow:
            opened = await uow.conversations.open_turn(platform, platform_user_id, update_key, self._clock())
        if not opened.fresh:
            return DUPLICATE
        if opened.learner is not None:
            return TurnStart(learner=opened.learner, state=opened.state)
        if not create:
            return TurnStart()
        try:
            return await self._first_contact(platform, platform_user_id, display_name)
        except Conflict:
            return await self._first_contact(platform, platform_user_id, display_name)

    async def _first_contact(self, platform: str, platform_user_id: str, display_name: str) -> TurnStart:
        async with self._uow() as uow:
            learner = await uow.learners.get_by_identity(platform, platform_user_id)
            if learner is not None:  # a concurrent first contact made them meanwhile
                return TurnStart(learner=learner, state=await uow.conversations.get(learner.id))
            learner = await self._create(uow, platform, platform_user_id, display_name)
            await uow.commit()
        return TurnStart(learner=learner, state=ConversationState(learner_id=learner.id, flow=None, data={}))

    async def _create(self, uow: UnitOfWork, platform: str, platform_user_id: str, display_name: str) -> Learner:
        learner = new_learner(display_name, self._scheduler, self._clock)
        await uow.learners.add(learner, ChatIdentity(platform, platform_user_id, learner.id))
        return learner

