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
        """Everything an incoming event needs before its handler runs, in ONE transaction.

        Marks `update_key` processed (a duplicate returns DUPLICATE), finds the learner behind the
        identity (creating them with the defaults of AccountService.ensure_learner when `create`),
        and loads their flow state. One commit at most (only when something was written): this
        replaces marking, find/ensure_learner and load in three units of work per event.

        Concurrent first contacts: the unique identity makes one transaction win; the loser's whole
        transaction (update mark included) rolls back and is run once more, finding the winner.
        """
        try:
            return await self._begin_turn(platform, platform_user_id, display_name, update_key, create)
        except Conflict:
            return await self._begin_turn(platform, platform_user_id, display_name, update_key, create)

    async def _begin_turn(
        self, platform: str, platform_user_id: str, display_name: str, update_key: str | None, create: bool
    ) -> TurnStart:
        async with self._uow() as uow:
            if update_key is not None and not await uow.updates.mark_processed(platform, update_key):
                return DUPLICATE
            learner = await uow.learners.get_by_identity(platform, platform_user_id)
            created = learner is None and create
            if learner is None:
                if not create:
                    await _commit_if(uow, update_key is not None)
                    return TurnStart()
                learner = await self._create(uow, platform, platform_user_id, display_name)
                state = ConversationState(learner_id=learner.id, flow=None, data={})
            else:
                state = await uow.conversations.get(learner.id)
            await _commit_if(uow, update_key is not None or created)
            return TurnStart(learner=learner, state=state)

    async def _create(self, uow: UnitOfWork, platform: str, platform_user_id: str, display_name: str) -> Learner:
        learner = new_learner(display_name, self._scheduler, self._clock)
        await uow.learners.add(learner, ChatIdentity(platform, platform_user_id, learner.id))
        return learner


async def _commit_if(uow: UnitOfWork, wrote: bool) -> None:
    """Commit only what was written: a read-only turn start ends with a rollback (no fdatasync)."""
    if wrote:
        await uow.commit()
