"""`pack_lemmas` (one batch per import) gives what `pack_lemma` gives row by row."""

from __future__ import annotations

from core.domain.services._terms import pack_lemma, pack_lemmas
from tests.fakes import FakeLemmatizer

TERMS = [
    "comían",
    "Comían",
    "COMÍAN",
    "casas",
    "Casas",
    "la casa",
    "  comían  ",
    "perro",
    "Perro",
    "zumo",
    "Zumo",
    "",
    "a  b",
    "Häuser",
    "ging",
]


class _CountingLemmatizer(FakeLemmatizer):
    """Counts `lemmatize_many` batches, with one capitalised table entry to test the retry."""

    def __init__(self) -> None:
        super().__init__({"es": {"comían": "comer", "casas": "casa", "Perro": "Perro", "perro": "perro"}})
        self.batches = 0

    def lemmatize_many(self, texts: list[str], language: str) -> list[str]:  # type: ignore[override]
        self.batches += 1
        return super().lemmatize_many(texts, language)


def test_batch_gives_the_row_by_row_lemmas() -> None:
    lemmatizer = _CountingLemmatizer()
    expected = [pack_lemma(term, "es", lemmatizer) for term in TERMS]

    assert pack_lemmas(TERMS, "es", lemmatizer) == expected
    assert lemmatizer.batches == 2  # the terms, then the capitalised ones the tables left alone


def test_lemmas_are_the_lower_cased_keys() -> None:
    lemmatizer = FakeLemmatizer()
    assert pack_lemmas(["Häuser", "ging", "Se comían"], "de", lemmatizer) == ["haus", "gehen", "se comían"]
