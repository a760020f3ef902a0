"""Flashcards scheduled with FSRS, and the review events they produce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum


class Rating(IntEnum):
    """Same values as `fsrs.Rating`."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class CardState(IntEnum):
    """Same values as `fsrs.State`; NEW means never reviewed (the FSRS state is then Learning)."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class CardDirection(StrEnum):
    RECOGNITION = "recognition"  # front: target term, back: native translation
    PRODUCTION = "production"  # front: native translation, back: target term


class ReviewMode(StrEnum):
    BUTTON = "button"
    TYPED = "typed"
    VOICE = "voice"


@dataclass
class Flashcard:
    id: str
    learner_id: str
    pair_id: str
    entry_id: str
    direction: CardDirection
    state: CardState
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    created_at: datetime
    suspended: bool = False  # a direction the learner switched off; kept with its history


@dataclass
class DueCard:
    """A card ready to be shown: the card and what its two sides say."""

    card: Flashcard
    front: str
    back: str
    target_language: str  # language of the side the learner must produce/recognise
    answer_language: str  # language of the expected answer (the back)
    context: str | None


@dataclass
class ReviewEvent:
    id: str
    card_id: str
    learner_id: str
    rating: Rating
    mode: ReviewMode
    answer_text: str | None
    state_before: CardState
    due_before: datetime
    due_after: datetime
    stability_after: float | None
    difficulty_after: float | None
    reviewed_at: datetime


@dataclass(frozen=True)
class Grade:
    """How a typed or spoken answer was judged."""

    rating: Rating
    verdict: str  # "exact" | "near" | "wrong"
    expected: str  # the correct form, shown on near misses and wrong answers


@dataclass
class ReviewOutcome:
    card: Flashcard
    event: ReviewEvent
    interval: timedelta


def interval_label(delta: timedelta) -> str:
    """A short human interval: "<1m", "10m", "3h", "4d", "2mo", "1.5y"."""
    seconds = delta.total_seconds()
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{round(seconds / 60)}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 31:
        return f"{round(days)}d"
    if days < 365:
        return f"{round(days / 30.4)}mo"
    return f"{days / 365:.1f}y".replace(".0y", "y")
