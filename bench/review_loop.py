"""Review loop: simulated learners answering cards through the chat layer, services and Postgres.

Each learner (200 cards, most of them due) sends /review, then for every card presses
"Show answer" and a rating button (Good mostly, some Again/Hard/Easy): Event kind BUTTON into
`ChatApp.handle`, exactly what an adapter delivers (with an update id, as Telegram sends).
A few learners answer at once (asyncio tasks).

Beside it, in the same run and on the same server, the raw-asyncpg floor: the statements one
press issues on the real path (captured with SQLAlchemy's before_cursor_execute, printed in the
JSON line) written by hand as asyncpg prepared statements, in the same transactions, for another
set of identical learners at the same concurrency.

One "answer" is the rating press (it stores the review and fetches the next card); the show press
is reported beside it. Goals (issue 2): answer p50 within 3x of the floor; p99 < 10 ms.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from _common import (
    BenchDatabase,
    Captured,
    StatementRecorder,
    current_rss_mb,
    emit,
    fresh_database,
    latency_ms,
    log,
    now_ns,
    peak_rss_mb,
    ratio,
    short_sql,
)
from _floor import FloorLearner, floor_answer, floor_show, floor_start
from _load import BulkLoader, LearnerSpec

LEARNERS = int(os.environ.get("BENCH_LEARNERS", "20"))
CARDS = 200
DUE_SHARE = 0.7
NEW_SHARE = 0.1
ANSWERS_PER_LEARNER = int(os.environ.get("BENCH_ANSWERS", "100"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
WARMUP_ANSWERS = 15  # per warm-up learner (one per concurrent task), not measured
# The concurrent phase alternates chat and floor in slices of exactly CONCURRENCY learners, so every
# slice runs at full concurrency to its end (equal session lengths: no lone straggler).
ROUNDS = max(1, LEARNERS // CONCURRENCY)
SEQ_ROUNDS = 2  # the one-at-a-time phase: this many learners per path, alternating
SEQ_ANSWERS = 60
PLATFORM = "telegram"
BOUNDARIES = {"BEGIN", "COMMIT", "ROLLBACK"}
RATINGS = ["Good"] * 16 + ["Again"] * 2 + ["Hard", "Easy"]  # 80% Good, 10% Again, 5% Hard, 5% Easy


@dataclass
class Timings:
    show_ns: list[int] = field(default_factory=list)
    answer_ns: list[int] = field(default_factory=list)
    review_cmd_ns: list[int] = field(default_factory=list)
    wall_ns: int = 0
    cpu_ns: int = 0  # this process's CPU time (time.process_time_ns) while the slices ran

    @property
    def cpu_ms_per_press(self) -> float:
        presses = len(self.answer_ns) + len(self.show_ns)
        return round(self.cpu_ns / 1e6 / presses, 3) if presses else 0.0

    @property
    def answers(self) -> int:
        return len(self.answer_ns)


_update_ids = itertools.count(1)


def _specs(prefix: str, n: int) -> list[LearnerSpec]:
    return [
        LearnerSpec(
            cards=CARDS, due_share=DUE_SHARE, new_share=NEW_SHARE, platform=PLATFORM, platform_user_id=f"{prefix}{i}"
        )
        for i in range(n)
    ]


# --- the real path: ChatApp.handle ------------------------------------------------------------


class ChatLearner:
    """One simulated learner pressing buttons through the chat layer."""

    def __init__(self, app: Any, spec: LearnerSpec, seed: int) -> None:
        self._app = app
        self._uid = spec.platform_user_id
        self._rng = random.Random(seed)

    def _event(self, kind: Any, **fields: Any) -> Any:
        from bots.chat.events import Event

        return Event(
            platform=PLATFORM,
            user_id=self._uid,
            chat_id=self._uid,
            display_name="Bench",
            kind=kind,
            update_id=str(next(_update_ids)),
            **fields,
        )

    async def command(self, name: str) -> list[Any]:
        from bots.chat.events import EventKind

        return list(await self._app.handle(self._event(EventKind.COMMAND, text=f"/{name}", command=name)))

    async def press(self, payload: str) -> list[Any]:
        from bots.chat.events import EventKind

        return list(await self._app.handle(self._event(EventKind.BUTTON, payload=payload)))

    def rating(self) -> str:
        return self._rng.choice(RATINGS)


def find_button(replies: list[Any], word: str) -> str | None:
    for reply in replies:
        for row in reply.buttons:
            for button in row:
                if button.label == word or button.label.startswith(f"{word} ") or f" {word}" in button.label:
                    return str(button.payload)
    return None


async def _chat_session(learner: ChatLearner, timings: Timings, answers: int = ANSWERS_PER_LEARNER) -> None:
    t0 = now_ns()
    replies = await learner.command("review")
    timings.review_cmd_ns.append(now_ns() - t0)
    for _ in range(answers):
        show = find_button(replies, "Show answer")
        if show is None:
            break
        t0 = now_ns()
        replies = await learner.press(show)
        timings.show_ns.append(now_ns() - t0)
        rate = find_button(replies, learner.rating())
        if rate is None:
            raise SystemExit(f"bench: no rating button after Show answer: {replies!r}")
        t0 = now_ns()
        replies = await learner.press(rate)
        timings.answer_ns.append(now_ns() - t0)


async def _run_pool(jobs: list[Any], concurrency: int) -> int:
    """Run coroutine factories with at most `concurrency` at once; returns the wall time (ns)."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)

    async def worker() -> None:
        while not queue.empty():
            await queue.get_nowait()()

    t0 = now_ns()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return now_ns() - t0


async def _capture(app: Any, spec: LearnerSpec) -> dict[str, list[Captured]]:
    """The statements (and transaction boundaries) of one /review, one show and one rating press."""
    learner = ChatLearner(app, spec, seed=0)
    captured: dict[str, list[Captured]] = {}
    with StatementRecorder() as recorder:
        recorder.recording = True
        replies = await learner.command("review")
        captured["review_command"] = recorder.take()
        for round_no in range(3):  # the third round is the warm one we keep
            show = find_button(replies, "Show answer")
            assert show is not None, replies
            replies = await learner.press(show)
            captured["show"] = recorder.take()
            rate = find_button(replies, "Good")
            assert rate is not None, replies
            replies = await learner.press(rate)
            captured["answer"] = recorder.take()
            log(f"capture round {round_no}: show {len(captured['show'])}, answer {len(captured['answer'])} events")
    return captured


# --- the floor: the same statements by hand ---------------------------------------------------


async def _floor_session(
    pool: asyncpg.Pool, learner: FloorLearner, timings: Timings, rng: random.Random, answers: int = ANSWERS_PER_LEARNER
) -> None:
    t0 = now_ns()
    async with pool.acquire() as conn:
        await floor_start(conn, learner)
    timings.review_cmd_ns.append(now_ns() - t0)
    for _ in range(answers):
        if learner.card is None:
            break
        t0 = now_ns()
        async with pool.acquire() as conn:
            await floor_show(conn, learner)
        timings.show_ns.append(now_ns() - t0)
        t0 = now_ns()
        async with pool.acquire() as conn:
            await floor_answer(conn, learner, rng.choice(RATINGS))
        timings.answer_ns.append(now_ns() - t0)


# --- run --------------------------------------------------------------------------------------


async def _load(db: BenchDatabase, specs: list[LearnerSpec]) -> None:
    conn = await asyncpg.connect(db.dsn)
    try:
        await BulkLoader(conn).load(specs)
    finally:
        await conn.close()


class Paths:
    """Both paths side by side: the chat app (over services and SQLAlchemy) and the asyncpg floor."""

    def __init__(self, app: Any, pool: asyncpg.Pool) -> None:
        self.app = app
        self.pool = pool

    def chat_jobs(self, specs: list[LearnerSpec], timings: Timings, answers: int, seed: int) -> list[Any]:
        return [
            lambda s=s, i=i: _chat_session(ChatLearner(self.app, s, seed=seed + i), timings, answers)
            for i, s in enumerate(specs)
        ]

    def floor_jobs(self, specs: list[LearnerSpec], timings: Timings, answers: int, seed: int) -> list[Any]:
        return [
            lambda s=s, i=i: _floor_session(self.pool, FloorLearner.of(s), timings, random.Random(seed + i), answers)
            for i, s in enumerate(specs)
        ]

    async def rounds(
        self, chat_specs: list[LearnerSpec], floor_specs: list[LearnerSpec], concurrency: int, answers: int, rounds: int
    ) -> tuple[Timings, Timings]:
        """Alternate the two paths in `rounds` slices, so load from elsewhere on the machine hits both alike."""
        chat, raw = Timings(), Timings()
        size = max(1, len(chat_specs) // rounds)
        for r in range(rounds):
            part = slice(r * size, (r + 1) * size if r < rounds - 1 else None)
            cpu0 = time.process_time_ns()
            chat.wall_ns += await _run_pool(self.chat_jobs(chat_specs[part], chat, answers, 10 * r), concurrency)
            cpu1 = time.process_time_ns()
            raw.wall_ns += await _run_pool(self.floor_jobs(floor_specs[part], raw, answers, 10 * r), concurrency)
            chat.cpu_ns += cpu1 - cpu0
            raw.cpu_ns += time.process_time_ns() - cpu1
        return chat, raw


async def _commit_probe(pool: asyncpg.Pool, n: int = 300) -> dict[str, float]:
    """What one durable commit (fdatasync of the WAL) costs on this server right now."""
    samples: list[int] = []
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id serial PRIMARY KEY, at timestamptz)")
        for _ in range(n):
            t0 = now_ns()
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_commit_probe (at) VALUES (now())")
            samples.append(now_ns() - t0)
    stats = latency_ms(samples)
    return {"p50_ms": stats["p50_ms"], "p99_ms": stats["p99_ms"]}


async def run() -> None:
    started = now_ns()
    from bots.chat.app import ChatApp
    from core.bootstrap import bootstrap
    from core.config import Settings
    from core.domain.models import AdminPolicy

    real, floor, probe = _specs("r", LEARNERS), _specs("f", LEARNERS), _specs("probe", 1)[0]
    warm_chat, warm_floor = _specs("wr", CONCURRENCY), _specs("wf", CONCURRENCY)
    seq_chat, seq_floor = _specs("sr", SEQ_ROUNDS), _specs("sf", SEQ_ROUNDS)
    async with fresh_database() as db:
        await _load(db, [*real, *floor, probe, *warm_chat, *warm_floor, *seq_chat, *seq_floor])
        settings = Settings(_env_file=None, DATABASE_URL=db.url, DEEPL_API_KEY=None)  # type: ignore[call-arg]
        services = await bootstrap(settings)
        pool = await asyncpg.create_pool(
            db.dsn, min_size=CONCURRENCY, max_size=CONCURRENCY, server_settings={"jit": "off"}
        )
        try:
            paths = Paths(ChatApp(services, AdminPolicy()), pool)
            captured = await _capture(paths.app, probe)
            memory = {"rss_before_loop_mb": current_rss_mb()}
            await paths.rounds(warm_chat, warm_floor, CONCURRENCY, WARMUP_ANSWERS, 1)
            chat, raw = await paths.rounds(real, floor, CONCURRENCY, ANSWERS_PER_LEARNER, ROUNDS)
            log(
                f"concurrent: chat {chat.answers} answers in {chat.wall_ns / 1e9:.1f}s, "
                f"floor {raw.answers} in {raw.wall_ns / 1e9:.1f}s"
            )
            seq = await paths.rounds(seq_chat, seq_floor, 1, SEQ_ANSWERS, SEQ_ROUNDS)
            memory.update(rss_after_loop_mb=current_rss_mb(), peak_rss_mb=peak_rss_mb())
            commit = await _commit_probe(pool)
        finally:
            await pool.close()
            await services.aclose()
    _report(chat, raw, seq, commit, memory, captured, started)


def _statements(captured: list[Captured]) -> list[str]:
    return [short_sql(c.statement, 200) for c in captured]


def _paths_figures(chat: Timings, raw: Timings) -> dict[str, Any]:
    answer, show = latency_ms(chat.answer_ns), latency_ms(chat.show_ns)
    floor_answer_stats, floor_show_stats = latency_ms(raw.answer_ns), latency_ms(raw.show_ns)
    return {
        "answers": chat.answers,
        "answers_per_s": round(chat.answers / (chat.wall_ns / 1e9), 1),
        "cpu_ms_per_press": chat.cpu_ms_per_press,
        "answer": answer,
        "show_answer": show,
        "review_command": latency_ms(chat.review_cmd_ns),
        "floor": {
            "answers": raw.answers,
            "answers_per_s": round(raw.answers / (raw.wall_ns / 1e9), 1),
            "cpu_ms_per_press": raw.cpu_ms_per_press,
            "answer": floor_answer_stats,
            "show_answer": floor_show_stats,
        },
        "ratio_to_floor": {
            "answer_p50": ratio(answer["p50_ms"], floor_answer_stats["p50_ms"]),
            "answer_p99": ratio(answer["p99_ms"], floor_answer_stats["p99_ms"]),
            "show_p50": ratio(show["p50_ms"], floor_show_stats["p50_ms"]),
            "throughput": ratio(raw.answers / raw.wall_ns, chat.answers / chat.wall_ns),
        },
    }


def _report(
    chat: Timings,
    raw: Timings,
    seq: tuple[Timings, Timings],
    commit: dict[str, float],
    memory: dict[str, float | None],
    captured: dict[str, list[Captured]],
    started: int,
) -> None:
    concurrent = _paths_figures(chat, raw)
    sequential = _paths_figures(*seq)
    figures = {
        "learners": LEARNERS,
        "cards_per_learner": CARDS,
        "concurrency": CONCURRENCY,
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        **concurrent,
        "sequential": {k: sequential[k] for k in ("answers", "answer", "show_answer", "floor", "ratio_to_floor")},
        "commit_probe": commit,
        "memory": memory,
        "statements_per_press": {k: sum(c.statement not in BOUNDARIES for c in v) for k, v in captured.items()},
        "transactions_per_press": {k: sum(c.statement == "BEGIN" for c in v) for k, v in captured.items()},
        "commits_per_press": {k: sum(c.statement == "COMMIT" for c in v) for k, v in captured.items()},
        "sql_answer": _statements(captured["answer"]),
        "sql_show": _statements(captured["show"]),
    }
    goals = {
        "answer_p50_within_3x_floor": concurrent["answer"]["p50_ms"] <= 3 * concurrent["floor"]["answer"]["p50_ms"],
        "answer_p99_under_10ms": concurrent["answer"]["p99_ms"] < 10.0,
    }
    emit("review_loop", figures, goals, started_ns=started)


def _loop_factory() -> Any:
    """BENCH_LOOP=uvloop runs the bench on uvloop (what `langlearn telegram` uses when installed)."""
    if os.environ.get("BENCH_LOOP", "uvloop") == "uvloop":
        try:
            import uvloop
        except ImportError:
            return None
        return uvloop.new_event_loop
    return None


if __name__ == "__main__":
    factory = _loop_factory()
    if factory is None:
        asyncio.run(run())
    else:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(run())
