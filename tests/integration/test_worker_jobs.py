"""The arq worker on real Redis and Postgres, the real provider SDKs against local servers.

A job is requested as the chat layer does it (row, status line, arq queue), an arq worker runs in
burst mode with the worker's own task functions, and the test looks at what the learner got and
what the database holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from arq.connections import create_pool

from core.bootstrap import Services
from core.domain.models import JobStatus
from core.outbound.jobs.arq_queue import ArqJobQueue, redis_settings
from core.outbound.postgres.database import Database
from tests.integration.worker_support import (
    ARTICLE,
    Providers,
    TelegramChat,
    job_settings,
    learner,
    open_job_services,
    providers,
    redis_url,
    request_article,
    run_worker,
)

__all__ = ["providers", "redis_url"]  # fixtures

ARTICLE_MESSAGES = [
    "✅ Your article is ready.",
    f"{ARTICLE['title']}\n\n{ARTICLE['text']}",
    "Translation\n\nA day at the market\n\nToday I go to the market. I buy bread and fruit.",
    "New words:\n• mercado — market\n• fruta — fruit",
]


@pytest.fixture
async def services(pg_db: Database, redis_url: str, providers: Providers, tmp_path: Path) -> AsyncIterator[Services]:
    """The bot's services from bootstrap: REDIS_URL set, so the queue is arq's."""
    services = await open_job_services(job_settings(pg_db.url, redis_url, providers, tmp_path / "media"))
    try:
        yield services
    finally:
        await services.aclose()


@pytest.fixture
async def chat() -> AsyncIterator[TelegramChat]:
    """Ana's chat on the local Bot API server; the worker delivers with the TelegramMessenger."""
    chat = await TelegramChat.open()
    try:
        yield chat
    finally:
        await chat.aclose()


async def stored_status(services: Services, job_id: str) -> tuple[JobStatus, int, str | None]:
    assert services.jobs is not None
    async with services.jobs._uow(read_only=True) as uow:
        job = await uow.jobs.get(job_id)
    assert job is not None
    return job.status, job.attempts, job.last_error


async def test_with_redis_url_the_queue_is_arq_and_a_worker_delivers_the_article_once(
    services: Services, redis_url: str, providers: Providers, chat: TelegramChat
) -> None:
    assert isinstance(services.queue, ArqJobQueue) and services.background is None
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)
    assert requested.enqueued
    assert chat.texts() == ["⏳ Your article is queued."]

    worker = await run_worker(services, chat.messengers, redis_url)

    assert chat.texts() == ARTICLE_MESSAGES
    assert chat.voices() == 1
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0), repr(worker)
    assert await stored_status(services, requested.job.id) == (JobStatus.DONE, 1, None)
    assert len(providers.anthropic.calls) == 1 and len(providers.gemini.calls) == 1
    assert [call.texts for call in providers.deepl.calls] == [[ARTICLE["title"], ARTICLE["text"]]]


async def test_transient_provider_errors_are_retried_and_the_article_arrives(
    services: Services, redis_url: str, providers: Providers, chat: TelegramChat
) -> None:
    providers.anthropic.fail_next = [429, 529, 500]
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)

    await run_worker(services, chat.messengers, redis_url)

    assert chat.texts() == ARTICLE_MESSAGES and chat.voices() == 1
    assert len(providers.anthropic.attempts) == 4 and len(providers.anthropic.calls) == 1
    assert (await stored_status(services, requested.job.id))[0] is JobStatus.DONE


async def test_a_provider_down_for_a_whole_run_is_retried_by_arq_and_the_article_arrives(
    services: Services, redis_url: str, providers: Providers, chat: TelegramChat
) -> None:
    """Four failures use up the client's retries: the run hands the job back, arq retries it."""
    providers.gemini.fail_next = [503, 503, 503, 503]
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)

    worker = await run_worker(services, chat.messengers, redis_url)

    assert worker.jobs_retried == 1
    assert chat.texts() == ARTICLE_MESSAGES and chat.voices() == 1
    # The stored steps were not paid for twice: one article written, one translation.
    assert len(providers.anthropic.calls) == 1 and len(providers.deepl.calls) == 1
    job_status, attempts, last_error = await stored_status(services, requested.job.id)
    assert (job_status, attempts) == (JobStatus.DONE, 2)
    assert last_error is not None and "Gemini" in last_error  # what held the first attempt up


@pytest.mark.parametrize("provider", ["anthropic 401", "deepl 456"])
async def test_a_permanent_refusal_fails_the_job_at_once_and_the_learner_is_told(
    services: Services, redis_url: str, providers: Providers, chat: TelegramChat, provider: str
) -> None:
    name, status = provider.split()
    server = providers.anthropic if name == "anthropic" else providers.deepl
    server.fail_with = int(status)
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)

    worker = await run_worker(services, chat.messengers, redis_url)

    attempts = len(providers.anthropic.attempts) if name == "anthropic" else providers.deepl.attempts
    assert attempts == 1
    assert (worker.jobs_complete, worker.jobs_retried) == (1, 0)
    status_line, told = chat.texts()
    assert status_line == "❌ Your article could not be made."
    assert told.startswith("Sorry, your article could not be made. ")
    assert told.endswith("The operator has been told.") and server.api_key not in told
    assert chat.voices() == 0
    job_status, job_attempts, error = await stored_status(services, requested.job.id)
    assert (job_status, job_attempts) == (JobStatus.FAILED, 1)
    assert error is not None and server.api_key not in error


async def test_the_same_job_enqueued_twice_is_delivered_once(
    services: Services, redis_url: str, providers: Providers, chat: TelegramChat
) -> None:
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)
    queue = services.queue
    assert queue is not None
    assert await queue.enqueue(requested.job.id)  # arq already holds it: True, nothing added
    pool = await create_pool(redis_settings(redis_url))
    try:
        assert await pool.zcard("arq:queue") == 1
        await run_worker(services, chat.messengers, redis_url)
        # Enqueued again after it ran (the sweep, a double click): it runs, finds the job done, sends nothing.
        assert await queue.enqueue(requested.job.id)
        worker = await run_worker(services, chat.messengers, redis_url)
    finally:
        await pool.aclose()

    assert worker.jobs_complete == 1
    assert chat.texts() == ARTICLE_MESSAGES and chat.voices() == 1
    assert len(providers.anthropic.calls) == 1
    assert await stored_status(services, requested.job.id) == (JobStatus.DONE, 1, None)
