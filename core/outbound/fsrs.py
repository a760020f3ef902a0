"""FSRS scheduling with the `fsrs` package (v6), behind the `ReviewScheduler` port.

Our `Flashcard` keeps the FSRS fields in its own columns; this module maps them to and from
`fsrs.Card`. A card that was never reviewed is `CardState.NEW` on our side and, for FSRS, a
Learning card at step 0 with no stability, difficulty or last review — which is exactly what
`fsrs.Card()` starts as. After its first review the state is whatever FSRS says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from fsrs import Card, Scheduler, State
from fsrs import Rating as FsrsRating
from fsrs.scheduler import DEFAULT_PARAMETERS

from core.domain.errors import InvalidInput
from core.domain.models import CardState, Flashcard, Rating

_MAX_CACHED_SCHEDULERS = 256
_FSRS_CARD_ID = 1  # fsrs wants an int id; ours is a UUID string and FSRS never reads it


def _utc(moment: datetime) -> datetime:
    """The same instant with `tzinfo=UTC`: fsrs rejects any other zone object, storage may differ."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_fsrs_card(card: Flashcard) -> Card:
    """Our card as an `fsrs.Card` (a NEW card is a fresh Learning card at step 0)."""
    if card.state is CardState.NEW:
        return Card(card_id=_FSRS_CARD_ID, state=State.Learning, step=0, due=_utc(card.due))
    return Card(
        card_id=_FSRS_CARD_ID,
        state=State(int(card.state)),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=_utc(card.due),
        last_review=_utc(card.last_review) if card.last_review is not None else None,
    )


def from_fsrs_card(card: Flashcard, scheduled: Card) -> Flashcard:
    """A copy of `card` carrying the schedule FSRS computed."""
    return dataclasses.replace(
        card,
        state=CardState(int(scheduled.state)),
        step=scheduled.step,
        stability=scheduled.stability,
        difficulty=scheduled.difficulty,
        due=scheduled.due,
        last_review=scheduled.last_review,
    )


class FsrsScheduler:
    """`ReviewScheduler` on py-fsrs; one `fsrs.Scheduler` per (parameters, retention, fuzz) is reused."""

    def __init__(self, *, enable_fuzzing: bool = True) -> None:
        self._enable_fuzzing = enable_fuzzing
        self._schedulers: dict[tuple[tuple[float, ...], float, bool], Scheduler] = {}

    def default_parameters(self) -> tuple[float, ...]:
        return tuple(DEFAULT_PARAMETERS)

    def review(
        self, card: Flashcard, rating: Rating, now: datetime, parameters: Sequence[float], desired_retention: float
    ) -> Flashcard:
        scheduler = self._scheduler(parameters, desired_retention, self._enable_fuzzing)
        scheduled, _log = scheduler.review_card(to_fsrs_card(card), FsrsRating(int(rating)), _utc(now))
        return from_fsrs_card(card, scheduled)

    def preview(
        self, card: Flashcard, now: datetime, parameters: Sequence[float], desired_retention: float
    ) -> dict[Rating, timedelta]:
        """The interval each rating would give at `now`, without fuzz so the labels are stable."""
        scheduler = self._scheduler(parameters, desired_retention, False)
        fsrs_card = to_fsrs_card(card)
        moment = _utc(now)
        intervals: dict[Rating, timedelta] = {}
        for rating in Rating:
            scheduled, _log = scheduler.review_card(fsrs_card, FsrsRating(int(rating)), moment)
            intervals[rating] = scheduled.due - moment
        return intervals

    def _scheduler(self, parameters: Sequence[float], desired_retention: float, fuzz: bool) -> Scheduler:
        key = (tuple(parameters), float(desired_retention), fuzz)
        scheduler = self._schedulers.get(key)
        if scheduler is None:
            scheduler = self._build(key)
            if len(self._schedulers) >= _MAX_CACHED_SCHEDULERS:
                self._schedulers.clear()  # parameters rarely change; a crude bound is enough
            self._schedulers[key] = scheduler
        return scheduler

    @staticmethod
    def _build(key: tuple[tuple[float, ...], float, bool]) -> Scheduler:
        parameters, desired_retention, fuzz = key
        if not 0.0 < desired_retention < 1.0:
            raise InvalidInput(f"Desired retention must be between 0 and 1, not {desired_retention}.")
        try:
            return Scheduler(parameters=parameters, desired_retention=desired_retention, enable_fuzzing=fuzz)
        except ValueError as exc:  # out-of-range or wrong number of FSRS weights
            raise InvalidInput(f"Invalid FSRS parameters: {exc}") from exc
