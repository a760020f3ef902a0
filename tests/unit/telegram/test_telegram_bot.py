"""TelegramBot's own decisions, with the real PTB Application against the local Bot API server.

The chat layer runs on the in-memory fakes of our ports (tests/fakes.py); the full flows on
Postgres are the e2e tests' (tests/e2e/telegram).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest

from bots.telegram.bot import DOWNLOAD_FAILED, TelegramBot, admin_policy, bot_commands
from bots.telegram.convert import TOO_BIG
from core.config import Settings
from tests.fakes import make_services
from tests.servers.telegram_server import TOKEN, BotApiServer

ADMIN = 111


@pytest.fixture
async def running() -> AsyncIterator[tuple[BotApiServer, TelegramBot]]:
    server = BotApiServer()
    url = await server.start()
    settings = Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=url,
        ADMIN_USER_IDS=f"telegram:{ADMIN}",
        TELEGRAM_ADMIN_CHAT_IDS=str(ADMIN),
    )
    bot = TelegramBot(settings, make_services(settings=settings), rate_limiter=None, poll_timeout=1)
    await bot.start()
    try:
        yield server, bot
    finally:
        await bot.stop()
        await server.stop()


async def test_start_registers_every_command_and_polls_without_a_webhook(
    running: tuple[BotApiServer, TelegramBot],
) -> None:
    server, bot = running
    assert (bot.username, bot.bot_id) == ("langlearn_test_bot", 123456789)
    assert [c["command"] for c in server.commands] == [c.command for c in bot_commands()]
    assert all(c["description"] for c in server.commands)
    assert server.webhook is None
    assert server.calls_of("deleteWebhook")


async def test_a_file_telegram_will_not_serve_is_refused_with_a_message(
    running: tuple[BotApiServer, TelegramBot],
) -> None:
    server, _ = running
    server.fail_next.append(("getFile", 400, "Bad Request: file is too big"))
    update = server.send_document(ADMIN, "words.csv", b"term,translation\n", caption="/pack_import food")
    await server.wait_confirmed(update)
    assert [m.text for m in server.messages(ADMIN)] == [TOO_BIG]


async def test_a_failed_download_is_told_not_swallowed(running: tuple[BotApiServer, TelegramBot]) -> None:
    server, _ = running
    server.fail_next.append(("getFile", 400, "Bad Request: invalid file_id"))
    update = server.send_document(ADMIN, "words.csv", b"term,translation\n", caption="/pack_import food")
    await server.wait_confirmed(update)
    assert [m.text for m in server.messages(ADMIN)] == [DOWNLOAD_FAILED]


async def test_a_press_is_answered_even_when_there_is_nothing_to_say(running: tuple[BotApiServer, TelegramBot]) -> None:
    server, _ = running
    update = server.send_text(5, "/start")
    await server.wait_confirmed(update)
    question = server.messages(5)[-1]
    first = server.press(5, question, "Spanish")
    await server.wait_confirmed(first)
    again = server.press_data(5, question, "not-a-payload-of-ours")
    await server.wait_confirmed(again)
    assert len(server.callback_answers) == 2  # both presses answered: no spinner left turning
    assert not server.callback_answers[0].get("text")
    assert server.callback_answers[1].get("text") == "This button has expired."
    assert server.messages(5)[-1].text.startswith("Learning Spanish")  # the refusal is a toast, no message


def test_admin_policy_comes_from_the_settings() -> None:
    policy = admin_policy(Settings(ADMIN_USER_IDS="telegram:1,discord:2", TELEGRAM_ADMIN_CHAT_IDS="-100, 1"))
    assert policy.is_admin_user("telegram", "1") and not policy.is_admin_user("telegram", "2")
    assert policy.is_admin_channel("telegram", "-100") and policy.is_admin_channel("telegram", "1")
    assert not policy.is_admin_channel("discord", "-100")


async def test_start_warms_up_the_languages_in_use_without_waiting_for_them() -> None:
    """start() loads the pipelines of the target languages learners use, in a thread."""
    server = BotApiServer()
    url = await server.start()
    settings = Settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=url)
    services = make_services(settings=settings)
    for user, target in (("1", "fr"), ("2", "es"), ("3", "de"), ("4", "fr")):
        learner, _ = await services.accounts.ensure_learner("telegram", user, f"learner {user}")
        await services.languages.set_pair(learner.id, target, "en", "A1")
    warmed: list[list[str]] = []
    done = threading.Event()

    def warm_up(languages: Iterable[str]) -> None:
        warmed.append(list(languages))
        done.set()

    services.warm_up_languages = warm_up
    bot = TelegramBot(settings, services, rate_limiter=None, poll_timeout=1)
    try:
        await bot.start()
        assert await asyncio.to_thread(done.wait, 10)
        assert warmed == [["de", "es", "fr"]]
    finally:
        await bot.stop()
        await server.stop()


async def test_a_slow_answer_shows_typing_first(running: tuple[BotApiServer, TelegramBot]) -> None:
    server, _ = running
    server.method_delay["getFile"] = 1.0  # the download alone outlasts the half second before "typing…"
    update = server.send_document(ADMIN, "words.csv", b"term,translation\n", caption="/pack_import nothing")
    await server.wait_confirmed(update)
    assert (ADMIN, "typing") in server.chat_actions
    assert server.messages(ADMIN)  # and the answer came after it


async def test_stop_closes_the_background_work_while_the_bot_can_still_send() -> None:
    """A background task still running at stop is cut off before the HTTP client closes: what it
    sends as it ends still reaches Telegram, rather than failing on a closed client afterwards."""
    from core.domain.models import DeliveryAddress, OutgoingMessage
    from core.outbound.jobs import InProcessBackground, InProcessJobQueue, PeriodicTask

    server = BotApiServer()
    url = await server.start()
    server.started_users.add(ADMIN)
    settings = Settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=url)
    services = make_services(settings=settings)
    running = asyncio.Event()
    ended: list[str] = []

    async def long_task(messengers: Any) -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        finally:  # a job's last words as it is cut off
            address = DeliveryAddress(platform="telegram", chat_id=str(ADMIN), user_id=str(ADMIN))
            await messengers["telegram"].send(address, OutgoingMessage(text="stopped mid-way"))
            ended.append("sent")

    queue = InProcessJobQueue()
    queue.bind(lambda _job, _messengers: asyncio.sleep(0))
    services.background = InProcessBackground(queue, [PeriodicTask("long", long_task)], interval_s=3600)
    bot = TelegramBot(settings, services, rate_limiter=None, poll_timeout=1)
    await bot.start()
    try:
        await running.wait()
        await bot.stop(drain_timeout=5, close_background=True)
        assert ended == ["sent"]
        assert server.texts(ADMIN) == ["stopped mid-way"]
    finally:
        await services.aclose()
        await server.stop()
