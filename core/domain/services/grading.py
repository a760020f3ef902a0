"""Grading a typed or spoken answer: pure functions, no I/O."""

from __future__ import annotations

from core.domain.models import Grade


def normalise_answer(text: str, language: str) -> str:
    """Lower-case, strip punctuation and surrounding whitespace, collapse inner whitespace, and drop
    the language's leading articles ("el", "la", "der", "the", "to " for English verbs, …)."""
    raise NotImplementedError


def grade_typed_answer(answer: str, expected: str, language: str) -> Grade:
    """exact (after normalising; any of several "a, b" / "a; b" / "a / b" alternatives) → GOOD;
    only accents differ, or a small edit distance (≤1 for ≤5 chars, ≤2 up to 10, ≤3 beyond) → HARD;
    otherwise AGAIN. `expected` in the Grade is the card's back as written."""
    raise NotImplementedError
