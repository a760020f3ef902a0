"""Properties of grading that must hold for any text, checked with hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.domain.models import Rating
from core.domain.services.grading import edit_distance, grade_typed_answer, normalise_answer

LANGUAGES = st.sampled_from(["en", "es", "fr", "de", "it", "pt", "nl", "ja", "ru", "xx"])
WORDS = st.text(st.characters(codec="utf-8", categories=("L", "M", "N", "P", "Zs")), max_size=30)


@given(WORDS, st.sampled_from(["ja", "ru", "xx"]))
def test_normalising_is_idempotent_without_articles(text: str, language: str) -> None:
    once = normalise_answer(text, language)
    assert normalise_answer(once, language) == once
    assert once == once.strip() and "  " not in once


@given(WORDS, LANGUAGES)
def test_normalised_text_is_lower_case_and_trimmed(text: str, language: str) -> None:
    normalised = normalise_answer(text, language)
    assert normalised == normalised.casefold()
    assert normalised == normalised.strip() and "  " not in normalised


@given(WORDS, LANGUAGES)
def test_the_back_itself_is_always_right(expected: str, language: str) -> None:
    if normalise_answer(expected, language):
        assert grade_typed_answer(expected, expected, language).rating is Rating.GOOD


@given(WORDS, WORDS, LANGUAGES)
def test_grading_never_fails_and_keeps_the_back(answer: str, expected: str, language: str) -> None:
    grade = grade_typed_answer(answer, expected, language)
    assert grade.expected == expected
    assert (grade.rating, grade.verdict) in {(Rating.GOOD, "exact"), (Rating.HARD, "near"), (Rating.AGAIN, "wrong")}


@given(st.text(max_size=15), st.text(max_size=15))
def test_edit_distance_is_a_symmetric_bounded_metric(a: str, b: str) -> None:
    distance = edit_distance(a, b)
    assert distance == edit_distance(b, a)
    assert abs(len(a) - len(b)) <= distance <= max(len(a), len(b))
    assert (distance == 0) == (a == b)


@given(st.text(max_size=15), st.text(max_size=15), st.integers(0, 4))
def test_the_limited_distance_agrees_with_the_full_one(a: str, b: str, limit: int) -> None:
    full = edit_distance(a, b)
    assert edit_distance(a, b, limit) == (full if full <= limit else limit + 1)
