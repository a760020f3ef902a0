"""The Lemmatizer port on spaCy.

Pipelines are expensive (0.1–3 s and tens of MB each), so each language's pipeline is
built once per process, on first use, under a lock so two threads never build it twice.
Which pipeline:

1. `models[lang]` names an installed trained pipeline (`spacy.util.is_package`) or a
   pipeline directory on disk: `spacy.load(name)`, whose lemmatizer uses POS context.
2. Otherwise a blank pipeline with the lookup lemmatizer, whose tables come from the
   `spacy-lookups-data` package (offline, no download).
3. A language with neither (no lookup table, or a tokenizer that needs extra packages,
   like Japanese and Korean) gets no pipeline: its words come back unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from spacy.language import Language

logger = logging.getLogger(__name__)


class SpacyLemmatizer:
    """Lemmatises single words per language; phrases and unknown words come back unchanged."""

    def __init__(self, models: Mapping[str, str]) -> None:
        self._models = dict(models)
        self._pipelines: dict[str, Language | None] = {}
        self._load_lock = threading.Lock()
        self._call_locks: dict[str, threading.Lock] = {}

    def lemmatize(self, text: str, language: str) -> str:
        """The lemma of a single word, or `text` unchanged for phrases and unknown words.

        A capitalised word that is not in the tables as written is looked up lower-cased, so
        "Comían" at the start of a line still gives "comer" while German nouns keep their case.
        """
        word = text.strip()
        if not word or any(char.isspace() for char in word):
            return text
        nlp = self._pipeline(language)
        if nlp is None:
            return text
        with self._call_locks[language]:
            lemma = _single_lemma(nlp, word)
            if lemma == word and word.lower() != word:
                lowered = _single_lemma(nlp, word.lower())
                lemma = lowered if lowered != word.lower() else word
        return lemma if lemma else text

    def warm_up(self, languages: Iterable[str]) -> None:
        """Build the pipelines of `languages` now (a start-up hook), instead of on first use."""
        for language in languages:
            self._pipeline(language)

    def pipeline_kind(self, language: str) -> str:
        """Which pipeline `language` gets, without loading it: "trained", "blank" or "none"."""
        if self._trained_name(language) is not None:
            return "trained"
        return "blank" if _has_lookup_table(language) else "none"

    def _pipeline(self, language: str) -> Language | None:
        if language in self._pipelines:
            return self._pipelines[language]
        with self._load_lock:
            if language not in self._pipelines:
                self._call_locks[language] = threading.Lock()
                self._pipelines[language] = self._load(language)
            return self._pipelines[language]

    def _trained_name(self, language: str) -> str | None:
        import spacy.util

        name = self._models.get(language)
        if name and (spacy.util.is_package(name) or Path(name).is_dir()):
            return name
        return None

    def _load(self, language: str) -> Language | None:
        started = time.perf_counter()
        trained = self._trained_name(language)
        try:
            nlp = _load_trained(trained) if trained is not None else self._load_blank(language)
        except Exception as exc:  # any failure means "no lemmas", never a crash
            logger.warning("spaCy: no lemmatizer for %s (%s); words stay as typed", language, type(exc).__name__)
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("spaCy: %s pipeline for %s built in %.0f ms", trained or "blank", language, elapsed_ms)
        return nlp

    def _load_blank(self, language: str) -> Language:
        import spacy

        if language in self._models:
            logger.warning("spaCy: %s is not installed; using lookup lemmas for %s", self._models[language], language)
        nlp = spacy.blank(language)
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        return nlp


def _load_trained(name: str) -> Language:
    import spacy

    return spacy.load(name)


def _single_lemma(nlp: Language, word: str) -> str:
    """The lemma when the tokenizer sees one token; `word` itself for contractions like "l'eau"."""
    doc = nlp(word)
    if len(doc) != 1:
        return word
    return str(doc[0].lemma_) or word


def _has_lookup_table(language: str) -> bool:
    from importlib.resources import files

    return files("spacy_lookups_data").joinpath("data", f"{language}_lemma_lookup.json.gz").is_file()
