"""Redis goes away while the bot runs: /article still succeeds (the row is stored, the learner is told
it is queued), and once Redis is back the worker's sweep enqueues the row and the article arrives.

A private redis-server (tests/private_services.PrivateRedis) is stopped and started; the machine's
own Redis is never touched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.bootstrap import Services
from core.domain.models import JobStatus
from core.domain.services import JobTimings
from core.outbound.postgres.database import Database
from tests.integration.worker_support import (
    Providers,
    TelegramChat,
    job_settings,
    learner,
    open_job_services,
    providers,
    request_article,
    run_worker,
)
from tests.private_services import PrivateRedis
from worker.main import WorkerSettings

__all__ = ["providers"]  # fixture

QUEUED_WHILE_DOWN = "⏳ Your article is queued: it will run as soon as the worker is back."


@pytest.fixture
async def redis() -> AsyncIterator[PrivateRedis]:
    async with PrivateRedis() as server:
        yield server


@pytest.fixture
async def chat() -> AsyncIterator[TelegramChat]:
    chat = await TelegramChat.open()
    try:
        yield chat
    finally:
        await chat.aclose()


@pytest.fixture
async def services(
    pg_db: Database, redis: PrivateRedis, providers: Providers, tmp_path: Path
) -> AsyncIterator[Services]:
    # A row is "left queued" once older than queued_grace (30 s in production): none here.
    timings = JobTimings(queued_grace=timedelta(0))
    services = await open_job_services(
        job_settings(pg_db.url, redis.url, providers, tmp_path / "media"), job_timings=timings
    )
    try:
        yield services
    finally:
        await services.aclose()


async def test_an_article_asked_while_redis_is_down_arrives_after_redis_is_back(
    services: Services, redis: PrivateRedis, providers: Providers, chat: TelegramChat
) -> None:
    ana = await learner(services)
    # The bot has been talking to Redis (its connection pool is open) when Redis goes down.
    first = await request_article(services, ana, chat.messenger, topic="el parque")
    assert first.enqueued
    await run_worker(services, chat.messengers, redis.url)
    delivered_before = len(chat.texts())

    await redis.astop()
    requested = await request_article(services, ana, chat.messenger)

    assert not requested.enqueued
    assert chat.texts()[delivered_before:] == [QUEUED_WHILE_DOWN]
    assert services.jobs is not None
    assert (await services.jobs.get(ana.id, requested.job.id)).status is JobStatus.QUEUED

    await redis.astart()  # back, and empty: arq never saw the job
    # The worker's cron (the sweep runs at start-up, then every minute) finds the row and enqueues it.
    worker = await run_worker(services, chat.messengers, redis.url, cron_jobs=WorkerSettings.cron_jobs)

    assert worker.jobs_complete >= 2  # the sweep, the article (and maybe the reminders tick)
    after = chat.texts()[delivered_before:]
    assert after[0] == "✅ Your article is ready."  # the status line, edited in place
    assert after[1].startswith("Un día en el mercado\n\n") and after[2].startswith("Translation\n\n")
    assert after[3].startswith("New words:") and len(after) == 4
    assert chat.voices() == 2  # one per article
    job = await services.jobs.get(ana.id, requested.job.id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
