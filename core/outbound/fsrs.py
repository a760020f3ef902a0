"""FSRS scheduling with the `fsrs` package (v6), behind the `ReviewScheduler` port.

Our `Flashcard` keeps the FSRS fields in its own columns; this module maps them to and from
`fsrs.Card`. A card that was never reviewed is `CardState.NEW` on our side and, for FSRS, a
Learning card at step 0 with no stability, difficulty or last review — which is exactly what
`fsrs.Card()` starts as. After its first review the state is whatever FSRS says.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from fsrs import Card, Scheduler, State
from fsrs import Rating as FsrsRating
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from core.domain.errors import InvalidInput
from core.domain.models import CardState, Flashcard, Rating

_MAX_CACHED_SCHEDULERS = 256
_FSRS_CARD_ID = 1  # fsrs wants an int id; ours is a UUID string and FSRS never reads it
# fsrs's fuzz ranges as (start, end, factor) tuples: read on every preview, four times a Show answer
_FUZZ_RANGES: tuple[tuple[float, float, float], ...] = tuple(
    (float(r["start"]), float(r["end"]), float(r["factor"])) for r in FUZZ_RANGES
)


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
        moment = _utc(now)
        scheduled = self._schedule(card, rating, moment, parameters, desired_retention)
        return from_fsrs_card(card, scheduled)

    def preview(
        self, card: Flashcard, now: datetime, parameters: Sequence[float], desired_retention: float
    ) -> dict[Rating, timedelta]:
        """The interval each rating gives at `now` — exactly, fuzz included (it is deterministic).

        The scheduler, the `fsrs.Card` and the fuzz draw are the same for all four ratings, so they
        are made once (fsrs copies the card it is given, so sharing it is safe).
        """
        moment = _utc(now)
        scheduler = self._scheduler(parameters, desired_retention, False)
        fsrs_card = to_fsrs_card(card)
        draw = _fuzz_draw(card) if self._enable_fuzzing else 0.0
        return {
            rating: self._schedule_with(scheduler, fsrs_card, draw, rating, moment).due - moment for rating in Rating
        }

    def _schedule(
        self, card: Flashcard, rating: Rating, moment: datetime, parameters: Sequence[float], desired_retention: float
    ) -> Card:
        """FSRS without its own fuzz, then ours, seeded by the card's id and last review.

        fsrs draws a fresh random number per review; a seeded draw makes the interval a button
        shows the one pressing it gives.
        """
        scheduler = self._scheduler(parameters, desired_retention, False)
        draw = _fuzz_draw(card) if self._enable_fuzzing else 0.0
        return self._schedule_with(scheduler, to_fsrs_card(card), draw, rating, moment)

    def _schedule_with(self, scheduler: Scheduler, card: Card, draw: float, rating: Rating, moment: datetime) -> Card:
        """One fsrs review of `card` (fsrs copies it) with our seeded fuzz `draw` applied."""
        scheduled, _log = scheduler.review_card(card, FsrsRating(int(rating)), moment)
        if self._enable_fuzzing and scheduled.state == State.Review:
            interval = fuzzed_interval(scheduled.due - moment, draw, scheduler.maximum_interval)
            scheduled.due = moment + interval
        return scheduled

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


def _fuzz_draw(card: Flashcard) -> float:
    """A number in [0, 1) fixed for one card between two reviews."""
    seen = card.last_review or card.created_at
    digest = hashlib.blake2b(f"{card.id}|{seen.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


def fuzzed_interval(interval: timedelta, draw: float, maximum_interval: int) -> timedelta:
    """Fsrs's interval fuzz (`Scheduler._get_fuzzed_interval`, same ranges) with a given draw."""
    days = interval.days
    if days < 2.5:
        return interval
    delta = 1.0
    for start, end, factor in _FUZZ_RANGES:
        delta += factor * max(min(float(days), end) - start, 0.0)
    max_ivl = min(round(days + delta), maximum_interval)
    min_ivl = min(max(2, round(days - delta)), max_ivl)
    fuzzed = draw * (max_ivl - min_ivl + 1) + min_ivl
    return timedelta(days=min(round(fuzzed), maximum_interval))
