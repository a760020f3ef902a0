"""Postgres restarted while the bot runs (issue 3 §4): the update in flight gets an apology, the next
one works, and the process never needs a restart.

The bot (real TelegramBot, PTB, our poller, the chat layer and its services built by `bootstrap`)
runs on a PRIVATE PostgreSQL cluster (tests/private_services.py) that these tests stop, start and
restart; the machine's own server is never touched. One cluster and one set of services serve the
module (building the services loads spaCy pipelines); each test gets emptied tables, a fresh Bot
API server and a fresh bot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa

from bots.chat.errors import SOMETHING_WENT_WRONG
from core.bootstrap import Services, bootstrap
from core.outbound.postgres.database import Database
from core.outbound.postgres.entities import Base
from core.outbound.postgres.migrate import upgrade_to_head
from tests.e2e.telegram.harness import ANA, BOT_USERNAME, FRONT_HINT, Telegram, settings_for, start_bot, texts
from tests.private_services import PrivatePostgres
from tests.servers.telegram_server import BotApiServer

WORDS = "Your words"  # the /words answer starts with it


@pytest.fixture(scope="module")
async def private_pg() -> AsyncIterator[PrivatePostgres]:
    async with PrivatePostgres() as pg:
        await upgrade_to_head(pg.url)
        yield pg


@pytest.fixture(scope="module")
async def private_services(private_pg: PrivatePostgres) -> AsyncIterator[Services]:
    services = await bootstrap(settings_for(private_pg.url, "http://127.0.0.1:9"))
    try:
        yield services
    finally:
        await services.aclose()


@pytest.fixture
async def tg(private_pg: PrivatePostgres, private_services: Services) -> AsyncIterator[Telegram]:
    """A running bot on the private cluster (started if a test left it down), tables emptied."""
    await private_pg.astart()
    db = Database(private_pg.url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    async with db.engine.begin() as connection:
        await connection.execute(sa.text(f"TRUNCATE {tables} CASCADE"))
    server = BotApiServer(username=BOT_USERNAME)
    await server.start()
    bot = await start_bot(private_pg.url, server, private_services)
    harness = Telegram(server, bot, db, private_pg.url, private_services)
    try:
        yield harness
    finally:
        await harness.bot.stop()
        await server.stop()
        await db.dispose()


async def read(pg: PrivatePostgres, sql: str) -> list[tuple[object, ...]]:
    """Rows as the database holds them, on a connection of the test's own (not the bot's pool)."""
    connection = await asyncpg.connect(pg.url.replace("+asyncpg", ""))
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


async def test_postgres_down_gets_an_apology_and_once_back_everything_works(
    tg: Telegram, private_pg: PrivatePostgres
) -> None:
    await tg.onboard()
    assert texts(await tg.send(ANA, "/add comer = to eat\ncasa = house")) == [
        "Added 2:\ncomer — to eat\ncasa — house"
    ]
    await tg.send(ANA, "/words")  # the pool holds connections opened before the outage

    await private_pg.astop()
    assert texts(await tg.send(ANA, "/words")) == [SOMETHING_WENT_WRONG]
    assert texts(await tg.send(ANA, "/add sol = sun")) == [SOMETHING_WENT_WRONG]  # the bot still runs

    await private_pg.astart()
    [words] = await tg.send(ANA, "/words")
    assert "comer — to eat" in words.text and "casa — house" in words.text, words.text
    assert texts(await tg.send(ANA, "/add sol = sun")) == ["Added 1:\nsol — sun"]
    assert sorted(await read(private_pg, "SELECT term FROM word_bank_entry")) == [("casa",), ("comer",), ("sol",)]


async def test_a_restart_while_the_bot_is_idle_costs_the_learner_nothing(
    tg: Telegram, private_pg: PrivatePostgres
) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house")
    [card] = await tg.send(ANA, "/review")
    assert card.text == f"comer\n\n{FRONT_HINT}"

    await private_pg.arestart()  # every pooled connection of the bot is now dead
    assert await tg.press(ANA, card, "Show answer") == []  # the review's hot path: the card turns over
    assert card.text == "comer → to eat\nHow well did you know it?"
    assert await tg.press(ANA, card, "Good") == []  # rated, and the next card on the same message
    assert card.text.startswith("comer → to eat\nGood · next in ")
    assert card.text.endswith(f"\n\ncasa\n\n{FRONT_HINT}") and card.labels == ["Show answer"]
    assert await read(private_pg, "SELECT rating, mode FROM review_event") == [(3, "button")]

    await private_pg.arestart()
    [words] = await tg.send(ANA, "/words")  # the plain SQLAlchemy path
    assert "comer — to eat" in words.text and "casa — house" in words.text, words.text


async def _wait_for_lock_waiter(pg: PrivatePostgres) -> None:
    """Until one of the bot's statements waits for a lock (the test holds it)."""
    waiting = "SELECT pid FROM pg_stat_activity WHERE application_name = 'langlearn' AND wait_event_type = 'Lock'"
    async with asyncio.timeout(15):
        while not await read(pg, waiting):  # noqa: ASYNC110 - no event says so: the server's sessions are polled
            await asyncio.sleep(0.02)


async def test_a_restart_with_an_update_in_flight_apologises_for_it_and_the_next_one_works(
    tg: Telegram, private_pg: PrivatePostgres
) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat")
    # Hold the word table so the next /add stops inside its transaction, in the middle of its work.
    blocker = await asyncpg.connect(private_pg.url.replace("+asyncpg", ""))
    await blocker.execute("BEGIN; LOCK TABLE word_bank_entry IN ACCESS EXCLUSIVE MODE")
    sent_before = len(tg.server.messages(ANA))
    in_flight = tg.server.send_text(ANA, "/add casa = house")
    await _wait_for_lock_waiter(private_pg)

    await private_pg.arestart()  # ends every session: the bot's transaction and the test's lock
    assert blocker.is_closed()
    await tg.server.wait_confirmed(in_flight)
    assert tg.server.texts(ANA)[sent_before:] == [SOMETHING_WENT_WRONG]
    assert await read(private_pg, "SELECT term FROM word_bank_entry") == [("comer",)]  # rolled back whole

    assert texts(await tg.send(ANA, "/add casa = house")) == ["Added 1:\ncasa — house"]
    [words] = await tg.send(ANA, "/words")
    assert "comer — to eat" in words.text and "casa — house" in words.text, words.text
