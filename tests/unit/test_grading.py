"""Typed-answer grading: what counts as right, nearly right and wrong."""

from __future__ import annotations

import pytest

from core.domain.models import Rating
from core.domain.services.grading import edit_distance, grade_typed_answer, near_miss_tolerance, normalise_answer


@pytest.mark.parametrize(
    ("answer", "expected", "language", "rating", "verdict"),
    [
        # exact after normalising case, punctuation and whitespace
        ("house", "house", "en", Rating.GOOD, "exact"),
        ("  HOUSE!  ", "house", "en", Rating.GOOD, "exact"),
        ("¡El perro!", "perro", "es", Rating.GOOD, "exact"),
        ("ice   cream", "ice-cream", "en", Rating.GOOD, "exact"),
        # leading articles, either side
        ("the house", "house", "en", Rating.GOOD, "exact"),
        ("house", "the house", "en", Rating.GOOD, "exact"),
        ("eat", "to eat", "en", Rating.GOOD, "exact"),
        ("casa", "la casa", "es", Rating.GOOD, "exact"),
        ("los perros", "perros", "es", Rating.GOOD, "exact"),
        ("Haus", "das Haus", "de", Rating.GOOD, "exact"),
        ("einen Hund", "Hund", "de", Rating.GOOD, "exact"),
        ("homme", "l'homme", "fr", Rating.GOOD, "exact"),
        ("L’homme", "homme", "fr", Rating.GOOD, "exact"),
        ("une maison", "maison", "fr", Rating.GOOD, "exact"),
        ("amica", "un'amica", "it", Rating.GOOD, "exact"),
        ("gli amici", "amici", "it", Rating.GOOD, "exact"),
        ("os livros", "livros", "pt", Rating.GOOD, "exact"),
        ("het huis", "huis", "nl", Rating.GOOD, "exact"),
        # alternatives in the expected answer
        ("home", "house, home", "en", Rating.GOOD, "exact"),
        ("home", "house; home", "en", Rating.GOOD, "exact"),
        ("home", "house / home", "en", Rating.GOOD, "exact"),
        ("house, home", "house, home", "en", Rating.GOOD, "exact"),
        ("to dine", "to eat; to dine", "en", Rating.GOOD, "exact"),
        # only accents differ → Hard
        ("cafe", "café", "fr", Rating.HARD, "near"),
        ("arbol", "árbol", "es", Rating.HARD, "near"),
        ("Muller", "Müller", "de", Rating.HARD, "near"),
        ("nino", "niño", "es", Rating.HARD, "near"),
        # small edit distance → Hard
        ("hous", "house", "en", Rating.HARD, "near"),
        ("hosue", "house", "en", Rating.HARD, "near"),
        ("comr", "comer", "es", Rating.HARD, "near"),
        ("neccesary", "necessary", "en", Rating.HARD, "near"),
        ("biblioteka", "biblioteca", "es", Rating.HARD, "near"),
        ("ordinatuer", "ordinateur", "fr", Rating.HARD, "near"),
        ("responsibilty", "responsibility", "en", Rating.HARD, "near"),
        ("hom", "house, home", "en", Rating.HARD, "near"),
        # wrong → Again
        ("dog", "house", "en", Rating.AGAIN, "wrong"),
        ("hse", "house", "en", Rating.AGAIN, "wrong"),
        ("yo", "ya", "es", Rating.AGAIN, "wrong"),
        ("", "house", "en", Rating.AGAIN, "wrong"),
        ("the", "house", "en", Rating.AGAIN, "wrong"),
        ("!!!", "house", "en", Rating.AGAIN, "wrong"),
    ],
)
def test_grading_table(answer: str, expected: str, language: str, rating: Rating, verdict: str) -> None:
    grade = grade_typed_answer(answer, expected, language)
    assert (grade.rating, grade.verdict) == (rating, verdict)


def test_grade_carries_the_back_as_written() -> None:
    assert grade_typed_answer("cafe", "le café", "fr").expected == "le café"
    assert grade_typed_answer("nope", "to eat; to dine", "en").expected == "to eat; to dine"


def test_an_article_alone_is_not_erased() -> None:
    assert normalise_answer("a", "en") == "a"
    assert grade_typed_answer("a", "a", "en").rating == Rating.GOOD


def test_articles_of_another_language_stay() -> None:
    assert normalise_answer("der Hund", "en") == "der hund"
    assert normalise_answer("the dog", "de") == "the dog"


def test_unknown_language_still_normalises_case_and_punctuation() -> None:
    assert normalise_answer("  Привет,  МИР! ", "ru") == "привет мир"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "", 3), ("", "abc", 3), ("kitten", "sitting", 3), ("house", "hosue", 1), ("ab", "ba", 1)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_edit_distance_stops_past_the_limit() -> None:
    assert edit_distance("abcdefgh", "zzzzzzzz", limit=2) == 3
    assert edit_distance("a", "abcdef", limit=1) == 2


@pytest.mark.parametrize(("length", "tolerance"), [(1, 0), (2, 0), (3, 1), (5, 1), (6, 2), (10, 2), (11, 3), (30, 3)])
def test_near_miss_tolerance_grows_with_length(length: int, tolerance: int) -> None:
    assert near_miss_tolerance("x" * length) == tolerance
