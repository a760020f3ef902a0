"""Builds a language's compact lemma table: what a blank lookup pipeline gives each word, in SQLite.

Run as its own process (`main([LANG, OUT])`, which SpacyLemmatizer starts with this interpreter) so that spaCy and the
full lookup table (hundreds of MB of Python dicts) are never loaded into the bot or the worker.

For every key of the language's `lemma_lookup` table (spacy-lookups-data, read the way spaCy's
lookup lemmatizer reads it), the lemma is the one the blank pipeline gives the word on its own
(but see `Lexicon` below):
the table's entry when the tokenizer keeps the word whole (checked as before: alphabetic, no
tokenizer special case, no prefix/suffix/infix split), else `nlp(word)` (the word itself when the
tokenizer splits it). A word that is not a key comes back as itself whatever the tokenizer does
(one token: `table.get(word, word)`; split: the word), so only keys whose lemma differs from the
key are stored. The file holds `lemma(word TEXT PRIMARY KEY, lemma TEXT) WITHOUT ROWID` and a
`meta` table.

OUT is a path (written to a temporary name beside it, then renamed into place, so readers never
see half a file and two processes building at once both end with a whole file) or "-": the
database, serialised, on stdout (for a read-only cache directory: the caller keeps it in memory).

A language whose blank pipeline is not a plain lookup lemmatizer (Dutch has its own lookup
rules) gets a file with no lemmas and `unsupported` in `meta`: the caller keeps the spaCy pipeline.

The lookup tables guess a word's lemma without context, and some guesses are wrong for a word a
learner types on its own: Spanish "casa" → "casar", "agua" → "aguar", "para" → "parir",
"primero" → "1". `Lexicon` corrects them where spacy-lookups-data also has the language's
`lemma_index` (the lemmas its rule lemmatizer knows, by part of speech) and `lexeme_prob` (word
frequencies): Spanish and English. A word keeps itself, or goes to its singular, when
- it (or its -s / consonant + -es singular) is a known noun or adjective, the table's guess is
  neither, and the noun is clearly the commoner word (≥ e× the guess's frequency): "casa",
  "agua", "amigo", "casas" → "casa", "amazing", "clothes"; but "años" → "año", "hablas" →
  "hablar", "amo" → "amar", "lost" → "lose" as before;
- the guess is not a word at all ("primero" → "1");
- it is one of the language's function words the table turns into verbs (`FUNCTION_WORDS`).
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from spacy.language import Language

SCHEMA = (
    "CREATE TABLE lemma (word TEXT PRIMARY KEY, lemma TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)


class Unsupported(Exception):
    """The blank pipeline's lemmas are not just its lookup table's (a language's own lemmatizer)."""


def blank_lookup_pipeline(language: str) -> Language:
    """`spacy.blank(language)` with the lookup lemmatizer, as SpacyLemmatizer used to keep it."""
    import spacy

    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def table_of(nlp: Language) -> dict[str, Any]:
    """The pipeline's `lemma_lookup` table with its string keys (spaCy's own Table keeps hashes).

    Read with spaCy's loader from the data its lemmatizer loaded, then checked against the
    pipeline's table entry by entry, so the two cannot differ.
    """
    from spacy.lookups import load_language_data  # type: ignore[attr-defined]
    from spacy.pipeline import Lemmatizer
    from spacy.util import registry

    if nlp.pipe_names != ["lemmatizer"]:
        raise Unsupported("not a lemmatizer-only pipeline")
    pipe = nlp.get_pipe("lemmatizer")
    if not isinstance(pipe, Lemmatizer) or pipe.mode != "lookup":
        raise Unsupported("not a lookup lemmatizer")
    if type(pipe).lookup_lemmatize is not Lemmatizer.lookup_lemmatize:
        raise Unsupported(f"{type(pipe).__name__} has its own lookup rules")
    if not pipe.lookups.has_table("lemma_lookup") or pipe.lookups.tables != ["lemma_lookup"]:
        raise Unsupported("the lemmatizer uses tables beside lemma_lookup")
    loaded = pipe.lookups.get_table("lemma_lookup")
    data: dict[str, Any] = dict(load_language_data(registry.lookups.get(nlp.lang)["lemma_lookup"]))
    if len(data) != len(loaded) or any(loaded.get(key) != value for key, value in data.items()):
        raise Unsupported("the lookup data differs from the pipeline's table")
    return data


# Prepositions, adverbs, numerals and the like that the Spanish table maps to verbs ("para" →
# "parir", "sobre" → "sobrar", "nada" → "nadar"): kept as they are.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "es": frozenset(
        [
            "acuerdo",
            "adelante",
            "además",
            "ademas",
            "apenas",
            "arriba",
            "así",
            "bajo",
            "cinco",
            "como",
            "demasiado",
            "dos",
            "embargo",
            "encima",
            "enfrente",
            "entre",
            "junto",
            "largo",
            "medio",
            "mío",
            "nada",
            "para",
            "primer",
            "primero",
            "respecto",
            "salvo",
            "segunda",
            "segundo",
            "sobre",
            "supuesto",
            "tarde",
            "tercero",
            "último",
            "ultimo",
            "uno",
        ]
    ),
}
# A plural in -es drops "es" after these endings of the singular (Spanish: any consonant, "red" →
# "redes"; English: a sibilant, "box" → "boxes", where "unites" is not "unit" + "es").
_ES_PLURAL_AFTER: dict[str, tuple[str, ...]] = {"en": ("s", "x", "z", "ch", "sh")}
_UNKNOWN = -30.0  # the log-probability of a word missing from `lexeme_prob`
_CLEARLY_COMMONER = 1.0  # log-probability margin: e (≈ 2.7) times as frequent
_VOWELS = frozenset("aeiouáéíóúü")


@dataclass(frozen=True)
class Lexicon:
    """What the language's data says beside its lookup table (empty: no corrections)."""

    nominal: frozenset[str] = frozenset()  # noun and adjective lemmas
    probability: dict[str, float] = field(default_factory=dict)  # log-probabilities of words
    function_words: frozenset[str] = frozenset()
    es_plural_after: tuple[str, ...] | None = None  # None: after any consonant

    @classmethod
    def of(cls, nlp: Language) -> Lexicon:
        language = str(nlp.lang)
        index = _lookup_data(f"{language}_lemma_index")
        probability = _lookup_data(f"{language}_lexeme_prob")
        if index is None or probability is None:
            return cls()
        nominal = frozenset([*index.get("noun", []), *index.get("adj", [])])
        function_words = FUNCTION_WORDS.get(language, frozenset())
        return cls(nominal, probability, function_words, _ES_PLURAL_AFTER.get(language))

    def lemma(self, word: str, guess: str) -> str:
        """The lemma of `word` whose table lemma is `guess` (see the module docstring)."""
        if guess == word or not self.nominal:
            return guess
        if word in self.function_words or (word.isalpha() and not guess.isalpha()):
            return word
        if guess in self.nominal:
            return guess
        for noun in self._nouns_of(word):
            if self.probability.get(noun, _UNKNOWN) >= self.probability.get(guess, _UNKNOWN) + _CLEARLY_COMMONER:
                return noun
        return guess

    def _nouns_of(self, word: str) -> list[str]:
        """`word` or its singular, where that is a known noun or adjective."""
        forms = [word]
        if word.endswith("s"):
            forms.append(word[:-1])
            singular = word[:-2]
            if word.endswith("es") and len(singular) > 1:
                after = self.es_plural_after
                if singular.endswith(after) if after is not None else singular[-1] not in _VOWELS:
                    forms.append(singular)
        return [form for form in forms if form in self.nominal]


def _lookup_data(name: str) -> Any:
    """A table of spacy-lookups-data (`es_lemma_index` …) as JSON, or None when it has none."""
    from importlib.resources import files

    path = files("spacy_lookups_data").joinpath("data", f"{name}.json.gz")
    if not path.is_file():
        return None
    with path.open("rb") as raw, gzip.open(raw) as unzipped:
        return json.load(unzipped)


def lemma_rows(nlp: Language, table: dict[str, Any], lexicon: Lexicon | None = None) -> Iterator[tuple[str, str]]:
    """(key, lemma) for each table key whose lemma, on its own, is not the key itself."""
    lexicon = lexicon or Lexicon()
    tokenizer = nlp.tokenizer
    rules: dict[str, Any] = dict(getattr(tokenizer, "rules", None) or {})
    prefix = getattr(tokenizer, "prefix_search", None)
    suffix = getattr(tokenizer, "suffix_search", None)
    infix = getattr(tokenizer, "infix_finditer", None)

    def splits(word: str) -> bool:
        if prefix is not None and prefix(word) is not None:
            return True
        if suffix is not None and suffix(word) is not None:
            return True
        return infix is not None and next(iter(infix(word)), None) is not None

    for word, found in table.items():
        if word.isalpha() and word not in rules and not splits(word):
            value = found if isinstance(found, str) else found[0]
            lemma = str(value) or word
        else:
            doc = nlp(word)
            lemma = (str(doc[0].lemma_) or word) if len(doc) == 1 else word
        lemma = lexicon.lemma(word, lemma)
        if lemma != word:
            yield word, lemma


def build(language: str, connection: sqlite3.Connection, versions: dict[str, str]) -> int:
    """Fills `connection` (an empty database) with `language`'s lemmas; the number of rows.

    A language whose lemmas are not just its table's gets a file with no rows and `unsupported`
    in `meta`, so later starts know without building again.
    """
    for statement in SCHEMA:
        connection.execute(statement)
    nlp = blank_lookup_pipeline(language)
    meta = {**versions, "language": language}
    try:
        table = table_of(nlp)
    except Unsupported as exc:
        rows: list[tuple[str, str]] = []
        meta["unsupported"] = str(exc)
    else:
        rows = sorted(lemma_rows(nlp, table, Lexicon.of(nlp)))  # sorted: the B-tree is written in order, compactly
        meta.update(entries=str(len(table)), rows=str(len(rows)))
    connection.executemany("INSERT INTO lemma VALUES (?, ?)", rows)
    connection.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    connection.commit()
    return len(rows)


def versions() -> dict[str, str]:
    """What the lemmas depend on: spaCy (its tokenizers), spacy-lookups-data, and this file.

    `format` is "1." and the first 8 hex digits of this file's SHA-256, so a change to how the
    lemmas are built never reads a file an older build wrote.
    """
    import hashlib
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]
    return {"format": f"1.{digest}", "spacy": version("spacy"), "spacy-lookups-data": version("spacy-lookups-data")}


def write(language: str, out: str) -> None:
    """Builds `language`'s file at `out` (atomically) or, for "-", onto stdout."""
    if out == "-":
        connection = sqlite3.connect(":memory:")
        build(language, connection, versions())
        sys.stdout.buffer.write(connection.serialize())
        sys.stdout.buffer.flush()
        connection.close()
        return
    target = Path(out)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            build(language, connection, versions())
            connection.execute("VACUUM")
        finally:
            connection.close()
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def main(argv: list[str]) -> int:
    """`LANG OUT`: see the module docstring."""
    language, out = argv
    write(language, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
