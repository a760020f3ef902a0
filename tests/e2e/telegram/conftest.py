"""End-to-end harness: the real `TelegramBot` (PTB Application, our poller, the chat layer, Postgres)
against the local Bot API server of tests/servers/telegram_server.py.

A test acts as Telegram users do (`tg.send`, `tg.press`, `tg.document`), each call waiting until the bot
has confirmed the update to the server (getUpdates with a higher offset, which our poller sends only once
the update is fully handled and its replies sent), then reads what the users see (`tg.server.messages`)
and what the database holds (`tg.rows`).

The services are built once per session with `core.bootstrap.bootstrap` (real FSRS, real spaCy blank
pipelines) on the run's Postgres database; every test gets an emptied database (pg_db), its own server
and its own bot, without the rate limiter (paced sending has its own tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.bootstrap import Services, bootstrap
from core.outbound.postgres.database import Database
from tests.e2e.telegram.harness import BOT_USERNAME, Telegram, settings_for, start_bot
from tests.fakes import FakeJobQueue
from tests.servers.telegram_server import BotApiServer


@pytest.fixture(scope="session")
async def tg_services(pg_url: str) -> AsyncIterator[Services]:
    """One set of real services for the session (spaCy pipelines load once); tables are emptied per test.

    Their job queue only records: an in-process queue would run its periodic sweep every minute for
    the whole session against the shared test database, and take over other tests' jobs (those
    tests use a fixed clock in the past, so every running job looks abandoned to a real-time sweep).
    Background work through Telegram is tested with services of its own (test_telegram_background).
    """
    services = await bootstrap(settings_for(pg_url, "http://127.0.0.1:9"), queue=FakeJobQueue())
    # Spanish lemmas before any test's clock runs: on a cold cache their file is built first (a
    # child process, up to a minute), which inside an update would outlast the harness's waits.
    await asyncio.to_thread(services.warm_up_languages, ["es"])
    try:
        yield services
    finally:
        await services.aclose()


@pytest.fixture
async def tg(pg_db: Database, pg_url: str, tg_services: Services) -> AsyncIterator[Telegram]:
    """A running bot on a fresh server and an emptied database."""
    server = BotApiServer(username=BOT_USERNAME)
    await server.start()
    bot = await start_bot(pg_url, server, tg_services)
    harness = Telegram(server, bot, pg_db, pg_url, tg_services)
    try:
        yield harness
    finally:
        await harness.bot.stop()
        await server.stop()
