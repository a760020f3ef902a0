"""AiohttpRequest (bots/telegram/request.py) under the real PTB `Bot`, against the local Bot API server:
form calls, multipart uploads (file name, bytes, MIME type), long polls, timeouts → TimedOut, a refused
connection → NetworkError without the token, 429 → RetryAfter, the session closed on shutdown, and the
environment's proxy (HTTP_PROXY, NO_PROXY) used as httpx uses it."""

from __future__ import annotations

import asyncio
import base64
import socket
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import BodyPartReader, web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, RetryAfter, TimedOut

from bots.telegram.request import AiohttpRequest, env_proxy, redact
from tests.servers._base import LocalServer
from tests.servers.telegram_server import TOKEN, BotApiServer

ANA = 1001


def make_bot(url: str, request: AiohttpRequest | None = None, updates: AiohttpRequest | None = None) -> Bot:
    return Bot(
        TOKEN,
        base_url=f"{url}/bot",
        base_file_url=f"{url}/file/bot",
        request=request or AiohttpRequest(),
        get_updates_request=updates or AiohttpRequest(connection_pool_size=1),
    )


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    api = BotApiServer()
    await api.start()
    api.started_users.add(ANA)
    try:
        yield api
    finally:
        await api.stop()


def assert_no_token(exc: BaseException) -> None:
    shown = "".join(traceback.format_exception(exc))
    assert TOKEN not in shown
    assert TOKEN.split(":")[1] not in shown
    assert exc.__cause__ is None and exc.__context__ is None  # no aiohttp error (its text may hold the URL)


async def test_a_form_call_reaches_the_server_with_its_json_fields(server: BotApiServer) -> None:
    bot = make_bot(server.url)
    async with bot:
        me = await bot.get_me()
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again ¿sí?", callback_data="r:1")]])
        sent = await bot.send_message(ANA, "<b>hola</b> & más", parse_mode="HTML", reply_markup=keyboard)
    assert me.username == server.username
    [message] = server.messages(ANA)
    assert (message.text, message.labels, sent.message_id) == ("hola & más", ["Again ¿sí?"], message.message_id)
    [call] = server.calls_of("sendMessage")
    assert call.params["chat_id"] == ANA


async def test_an_upload_arrives_with_its_file_name_and_bytes(server: BotApiServer) -> None:
    content = bytes(range(256)) * 40
    bot = make_bot(server.url)
    async with bot:
        await bot.send_document(ANA, InputFile(content, filename="Übung 1 «es».pdf"), caption="tu archivo")
        await bot.send_voice(ANA, b"OggS\x00fake opus", duration=2)
    document, voice = server.messages(ANA)
    assert (document.kind, document.file_name, document.content, document.text) == (
        "document",
        "Übung 1 «es».pdf",
        content,
        "tu archivo",
    )
    assert (voice.kind, voice.content) == ("voice", b"OggS\x00fake opus")


class PartsServer(LocalServer):
    """Answers getMe, and sendDocument with a minimal Message and keeps each multipart part's headers and bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/getMe", self._get_me)
        app.router.add_post("/bot{token}/sendDocument", self._send_document)

    async def _get_me(self, request: web.Request) -> web.Response:
        me = {"id": 1, "is_bot": True, "first_name": "Parts", "username": "parts_bot"}
        return web.json_response({"ok": True, "result": me})

    async def _send_document(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        async for part in reader:
            assert isinstance(part, BodyPartReader)
            self.parts.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "content_type": part.headers.get("Content-Type"),
                    "body": bytes(await part.read()),
                }
            )
        document = {"file_id": "f1", "file_unique_id": "u1", "file_name": "x"}
        message = {"message_id": 1, "date": 0, "chat": {"id": ANA, "type": "private"}, "document": document}
        return web.json_response({"ok": True, "result": message})


async def test_an_upload_part_carries_its_mime_type() -> None:
    parts = PartsServer()
    await parts.start()
    try:
        async with make_bot(parts.url) as bot:
            await bot.send_document(ANA, InputFile(b"%PDF-1.4 x", filename="notes.pdf"), caption="c")
    finally:
        await parts.stop()
    by_name = {part["name"]: part for part in parts.parts}
    assert by_name["document"]["filename"] == "notes.pdf"
    assert by_name["document"]["content_type"] == "application/pdf"
    assert by_name["document"]["body"] == b"%PDF-1.4 x"
    assert by_name["caption"]["body"] == b"c" and by_name["caption"]["filename"] is None
    assert by_name["chat_id"]["body"] == str(ANA).encode()


async def test_a_long_poll_waits_longer_than_the_default_read_timeout(server: BotApiServer) -> None:
    """getUpdates reads for poll timeout + read_timeout: a 1 s poll outlives a 0.3 s read timeout."""
    updates = AiohttpRequest(connection_pool_size=1, read_timeout=0.3)
    async with make_bot(server.url, updates=updates) as bot:
        assert await bot.get_updates(timeout=1) == ()
        update_id = server.send_text(ANA, "hola")
        [update] = await bot.get_updates(timeout=1)
    assert update.update_id == update_id and update.message is not None and update.message.text == "hola"


async def test_a_slow_answer_is_a_timed_out(server: BotApiServer) -> None:
    server.method_delay["sendMessage"] = 1.0
    async with make_bot(server.url, request=AiohttpRequest(read_timeout=5)) as bot:
        with pytest.raises(TimedOut) as raised:
            await bot.send_message(ANA, "late", read_timeout=0.1)
    assert_no_token(raised.value)


async def test_a_full_pool_is_a_timed_out_without_the_token(server: BotApiServer) -> None:
    """aiohttp's ConnectionTimeoutError text holds the URL (and so the token): ours does not."""
    server.method_delay["sendMessage"] = 1.0
    request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.05, connect_timeout=0.05)
    async with make_bot(server.url, request=request) as bot:
        slow = asyncio.create_task(bot.send_message(ANA, "first"))
        await server.wait_until(lambda: server.counts["sendMessage"] == 1)
        with pytest.raises(TimedOut) as raised:
            await bot.send_message(ANA, "second")
        await slow
    assert "connection" in str(raised.value)
    assert_no_token(raised.value)
    assert server.texts(ANA) == ["first"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_refused_connection_is_a_network_error_without_the_token() -> None:
    request = AiohttpRequest()
    bot = make_bot(f"http://127.0.0.1:{free_port()}", request=request)
    try:
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(ANA, "nobody there")
    finally:
        await request.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in str(raised.value)
    assert_no_token(raised.value)


async def test_a_429_is_retry_after_through_ptb(server: BotApiServer) -> None:
    server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
    async with make_bot(server.url) as bot:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(ANA, "too fast")
        await bot.send_message(ANA, "later")
    assert str(raised.value) == "Flood control exceeded. Retry in 1 seconds"
    assert server.texts(ANA) == ["later"]


async def test_shutdown_closes_the_session_and_initialize_opens_a_new_one(server: BotApiServer) -> None:
    request = AiohttpRequest()
    bot = make_bot(server.url, request=request)
    assert not request.is_open
    await bot.initialize()
    assert request.is_open
    await bot.send_message(ANA, "one")
    await bot.shutdown()
    assert not request.is_open
    await request.shutdown()  # a second shutdown does nothing
    await request.initialize()
    await bot.send_message(ANA, "two")
    await request.shutdown()
    assert not request.is_open
    assert server.texts(ANA) == ["one", "two"]


def test_redact_removes_the_url_and_the_token() -> None:
    url = f"http://127.0.0.1:9/bot{TOKEN}/sendMessage"
    text = f"Connection timeout to host {url}; token {TOKEN}; path /file/bot{TOKEN}/x"
    redacted = redact(text, url)
    assert TOKEN not in redacted
    assert redacted.startswith("Connection timeout to host <Bot API URL>; token <token>")


class ForwardProxy:
    """A plain-HTTP forward proxy that answers every request itself (getMe's answer) and records its line."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.authorizations: list[str | None] = []  # each request's Proxy-Authorization
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                self.request_lines.append(lines[0])
                fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
                given = {name.strip().lower(): value.strip() for name, value in fields.items()}
                self.authorizations.append(given.get("proxy-authorization"))
                sizes = [line.split(":", 1)[1] for line in lines if line.lower().startswith("content-length:")]
                await reader.readexactly(int(sizes[0]) if sizes else 0)
                body = b'{"ok":true,"result":{"id":7,"is_bot":true,"first_name":"Proxied","username":"proxied_bot"}}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
                writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def test_the_environment_proxy_is_used_unless_no_proxy_names_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP(S)_PROXY, ALL_PROXY and NO_PROXY as httpx (PTB's default transport) honours them; read per session."""
    proxy = ForwardProxy()
    proxy_url = await proxy.start()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    request = AiohttpRequest()
    bot = make_bot("http://bot-api.invalid", request=request)  # only the proxy can reach it
    try:
        me = await bot.get_me()
        assert me.username == "proxied_bot"
        assert proxy.request_lines == [f"POST http://bot-api.invalid/bot{TOKEN}/getMe HTTP/1.1"]

        assert proxy.authorizations == [None]

        await request.shutdown()  # a new session reads the environment again
        monkeypatch.setenv("HTTP_PROXY", proxy_url.replace("http://", "http://ana:p%40ss@"))
        assert (await bot.get_me()).username == "proxied_bot"
        assert proxy.authorizations[-1] == "Basic " + base64.b64encode(b"ana:p@ss").decode()
        del proxy.request_lines[-1]

        await request.shutdown()
        monkeypatch.delenv("HTTP_PROXY")
        monkeypatch.setenv("ALL_PROXY", proxy_url)  # for every scheme without its own
        assert (await bot.get_me()).username == "proxied_bot"
        assert len(proxy.request_lines) == 2

        await request.shutdown()
        monkeypatch.setenv("NO_PROXY", "bot-api.invalid")
        with pytest.raises(NetworkError) as raised:
            await bot.get_me()  # direct: the name does not resolve
        assert len(proxy.request_lines) == 2
        assert_no_token(raised.value)
    finally:
        await request.shutdown()
        await proxy.stop()


def test_env_proxy_takes_credentials_and_refuses_other_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "")
    assert env_proxy("https://api.telegram.org/botX/getMe") == (None, None)
    monkeypatch.setenv("HTTPS_PROXY", "http://ana:p%40ss@proxy.internal:3128")
    proxy, headers = env_proxy("https://api.telegram.org/botX/getMe")
    assert proxy == "http://proxy.internal:3128"
    assert headers == {"Proxy-Authorization": "Basic " + base64.b64encode(b"ana:p@ss").decode()}
    assert env_proxy("http://api.telegram.org/botX/getMe") == (None, None)  # no HTTP_PROXY, no ALL_PROXY
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.internal:1080")
    assert env_proxy("https://api.telegram.org/botX/getMe") == (None, None)
