"""Pack import and subscription.

1. A 50,000-row CSV (real Spanish lemmas) imported through PackService.import_file into a new
   pack, beside a minimal raw importer of the same file: csv.reader + asyncpg COPY into
   pack_entry (ids generated, lemma = lower-cased term, no NLP) — and COPY alone. Runs alternate;
   medians. Goal (issue 2): the service within 2x of the raw importer.
2. Subscribing a learner (who already has 1,000 words, 500 of them in the pack) to a published
   5,000-entry pack through PackService.subscribe, beside the same work as two hand-written SQL
   statements (INSERT … SELECT of the missing words, then their cards). Goal: under 1 s.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import statistics
import uuid
from typing import Any

import asyncpg
from _common import emit, fresh_database, log, now_ns, ratio
from _data import pack_csv, pack_rows

IMPORT_ROWS = 50_000
SUB_ENTRIES = 5_000
RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "3"))
SUB_RUNS = int(os.environ.get("BENCH_SUB_RUNS", "3"))
EXISTING_WORDS = 1_000
OVERLAP = 500

ENTRY_COLUMNS = ["id", "pack_id", "term", "lemma", "translation", "example", "position"]

SUBSCRIBE_SQL = """
WITH fresh AS (
    INSERT INTO word_bank_entry (id, learner_id, pair_id, term, lemma, translation, context, example, source,
                                 created_at)
    SELECT gen_random_uuid(), $1, $2, pe.term, lower(pe.lemma), pe.translation, NULL, pe.example, $3,
           now() + pe.position * interval '1 microsecond'
    FROM pack_entry pe
    WHERE pe.pack_id = $4
      AND NOT EXISTS (SELECT 1 FROM word_bank_entry w WHERE w.pair_id = $2 AND w.lemma = lower(pe.lemma))
    ON CONFLICT (pair_id, lemma) DO NOTHING
    RETURNING id
)
INSERT INTO flashcard (id, learner_id, pair_id, entry_id, direction, state, step, stability, difficulty, due,
                       last_review, created_at, suspended, queue)
SELECT gen_random_uuid(), $1, $2, fresh.id, 'recognition', 0, NULL, NULL, NULL, now(), NULL, now(), false, 0
FROM fresh
"""


# --- import -----------------------------------------------------------------------------------


async def raw_import(conn: asyncpg.Connection, pack_id: uuid.UUID, data: bytes) -> tuple[int, int]:
    """The floor: parse the file and COPY the rows; returns (rows, copy-only ns)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)  # header
    records = [
        (uuid.uuid4(), pack_id, term, term.lower(), translation, example or None, position)
        for position, (term, translation, example) in enumerate(reader)
    ]
    t0 = now_ns()
    async with conn.transaction():
        await conn.copy_records_to_table("pack_entry", records=records, columns=ENTRY_COLUMNS)
    return len(records), now_ns() - t0


async def _import_runs(services: Any, conn: asyncpg.Connection, data: bytes) -> dict[str, Any]:
    service_ns: list[int] = []
    raw_ns: list[int] = []
    copy_ns: list[int] = []
    report = None
    # A first, untimed import of a small file loads the lemmatizer pipeline (once per process).
    await services.packs.create_pack("bench-warm", "es", "en", "A1", "warm-up")
    await services.packs.import_file("bench-warm", pack_csv(pack_rows(50, seed=1)), "warm.csv")
    for run in range(RUNS):
        slug = f"bench-import-{run}"
        await services.packs.create_pack(slug, "es", "en", "B1", f"Import {run}")
        t0 = now_ns()
        report = await services.packs.import_file(slug, data, "words.csv")
        service_ns.append(now_ns() - t0)
        await services.packs.create_pack(f"bench-raw-{run}", "es", "en", "B1", f"Raw {run}")
        pack_id = await conn.fetchval("SELECT id FROM pack WHERE slug = $1", f"bench-raw-{run}")
        t0 = now_ns()
        rows, copy_only = await raw_import(conn, pack_id, data)
        raw_ns.append(now_ns() - t0)
        copy_ns.append(copy_only)
        log(f"import run {run}: service {service_ns[-1] / 1e9:.2f}s, raw {raw_ns[-1] / 1e9:.2f}s ({rows} rows)")
    assert report is not None
    if report.added != IMPORT_ROWS:
        raise SystemExit(f"bench: the service added {report.added} of {IMPORT_ROWS} rows: {report!r}")
    service_ms = _median_ms(service_ns)
    raw_ms = _median_ms(raw_ns)
    copy_ms = _median_ms(copy_ns)
    return {
        "rows": IMPORT_ROWS,
        "runs": RUNS,
        "service_median_ms": service_ms,
        "service_runs_ms": [round(x / 1e6, 1) for x in service_ns],
        "service_rows_per_s": round(IMPORT_ROWS / (service_ms / 1000)),
        "raw_parse_and_copy_median_ms": raw_ms,
        "raw_copy_only_median_ms": copy_ms,
        "ratio_to_raw_importer": ratio(service_ms, raw_ms),
        "ratio_to_copy_only": ratio(service_ms, copy_ms),
    }


# --- subscribe --------------------------------------------------------------------------------


async def _learner_with_words(services: Any, name: str, pack_terms: list[str]) -> str:
    """A learner with an active es→en pair and EXISTING_WORDS words, OVERLAP of them in the pack."""
    learner, _ = await services.accounts.ensure_learner("bench", name, name)
    await services.languages.set_pair(learner.id, "es", "en", "A2")
    others = [t for t, _, _ in pack_rows(EXISTING_WORDS + SUB_ENTRIES, seed=99) if t not in set(pack_terms)]
    words = pack_terms[:OVERLAP] + others[: EXISTING_WORDS - OVERLAP]
    for i in range(0, len(words), 100):
        result = await services.vocabulary.add_words(learner.id, [f"{w} = known {w}" for w in words[i : i + 100]])
        if result.rejected:
            raise SystemExit(f"bench: words rejected while preparing a learner: {result.rejected[:3]}")
    return str(learner.id)


async def _subscribe_runs(services: Any, conn: asyncpg.Connection) -> dict[str, Any]:
    rows = pack_rows(SUB_ENTRIES, seed=5)
    await services.packs.create_pack("bench-sub", "es", "en", "A2", "Five thousand words")
    report = await services.packs.import_file("bench-sub", pack_csv(rows), "sub.csv")
    if report.added != SUB_ENTRIES:
        raise SystemExit(f"bench: the 5,000-entry pack got {report.added} entries")
    await services.packs.publish("bench-sub")
    pack_id = await conn.fetchval("SELECT id FROM pack WHERE slug = 'bench-sub'")
    pack_terms = [t for t, _, _ in rows]
    first_ns: list[int] = []
    again_ns: list[int] = []
    raw_ns: list[int] = []
    added = []
    insert_cards = await conn.prepare(SUBSCRIBE_SQL)
    for run in range(SUB_RUNS):
        learner_id = await _learner_with_words(services, f"sub{run}", pack_terms)
        t0 = now_ns()
        result = await services.packs.subscribe(learner_id, "bench-sub")
        first_ns.append(now_ns() - t0)
        added.append(result.added)
        t0 = now_ns()
        again = await services.packs.subscribe(learner_id, "bench-sub")
        again_ns.append(now_ns() - t0)
        if again.added != 0:
            raise SystemExit("bench: subscribing twice added words")
        raw_learner = await _learner_with_words(services, f"raw{run}", pack_terms)
        pair_id = await conn.fetchval(
            "SELECT id FROM language_pair WHERE learner_id = $1 AND is_active", uuid.UUID(raw_learner)
        )
        t0 = now_ns()
        async with conn.transaction():
            await insert_cards.fetch(uuid.UUID(raw_learner), pair_id, "pack:bench-sub", pack_id)
        raw_ns.append(now_ns() - t0)
        cards = await conn.fetchval("SELECT count(*) FROM flashcard WHERE learner_id = $1", uuid.UUID(raw_learner))
        log(
            f"subscribe run {run}: service {first_ns[-1] / 1e6:.0f} ms (added {result.added}), "
            f"again {again_ns[-1] / 1e6:.0f} ms, raw {raw_ns[-1] / 1e6:.0f} ms ({cards} cards)"
        )
    return {
        "pack_entries": SUB_ENTRIES,
        "learner_words_before": EXISTING_WORDS,
        "added": added[0],
        "runs": SUB_RUNS,
        "service_median_ms": _median_ms(first_ns),
        "service_max_ms": round(max(first_ns) / 1e6, 1),
        "again_median_ms": _median_ms(again_ns),
        "raw_sql_median_ms": _median_ms(raw_ns),
        "ratio_to_raw_sql": ratio(_median_ms(first_ns), _median_ms(raw_ns)),
    }


def _median_ms(values: list[int]) -> float:
    return round(statistics.median(values) / 1e6, 1)


async def run() -> None:
    started = now_ns()
    from core.bootstrap import bootstrap
    from core.config import Settings

    data = pack_csv(pack_rows(IMPORT_ROWS))
    async with fresh_database() as db:
        settings = Settings(_env_file=None, DATABASE_URL=db.url, DEEPL_API_KEY=None)  # type: ignore[call-arg]
        services = await bootstrap(settings)
        conn = await asyncpg.connect(db.dsn)
        try:
            imported = await _import_runs(services, conn, data)
            subscribed = await _subscribe_runs(services, conn)
        finally:
            await conn.close()
            await services.aclose()
    goals = {
        "import_within_2x_raw_importer": imported["ratio_to_raw_importer"] <= 2.0,
        "import_within_2x_copy_only": imported["ratio_to_copy_only"] <= 2.0,
        "subscribe_5000_under_1s": subscribed["service_max_ms"] < 1000.0,
    }
    emit(
        "pack_import", {"csv_bytes": len(data), "import": imported, "subscribe": subscribed}, goals, started_ns=started
    )


if __name__ == "__main__":
    asyncio.run(run())
