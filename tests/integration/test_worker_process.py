"""`langlearn worker` as a real process: killed with SIGKILL in the middle of an article, another
worker finishes it and the learner gets exactly one article; `langlearn worker --check` tells a
running worker from none.

The worker processes get their settings from the environment (Postgres, the tests' Redis database,
the local Anthropic, Gemini, DeepL and Bot API servers, which run in this test's event loop) and
a test-only knob (worker/main.py): LANGLEARN_TEST_JOB_TIMEOUT_S = 10 (the run lease follows: 15 s),
so arq hands a dead worker's job to another after 10 + 10 s instead of minutes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.bootstrap import Services
from core.config import Settings
from core.domain.models import JobStatus
from core.outbound.postgres.database import Database
from tests.integration.worker_support import (
    Providers,
    TelegramChat,
    job_settings,
    learner,
    open_job_services,
    providers,
    redis_url,
    request_article,
)
from tests.servers.telegram_server import TOKEN
from worker.main import TEST_JOB_TIMEOUT_ENV, TEST_RETRY_BASE_ENV

__all__ = ["providers", "redis_url"]  # fixtures

LANGLEARN = str(Path(sys.executable).parent / "langlearn")
HEALTH_KEY = "arq:queue:health-check"
START_TIMEOUT_S = 60


class WorkerProcess:
    """One `langlearn worker` subprocess, its output kept in a log file."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture
async def chat() -> AsyncIterator[TelegramChat]:
    chat = await TelegramChat.open()
    try:
        yield chat
    finally:
        await chat.aclose()


@pytest.fixture
def worker_env(
    pg_db: Database, redis_url: str, providers: Providers, chat: TelegramChat, tmp_path: Path
) -> dict[str, str]:
    """The environment of a worker process: only our settings (no inherited ones), no .env (cwd is tmp)."""
    settings = set(Settings.model_fields)
    env = {key: value for key, value in os.environ.items() if key not in settings}
    env.update(
        {
            "DATABASE_URL": pg_db.url,
            "REDIS_URL": redis_url,
            "ANTHROPIC_API_KEY": providers.anthropic.api_key,
            "ANTHROPIC_BASE_URL": providers.anthropic.url,
            "GEMINI_API_KEY": providers.gemini.api_key,
            "GEMINI_BASE_URL": providers.gemini.url,
            "DEEPL_API_KEY": providers.deepl.api_key,
            "DEEPL_SERVER_URL": providers.deepl.url,
            "MEDIA_DIR": str(tmp_path / "media"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": chat.server.url,
            "LOG_LEVEL": "INFO",
            # arq hands a dead worker's job on after job timeout + 10 s; the timeout must still fit
            # a whole article delivered at Telegram's pace of a message a second (~6 s).
            TEST_JOB_TIMEOUT_ENV: "10",
            TEST_RETRY_BASE_ENV: "0.1",
        }
    )
    return env


@pytest.fixture
async def services(pg_db: Database, redis_url: str, providers: Providers, tmp_path: Path) -> AsyncIterator[Services]:
    """The bot's side: it stores the job and puts it on arq."""
    services = await open_job_services(job_settings(pg_db.url, redis_url, providers, tmp_path / "media"))
    try:
        yield services
    finally:
        await services.aclose()


@pytest.fixture
async def workers(tmp_path: Path) -> AsyncIterator[list[WorkerProcess]]:
    """Worker processes the test started; any still running at the end is killed."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        if worker.process.returncode is None:
            worker.process.kill()
            await worker.process.wait()


async def start_worker(env: dict[str, str], cwd: Path, workers: list[WorkerProcess]) -> WorkerProcess:
    log = cwd / f"worker-{len(workers) + 1}.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            LANGLEARN, "worker", env=env, cwd=cwd, stdout=output, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    worker = WorkerProcess(process, log)
    workers.append(worker)
    return worker


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str, worker: WorkerProcess) -> None:
    """Poll `condition()` until true (another process cannot signal us otherwise), START_TIMEOUT_S at most."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT_S
    while not await condition():
        if worker.process.returncode is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}) while waiting for {what}:\n{worker.output()}")
        if loop.time() > deadline:
            pytest.fail(f"timed out after {START_TIMEOUT_S} s waiting for {what}; worker output:\n{worker.output()}")
        await asyncio.sleep(0.05)


async def health_key_set(redis_url: str) -> bool:
    client = Redis.from_url(redis_url)
    try:
        return bool(await client.exists(HEALTH_KEY))
    finally:
        await client.aclose()


async def check(env: dict[str, str], cwd: Path) -> int:
    """`langlearn worker --check`'s exit code."""
    process = await asyncio.create_subprocess_exec(
        LANGLEARN, "worker", "--check", env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await process.wait()


async def test_a_worker_killed_mid_article_is_replaced_and_the_learner_gets_exactly_one_article(
    services: Services,
    providers: Providers,
    chat: TelegramChat,
    worker_env: dict[str, str],
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    providers.anthropic.delay = 1.5  # the article is being written when the worker dies
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)
    assert requested.enqueued and services.jobs is not None
    job_id = requested.job.id

    first = await start_worker(worker_env, tmp_path, workers)

    async def writing() -> bool:
        return bool(providers.anthropic.attempts)

    await wait_for(writing, "the worker's call to the language model", first)
    first.process.send_signal(signal.SIGKILL)
    assert await first.process.wait() == -signal.SIGKILL
    providers.anthropic.delay = 0.0
    killed = await services.jobs.get(ana.id, job_id)
    assert (killed.status, killed.attempts, killed.steps.get("write")) == (JobStatus.RUNNING, 1, None)

    second = await start_worker(worker_env, tmp_path, workers)

    async def status_line_final() -> bool:  # the last thing a run does: edit the status line
        texts = chat.texts()
        return bool(texts) and texts[0].startswith(("✅", "❌"))

    await wait_for(status_line_final, "the article to be finished by the second worker", second)
    finished = await services.jobs.get(ana.id, job_id)
    assert (finished.status, finished.attempts) == (JobStatus.DONE, 2), second.output()
    assert finished.delivered_at is not None

    texts = chat.texts()
    assert texts[0] == "✅ Your article is ready.", texts  # the one status line, edited to the end
    assert texts[1] == "Un día en el mercado\n\nHoy voy al mercado. Compro pan y fruta."
    assert texts[2].startswith("Translation\n\nA day at the market")
    assert texts[3] == "New words:\n• mercado — market\n• fruta — fruit"
    assert len(texts) == 4 and chat.voices() == 1  # exactly one article

    second.process.send_signal(signal.SIGTERM)  # docker compose stop
    assert await asyncio.wait_for(second.process.wait(), 30) == 0, second.output()


async def test_worker_check_is_0_against_a_running_worker_and_1_without_one(
    redis_url: str, worker_env: dict[str, str], workers: list[WorkerProcess], tmp_path: Path
) -> None:
    assert await check(worker_env, tmp_path) == 1  # no worker has reported on this Redis

    worker = await start_worker(worker_env, tmp_path, workers)
    await wait_for(lambda: health_key_set(redis_url), "the worker's health key", worker)
    assert await check(worker_env, tmp_path) == 0

    worker.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(worker.process.wait(), 30) == 0, worker.output()
    assert await check(worker_env, tmp_path) == 1  # a stopped worker takes its key with it
    assert await check({**worker_env, "REDIS_URL": "redis://127.0.0.1:1/0"}, tmp_path) == 1  # Redis unreachable
