"""SpacyLemmatizer against the real spaCy and the real spacy-lookups-data tables (no mocks).

The expected lemmas are what the lookup tables really give, checked by hand.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
import spacy
from spacy.lookups import Lookups

from core.outbound.spacy import SpacyLemmatizer


@pytest.fixture(scope="module")
def lemmatizer() -> SpacyLemmatizer:
    return SpacyLemmatizer({})


@pytest.mark.parametrize(
    ("word", "language", "lemma"),
    [
        ("comían", "es", "comer"),
        ("maisons", "fr", "maison"),
        ("Häuser", "de", "Haus"),
        ("case", "it", "casa"),
        ("houses", "en", "house"),
        ("went", "en", "go"),
    ],
)
def test_lookup_lemmas_of_single_words(lemmatizer: SpacyLemmatizer, word: str, language: str, lemma: str) -> None:
    assert lemmatizer.lemmatize(word, language) == lemma


def test_capitalised_word_is_looked_up_lower_cased(lemmatizer: SpacyLemmatizer) -> None:
    assert lemmatizer.lemmatize("Comían", "es") == "comer"


def test_german_noun_keeps_its_capital(lemmatizer: SpacyLemmatizer) -> None:
    assert lemmatizer.lemmatize("Haus", "de") == "Haus"


def test_surrounding_whitespace_is_ignored(lemmatizer: SpacyLemmatizer) -> None:
    assert lemmatizer.lemmatize("  comían \n", "es") == "comer"


@pytest.mark.parametrize(
    ("text", "language"),
    [("la casa", "es"), ("se comían", "es"), ("l'eau", "fr"), ("", "es"), ("   ", "es")],
)
def test_phrases_and_contractions_come_back_unchanged(lemmatizer: SpacyLemmatizer, text: str, language: str) -> None:
    assert lemmatizer.lemmatize(text, language) == text


def test_unknown_word_comes_back_unchanged(lemmatizer: SpacyLemmatizer) -> None:
    assert lemmatizer.lemmatize("zzxqwv", "es") == "zzxqwv"


@pytest.mark.parametrize(
    ("word", "language"),
    [("σπίτια", "el"), ("talot", "fi"), ("食べた", "ja"), ("집들", "ko"), ("房子", "zh"), ("word", "zz")],
)
def test_languages_without_lemmas_never_crash(lemmatizer: SpacyLemmatizer, word: str, language: str) -> None:
    assert lemmatizer.lemmatize(word, language) == word
    assert lemmatizer.pipeline_kind(language) == "none"


def test_uninstalled_trained_pipeline_falls_back_to_lookup_lemmas() -> None:
    lemmatizer = SpacyLemmatizer({"en": "en_core_web_sm_not_installed"})
    assert lemmatizer.pipeline_kind("en") == "blank"
    assert lemmatizer.lemmatize("houses", "en") == "house"


def test_pipeline_named_in_models_is_the_one_loaded(tmp_path: Path) -> None:
    """A pipeline directory with its own table proves `models` is honoured over the blank default."""
    nlp = spacy.blank("es")
    lookups = Lookups()
    lookups.add_table("lemma_lookup", {"gatos": "gatito"})
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize(lookups=lookups)
    nlp.to_disk(tmp_path / "es_custom")

    lemmatizer = SpacyLemmatizer({"es": str(tmp_path / "es_custom")})

    assert lemmatizer.pipeline_kind("es") == "trained"
    assert lemmatizer.lemmatize("gatos", "es") == "gatito"
    assert lemmatizer.lemmatize("comían", "es") == "comían"  # not in this pipeline's table


def test_pipeline_is_built_once_under_concurrent_first_use(caplog: pytest.LogCaptureFixture) -> None:
    lemmatizer = SpacyLemmatizer({})
    results: list[str] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        results.append(lemmatizer.lemmatize("domy", "cs"))

    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lemmatizer.lemmatize("domy", "cs")

    assert results == ["dům"] * 6
    built = [r for r in caplog.records if "pipeline for cs built" in r.getMessage()]
    assert len(built) == 1


def test_warm_up_builds_pipelines_before_first_word(caplog: pytest.LogCaptureFixture) -> None:
    lemmatizer = SpacyLemmatizer({})
    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        lemmatizer.warm_up(["hu"])
        assert any("pipeline for hu built" in r.getMessage() for r in caplog.records)
        caplog.clear()
        assert lemmatizer.lemmatize("házak", "hu") == "ház"
    assert caplog.records == []
