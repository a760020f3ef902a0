"""The lemma a word gets on its own, written out independently of `core.outbound.spacy._build`.

One `nlp(word)` on a blank pipeline with the lookup lemmatizer (the word itself when the tokenizer
splits it), then the lexicon's corrections of context-free guesses: a stop word whose guess is
not a stop word, a word that is itself a known lemma, and the plural of a known noun or adjective
whose guess is neither, keep the word (or its singular). Then the lower-cased retry for
capitalised words the tables leave alone.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib.resources import files

import spacy
from spacy.language import Language


@cache
def pipeline(language: str) -> Language:
    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@cache
def _index(language: str) -> dict[str, set[str]]:
    path = files("spacy_lookups_data").joinpath("data", f"{language}_lemma_index.json.gz")
    if not path.is_file():
        return {}
    with path.open("rb") as raw, gzip.open(raw) as unzipped:
        return {pos: set(lemmas) for pos, lemmas in json.load(unzipped).items()}


def _corrected(language: str, word: str, guess: str) -> str:
    index = _index(language)
    if guess == word or not index:
        return guess
    stop = pipeline(language).Defaults.stop_words
    if word in stop:
        return word if guess not in stop else guess
    if any(word in lemmas for lemmas in index.values()):
        return word
    nominal = index.get("noun", set()) | index.get("adj", set())
    if guess not in nominal and word.endswith("s"):
        if word[:-1] in nominal:
            return word[:-1]
        if word.endswith("es") and word[:-2] in nominal:
            return word[:-2]
    return guess


def single(language: str, word: str) -> str:
    doc = pipeline(language)(word)
    guess = (str(doc[0].lemma_) or word) if len(doc) == 1 else word
    return _corrected(language, word, guess)


def oracle(language: str, text: str) -> str:
    """The lemma of `text` (stripped) when it is one word; `text` itself otherwise."""
    word = text.strip()
    if not word or any(char.isspace() for char in word):
        return text
    lemma = single(language, word)
    if lemma == word and word.lower() != word:
        lowered = single(language, word.lower())
        lemma = lowered if lowered != word.lower() else word
    return lemma or text
