"""The Lemmatizer port on spaCy.

Each language's lemmas are set up once per process, on first use (or by `warm_up`), under a lock
so two threads never do it twice. Which lemmas:

1. `models[lang]` names an installed trained pipeline (`spacy.util.is_package`) or a pipeline
   directory on disk: `spacy.load(name)`, whose lemmatizer uses POS context.
2. Otherwise the lookup lemmas of `spacy-lookups-data`, as a blank pipeline with the lookup
   lemmatizer gives them, read from a compact SQLite file (`_build`): no spaCy in the process.
3. A language with neither (no lookup table, or a tokenizer that needs extra packages,
   like Japanese and Korean) gets nothing: its words come back unchanged.

Why a file: a blank pipeline keeps its lookup table as Python dicts, 50–130 MB a language
(Spanish: 490,000 entries), and importing spaCy costs ~80 MB more. The file holds, for every
table key, the lemma the blank pipeline gives that word on its own (tokenizer special cases and
splits included), so a word's lemma is one indexed read, the same as before. The file is built
once per language and per spaCy / spacy-lookups-data version, in a separate process (so the
build's memory is never the bot's), into `cache_dir`; when that directory cannot be written the
built database is kept in memory instead (~5–13 MB a language). A language whose blank pipeline
has its own lookup rules (Dutch) keeps the in-process blank pipeline.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.outbound.spacy import _build

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from spacy.language import Language

logger = logging.getLogger(__name__)

BUILD_TIMEOUT_S = 600.0
_CHUNK = 500  # words per SELECT … IN (…)
_CHILD = "import sys; from core.outbound.spacy._build import main; sys.exit(main(sys.argv[1:]))"


def default_cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/langlearn/spacy`, else `~/.cache/langlearn/spacy` (None without a home)."""
    base = os.environ.get("XDG_CACHE_HOME")
    if base:
        return Path(base) / "langlearn" / "spacy"
    try:
        return Path.home() / ".cache" / "langlearn" / "spacy"
    except RuntimeError:
        return None


class _WordLemmas(Protocol):
    kind: str

    def lemmas(self, words: set[str]) -> dict[str, str]:
        """The lemma of each word (stripped, no whitespace); a word the source leaves alone maps to itself."""
        ...


class SpacyLemmatizer:
    """Lemmatises single words per language; phrases and unknown words come back unchanged."""

    def __init__(self, models: Mapping[str, str], cache_dir: str | Path | None = None) -> None:
        """`models`: SPACY_MODELS; `cache_dir`: where the lookup lemma files go (default: `default_cache_dir()`)."""
        self._models = dict(models)
        self._cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._sources: dict[str, _WordLemmas | None] = {}
        self._load_lock = threading.Lock()
        self._call_locks: dict[str, threading.Lock] = {}

    def lemmatize(self, text: str, language: str) -> str:
        """The lemma of a single word, or `text` unchanged for phrases and unknown words.

        A capitalised word that is not in the tables as written is looked up lower-cased, so
        "Comían" at the start of a line still gives "comer" while German nouns keep their case.
        """
        return self.lemmatize_many([text], language)[0]

    def lemmatize_many(self, texts: Sequence[str], language: str) -> list[str]:
        """`lemmatize` of each text, in order, taking the language's lock once for the batch."""
        stripped = [text.strip() if _is_word(text) else None for text in texts]
        words = {word for word in stripped if word is not None}
        if not words:
            return list(texts)  # nothing to lemmatise: do not load anything
        source = self._source(language)
        if source is None:
            return list(texts)
        with self._call_locks[language]:
            found = source.lemmas(words)
            retry = {word.lower() for word in words if found[word] == word and word.lower() != word}
            lowered = source.lemmas(retry) if retry else {}
        return [
            text if word is None else _word_lemma(word, found, lowered) or text
            for text, word in zip(texts, stripped, strict=True)
        ]

    def warm_up(self, languages: Iterable[str]) -> None:
        """Load the lemmas of `languages` now (a start-up hook), instead of on first use."""
        for language in languages:
            self._source(language)

    def close(self) -> None:
        """Close the lemma files (SQLite connections); a later word opens its language again.

        Each file is closed under its language's lock, so a lemmatisation running in another thread
        finishes first.
        """
        with self._load_lock:
            sources, self._sources = self._sources, {}
        for language, source in sources.items():
            if isinstance(source, _LookupFile):
                with self._call_locks[language]:
                    source.close()

    def pipeline_kind(self, language: str) -> str:
        """Which pipeline `language` gets, without loading it: "trained", "blank" or "none"."""
        if self._trained_name(language) is not None:
            return "trained"
        return "blank" if _has_lookup_table(language) else "none"

    def _source(self, language: str) -> _WordLemmas | None:
        if language in self._sources:
            return self._sources[language]
        with self._load_lock:
            if language not in self._sources:
                self._call_locks[language] = threading.Lock()
                self._sources[language] = self._load(language)
            return self._sources[language]

    def _trained_name(self, language: str) -> str | None:
        name = self._models.get(language)
        if not name:
            return None  # no spaCy import (~80 MB) for a language without a model named
        import spacy.util

        if spacy.util.is_package(name) or Path(name).is_dir():
            return name
        return None

    def _load(self, language: str) -> _WordLemmas | None:
        started = time.perf_counter()
        trained = self._trained_name(language)
        try:
            source: _WordLemmas
            if trained is not None:
                source = _Pipeline(_load_trained(trained), "trained")
            else:
                if language in self._models:
                    logger.warning(
                        "spaCy: %s is not installed; using lookup lemmas for %s", self._models[language], language
                    )
                lookup = self._load_lookup(language) if _is_code(language) and _has_lookup_table(language) else None
                source = lookup if lookup is not None else _Pipeline(_build.blank_lookup_pipeline(language), "blank")
        except Exception as exc:  # any failure means "no lemmas", never a crash
            logger.warning("spaCy: no lemmatizer for %s (%s); words stay as typed", language, type(exc).__name__)
            return None
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("spaCy: %s pipeline for %s built in %.0f ms", trained or source.kind, language, elapsed_ms)
        return source

    def _load_lookup(self, language: str) -> _WordLemmas | None:
        """The compact lookup lemmas, or None when only the blank pipeline can give them."""
        try:
            return _LookupFile.open(language, self._cache_dir)
        except _Unsupported:
            logger.info("spaCy: %s has its own lookup rules; keeping its blank pipeline in memory", language)
        except Exception:
            logger.warning("spaCy: the lemma file for %s could not be built; using its blank pipeline", language,
                           exc_info=True)
        return None


def _load_trained(name: str) -> Language:
    import spacy

    return spacy.load(name)


class _Unsupported(Exception):
    """The language's blank pipeline has lemmas beyond its lookup table."""


class _Pipeline:
    """Lemmas from a spaCy pipeline, one `nlp(word)` per word."""

    def __init__(self, nlp: Language, kind: str) -> None:
        self.kind = kind
        self._nlp = nlp

    def lemmas(self, words: set[str]) -> dict[str, str]:
        """`nlp(word)`'s lemma when the tokenizer sees one token; the word itself otherwise (l'eau)."""
        found: dict[str, str] = {}
        for word in words:
            doc = self._nlp(word)
            found[word] = (str(doc[0].lemma_) or word) if len(doc) == 1 else word
        return found


class _LookupFile:
    """A language's lookup lemmas in SQLite (see `_build`): one indexed read a word, no spaCy.

    One read-only connection shared by threads (`check_same_thread=False`); the caller holds the
    language's lock around every call.
    """

    kind = "lookup"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    @classmethod
    def open(cls, language: str, cache_dir: Path | None) -> _LookupFile:
        """The file of `language` in `cache_dir`, built first when missing; in memory when it cannot be written."""
        versions = _build.versions()
        path = cache_dir / _file_name(language, versions) if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                return cls(_open_file(path, versions))
            except sqlite3.DatabaseError:
                logger.warning("spaCy: %s is damaged; building it again", path)
        if path is not None and _writable(path.parent):
            _run_build(language, str(path))
            _remove_stale(path)
            logger.info("spaCy: built the lemma file %s", path)
            return cls(_open_file(path, versions))
        logger.warning("spaCy: no writable cache directory (%s); keeping the %s lemmas in memory", cache_dir, language)
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            connection.deserialize(_run_build(language, "-"))
            _check(connection, versions)
        except BaseException:
            connection.close()
            raise
        return cls(connection)

    def close(self) -> None:
        self._connection.close()

    def lemmas(self, words: set[str]) -> dict[str, str]:
        """The stored lemma of each word; words not stored (their lemma is themselves) map to themselves."""
        found = {word: word for word in words}
        keys = list(words) if _encodable("".join(words)) else [word for word in words if _encodable(word)]
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(self._connection.execute(f"SELECT word, lemma FROM lemma WHERE word IN ({marks})", chunk))  # noqa: S608
        return found


def _file_name(language: str, versions: dict[str, str]) -> str:
    """`es-spacy3.8.18-lookups1.0.5-f1.1a2b3c4d.sqlite3`: new spaCy, spacy-lookups-data or `_build`: new file."""
    return f"{language}-spacy{versions['spacy']}-lookups{versions['spacy-lookups-data']}-f{versions['format']}.sqlite3"


def _open_file(path: Path, versions: dict[str, str]) -> sqlite3.Connection:
    """`path` read-only (`immutable`: no locks, no journal, works on a read-only file system)."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        _check(connection, versions)
    except BaseException:
        connection.close()
        raise
    return connection


def _check(connection: sqlite3.Connection, versions: dict[str, str]) -> None:
    stored = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    if any(stored.get(key) != value for key, value in versions.items()):
        raise sqlite3.DatabaseError(f"lemma file built for {stored}, not {versions}")
    if "unsupported" in stored:
        raise _Unsupported(stored["unsupported"])


def _writable(directory: Path) -> bool:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            return True
    except OSError:
        return False


def _run_build(language: str, out: str) -> bytes:
    """Runs `_build` in a child process (spaCy and the full table never enter this one); its stdout."""
    root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    done = subprocess.run(  # noqa: S603 - our own module, with this interpreter
        [sys.executable, "-c", _CHILD, language, out],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"building the {language} lemma file failed ({done.returncode}): " + " | ".join(tail))
    return done.stdout


def _remove_stale(path: Path) -> None:
    """Other versions' files of the same language (a spaCy upgrade leaves them behind)."""
    language = path.name.split("-spacy", 1)[0]
    for old in path.parent.glob(f"{language}-spacy*.sqlite3"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()


def _encodable(word: str) -> bool:
    """A str SQLite can take (lone surrogates cannot be UTF-8; no table key has one)."""
    try:
        word.encode()
    except UnicodeEncodeError:
        return False
    return True


def _word_lemma(word: str, found: Mapping[str, str], lowered: Mapping[str, str]) -> str:
    """The lemma of one stripped word from the batch's lemmas: as written, else of its lower-cased form.

    When neither form has a lemma the word keeps its capitals (German nouns).
    """
    lemma = found[word]
    if lemma == word and word.lower() != word:
        lower = word.lower()
        lemma = lowered[lower] if lowered[lower] != lower else word
    return lemma


def _is_word(text: str) -> bool:
    """A single word: something left after stripping, with no whitespace inside."""
    return len(text.split()) == 1  # str.split() splits on exactly the characters str.isspace() accepts


def _is_code(language: str) -> bool:
    """A plain language code ("es", "grc"): safe in a file name."""
    return language.isascii() and language.isalnum()


def _has_lookup_table(language: str) -> bool:
    from importlib.resources import files

    return files("spacy_lookups_data").joinpath("data", f"{language}_lemma_lookup.json.gz").is_file()
