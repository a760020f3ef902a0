"""Learners and the chat identities that reach them."""

from __future__ import annotations

from core.domain.models import Learner
from core.domain.ports import Clock, ReviewScheduler, UnitOfWorkFactory


class AccountService:
    def __init__(self, uow: UnitOfWorkFactory, scheduler: ReviewScheduler, clock: Clock) -> None:
        self._uow = uow
        self._scheduler = scheduler
        self._clock = clock

    async def ensure_learner(self, platform: str, platform_user_id: str, display_name: str) -> tuple[Learner, bool]:
        """The learner behind this identity, created on first contact; True when just created.

        Defaults: LearnerSettings(), desired_retention 0.9, the scheduler's default parameters.
        Safe under concurrent first messages (a unique (platform, user id) wins; the loser re-reads).
        """
        raise NotImplementedError

    async def get_learner(self, learner_id: str) -> Learner:
        """Raises NotFound."""
        raise NotImplementedError
