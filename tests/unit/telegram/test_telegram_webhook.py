"""The webhook server: only requests with the secret are handled, and 200 comes after handling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Bot, Update

from bots.telegram.bot import TelegramBot, TelegramStartError
from bots.telegram.convert import ordering_key
from bots.telegram.sender import REPLY_DEADLINE_S, WEBHOOK_REPLY
from bots.telegram.webhook import SECRET_HEADER, WebhookConfigError, WebhookServer, parse_listen, webhook_path
from core.config import Settings
from tests.fakes import make_services
from tests.servers.telegram_server import TOKEN

SECRET = "s3cret_token-123"


def raw_update(update_id: int, text: str, chat_id: int = 1) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ana"},
            "text": text,
        },
    }


class Recorder:
    def __init__(self) -> None:
        self.handled: list[int] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail = False

    async def __call__(self, update: Update) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("handling failed")
        self.handled.append(update.update_id)


@pytest.fixture
async def webhook() -> AsyncIterator[tuple[WebhookServer, Recorder, str]]:
    recorder = Recorder()
    server = WebhookServer(
        Bot(TOKEN), recorder, ordering_key, path="/telegram/hook", secret=SECRET, host="127.0.0.1", port=0
    )
    port = await server.start()
    try:
        yield server, recorder, f"http://127.0.0.1:{port}/telegram/hook"
    finally:
        await server.stop()


async def post(url: str, body: Any, secret: str | None) -> int:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as response:
        return response.status


async def test_requests_without_the_right_secret_are_refused_and_not_handled(
    webhook: tuple[WebhookServer, Recorder, str],
) -> None:
    _, recorder, url = webhook
    assert await post(url, raw_update(1, "hola"), None) == 403
    assert await post(url, raw_update(2, "hola"), "wrong") == 403
    assert await post(url, raw_update(3, "hola"), SECRET + "x") == 403
    assert await post(url, raw_update(4, "hola"), "") == 403
    assert recorder.handled == []


async def test_an_update_with_the_secret_is_handled_before_the_200(
    webhook: tuple[WebhookServer, Recorder, str],
) -> None:
    _, recorder, url = webhook
    recorder.gate = asyncio.Event()
    request = asyncio.create_task(post(url, raw_update(5, "hola"), SECRET))
    await recorder.entered.wait()
    assert not request.done()  # no answer while the update is being handled
    recorder.gate.set()
    assert await request == 200
    assert recorder.handled == [5]


async def test_a_failed_update_answers_500_so_telegram_delivers_it_again(
    webhook: tuple[WebhookServer, Recorder, str],
) -> None:
    _, recorder, url = webhook
    recorder.fail = True
    assert await post(url, raw_update(6, "hola"), SECRET) == 500


async def test_a_body_that_is_not_an_update_is_a_400(webhook: tuple[WebhookServer, Recorder, str]) -> None:
    _, recorder, url = webhook
    assert await post(url, {"hello": "world"}, SECRET) == 400
    assert await post(url, [1, 2], SECRET) == 400
    assert recorder.handled == []


async def test_only_post_on_the_webhook_path(webhook: tuple[WebhookServer, Recorder, str]) -> None:
    _, _, url = webhook
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 405
        async with session.post(url.replace("/hook", "/other"), json={}, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 404


def test_listen_and_path_settings() -> None:
    assert parse_listen("0.0.0.0:8443") == ("0.0.0.0", 8443)
    assert parse_listen("[::]:8080") == ("::", 8080)
    assert parse_listen(":0") == ("0.0.0.0", 0)
    for bad in ("8443", "host:", "host:99999", "host:http"):
        with pytest.raises(WebhookConfigError):
            parse_listen(bad)
    assert webhook_path("https://bot.example.org/telegram/hook") == "/telegram/hook"
    assert webhook_path("https://bot.example.org") == "/"
    with pytest.raises(WebhookConfigError):
        webhook_path("bot.example.org/hook")


def settings(**values: Any) -> Settings:
    return Settings(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL="http://127.0.0.1:9", **values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook"}, "TELEGRAM_WEBHOOK_SECRET is not"),
        (
            {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook", "TELEGRAM_WEBHOOK_SECRET": "has space"},
            "TELEGRAM_WEBHOOK_SECRET must be",
        ),
        (
            {
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook",
                "TELEGRAM_WEBHOOK_SECRET": SECRET,
                "TELEGRAM_WEBHOOK_LISTEN": "nowhere",
            },
            "TELEGRAM_WEBHOOK_LISTEN",
        ),
        (  # Telegram's alphabet, but short enough to guess
            {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook", "TELEGRAM_WEBHOOK_SECRET": "abc"},
            "TELEGRAM_WEBHOOK_SECRET must be 16–256 characters",
        ),
        (  # Telegram delivers webhooks over HTTPS only
            {"TELEGRAM_WEBHOOK_URL": "http://bot.example.org/hook", "TELEGRAM_WEBHOOK_SECRET": SECRET},
            "TELEGRAM_WEBHOOK_URL must be an https:// URL",
        ),
    ],
)
async def test_a_webhook_that_cannot_be_safe_or_reached_refuses_to_start(values: dict[str, str], message: str) -> None:
    config = settings(**values)
    bot = TelegramBot(config, make_services(settings=config), rate_limiter=None)
    with pytest.raises(TelegramStartError, match=message) as raised:
        await bot.start()  # refused before any request (the API root above answers nothing)
    assert raised.value.usage
    assert TOKEN not in str(raised.value)


def test_a_missing_token_is_refused_at_construction() -> None:
    config = Settings(TELEGRAM_API_BASE_URL="http://127.0.0.1:9")
    with pytest.raises(TelegramStartError, match="TELEGRAM_BOT_TOKEN is not set"):
        TelegramBot(config, make_services(settings=config), rate_limiter=None)


async def test_a_secret_header_that_is_not_text_is_refused_with_403(
    webhook: tuple[WebhookServer, Recorder, str],
) -> None:
    """Bytes that are not UTF-8 in the header: 403 like any wrong secret, not a 500 with a traceback."""
    server, recorder, _ = webhook
    assert server.port is not None
    body = json.dumps(raw_update(9, "hola")).encode()
    for header in (b"\xff\xfe", "é".encode(), SECRET.encode() + b"\xff"):
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /telegram/hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + b"Content-Length: %d\r\n" % len(body)
            + b"X-Telegram-Bot-Api-Secret-Token: "
            + header
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        assert status_line.split()[1] == b"403", (header, status_line)
    assert recorder.handled == []


# --- a button's answer in the webhook's response (bots.telegram.sender.WebhookReply) ------------


class Answering:
    """A handler that answers a button (as TelegramBot's Sender does), then takes `then_s` and maybe fails."""

    def __init__(self, then_s: float = 0.0, fail: bool = False) -> None:
        self.then_s, self.fail = then_s, fail
        self.calls: list[str] = []  # answers made as Bot API calls

    async def __call__(self, update: Update) -> None:
        reply = WEBHOOK_REPLY.get()
        assert reply is not None

        async def by_call() -> None:
            self.calls.append(f"answered {update.update_id}")

        reply.offer({"method": "answerCallbackQuery", "callback_query_id": str(update.update_id)}, by_call)
        await asyncio.sleep(self.then_s)
        if self.fail:
            raise RuntimeError("delivery failed")


async def answering_server(handler: Answering) -> tuple[WebhookServer, str]:
    server = WebhookServer(
        Bot(TOKEN), handler, ordering_key, path="/telegram/hook", secret=SECRET, host="127.0.0.1", port=0
    )
    port = await server.start()
    return server, f"http://127.0.0.1:{port}/telegram/hook"


async def post_for_body(url: str, body: Any) -> tuple[int, str]:
    headers = {SECRET_HEADER: SECRET}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as response:
        return response.status, await response.text()


async def test_a_prompt_answer_rides_on_the_200_and_no_call_is_made() -> None:
    handler = Answering()
    server, url = await answering_server(handler)
    try:
        status, body = await post_for_body(url, raw_update(7, "x"))
    finally:
        await server.stop()
    assert status == 200 and json.loads(body) == {"method": "answerCallbackQuery", "callback_query_id": "7"}
    assert handler.calls == []


async def test_an_answer_waiting_on_a_slow_delivery_goes_out_as_a_call_after_the_deadline() -> None:
    handler = Answering(then_s=REPLY_DEADLINE_S + 0.5)
    server, url = await answering_server(handler)
    try:
        status, body = await post_for_body(url, raw_update(8, "x"))
    finally:
        await server.stop()
    assert (status, body) == (200, "OK")  # not in the body: it was already made
    assert handler.calls == ["answered 8"]


async def test_a_failed_update_answers_500_and_its_button_answer_is_a_call() -> None:
    handler = Answering(fail=True)
    server, url = await answering_server(handler)
    try:
        status, _ = await post_for_body(url, raw_update(9, "x"))
        await asyncio.sleep(0.05)  # the call runs as its own task
    finally:
        await server.stop()
    assert status == 500
    assert handler.calls == ["answered 9"]
