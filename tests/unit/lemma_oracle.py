"""The lemma a word gets on its own: the per-word `nlp(word)` path the lemma files replace.

One `nlp(word)` on a blank pipeline with the lookup lemmatizer (the word itself when the tokenizer
splits it), then the build's own corrections of context-free guesses (`_build.Lexicon`, the same
object: what those corrections should give a learner is checked word by word in
test_spacy_lemmatizer_lookup_file.py, `test_hand_checked_lemmas`), then the lower-cased retry for
capitalised words the tables leave alone.
"""

from __future__ import annotations

from functools import cache

import spacy
from spacy.language import Language

from core.outbound.spacy._build import Lexicon


@cache
def pipeline(language: str) -> Language:
    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@cache
def _lexicon(language: str) -> Lexicon:
    return Lexicon.of(pipeline(language))


def single(language: str, word: str) -> str:
    doc = pipeline(language)(word)
    guess = (str(doc[0].lemma_) or word) if len(doc) == 1 else word
    return _lexicon(language).lemma(word, guess)


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
