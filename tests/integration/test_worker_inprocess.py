"""No REDIS_URL (the embedded default): bootstrap gives the in-process queue, and the bot's own
process runs the jobs with the same JobService.run the worker calls — on the SQLite file, the real
provider SDKs against the local servers, delivering through the TelegramMessenger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.bootstrap import Services
from core.domain.models import JobStatus
from core.domain.services import JobTimings
from core.outbound.jobs import InProcessJobQueue
from tests.integration.worker_support import (
    Providers,
    TelegramChat,
    job_settings,
    learner,
    open_job_services,
    providers,
    request_article,
)

__all__ = ["providers"]  # fixture


@pytest.fixture
async def chat() -> AsyncIterator[TelegramChat]:
    chat = await TelegramChat.open()
    try:
        yield chat
    finally:
        await chat.aclose()


@pytest.fixture
async def services(sqlite_url: str, providers: Providers, tmp_path: Path) -> AsyncIterator[Services]:
    services = await open_job_services(job_settings(sqlite_url, None, providers, tmp_path / "media"))
    try:
        yield services
    finally:
        await services.aclose()


async def test_without_redis_the_bot_process_runs_the_article_itself(
    services: Services, providers: Providers, chat: TelegramChat
) -> None:
    queue = services.queue
    assert isinstance(queue, InProcessJobQueue) and services.background is not None
    services.start_background(chat.messengers)  # what the Telegram bot does at start
    ana = await learner(services)

    requested = await request_article(services, ana, chat.messenger)
    assert requested.enqueued
    await queue.join()

    texts = chat.texts()
    assert texts[0] == "✅ Your article is ready."
    assert texts[1] == "Un día en el mercado\n\nHoy voy al mercado. Compro pan y fruta."
    assert texts[2].startswith("Translation\n\nA day at the market") and texts[3].startswith("New words:")
    assert chat.voices() == 1 and len(texts) == 4
    assert services.jobs is not None
    assert (await services.jobs.get(ana.id, requested.job.id)).status is JobStatus.DONE
    assert len(providers.anthropic.calls) == 1


async def test_a_job_left_queued_by_an_earlier_process_is_swept_up_at_the_next_start(
    sqlite_url: str, services: Services, providers: Providers, chat: TelegramChat, tmp_path: Path
) -> None:
    """The bot stopped before it ran a job: the next process's first sweep finds the row and runs it."""
    ana = await learner(services)
    requested = await request_article(services, ana, chat.messenger)  # the queue was never started
    await services.aclose()

    settings = job_settings(sqlite_url, None, providers, tmp_path / "media")
    # The sweep takes rows queued longer than queued_grace (30 s in production); none here.
    restarted = await open_job_services(settings, job_timings=JobTimings(queued_grace=timedelta(0)))
    try:
        assert restarted.background is not None and isinstance(restarted.queue, InProcessJobQueue)
        restarted.start_background(chat.messengers)
        await restarted.background.wait_rounds(1)  # the sweep at start enqueued it
        await restarted.queue.join()
        assert restarted.jobs is not None
        assert (await restarted.jobs.get(ana.id, requested.job.id)).status is JobStatus.DONE
    finally:
        await restarted.aclose()
    texts = chat.texts()
    assert texts[0] == "✅ Your article is ready." and len(texts) == 4
    assert chat.voices() == 1
