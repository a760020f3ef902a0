"""Progress: streak, reviews today, due counts, retention, word count, chart series."""

from __future__ import annotations

from core.domain.models import LearnerStats
from core.domain.ports import Clock, UnitOfWorkFactory


class StatsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def stats(self, learner_id: str) -> LearnerStats:
        """Days counted in the learner's timezone. Streak: consecutive days with a review ending
        today (or yesterday, when nothing was reviewed yet today). due_now: scheduled cards due now;
        due_tomorrow: due by the end of tomorrow. Retention over 30 days: non-Again share of reviews
        of scheduled cards."""
        raise NotImplementedError
