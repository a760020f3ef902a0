"""The webhook server: Telegram POSTs each update; we answer 200 only once it has been handled.

- Listens on TELEGRAM_WEBHOOK_LISTEN ("host:port"; port 0 picks a free one), on the path of
  TELEGRAM_WEBHOOK_URL ("/" when it has none), POST only.
- `X-Telegram-Bot-Api-Secret-Token` must equal TELEGRAM_WEBHOOK_SECRET (compared in constant
  time with `hmac.compare_digest`); missing, wrong or not even text -> 403 and nothing is handled.
- TELEGRAM_WEBHOOK_URL must be https (Telegram delivers to nothing else) and the secret at least
  16 characters (Telegram allows 1–256 of A–Z, a–z, 0–9, _ and -; a short one can be guessed).
- The update is handled (per chat in order, like polling), THEN 200. A failure answers 500, so
  Telegram delivers the update again; a body that is not an update answers 400.
- A button press's answer (answerCallbackQuery) is the 200's body, which Telegram carries out:
  one Bot API call fewer per press than in polling mode. When the 200 would leave more than a
  second after the answer was known, or not at all (500, 503), the answer is a Bot API call.
- On stop: new requests get 503 (Telegram retries them later), in-flight ones finish.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Hashable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bots.telegram.polling import ChatQueue, Handle
from bots.telegram.sender import WEBHOOK_REPLY, WebhookReply

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 1024 * 1024  # an update is a few kilobytes; Telegram sends nothing bigger


class WebhookConfigError(ValueError):
    """TELEGRAM_WEBHOOK_* settings that cannot work; the message says which and why."""


def parse_listen(listen: str) -> tuple[str, int]:
    """'0.0.0.0:8443' -> ('0.0.0.0', 8443); '[::]:8443' -> ('::', 8443)."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise WebhookConfigError(f"TELEGRAM_WEBHOOK_LISTEN={listen!r} is not host:port (e.g. 0.0.0.0:8443)")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - listening on every interface is the point


def webhook_path(url: str) -> str:
    """The path Telegram POSTs to: the path of TELEGRAM_WEBHOOK_URL, "/" when it has none."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.netloc:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_URL must be an https:// URL: Telegram delivers webhooks over HTTPS only "
            "(put a TLS-terminating proxy in front of TELEGRAM_WEBHOOK_LISTEN)"
        )
    if parts.scheme != "https" or not parts.netloc:
        raise WebhookConfigError("TELEGRAM_WEBHOOK_URL is not an https:// URL (e.g. https://bot.example.org/telegram)")
    return parts.path or "/"


MIN_SECRET_CHARS = 16


def check_secret(secret: str) -> None:
    """Telegram accepts 1–256 characters of A–Z, a–z, 0–9, _ and -; we ask for at least 16."""
    if not MIN_SECRET_CHARS <= len(secret) <= 256 or any(
        not (ch.isascii() and (ch.isalnum() or ch in "_-")) for ch in secret
    ):
        raise WebhookConfigError(
            f"TELEGRAM_WEBHOOK_SECRET must be {MIN_SECRET_CHARS}–256 characters of A–Z, a–z, 0–9, _ and - "
            "(Telegram's alphabet; long enough not to be guessed), e.g. the output of `openssl rand -hex 24`"
        )


class WebhookServer:
    """aiohttp server that hands each authentic update to `handle`."""

    def __init__(
        self,
        bot: Bot,
        handle: Handle,
        key: Callable[[Update], Hashable],
        *,
        path: str,
        secret: str,
        host: str,
        port: int,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._key = key
        self._path = path
        self._secret = secret.encode()
        self._host = host
        self._port = port
        self._queue = ChatQueue()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> int:
        """Bind and serve; returns the bound port."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(self._path, self._receive)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        self.port = _bound_port(runner, self._port)
        logger.info("webhook server listening on %s:%s%s", self._host, self.port, self._path)
        return self.port

    async def stop(self, drain_timeout: float | None = None) -> None:
        """Refuse new updates, let the ones in flight finish, close the server.

        With `drain_timeout` (seconds), updates still running after it are cancelled: their
        requests get no 200, so Telegram delivers them again.
        """
        self._stopping = True
        cancelled = await self._queue.drain(drain_timeout)
        if cancelled:
            logger.warning("%d update(s) still running at stop were cancelled; Telegram delivers them again", cancelled)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authentic(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return False
        try:  # a header of bytes that are not UTF-8 arrives with surrogates, which do not encode
            raw = given.encode()
        except UnicodeError:
            return False
        return hmac.compare_digest(raw, self._secret)

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authentic(request):
            logger.warning("webhook request without the right secret token from %s refused", request.remote)
            return web.Response(status=403, text="Forbidden")
        if self._stopping:
            return web.Response(status=503, text="Stopping")
        try:
            data = await request.json(loads=json.loads)
            update = Update.de_json(data, self._bot)
        except Exception as exc:  # not JSON, or not an update
            logger.warning("webhook body is not an update: %s", type(exc).__name__)
            return web.Response(status=400, text="Bad Request")
        if update is None:
            return web.Response(status=400, text="Bad Request")
        reply = WebhookReply()  # the button's answer, when the update has one (bots.telegram.sender)
        context = WEBHOOK_REPLY.set(reply)
        try:
            task = self._queue.submit(self._key(update), lambda: self._handle(update))  # the task copies it
        finally:
            WEBHOOK_REPLY.reset(context)
        try:
            await asyncio.shield(task)  # a dropped connection does not abandon the update
        except asyncio.CancelledError:
            reply.release()
            if not task.cancelled():  # the connection went away; the update goes on being handled
                raise
            return web.Response(status=503, text="Stopping")  # cut off at stop: Telegram delivers it again
        except Exception:
            reply.release()
            logger.exception("update %s failed; Telegram will deliver it again", update.update_id)
            return web.Response(status=500, text="Failed")
        payload = reply.take()
        if payload is not None:
            return web.json_response(payload)  # Telegram makes this call (the button's answer) itself
        return web.Response(status=200, text="OK")


def _bound_port(runner: web.AppRunner, wanted: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return wanted
