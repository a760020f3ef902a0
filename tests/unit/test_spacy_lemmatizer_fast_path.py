"""SpacyLemmatizer's lookup lemmas (a table read per word, no tokenizer) give exactly what `nlp(word)` gives.

The oracle (tests/unit/lemma_oracle.py) is the path the fast one replaces, written out on its own
blank pipeline: one `nlp(word)` per word, the lemma of the single token (the word itself when the
tokenizer splits it), the build's corrections of context-free guesses ("casa" stays "casa"; checked
word by word in test_spacy_lemmatizer_lookup_file.py), and the lower-cased retry for capitalised
words the tables leave alone.
"""

from __future__ import annotations

import gzip
import json
from importlib.resources import files

import pytest

from core.outbound.spacy import SpacyLemmatizer
from tests.unit.lemma_oracle import oracle

ODD_WORDS = [
    "l'eau",
    "aujourd'hui",
    "c'est-à-dire",
    "à-coups",
    "chefs-d'oeuvre",
    "d'accord",
    "c'est",
    "Hallo-Welt",
    "z.B.",
    "usw.",
    "etc.",
    "Dr.",
    "Sr.",
    "x2",
    "3er",
    "ÉTAIT",
    "Straße",
    "STRASSE",
    "ñandú",
    "Ñandú",
    "İstanbul",
    "ǅemal",
    "café!",
    "¿Qué",
    "qué?",
    "«oui»",
    "e-mail",
    "co-op",
    "it's",
    "won't",
    "don't",
    "Mr",
    "vs",
    "MAISONS",
    "Häuser",
    "HÄUSER",
    "comían",
    "Comían",
    "COMÍAN",
    "  comían ",
    "la casa",
    "",
    " ",
    "a",
    "A",
    "x",
    "ß",
]


def _real_words(language: str, count: int) -> list[str]:
    """`count` table keys spread over the whole table, and some of their lemmas."""
    path = files("spacy_lookups_data").joinpath("data", f"{language}_lemma_lookup.json.gz")
    with path.open("rb") as raw, gzip.open(raw) as unzipped:
        table: dict[str, object] = json.load(unzipped)
    keys = list(table)
    step = max(1, len(keys) // count)
    words = keys[::step][:count]
    lemmas = [value for value in (table[k] for k in words[:500]) if isinstance(value, str)]
    return words + lemmas


def _sample(language: str) -> list[str]:
    words = _real_words(language, 3000)
    odd = [w.capitalize() for w in words[:600]] + [w.upper() for w in words[600:800]]
    odd += [w.title() for w in words[800:900]] + [f"{w}." for w in words[900:950]]
    return words + odd + ODD_WORDS


@pytest.fixture(scope="module")
def lemmatizer() -> SpacyLemmatizer:
    return SpacyLemmatizer({})


@pytest.mark.parametrize("language", ["es", "fr", "de"])
def test_fast_path_matches_nlp_per_word(lemmatizer: SpacyLemmatizer, language: str) -> None:
    words = _sample(language)
    expected = [oracle(language, word) for word in words]

    one_by_one = [lemmatizer.lemmatize(word, language) for word in words]
    batched = lemmatizer.lemmatize_many(words, language)

    mismatches = [(w, e, o) for w, e, o in zip(words, expected, one_by_one, strict=True) if e != o]
    assert mismatches == []
    assert batched == expected


def test_many_keeps_order_phrases_and_unknown_words(lemmatizer: SpacyLemmatizer) -> None:
    texts = ["comían", "la casa", "zzxqwv", "", "Comían", "  comían "]
    assert lemmatizer.lemmatize_many(texts, "es") == ["comer", "la casa", "zzxqwv", "", "comer", "comer"]
    assert lemmatizer.lemmatize_many([], "es") == []
    assert lemmatizer.lemmatize_many(["σπίτια", "talot"], "el") == ["σπίτια", "talot"]
