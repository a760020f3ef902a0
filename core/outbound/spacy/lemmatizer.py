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

Running `nlp(word)` costs ~0.1 ms a word, which dominated a 50,000-row pack import. For a blank
lookup pipeline the lemma of a word the tokenizer keeps whole is just the table's entry, so such
words are looked up directly (`_FastLookup`); anything else still goes through `nlp(word)`.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from spacy.language import Language

logger = logging.getLogger(__name__)


class SpacyLemmatizer:
    """Lemmatises single words per language; phrases and unknown words come back unchanged."""

    def __init__(self, models: Mapping[str, str]) -> None:
        self._models = dict(models)
        self._pipelines: dict[str, Language | None] = {}
        self._load_lock = threading.Lock()
        self._call_locks: dict[str, threading.Lock] = {}
        self._fast: dict[str, _FastLookup | None] = {}

    def lemmatize(self, text: str, language: str) -> str:
        """The lemma of a single word, or `text` unchanged for phrases and unknown words.

        A capitalised word that is not in the tables as written is looked up lower-cased, so
        "Comían" at the start of a line still gives "comer" while German nouns keep their case.
        """
        return self.lemmatize_many([text], language)[0]

    def lemmatize_many(self, texts: Sequence[str], language: str) -> list[str]:
        """`lemmatize` of each text, in order, taking the pipeline's lock once for the batch."""
        if not any(_is_word(text) for text in texts):
            return list(texts)  # nothing to lemmatise: do not build the pipeline
        nlp = self._pipeline(language)
        if nlp is None:
            return list(texts)
        fast = self._fast.get(language)
        with self._call_locks[language]:
            return [_text_lemma(nlp, fast, text) for text in texts]

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
                nlp = self._load(language)
                blank = nlp is not None and self._trained_name(language) is None
                self._fast[language] = _FastLookup.of(nlp) if blank and nlp is not None else None
                self._pipelines[language] = nlp
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


class _FastLookup:
    """The lookup table of a blank pipeline, read directly for words the tokenizer keeps whole.

    `nlp(word)` for such a word makes one token whose lemma is `table.get(word, word)`; a word
    that is a tokenizer special case, or that a prefix, suffix or infix rule would split, or that
    is not purely alphabetic (apostrophes, hyphens, digits) takes the `nlp(word)` path instead.
    """

    def __init__(self, nlp: Language, table: Any) -> None:
        tokenizer = nlp.tokenizer
        self._table = table
        self._rules: dict[str, Any] = dict(getattr(tokenizer, "rules", None) or {})
        self._prefix = getattr(tokenizer, "prefix_search", None)
        self._suffix = getattr(tokenizer, "suffix_search", None)
        self._infix = getattr(tokenizer, "infix_finditer", None)

    @classmethod
    def of(cls, nlp: Language) -> _FastLookup | None:
        """The fast path for `nlp`, or None unless it is exactly our blank lookup pipeline."""
        from spacy.pipeline import Lemmatizer

        if nlp.pipe_names != ["lemmatizer"]:
            return None
        pipe = nlp.get_pipe("lemmatizer")
        if not isinstance(pipe, Lemmatizer) or pipe.mode != "lookup":
            return None
        if type(pipe).lookup_lemmatize is not Lemmatizer.lookup_lemmatize:  # Dutch has its own
            return None
        if not pipe.lookups.has_table("lemma_lookup"):
            return None
        return cls(nlp, pipe.lookups.get_table("lemma_lookup"))

    def lemma(self, word: str) -> str | None:
        """The lemma `nlp(word)` would give, or None when only `nlp(word)` can tell.

        A word missing from the table comes back as itself whatever the tokenizer does with it
        (split: the word; one token: `table.get(word, word)`; spaCy 3 tokenizer exceptions set
        only ORTH and NORM, never a lemma), so only words in the table need the tokenizer checks.
        """
        found = self._table.get(word, None)
        if found is None:
            return word
        if not word.isalpha() or word in self._rules or self._splits(word):
            return None
        lemma = found if isinstance(found, str) else found[0]
        return str(lemma) or word

    def _splits(self, word: str) -> bool:
        if self._prefix is not None and self._prefix(word) is not None:
            return True
        if self._suffix is not None and self._suffix(word) is not None:
            return True
        return self._infix is not None and next(iter(self._infix(word)), None) is not None


def _text_lemma(nlp: Language, fast: _FastLookup | None, text: str) -> str:
    """`lemmatize` of one text, under the pipeline's lock."""
    if not _is_word(text):
        return text
    word = text.strip()
    lemma = _word_lemma(nlp, fast, word)
    if lemma == word and word.lower() != word:
        lowered = _word_lemma(nlp, fast, word.lower())
        lemma = lowered if lowered != word.lower() else word
    return lemma if lemma else text


def _is_word(text: str) -> bool:
    """A single word: something left after stripping, with no whitespace inside."""
    return len(text.split()) == 1  # str.split() splits on exactly the characters str.isspace() accepts


def _word_lemma(nlp: Language, fast: _FastLookup | None, word: str) -> str:
    """The table lemma when the fast path applies, otherwise `_single_lemma`."""
    if fast is not None:
        lemma = fast.lemma(word)
        if lemma is not None:
            return lemma
    return _single_lemma(nlp, word)


def _single_lemma(nlp: Language, word: str) -> str:
    """The lemma when the tokenizer sees one token; `word` itself for contractions like "l'eau"."""
    doc = nlp(word)
    if len(doc) != 1:
        return word
    return str(doc[0].lemma_) or word


def _has_lookup_table(language: str) -> bool:
    from importlib.resources import files

    return files("spacy_lookups_data").joinpath("data", f"{language}_lemma_lookup.json.gz").is_file()
