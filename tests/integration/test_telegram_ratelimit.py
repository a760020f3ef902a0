"""TelegramRateLimiter in the real PTB bot, against a local Bot API server that answers 429 over the limits.

The server (tests/servers/telegram_server.py) consults TelegramLimits on every send and answers
`429 Too Many Requests` with `retry_after` as Telegram does. `limits.exceeded == 0` means Telegram
would never have throttled the bot. Timing is measured by bench/telegram_ratelimit.py, not here.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from telegram.error import RetryAfter
from telegram.ext import ApplicationBuilder, ExtBot

from bots.telegram import shared_limits
from bots.telegram.ratelimit import TelegramRateLimiter
from bots.telegram.shared_limits import RedisWindows, bot_namespace
from tests.servers.telegram_limits import TelegramLimits
from tests.servers.telegram_server import TOKEN, BotApiServer

# PTB itself builds RetryAfter from each 429 with an int retry_after, and warns that it will be a timedelta.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    server = BotApiServer(limits=TelegramLimits())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def bot_for(server: BotApiServer, limiter: TelegramRateLimiter | None) -> ExtBot[None]:
    """The bot exactly as the adapter's Application builds it (connection pool and all)."""
    builder = ApplicationBuilder().token(TOKEN).base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot")
    builder = builder.rate_limiter(limiter) if limiter is not None else builder
    return builder.updater(None).build().bot  # type: ignore[return-value]


def users_who_wrote(server: BotApiServer, user_ids: range) -> None:
    """Telegram lets a bot write only to users who wrote to it first."""
    for user_id in user_ids:
        server.send_text(user_id, "/start")


def limits_of(server: BotApiServer) -> TelegramLimits:
    assert isinstance(server.limits, TelegramLimits)
    return server.limits


async def test_the_server_throttles_a_bot_without_the_limiter(server: BotApiServer) -> None:
    """The control: a naive burst does get 429s, so the zero counts below mean something."""
    users_who_wrote(server, range(1, 41))
    async with bot_for(server, None) as bot:
        results = await asyncio.gather(
            *(bot.send_message(user, "hello") for user in range(1, 41)), return_exceptions=True
        )
    assert sum(isinstance(r, RetryAfter) for r in results) >= 10
    assert limits_of(server).exceeded >= 10


@pytest.mark.slow
async def test_300_messages_to_300_chats_all_arrive_and_no_429_reaches_the_caller(server: BotApiServer) -> None:
    users = range(1001, 1301)
    users_who_wrote(server, users)
    async with bot_for(server, TelegramRateLimiter()) as bot:
        sent = await asyncio.gather(*(bot.send_message(user, f"hello {user}") for user in users))
    assert [m.text for m in sent] == [f"hello {user}" for user in users]
    assert all(server.texts(user) == [f"hello {user}"] for user in users)
    assert limits_of(server).exceeded == 0 and server.errors[429] == 0
    assert server.counts["sendMessage"] == 300


async def test_ten_messages_to_one_chat_at_once_all_arrive_without_a_429(server: BotApiServer) -> None:
    server.limits = TelegramLimits(private_per_s=4.0)  # the same burst, a quicker pace: the test takes ~2 s
    users_who_wrote(server, range(42, 43))
    async with bot_for(server, TelegramRateLimiter(private_per_s=4.0)) as bot:
        sends = [asyncio.create_task(bot.send_message(42, f"part {i}")) for i in range(10)]
        await server.wait_until(lambda: len(server.messages(42)) >= 3, what="the first burst")
        # calls that send no message are not queued behind the chat's backlog
        assert await bot.send_chat_action(42, "typing") is True
        assert (await bot.get_me()).username == server.username
        assert not all(task.done() for task in sends)
        await asyncio.gather(*sends)
    assert sorted(server.texts(42)) == sorted(f"part {i}" for i in range(10))
    assert limits_of(server).exceeded == 0 and server.errors[429] == 0


async def test_a_group_burst_sends_20_and_the_rest_wait_for_the_window(server: BotApiServer) -> None:
    group = -100555
    server.limits = TelegramLimits(group_per_min=20, group_window_s=3.0)  # Telegram's 20 a minute, in 3 s
    server.chat(group, "supergroup")
    async with bot_for(server, TelegramRateLimiter(group_per_window=20, group_window_s=3.0)) as bot:
        sends = [asyncio.create_task(bot.send_message(group, f"line {i}")) for i in range(25)]
        await server.wait_until(lambda: len(server.messages(group)) >= 20, what="20 group messages")
        assert len(server.messages(group)) == 20
        assert sum(not task.done() for task in sends) >= 5  # the other five wait for the window
        await asyncio.gather(*sends)
    assert sorted(server.texts(group)) == sorted(f"line {i}" for i in range(25))
    assert limits_of(server).exceeded == 0 and server.errors[429] == 0


async def test_a_429_from_telegram_is_retried_after_its_retry_after(server: BotApiServer) -> None:
    users_who_wrote(server, range(7, 8))
    server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
    async with bot_for(server, TelegramRateLimiter()) as bot:
        message = await bot.send_message(7, "after the flood")
    assert message.text == "after the flood"
    assert server.texts(7) == ["after the flood"]
    assert server.counts["sendMessage"] == 2 and server.errors[429] == 1


async def test_a_429_that_persists_past_max_retries_is_raised(server: BotApiServer) -> None:
    users_who_wrote(server, range(7, 8))
    server.fail_next += [("sendMessage", 429, "Too Many Requests: retry after 1")] * 2
    async with bot_for(server, TelegramRateLimiter(max_retries=1)) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(7, "never")
    assert server.texts(7) == []
    assert server.counts["sendMessage"] == 2


# --- shared by the bot's processes (bots/telegram/shared_limits.py) ----------------------------

SHARED_REDIS_URL = os.environ.get("TEST_SHARED_LIMITS_REDIS_URL", "redis://127.0.0.1:6379/14")


async def two_processes_send(server: BotApiServer, limiters: tuple[TelegramRateLimiter, TelegramRateLimiter]) -> None:
    """60 messages to 60 chats at once, half through each bot (as the bot and a worker would send)."""
    users = range(2001, 2061)
    users_who_wrote(server, users)
    async with bot_for(server, limiters[0]) as first, bot_for(server, limiters[1]) as second:
        sent = await asyncio.gather(
            *(first.send_message(user, "from the bot") for user in users[:30]),
            *(second.send_message(user, "from a worker") for user in users[30:]),
        )
    assert len(sent) == 60 and all(len(server.texts(user)) == 1 for user in users)


async def test_two_processes_each_under_the_limit_together_exceed_it(server: BotApiServer) -> None:
    """The control: each limiter alone keeps 30/s, so two of them send 60 in the first second."""
    await two_processes_send(server, (TelegramRateLimiter(), TelegramRateLimiter()))
    assert limits_of(server).exceeded >= 10


async def test_limiters_sharing_redis_keep_the_bots_overall_limit_together(server: BotApiServer) -> None:
    namespace = f"test:{uuid.uuid4().hex}"
    shared = (RedisWindows(SHARED_REDIS_URL, namespace), RedisWindows(SHARED_REDIS_URL, namespace))
    await two_processes_send(server, (TelegramRateLimiter(shared=shared[0]), TelegramRateLimiter(shared=shared[1])))
    assert limits_of(server).exceeded == 0 and server.errors[429] == 0


async def test_with_redis_unreachable_the_process_limits_still_hold_and_messages_go(
    server: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    users = range(3001, 3011)
    users_who_wrote(server, users)
    limiter = TelegramRateLimiter(shared=RedisWindows("redis://127.0.0.1:1/0", "test:down"))
    with caplog.at_level(logging.WARNING, logger="bots.telegram.shared_limits"):
        async with bot_for(server, limiter) as bot:
            await asyncio.gather(*(bot.send_message(user, "still here") for user in users))
    assert all(server.texts(user) == ["still here"] for user in users)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bots.telegram.shared_limits"]
    assert warnings == ["Telegram limits are per process for now: Redis is unreachable (ConnectionError)"]


async def test_after_a_redis_failure_the_shared_windows_are_skipped_for_30_seconds() -> None:
    """Every message must not wait for a Redis timeout while Redis is down: one failure, then 30 s of
    local limits only, then Redis is tried again (here it answers, and the window counts again)."""
    now = [1000.0]
    namespace = f"test:{uuid.uuid4().hex}"
    windows = RedisWindows("redis://127.0.0.1:1/0", namespace, clock=lambda: now[0])
    try:
        await windows.acquire("all", 1, 1.0)  # fails: Redis is not there
        await windows._redis.aclose()
        windows._redis = Redis.from_url(SHARED_REDIS_URL)
        windows._script = windows._redis.register_script(shared_limits._SCRIPT)
        now[0] += 29.0
        await windows.acquire("all", 1, 1.0)  # skipped: nothing counted yet
        await windows.acquire("all", 1, 1.0)
        assert await windows._redis.zcard(f"{namespace}:all") == 0
        now[0] += 2.0
        await windows.acquire("all", 1, 1.0)  # tried again: counted
        assert await windows._redis.zcard(f"{namespace}:all") == 1
    finally:
        await windows.aclose()


def test_the_redis_namespace_is_the_bots_public_id_never_its_secret() -> None:
    assert bot_namespace("123456:AAE-secret_part") == "langlearn:telegram-limits:123456"
    assert "secret" not in bot_namespace("not-a-token-secret")
