"""Deterministic test data for the benchmarks: real Spanish lemmas, pack CSVs, card schedules."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from functools import cache
from pathlib import Path


@cache
def spanish_lemmas() -> tuple[str, ...]:
    """Distinct Spanish lemmas from spacy-lookups-data (installed locally; no network), sorted."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "es_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        table: dict[str, str] = json.load(fh)
    return tuple(sorted({lemma for lemma in table.values() if lemma.isalpha() and 2 <= len(lemma) <= 30}))


def spanish_terms(n: int, seed: int = 42) -> list[str]:
    """`n` distinct lemmas (case-insensitively distinct), in a seeded random order."""
    pool = list({w.lower(): w for w in spanish_lemmas()}.values())
    if n > len(pool):
        raise SystemExit(f"bench: only {len(pool)} distinct lemmas available, {n} asked")
    return random.Random(seed).sample(pool, n)


def pack_rows(n: int, seed: int = 42) -> list[tuple[str, str, str]]:
    """(term, translation, example) rows; every third row has an example sentence."""
    rows = []
    for i, term in enumerate(spanish_terms(n, seed)):
        example = f"Uso {term} cada día." if i % 3 == 0 else ""
        rows.append((term, f"meaning {i}", example))
    return rows


def pack_csv(rows: list[tuple[str, str, str]], *, header: bool = True) -> bytes:
    """The rows as a UTF-8 CSV file, as an admin would attach it."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if header:
        writer.writerow(["term", "translation", "example"])
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")
