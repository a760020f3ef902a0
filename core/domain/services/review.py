"""Reviews: the due queue, FSRS scheduling and typed/spoken answer grading."""

from __future__ import annotations

from datetime import timedelta

from core.domain.models import DueCard, Grade, Rating, ReviewMode, ReviewOutcome
from core.domain.ports import Clock, ReviewScheduler, UnitOfWorkFactory


class ReviewService:
    def __init__(self, uow: UnitOfWorkFactory, scheduler: ReviewScheduler, clock: Clock) -> None:
        self._uow = uow
        self._scheduler = scheduler
        self._clock = clock

    async def next_card(self, learner_id: str) -> DueCard | None:
        """Due cards of the active pair first (earliest due), then new cards while fewer than the
        learner's new-cards-per-day were introduced since local midnight (learner timezone)."""
        raise NotImplementedError

    async def preview_intervals(self, learner_id: str, card_id: str) -> dict[Rating, timedelta]:
        """The interval each rating would give now (no change stored). NotFound."""
        raise NotImplementedError

    async def review(
        self, learner_id: str, card_id: str, rating: Rating, mode: ReviewMode, answer_text: str | None = None
    ) -> tuple[ReviewOutcome, DueCard | None]:
        """Rate the card (must be the learner's: NotFound otherwise), store the new schedule and a
        ReviewEvent, and return the outcome with the next card — all in one transaction."""
        raise NotImplementedError

    async def answer(
        self, learner_id: str, card_id: str, answer_text: str, mode: ReviewMode
    ) -> tuple[Grade, ReviewOutcome, DueCard | None]:
        """Grade a typed or spoken answer against the card's back, then `review` with that rating."""
        raise NotImplementedError
