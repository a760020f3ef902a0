"""TelegramRateLimiter retries a 429 (RetryAfter) after its retry_after, and nothing else."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bots.telegram.ratelimit import TelegramRateLimiter
from tests.unit.telegram_ratelimit.virtual_api import VirtualBotApi, model, now, run_virtual, send


def flood(seconds: int | dt.timedelta) -> RetryAfter:
    """A RetryAfter as PTB builds it from a 429 (PTB 22 warns about its int `retry_after`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(seconds)


def attempts(api: VirtualBotApi) -> list[float]:
    return [round(c.at, 3) for c in api.calls]


@pytest.mark.parametrize("retry_after", [flood(5), flood(dt.timedelta(seconds=5))], ids=["int", "timedelta"])
def test_a_429_is_retried_after_its_retry_after(retry_after: RetryAfter) -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[retry_after])
        limiter = TelegramRateLimiter()
        result = await send(limiter, api, 42, "hello")
        assert result["text"] == "hello"
        assert attempts(api) == [0.0, 5.0]

    run_virtual(main)


def test_a_429_in_one_chat_holds_back_that_chat_only() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[flood(4)])
        limiter = TelegramRateLimiter()
        first = asyncio.create_task(send(limiter, api, 42, "first"))
        second = asyncio.create_task(send(limiter, api, 42, "second"))
        await asyncio.sleep(0.5)
        other = await send(limiter, api, 7, "elsewhere")
        assert other["text"] == "elsewhere" and now() == pytest.approx(0.5)
        await asyncio.gather(first, second)
        assert [(c.text, round(c.at, 3)) for c in api.sent(42)] == [("first", 4.0), ("second", 4.0)]

    run_virtual(main)


def test_a_group_message_and_a_chatless_edit_are_retried_too() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[flood(2)])
        limiter = TelegramRateLimiter()
        await send(limiter, api, -100, "to the group")
        assert now() == pytest.approx(2.0)
        api.fail_next.append(flood(3))
        await send(limiter, api, None, method="editMessageText")
        assert now() == pytest.approx(5.0)
        assert len(api.calls) == 4

    run_virtual(main)


def test_it_gives_up_after_max_retries_and_raises_the_429() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[flood(1) for _ in range(10)])
        limiter = TelegramRateLimiter()
        with pytest.raises(RetryAfter):
            await send(limiter, api, 42)
        assert attempts(api) == [0.0, 1.0, 2.0, 3.0]  # the first try and three retries

    run_virtual(main)


@pytest.mark.parametrize(("configured", "per_call", "calls"), [(0, None, 1), (3, 0, 1), (3, 1, 2), (0, 2, 3)])
def test_max_retries_can_be_set_per_limiter_and_per_call(configured: int, per_call: int | None, calls: int) -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[flood(1) for _ in range(10)])
        limiter = TelegramRateLimiter(max_retries=configured)
        with pytest.raises(RetryAfter):
            await send(limiter, api, 42, rate_limit_args=per_call)
        assert len(api.calls) == calls

    run_virtual(main)


@pytest.mark.parametrize(
    "error",
    [BadRequest("Bad Request: message is too long"), Forbidden("Forbidden: bot was blocked by the user"),
     NetworkError("connection reset"), TimedOut()],
    ids=["bad-request", "forbidden", "network", "timeout"],
)
def test_other_errors_are_raised_at_once_and_not_retried(error: Exception) -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[error])
        limiter = TelegramRateLimiter()
        with pytest.raises(type(error)):
            await send(limiter, api, 42)
        assert len(api.calls) == 1
        assert (await send(limiter, api, 42, "next"))["text"] == "next"  # the chat is usable afterwards

    run_virtual(main)


def test_a_retry_is_logged_at_info_without_the_message(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), fail_next=[flood(2), flood(2)])
        limiter = TelegramRateLimiter(max_retries=1)
        with pytest.raises(RetryAfter):
            await send(limiter, api, 42, "my secret vocabulary")

    with caplog.at_level(logging.DEBUG, logger="bots.telegram.ratelimit"):
        run_virtual(main)
    records = [r for r in caplog.records if r.name == "bots.telegram.ratelimit"]
    assert [r.levelno for r in records] == [logging.INFO, logging.WARNING]
    expected = "Telegram flood limit on sendMessage (private chat): retrying in 2.0 s (retry 1 of 1)"
    assert records[0].getMessage() == expected
    assert "giving up after 1 retries" in records[1].getMessage()
    assert not any("secret" in r.getMessage() or "42" in r.getMessage() for r in records)


def test_the_limiter_plugs_into_ptb_and_forgets_its_state_on_shutdown() -> None:
    from telegram.ext import ApplicationBuilder

    async def main() -> None:
        limiter = TelegramRateLimiter()
        app = ApplicationBuilder().token("1:x").rate_limiter(limiter).updater(None).build()
        assert app.bot.rate_limiter is limiter
        api = VirtualBotApi(model())
        await limiter.initialize()
        await send(limiter, api, 42)
        assert limiter._chats
        await limiter.shutdown()
        assert not limiter._chats

    run_virtual(main)
