"""500 speech jobs through arq against a local Gemini server that takes 100 ms a call.

The jobs are requested as /listen does (a row each, then the arq queue on Redis), all first; then
an arq worker runs in this process with the worker's own task function and `max_jobs = N`
(BENCH_SPEECH_CONCURRENCY: a comma list; by default the worker's own MAX_JOBS, then 10 and 3: one
run each) until the queue is empty. A level written `PxN` (default also `2x5`) runs P worker
processes of `max_jobs = N` each instead (the deployment the docs advise: one worker per core),
each its own Python process on the same Redis queue and database; its concurrency is P × N.
Every job is a real one: claim, the real GeminiSpeech client (SDK, PCM -> OGG/Opus),
the local media store, the speech cache row, delivery through a messenger that answers at once
(the platform is not measured here), done. Each text is new, so every job synthesises.

Figures: `elapsed_s` (first job start to queue empty) beside `ideal_s` = jobs × latency /
concurrency (goal: ratio ≤ 1.25), `cpu_ms_per_job` (the process's CPU time per job: one event loop
runs every job's Python, so `cpu_bound_s` = jobs × that is a floor of its own), and in the same
run `arq_floor_s`: the same number of arq jobs
that only sleep the latency, with the same worker settings — what arq itself costs.

BENCH_SPEECH_LATENCY_MS (default 100) sets the provider's latency: the goal is judged at 100 ms;
Gemini's own text-to-speech takes seconds, where the same worker's overhead weighs much less.

The Gemini server runs in a separate process (as the provider would); Postgres is a fresh
database (bench/_common); Redis is BENCH_REDIS_URL (default redis://127.0.0.1:6379/12; that
database is flushed).

    uv run python bench/speech_jobs.py        # one JSON line on stdout
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOBS = int(os.environ.get("BENCH_SPEECH_JOBS", "500"))
OTHER_LEVELS = ("10", "2x5", "3")  # beside the worker's default, to show how the ratio moves with concurrency
LATENCY_S = float(os.environ.get("BENCH_SPEECH_LATENCY_MS", "100")) / 1000
LEARNERS = 50
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")


def serve() -> None:
    """`--serve`: the Gemini server with 100 ms per call, in this (separate) process."""
    sys.path.insert(0, str(ROOT))
    from tests.servers.gemini_server import GeminiServer

    async def run() -> None:
        server = GeminiServer()
        server.delay = LATENCY_S
        server.audio_seconds = 1.0
        url = await server.start()
        print(f"READY {url} {server.api_key}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def start_server() -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline().split()
    if not line or line[0] != "READY":
        process.kill()
        raise SystemExit(f"bench: the Gemini server did not start ({line!r})")
    return process, line[1], line[2]


class InstantMessenger:
    """Delivers at once (the platform's pace is another benchmark's subject)."""

    platform = "telegram"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, address: Any, message: Any) -> list[Any]:
        from core.domain.models import SentMessage

        self.sent += 1
        return [SentMessage(message_id=str(self.sent), platform_file_id=f"file-{self.sent}")]

    async def edit_text(self, address: Any, message_id: str, text: str) -> None:
        return None


async def flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


def cpu_s() -> float:
    """CPU time of this process so far (every thread: the audio is encoded in a worker thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def burst_worker(
    functions: list[Any], ctx: dict[str, Any], concurrency: int, **options: Any
) -> tuple[float, float, Any]:
    """Run an arq burst worker until the queue is empty: seconds from its first job, CPU seconds, the worker."""
    from arq.worker import Worker

    from core.outbound.jobs.arq_queue import redis_settings
    from worker.main import WorkerSettings

    first_start: list[float] = []

    async def on_job_start(_ctx: dict[str, Any]) -> None:
        if not first_start:
            first_start.append(time.time())  # wall clock: comparable across worker processes

    worker = Worker(
        functions=functions,
        redis_settings=redis_settings(REDIS_URL),
        burst=True,
        handle_signals=False,
        max_jobs=concurrency,
        keep_result=WorkerSettings.keep_result,
        poll_delay=WorkerSettings.poll_delay,
        on_job_start=on_job_start,
        ctx=ctx,
        **options,
    )
    cpu_before = cpu_s()
    try:
        await worker.async_run()
        ended = time.time()
        cpu = cpu_s() - cpu_before
    finally:
        await worker.close()
    return ended - first_start[0], cpu, worker


async def burst_span(functions: list[Any], ctx: dict[str, Any], concurrency: int) -> dict[str, Any]:
    """`burst_worker` as figures: wall-clock start and end of its jobs, its CPU and counts."""
    elapsed, cpu, worker = await burst_worker(functions, ctx, concurrency)
    ended = time.time()
    return {
        "start": ended - elapsed,
        "end": ended,
        "cpu_s": cpu,
        "complete": worker.jobs_complete,
        "retried": worker.jobs_retried,
        "failed": worker.jobs_failed,
    }


async def arq_floor(concurrency: int) -> dict[str, Any]:
    """The same number of jobs that only sleep the latency: arq's own cost at this concurrency."""
    from arq import func
    from arq.connections import create_pool

    from core.outbound.jobs.arq_queue import redis_settings

    async def sleeper(ctx: dict[str, Any], n: int) -> None:
        await asyncio.sleep(LATENCY_S)

    await flush_redis()
    pool = await create_pool(redis_settings(REDIS_URL))
    try:
        for n in range(JOBS):
            await pool.enqueue_job("sleeper", n, _job_id=f"floor-{n}")
    finally:
        await pool.aclose()
    elapsed, cpu, worker = await burst_worker([func(sleeper, name="sleeper")], {}, concurrency)
    cpu_ms = round(cpu / JOBS * 1000, 2)
    return {"elapsed_s": round(elapsed, 3), "completed": worker.jobs_complete, "cpu_ms_per_job": cpu_ms}


def bench_settings(db_url: str, gemini_url: str, gemini_key: str, media_dir: str, quota: int) -> Any:
    from core.config import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=db_url,
        REDIS_URL=REDIS_URL,
        GEMINI_API_KEY=gemini_key,  # type: ignore[arg-type]
        GEMINI_BASE_URL=gemini_url,
        MEDIA_DIR=media_dir,
        DAILY_SPEECH_QUOTA=quota,
    )


async def speech_runs(
    db_url: str, gemini_url: str, gemini_key: str, media_dir: str, levels: list[str]
) -> list[dict[str, Any]]:
    """One run of JOBS fresh speech jobs per concurrency level, on the same services."""
    from core.bootstrap import bootstrap

    quota = JOBS * len(levels)
    args = [db_url, gemini_url, gemini_key, media_dir, str(quota)]  # what each `--work` process is given
    services = await bootstrap(bench_settings(db_url, gemini_url, gemini_key, media_dir, quota))
    try:
        learners = []
        for n in range(LEARNERS):
            learner, _ = await services.accounts.ensure_learner("telegram", str(7_000_000 + n), f"L{n}")
            await services.languages.set_pair(learner.id, "es", "en", "A2")
            learners.append(learner.id)
        return [await speech_run(services, learners, level, spec, args) for level, spec in enumerate(levels)]
    finally:
        await services.aclose()


def parse_level(spec: str) -> tuple[int, int]:
    """`N` → (1 process, N slots); `PxN` → (P processes, N slots each)."""
    processes, _, slots = spec.rpartition("x")
    return int(processes or 1), int(slots)


async def speech_run(services: Any, learners: list[str], level: int, spec: str, args: list[str]) -> dict[str, Any]:
    from core.domain.models import DeliveryAddress, JobKind, JobStatus
    from worker.main import run_job_function

    processes, slots = parse_level(spec)
    concurrency = processes * slots
    _log(f"{JOBS} speech jobs, {processes} worker process(es) x max_jobs={slots}, provider {LATENCY_S * 1000:.0f} ms")
    await flush_redis()
    messenger = InstantMessenger()
    requested_at = time.perf_counter()
    job_ids = []
    for n in range(JOBS):
        learner_id = learners[n % LEARNERS]
        user = str(7_000_000 + n % LEARNERS)
        address = DeliveryAddress("telegram", user, user)
        text = f"Frase {level}-{n}: el gato duerme en la casa."  # new text: every job synthesises
        requested = await services.jobs.request(learner_id, JobKind.SPEECH, {"text": text}, address)
        assert requested.enqueued
        job_ids.append((learner_id, requested.job.id))
    request_s = time.perf_counter() - requested_at

    if processes == 1:
        ctx = {"services": services, "messengers": {"telegram": messenger}}
        spans = [await burst_span([run_job_function()], ctx, slots)]
        messenger_sent = messenger.sent
    else:
        spans = await worker_processes(processes, slots, args)
        messenger_sent = sum(span["delivered"] for span in spans)
    elapsed = max(span["end"] for span in spans) - min(span["start"] for span in spans)
    cpu = sum(span["cpu_s"] for span in spans)
    statuses = [(await services.jobs.get(learner_id, job_id)).status for learner_id, job_id in job_ids]
    ideal = JOBS * LATENCY_S / concurrency
    cpu_per_job = cpu / JOBS
    _log("the same number of arq jobs that only sleep")
    floor = await arq_floor(concurrency)
    return {
        "level": spec,
        "processes": processes,
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "ideal_s": round(ideal, 3),
        "ratio_to_ideal": round(elapsed / ideal, 3),
        "jobs_per_s": round(JOBS / elapsed, 1),
        # One event loop per process runs its jobs' Python: it cannot go faster than CPU allows.
        "cpu_ms_per_job": round(cpu_per_job * 1000, 2),
        "cpu_bound_s": round(cpu_per_job * JOBS / processes, 3),
        "cpu_limit_jobs_per_s": round(processes / cpu_per_job, 1),
        "done": sum(status is JobStatus.DONE for status in statuses),
        "delivered": messenger_sent,
        "arq_retried": sum(span["retried"] for span in spans),
        "arq_failed": sum(span["failed"] for span in spans),
        "request_ms_per_job": round(request_s / JOBS * 1000, 3),
        "arq_floor_s": floor["elapsed_s"],
        "arq_floor_ratio_to_ideal": round(floor["elapsed_s"] / ideal, 3),
        "arq_floor_cpu_ms_per_job": floor["cpu_ms_per_job"],
    }


async def worker_processes(processes: int, slots: int, args: list[str]) -> list[dict[str, Any]]:
    """Run `processes` burst workers (`--work`) in their own processes at once; their figures."""
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--work", str(slots), *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(processes)
    ]
    outputs = await asyncio.gather(*(child.communicate() for child in children))
    spans = []
    for child, (stdout, _) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise SystemExit(f"bench: a worker process failed (exit {child.returncode})")
        spans.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    return spans


def work(slots: int, db_url: str, gemini_url: str, gemini_key: str, media_dir: str, quota: str) -> None:
    """`--work`: one burst worker process on the queue; prints its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))

    async def run() -> dict[str, Any]:
        from core.bootstrap import bootstrap
        from worker.main import run_job_function

        services = await bootstrap(bench_settings(db_url, gemini_url, gemini_key, media_dir, int(quota)))
        messenger = InstantMessenger()
        try:
            ctx = {"services": services, "messengers": {"telegram": messenger}}
            span = await burst_span([run_job_function()], ctx, slots)
        finally:
            await services.aclose()
        return {**span, "delivered": messenger.sent}

    print(json.dumps(asyncio.run(run())), flush=True)


def _log(message: str) -> None:
    from _common import log

    log(message)


def worker_default_concurrency() -> int:
    """`max_jobs` of `langlearn worker` (worker.main.MAX_JOBS): the level the goal is judged at."""
    from worker.main import MAX_JOBS

    return MAX_JOBS


def concurrency_levels() -> list[str]:
    """BENCH_SPEECH_CONCURRENCY, else the worker's default followed by OTHER_LEVELS (no repeats)."""
    chosen = os.environ.get("BENCH_SPEECH_CONCURRENCY")
    if chosen:
        return [level.strip() for level in chosen.split(",")]
    return list(dict.fromkeys([str(worker_default_concurrency()), *OTHER_LEVELS]))


async def run() -> dict[str, Any]:
    from _common import fresh_database

    levels = concurrency_levels()
    process, gemini_url, gemini_key = start_server()
    try:
        async with fresh_database() as db:
            with tempfile.TemporaryDirectory(prefix="langlearn-bench-media-") as media:
                runs = await speech_runs(db.url, gemini_url, gemini_key, media, levels)
    finally:
        process.terminate()
        process.wait(10)
        await flush_redis()
    return {
        "jobs": JOBS,
        "provider_latency_ms": LATENCY_S * 1000,
        "audio_s_per_clip": 1.0,
        "poll_delay_s": _poll_delay(),
        "worker_default_concurrency": worker_default_concurrency(),
        "encode_cpu_ms_per_clip": encode_cpu_ms(),
        "runs": runs,
    }


def encode_cpu_ms() -> float:
    """CPU of one PCM -> OGG/Opus encoding of the server's clip (1 s at 24 kHz), the part no queue can hide."""
    from core.outbound.gemini.audio import PcmFormat, pcm_to_ogg_opus
    from tests.servers.gemini_server import tone

    pcm = tone(1.0)
    pcm_to_ogg_opus(pcm, PcmFormat(24000))
    before = cpu_s()
    for _ in range(20):
        pcm_to_ogg_opus(pcm, PcmFormat(24000))
    return round((cpu_s() - before) / 20 * 1000, 2)


def _poll_delay() -> float:
    from worker.main import WorkerSettings

    return WorkerSettings.poll_delay


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import emit, now_ns

    started = now_ns()
    figures = asyncio.run(run())
    runs = figures["runs"]
    # The goal is judged at the worker's default concurrency; the other levels are for comparison.
    default = [run for run in runs if run["level"] == str(figures["worker_default_concurrency"])]
    goals = {
        "all_delivered": all(run["done"] == JOBS and run["delivered"] == JOBS for run in runs),
        "within_1.25x_ideal_at_worker_default": bool(default) and default[0]["ratio_to_ideal"] <= 1.25,
        **{f"within_1.25x_ideal_at_{run['level']}": run["ratio_to_ideal"] <= 1.25 for run in runs},
    }
    emit("speech_jobs", figures, goals, started_ns=started)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    elif sys.argv[1:2] == ["--work"]:
        work(int(sys.argv[2]), *sys.argv[3:8])
    else:
        main()
