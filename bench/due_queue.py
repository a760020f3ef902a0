"""Due queue: next-card latency for learners with 1k, 10k and 100k cards among 1M cards.

The table is bulk-loaded with COPY (the three measured learners plus ~890 others of 1k cards).
Measured, interleaved across the three sizes so drift hits them alike:
- `repo`: FlashcardRepository.next_due(pair, now) inside one open unit of work (query + mapping);
- `service`: ReviewService.next_card(learner) (its own unit of work: what a learner waits for);
- `floor`: the hand-written equivalent of next_due's SQL as an asyncpg prepared statement.
EXPLAIN (ANALYZE) of the captured next_due statement (and of next_card's own statement, which finds
the active pair in a subquery) shows which index serves it.
Goals (issue 2): p99 < 2 ms at 100k; at most 1.5x growth from 1k to 100k.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from _common import (
    BenchDatabase,
    StatementRecorder,
    emit,
    fresh_database,
    latency_ms,
    log,
    now_ns,
    ratio,
    short_sql,
)
from _load import BulkLoader, LearnerSpec

SIZES = (1_000, 10_000, 100_000)
TOTAL_CARDS = int(os.environ.get("BENCH_DUE_TOTAL", "1000000"))
OTHER_LEARNER_CARDS = 1_000
ITERATIONS = int(os.environ.get("BENCH_DUE_ITERATIONS", "2000"))
WARMUP = 200

# Hand-written: the earliest scheduled card of the pair that is due, with its two sides.
FLOOR_SQL = """
SELECT f.id, f.learner_id, f.pair_id, f.entry_id, f.direction, f.state, f.step, f.stability,
       f.difficulty, f.due, f.last_review, f.created_at, f.suspended,
       e.term, e.translation, e.context, p.target, p.native
FROM flashcard f
JOIN word_bank_entry e ON e.id = f.entry_id
JOIN language_pair p ON p.id = f.pair_id
WHERE f.pair_id = $1 AND f.queue = 1 AND f.due <= $2
ORDER BY f.due
LIMIT 1
"""

Probe = Callable[[LearnerSpec], Awaitable[object]]


async def _load(db: BenchDatabase) -> list[LearnerSpec]:
    measured = [LearnerSpec(cards=n, platform_user_id=f"size{n}") for n in SIZES]
    others = (TOTAL_CARDS - sum(SIZES)) // OTHER_LEARNER_CARDS
    specs = measured + [LearnerSpec(cards=OTHER_LEARNER_CARDS, platform_user_id=f"o{i}") for i in range(others)]
    conn = await asyncpg.connect(db.dsn)
    try:
        started = now_ns()
        # Interleave the measured learners among the others so their rows are not all at one end.
        order = specs[3:]
        for k, spec in enumerate(measured):
            order.insert((k + 1) * len(order) // 4, spec)
        await BulkLoader(conn).load(order)
        total = await conn.fetchval("SELECT count(*) FROM flashcard")
        log(f"loaded {total} cards for {len(specs)} learners in {(now_ns() - started) / 1e9:.1f}s")
    finally:
        await conn.close()
    return measured


async def _measure(probes: dict[str, Probe], learners: list[LearnerSpec]) -> dict[str, dict[int, list[int]]]:
    """Interleaved timing: every iteration calls every probe for every size, in rotating order."""
    samples: dict[str, dict[int, list[int]]] = {name: {s.cards: [] for s in learners} for name in probes}
    for i in range(WARMUP + ITERATIONS):
        rotated = learners[i % len(learners) :] + learners[: i % len(learners)]
        for name, probe in probes.items():
            for spec in rotated:
                t0 = now_ns()
                result = await probe(spec)
                elapsed = now_ns() - t0
                if result is None:
                    raise SystemExit(f"bench: {name} found no due card for the {spec.cards}-card learner")
                if i >= WARMUP:
                    samples[name][spec.cards].append(elapsed)
    return samples


def _plan_nodes(plan: dict[str, Any]) -> list[str]:
    node = plan["Node Type"] + (f" using {plan['Index Name']}" if "Index Name" in plan else "")
    if "Relation Name" in plan:
        node += f" on {plan['Relation Name']}"
    return [node] + [n for child in plan.get("Plans", []) for n in _plan_nodes(child)]


async def _explain(db: BenchDatabase, statement: str, parameters: Any) -> dict[str, Any]:
    conn = await asyncpg.connect(db.dsn)
    try:
        raw = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", *parameters)
    finally:
        await conn.close()
    doc = json.loads(raw) if isinstance(raw, str) else raw
    plan = doc[0]["Plan"]
    nodes = _plan_nodes(plan)
    on_cards = [n for n in nodes if n.endswith("on flashcard")]
    return {
        "nodes": nodes,
        "flashcard_access": on_cards,
        "index_scan": bool(on_cards) and all("Index" in n for n in on_cards),
        "execution_ms": doc[0].get("Execution Time"),
        "shared_hit_blocks": plan.get("Shared Hit Blocks"),
    }


async def run() -> None:
    started = now_ns()
    from core.bootstrap import bootstrap
    from core.config import Settings
    from core.outbound.postgres.database import Database

    async with fresh_database() as db:
        learners = await _load(db)
        settings = Settings(_env_file=None, DATABASE_URL=db.url, DEEPL_API_KEY=None)  # type: ignore[call-arg]
        services = await bootstrap(settings)
        database = Database(db.url)
        floor_conn = await asyncpg.connect(db.dsn)
        floor_stmt = await floor_conn.prepare(FLOOR_SQL)
        recorder = StatementRecorder()
        try:
            with recorder:
                async with database.unit_of_work() as uow:
                    # The learner's current time: the cards were loaded relative to the load time.
                    recorder.recording = True
                    now = datetime.now(UTC)
                    probe_card = await uow.cards.next_due(str(learners[-1].pair_id), now)
                    captured = [c for c in recorder.take() if c.parameters is not None]
                    await services.reviews.next_card(str(learners[-1].id))
                    service_sql = recorder.take()
                    recorder.recording = False
                    if probe_card is None:
                        raise SystemExit("bench: next_due found nothing for the 100k learner")
                    clock_now = datetime.now(UTC)

                    async def repo(spec: LearnerSpec) -> object:
                        return await uow.cards.next_due(str(spec.pair_id), clock_now)

                    async def service(spec: LearnerSpec) -> object:
                        return await services.reviews.next_card(str(spec.id))

                    async def floor(spec: LearnerSpec) -> object:
                        return await floor_stmt.fetchrow(spec.pair_id, clock_now)

                    samples = await _measure({"repo": repo, "service": service, "floor": floor}, learners)
            plan = await _explain(db, captured[-1].statement, captured[-1].parameters)
            service_query = [c for c in service_sql if c.parameters is not None][-1]
            service_plan = await _explain(db, service_query.statement, service_query.parameters)
        finally:
            await floor_conn.close()
            await database.dispose()
            await services.aclose()
    _report(samples, captured, service_sql, plan, service_plan, started)


def _report(
    samples: dict[str, dict[int, list[int]]],
    captured: list[Any],
    service_sql: list[Any],
    plan: dict[str, Any],
    service_plan: dict[str, Any],
    started: int,
) -> None:
    stats = {name: {str(size): latency_ms(values) for size, values in per.items()} for name, per in samples.items()}
    big, small = str(SIZES[-1]), str(SIZES[0])

    def growth(name: str, key: str) -> float:
        return ratio(stats[name][big][key], stats[name][small][key])

    figures = {
        "total_cards": TOTAL_CARDS,
        "iterations": ITERATIONS,
        "next_card_service": {k: _brief(v) for k, v in stats["service"].items()},
        "next_due_repo": {k: _brief(v) for k, v in stats["repo"].items()},
        "floor_asyncpg": {k: _brief(v) for k, v in stats["floor"].items()},
        "growth_100k_over_1k": {
            "service_p50": growth("service", "p50_ms"),
            "service_p99": growth("service", "p99_ms"),
            "repo_p50": growth("repo", "p50_ms"),
            "repo_p99": growth("repo", "p99_ms"),
            "floor_p50": growth("floor", "p50_ms"),
        },
        "ratio_to_floor_100k": {
            "service_p50": ratio(stats["service"][big]["p50_ms"], stats["floor"][big]["p50_ms"]),
            "repo_p50": ratio(stats["repo"][big]["p50_ms"], stats["floor"][big]["p50_ms"]),
        },
        "next_due_sql": [short_sql(c.statement, 400) for c in captured],
        "next_card_service_sql": [short_sql(c.statement, 90) for c in service_sql],
        "explain": plan,
        "explain_service": service_plan,
    }
    goals = {
        "service_p99_100k_under_2ms": stats["service"][big]["p99_ms"] < 2.0,
        "repo_p99_100k_under_2ms": stats["repo"][big]["p99_ms"] < 2.0,
        "growth_p50_at_most_1_5x": growth("service", "p50_ms") <= 1.5 and growth("repo", "p50_ms") <= 1.5,
        "growth_p99_at_most_1_5x": growth("service", "p99_ms") <= 1.5 and growth("repo", "p99_ms") <= 1.5,
        "explain_index_scan": plan["index_scan"] and service_plan["index_scan"],
    }
    emit("due_queue", figures, goals, started_ns=started)


def _brief(s: dict[str, float]) -> dict[str, float]:
    return {"p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"], "max_ms": s["max_ms"]}


if __name__ == "__main__":
    asyncio.run(run())
