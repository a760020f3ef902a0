"""The lookup lemma files: exactly the lemmas the in-memory blank pipelines gave, without spaCy in the process.

The oracle (tests/unit/lemma_oracle.py) is the lemmatisation SpacyLemmatizer did before the files:
a blank pipeline with the lookup lemmatizer in this process, one `nlp(word)` per word (the word
itself when the tokenizer splits it), the build's corrections of context-free guesses (checked
word by word in `test_hand_checked_lemmas`), and the lower-cased retry for capitalised words the
tables leave alone. The es, fr
and de files are those of the default cache directory, built by this code if missing (the hash
of `_build` is in their names, so an older build's file is never read); building from scratch,
in the real child process, is exercised on Tagalog and Dutch in temporary directories and on
French kept in memory.
"""

from __future__ import annotations

import gzip
import json
import logging
import sqlite3
import subprocess
import sys
import threading
from functools import cache
from importlib.resources import files
from pathlib import Path

import pytest

from core.outbound.spacy import SpacyLemmatizer
from core.outbound.spacy._build import versions
from core.outbound.spacy.lemmatizer import default_cache_dir
from tests.unit.lemma_oracle import oracle, pipeline

LANGUAGES = ["es", "fr", "de"]
ROOT = Path(__file__).resolve().parents[2]

INFLECTED = {
    "es": ["comían", "Comían", "COMÍAN", "casas", "Casas", "perros", "fuimos", "tengo", "hablaré", "niñas", "del"],
    "fr": [
        "maisons",
        "Maisons",
        "étaient",
        "ÉTAIT",
        "allons",
        "yeux",
        "aujourd'hui",
        "l'eau",
        "c'est-à-dire",
        "à-coups",
    ],
    "de": ["Häuser", "HÄUSER", "häuser", "Haus", "ging", "Kinder", "Straße", "STRASSE", "z.B.", "usw.", "Hallo-Welt"],
}
PHRASES = ["la casa", "se comían", "les maisons", "die Häuser", "", " ", "  ", "a  b", "\tcomían\n", " Häuser "]


@cache
def _table(language: str) -> dict[str, object]:
    path = files("spacy_lookups_data").joinpath("data", f"{language}_lemma_lookup.json.gz")
    with path.open("rb") as raw, gzip.open(raw) as unzipped:
        table: dict[str, object] = json.load(unzipped)
    return table


def _sample(language: str) -> list[str]:
    """3,000 keys spread over the table, some of their lemmas, every key the tokenizer treats
    specially (not alphabetic, or a tokenizer exception), capitalised / upper-cased / title-cased
    forms, inflected words, punctuation, phrases."""
    table = _table(language)
    keys = list(table)
    spread = keys[:: max(1, len(keys) // 3000)][:3000]
    lemmas = [value for value in (table[k] for k in spread[:500]) if isinstance(value, str)]
    rules = set(pipeline(language).tokenizer.rules or {})  # type: ignore[attr-defined]
    special = [key for key in keys if not key.isalpha() or key in rules]
    odd = [w.capitalize() for w in spread[:600]] + [w.upper() for w in spread[600:800]]
    odd += [w.title() for w in spread[800:900]] + [f"{w}." for w in spread[900:950]]
    odd += [f"¿{w}" for w in spread[950:970]]
    return spread + lemmas + special + odd + INFLECTED[language] + PHRASES + ["zzxqwv", "Zzxqwv", "x2", "3er", "ß"]


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    """The default cache directory with the es, fr and de files (built by three lemmatizers at once if missing).

    A file there was built by this very `_build` (its hash is in the name), so the files under test
    are the current code's; the build itself is exercised from scratch below (tl, nl, fr in memory).
    """
    directory = default_cache_dir()
    assert directory is not None, "no home directory for the default cache"
    threads = [
        threading.Thread(target=SpacyLemmatizer({}, cache_dir=directory).warm_up, args=([language],))
        for language in LANGUAGES
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return directory


@pytest.mark.parametrize("language", LANGUAGES)
def test_file_lemmas_equal_the_blank_pipeline(cache_dir: Path, language: str) -> None:
    lemmatizer = SpacyLemmatizer({}, cache_dir=cache_dir)
    words = _sample(language)
    expected = [oracle(language, word) for word in words]

    batched = lemmatizer.lemmatize_many(words, language)
    one_by_one = [lemmatizer.lemmatize(word, language) for word in words[::7]]

    mismatches = [(w, e, b) for w, e, b in zip(words, expected, batched, strict=True) if e != b]
    assert mismatches == []
    assert one_by_one == expected[::7]
    assert len(words) > 3000


def test_hand_checked_lemmas(cache_dir: Path) -> None:
    lemmatizer = SpacyLemmatizer({}, cache_dir=cache_dir)
    assert lemmatizer.lemmatize_many(["comían", "Comían", "la casa", "zzxqwv"], "es") == [
        "comer",
        "comer",
        "la casa",
        "zzxqwv",
    ]
    # the lookup table's context-free guesses a learner would find absurd are corrected by the lexicon
    # (left: what it gives, right: what a learner typing the word alone expects) …
    assert lemmas(lemmatizer, "es", {
        "casa": "casa", "mesa": "mesa", "casas": "casa", "agua": "agua", "aguas": "agua", "amigo": "amigo",
        "mercado": "mercado", "río": "río", "plantas": "planta", "redes": "red", "meses": "mes",
        "para": "para", "como": "como", "sobre": "sobre", "entre": "entre", "nada": "nada", "primero": "primero",
    })  # fmt: skip
    assert lemmas(lemmatizer, "en", {"clothes": "clothes", "amazing": "amazing", "boxes": "box", "churches": "church"})
    # … and the table's right guesses stay: verb forms, plurals of nouns it knows, ambiguous forms
    assert lemmas(lemmatizer, "es", {
        "comían": "comer", "fue": "ser", "hablo": "hablar", "hablas": "hablar", "tomas": "tomar", "quiere": "querer",
        "años": "año", "libros": "libro", "amo": "amar", "acompañado": "acompañar",
    })  # fmt: skip
    assert lemmas(lemmatizer, "en", {
        "going": "go", "said": "say", "words": "word", "years": "year", "men": "man", "lost": "lose",
        "writes": "write", "unites": "unite", "dines": "dine", "breathes": "breathe", "used": "use", "saw": "see",
    })  # fmt: skip
    assert lemmatizer.lemmatize("maisons", "fr") == "maison"
    assert lemmatizer.lemmatize("l'eau", "fr") == "l'eau"
    assert lemmatizer.lemmatize("Häuser", "de") == "Haus"
    assert lemmatizer.lemmatize("Haus", "de") == "Haus"


def lemmas(lemmatizer: SpacyLemmatizer, language: str, expected: dict[str, str]) -> bool:
    """Each word's lemma is the expected one (the mismatches are shown by the failing assert)."""
    got = dict(zip(expected, lemmatizer.lemmatize_many(list(expected), language), strict=True))
    assert got == expected
    return True


def test_one_file_per_language_named_by_the_versions(cache_dir: Path) -> None:
    from importlib.metadata import version

    build = versions()
    assert build["format"].startswith("1.")
    suffix = f"-spacy{version('spacy')}-lookups{version('spacy-lookups-data')}-f{build['format']}.sqlite3"
    for language in LANGUAGES:
        assert [path.name for path in cache_dir.glob(f"{language}-spacy*.sqlite3")] == [f"{language}{suffix}"]
    with sqlite3.connect(cache_dir / f"es{suffix}") as connection:
        assert connection.execute("SELECT lemma FROM lemma WHERE word = 'comían'").fetchone() == ("comer",)
        assert dict(connection.execute("SELECT key, value FROM meta WHERE key IN ('format', 'language')")) == {
            "format": build["format"],
            "language": "es",
        }


def test_a_process_using_the_files_never_imports_spacy(cache_dir: Path) -> None:
    """What the bot does at start (warm-up of three languages, then /add): spaCy stays out of memory."""
    script = (
        "import json, sys\n"
        "from core.outbound.spacy import SpacyLemmatizer\n"
        f"lemmatizer = SpacyLemmatizer({{}}, cache_dir={str(cache_dir)!r})\n"
        "lemmatizer.warm_up(['de', 'es', 'fr'])\n"
        "lemmas = [lemmatizer.lemmatize(w, l) for w, l in [('comían', 'es'), ('maisons', 'fr'), ('Häuser', 'de')]]\n"
        "print(json.dumps({'lemmas': lemmas, 'spacy': sorted(m for m in sys.modules if m.split('.')[0] == 'spacy')}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"lemmas": ["comer", "maison", "Haus"], "spacy": []}


def test_threads_share_a_language(cache_dir: Path) -> None:
    lemmatizer = SpacyLemmatizer({}, cache_dir=cache_dir)
    words = _sample("es")[:2000]
    expected = [oracle("es", word) for word in words]
    results: dict[int, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(n: int) -> None:
        barrier.wait()
        singles = [lemmatizer.lemmatize(w, "es") for w in words[n:200:4]]
        results[n] = lemmatizer.lemmatize_many(words[n::4], "es") + singles

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: expected[n::4] + expected[n:200:4] for n in range(4)}


def _built(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "built the lemma file" in r.getMessage()]


def test_the_file_is_built_once_and_opened_on_later_starts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    stale = tmp_path / "tl-spacy0.0.1-lookups0.0.1-f1.sqlite3"
    stale.write_bytes(b"an older version's file")
    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        assert SpacyLemmatizer({}, cache_dir=tmp_path).lemmatize("kabayanihan", "tl") == "bayani"
        assert len(_built(caplog)) == 1
        (built,) = tmp_path.glob("tl-*.sqlite3")  # the stale one is gone
        modified = built.stat().st_mtime_ns
        caplog.clear()

        again = SpacyLemmatizer({}, cache_dir=tmp_path)
        assert again.lemmatize("kabayanihan", "tl") == "bayani"
        assert again.lemmatize("Kabayanihan", "tl") == "bayani"
        assert _built(caplog) == []
    assert built.stat().st_mtime_ns == modified
    assert not stale.exists()


def test_a_damaged_file_is_built_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    SpacyLemmatizer({}, cache_dir=tmp_path).warm_up(["tl"])
    (path,) = tmp_path.glob("tl-*.sqlite3")
    path.write_bytes(b"not a database" * 100)
    caplog.clear()

    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        assert SpacyLemmatizer({}, cache_dir=tmp_path).lemmatize("kabayanihan", "tl") == "bayani"
    assert len(_built(caplog)) == 1
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT lemma FROM lemma WHERE word = 'kabayanihan'").fetchone() == ("bayani",)


def test_an_unwritable_cache_directory_keeps_the_lemmas_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only container: the directory cannot be created (here: a file stands in its way)."""
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("")
    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        lemmatizer = SpacyLemmatizer({}, cache_dir=blocker / "cache")
        words = _sample("fr")[:1500]
        assert lemmatizer.lemmatize_many(words, "fr") == [oracle("fr", word) for word in words]
    assert any("keeping the fr lemmas in memory" in r.getMessage() for r in caplog.records)
    assert sorted(tmp_path.iterdir()) == [blocker]


def test_dutch_keeps_its_blank_pipeline(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Dutch's lemmatizer has its own lookup rules: the pipeline in memory, the same lemmas as before;
    its file only says so, and a later start does not build it again."""
    words = ["huizen", "Huizen", "liep", "katten", "de huizen", "zzxqwv"]
    with caplog.at_level(logging.INFO, logger="core.outbound.spacy.lemmatizer"):
        got = SpacyLemmatizer({}, cache_dir=tmp_path).lemmatize_many(words, "nl")
        assert got == [oracle("nl", word) for word in words]
        assert any("blank pipeline for nl built" in r.getMessage() for r in caplog.records)
        assert len(_built(caplog)) == 1
        caplog.clear()

        assert SpacyLemmatizer({}, cache_dir=tmp_path).lemmatize_many(words, "nl") == got
        assert _built(caplog) == []
    (path,) = tmp_path.glob("nl-*.sqlite3")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM lemma").fetchone() == (0,)
        (reason,) = connection.execute("SELECT value FROM meta WHERE key = 'unsupported'").fetchone()
    assert "DutchLemmatizer" in reason


def test_close_closes_the_lemma_files_and_a_later_word_opens_them_again(cache_dir: Path) -> None:
    lemmatizer = SpacyLemmatizer({}, cache_dir=cache_dir)
    assert lemmatizer.lemmatize("comían", "es") == "comer"
    files = [source for source in lemmatizer._sources.values() if source is not None]
    lemmatizer.close()
    for source in files:
        with pytest.raises(sqlite3.ProgrammingError):  # closed: no file handle left open at shutdown
            source.lemmas({"comían"})
    assert lemmatizer.lemmatize("comían", "es") == "comer"
