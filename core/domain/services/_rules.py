"""Small domain rules shared by several services: ids, language validation, learner days, new cards."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.domain.errors import InvalidInput, InvalidLevel, NoActivePair, NotFound, UnsupportedLanguage
from core.domain.models import (
    CEFR_LEVELS,
    SUPPORTED_LANGUAGES,
    CardDirection,
    CardState,
    Flashcard,
    LanguagePair,
    Learner,
    LearnerSettings,
    WordBankEntry,
)
from core.domain.ports import UnitOfWork

DIRECTION_SETTINGS: dict[str, tuple[CardDirection, ...]] = {
    "recognition": (CardDirection.RECOGNITION,),
    "production": (CardDirection.PRODUCTION,),
    "both": (CardDirection.RECOGNITION, CardDirection.PRODUCTION),
}


def new_id() -> str:
    return str(uuid.uuid4())


def is_id(value: str) -> bool:
    """Ids come back from button payloads: anything that is not a UUID can't name a row."""
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


# --- languages --------------------------------------------------------------------------------


def language_code(code: str) -> str:
    """A supported ISO 639-1 code, lower-cased, or UnsupportedLanguage listing the codes."""
    normalised = code.strip().lower()
    if normalised not in SUPPORTED_LANGUAGES:
        raise UnsupportedLanguage(code.strip(), list(SUPPORTED_LANGUAGES))
    return normalised


def cefr_level(level: str) -> str:
    """The level upper-cased ("a2" → "A2"); anything else is InvalidLevel."""
    normalised = level.strip().upper()
    if normalised not in CEFR_LEVELS:
        raise InvalidLevel(level.strip())
    return normalised


def language_pair_codes(target: str, native: str) -> tuple[str, str]:
    target_code, native_code = language_code(target), language_code(native)
    if target_code == native_code:
        raise InvalidInput(
            "The language you learn and your own language must differ.",
            example="/language es en A2",
        )
    return target_code, native_code


# --- learner days -----------------------------------------------------------------------------


def learner_zone(settings: LearnerSettings) -> ZoneInfo:
    """The learner's zone; UTC if the stored name no longer exists in this tzdata."""
    try:
        return ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of `day` as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_midnight(now: datetime, settings: LearnerSettings) -> datetime:
    """When the learner's current day began (UTC): the daily new-card count restarts here."""
    zone = learner_zone(settings)
    return day_start(local_day(now, zone), zone)


def next_day(day: date) -> date:
    return day + timedelta(days=1)


# --- loading with ownership -------------------------------------------------------------------


async def load_learner(uow: UnitOfWork, learner_id: str) -> Learner:
    learner = await uow.learners.get(learner_id)
    if learner is None:
        raise NotFound("learner")
    return learner


async def load_active_pair(uow: UnitOfWork, learner_id: str) -> LanguagePair:
    pair = await uow.pairs.get_active(learner_id)
    if pair is None:
        raise NoActivePair()
    return pair


# --- cards ------------------------------------------------------------------------------------


def enabled_directions(settings: LearnerSettings) -> tuple[CardDirection, ...]:
    return DIRECTION_SETTINGS.get(settings.directions, (CardDirection.RECOGNITION,))


def new_card(entry: WordBankEntry, direction: CardDirection, now: datetime) -> Flashcard:
    """A never-reviewed card, due from when its word was added.

    The daily new-card limit decides when it is shown; due = the entry's (staggered) creation
    time makes the queue introduce words in the order they were added.
    """
    return Flashcard(
        id=new_id(),
        learner_id=entry.learner_id,
        pair_id=entry.pair_id,
        entry_id=entry.id,
        direction=direction,
        state=CardState.NEW,
        step=0,
        stability=None,
        difficulty=None,
        due=min(entry.created_at, now),
        last_review=None,
        created_at=now,
    )


def cards_for(entries: Iterable[WordBankEntry], directions: Iterable[CardDirection], now: datetime) -> list[Flashcard]:
    """One new card per translated entry and direction; entries without a translation get none."""
    wanted = tuple(directions)
    return [new_card(entry, direction, now) for entry in entries if entry.translation for direction in wanted]


def staggered(now: datetime, count: int) -> list[datetime]:
    """`count` increasing timestamps ending at `now`, one microsecond apart.

    Items added together then keep their order ("newest first" lists, oldest-new-card-first queues).
    """
    return [now - timedelta(microseconds=count - 1 - index) for index in range(count)]
