"""Learners and the chat identities that reach them."""

from __future__ import annotations

from core.domain.errors import Conflict
from core.domain.models import ChatIdentity, Learner, LearnerSettings
from core.domain.ports import Clock, ReviewScheduler, UnitOfWorkFactory
from core.domain.services._rules import load_learner, new_id

DEFAULT_DESIRED_RETENTION = 0.9
MAX_DISPLAY_NAME_CHARS = 100


class AccountService:
    def __init__(self, uow: UnitOfWorkFactory, scheduler: ReviewScheduler, clock: Clock) -> None:
        self._uow = uow
        self._scheduler = scheduler
        self._clock = clock

    async def ensure_learner(self, platform: str, platform_user_id: str, display_name: str) -> tuple[Learner, bool]:
        """The learner behind this identity, created on first contact; True when just created.

        Defaults: LearnerSettings(), desired_retention 0.9, the scheduler's default parameters.
        Safe under concurrent first messages (a unique (platform, user id) wins; the loser re-reads).
        The repository signals the lost race as Conflict, from `add` or from `commit`.
        """
        existing = await self.find_learner(platform, platform_user_id)
        if existing is not None:
            return existing, False
        learner = new_learner(display_name, self._scheduler, self._clock)
        try:
            async with self._uow() as uow:
                await uow.learners.add(learner, ChatIdentity(platform, platform_user_id, learner.id))
                await uow.commit()
        except Conflict:
            winner = await self.find_learner(platform, platform_user_id)
            if winner is None:
                raise
            return winner, False
        return learner, True

    async def find_learner(self, platform: str, platform_user_id: str) -> Learner | None:
        """The learner behind this identity, or None before their first contact."""
        async with self._uow() as uow:
            return await uow.learners.get_by_identity(platform, platform_user_id)

    async def get_learner(self, learner_id: str) -> Learner:
        """Raises NotFound."""
        async with self._uow() as uow:
            return await load_learner(uow, learner_id)


def new_learner(display_name: str, scheduler: ReviewScheduler, clock: Clock) -> Learner:
    """A learner on first contact, with the defaults (shared with ConversationService.begin_turn)."""
    return Learner(
        id=new_id(),
        display_name=display_name.strip()[:MAX_DISPLAY_NAME_CHARS],
        settings=LearnerSettings(),
        desired_retention=DEFAULT_DESIRED_RETENTION,
        fsrs_parameters=scheduler.default_parameters(),
        created_at=clock(),
    )
