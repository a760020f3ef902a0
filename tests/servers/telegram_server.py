"""A local Telegram Bot API server for the real python-telegram-bot (PTB) `Bot` / `Application`.

Point PTB at it with
    ApplicationBuilder().token(TOKEN).base_url(f"{server.url}/bot").base_file_url(f"{server.url}/file/bot")
(or `TELEGRAM_API_BASE_URL=server.url` for our adapter). It speaks the wire format PTB uses:

- methods arrive as `POST /bot<token>/<method>`, form-encoded, multipart (uploads) or JSON; non-string
  values inside form fields are JSON (`chat_id`, `reply_markup`, …). Replies are `{"ok": true, "result": …}`
  or `{"ok": false, "error_code": N, "description": …}` with that HTTP status; a 429 carries
  `parameters.retry_after`. A wrong token gets 401 "Unauthorized"; an unknown method 404 "Not Found".
- `getUpdates` hands out pending updates with `update_id >= offset` and waits up to `timeout` when there are
  none; an offset confirms (drops) every update below it. `wait_confirmed(update_id)` lets a test wait for
  the bot to confirm an update, i.e. to have handled it.
- Messages the bot sends are kept per chat with their current state (`messages(chat_id)`): edits replace the
  text and keyboard (counted in `edits`), deletes remove them. HTML is parsed as Telegram does (tags
  `b/i/u/s/code/pre/a/tg-spoiler/blockquote…`, entities `&lt; &gt; &amp; &quot; &#N;`); a broken tag is a 400
  "can't parse entities", so escaping bugs surface. Text over 4,096 characters, captions over 1,024,
  callback data over 64 bytes and "message is not modified" edits fail as on Telegram.
- Files: injected documents and voice notes get file ids; `getFile` returns a `file_path` (400 "file is too
  big" over 20 MB) and `GET /file/bot<token>/<file_path>` serves the bytes. Uploads (`sendDocument`,
  `sendPhoto`, `sendVoice`, `sendAudio`) keep the bytes and the file name; sending by a file_id the server
  does not know (never issued, or `forget_file`) is a 400 "wrong file identifier/HTTP URL specified".
- Private chats: the bot may write only to users who have written to it in private (else 403 "bot can't
  initiate conversation with a user"), never to `blocked_users` (403 "bot was blocked by the user").

Driving it: `send_text` / `send_document` / `send_voice` / `press` / `press_data` / `add_raw_update` queue updates
(each returns its update_id); `wait_confirmed(update_id)` waits for the bot to confirm one; `redeliver(update_id)`
queues it again with the same id (Telegram after a crash before the confirming getUpdates); `push_webhook(update_id)`
POSTs it to the webhook as Telegram does. Observing: `messages(chat_id)`, `all_messages()`, `calls`, `counts`,
`errors`, `chat_actions`, `callback_answers`, `commands`, `webhook`, `webhook_replies` (a method the webhook
answered with, made as Telegram makes it).

Faults: `fail_next` (method, code, description) fails the next call of that method once (429 adds
`retry_after=1`); `method_delay` answers a method late; `limits` (duck-typed, see tests/servers/telegram_limits.py)
answers 429 when Telegram's send limits are exceeded.

Another process: `python -m tests.servers.telegram_server --port N` serves the same API and adds
`POST /_test/updates` (a JSON list of raw updates, `update_id` optional; answers the ids) and
`GET /_test/stats` (counts per method, pending/confirmed updates, messages sent, errors) for benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html as html_lib
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
from aiohttp import BodyPartReader, web

from tests.servers._base import LocalServer

TOKEN = "123456789:AAtest-token-not-real_0123456789abcdef"

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024

# Methods whose sends count against Telegram's flood limits (passed to `limits.check`).
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
# Update types delivered when `allowed_updates` was never set (or set to []), as Telegram does.
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
    }
)

_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "scope",
        "media",
        "link_preview_options",
        "reply_parameters",
        "results",
    }
)
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "duration",
        "from_chat_id",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "width",
        "height",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    }
)


class Limits(Protocol):
    """What the server needs of tests/servers/telegram_limits.TelegramLimits."""

    def check(self, method: str, chat_id: int | None, chat_is_group: bool) -> float | None: ...


@dataclass
class ApiCall:
    """One Bot API call as the server received it (params decoded; uploaded files by field name)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SentButton:
    """One inline keyboard button."""

    label: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (edits applied)."""

    message_id: int
    chat_id: int
    kind: str  # "text" | "photo" | "document" | "voice" | "audio"
    text: str  # what the user reads: the text, or the caption of media (HTML parsed)
    html: str  # the raw text or caption as sent
    parse_mode: str | None
    buttons: list[list[SentButton]] = field(default_factory=list)
    file_name: str | None = None
    content: bytes | None = None
    edits: int = 0
    raw: dict[str, Any] = field(default_factory=dict)  # the Message object as the Bot API returned it

    @property
    def has_spoiler(self) -> bool:
        return "tg-spoiler" in self.html

    @property
    def labels(self) -> list[str]:
        return [button.label for row in self.buttons for button in row]

    def button(self, label: str) -> SentButton:
        """The button whose label contains `label` (exactly one must match, else AssertionError)."""
        found = [button for row in self.buttons for button in row if label in button.label]
        exact = [button for button in found if button.label == label]
        if len(exact) == 1:
            return exact[0]
        assert len(found) == 1, f"{len(found)} buttons match {label!r} in message {self.message_id}: {self.labels}"
        return found[0]


class ApiError(Exception):
    """A Bot API error reply."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    size: int


@dataclass
class _Callback:
    id: str
    answered: bool = False


# --- HTML as Telegram parses it ------------------------------------------------------------------

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>")
_ATTR = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities, or ApiError 400 "can't parse entities"."""
    out: list[str] = []
    length = 0  # UTF-16 length of the text so far
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            match = _TAG.match(source, i)
            offset = len(source[:i].encode())
            if match is None:
                raise _bad(f'can\'t parse entities: Unsupported start tag "" at byte offset {offset}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in _TAG_TYPES:
                kind = "end" if closing else "start"
                raise _bad(f'can\'t parse entities: Unsupported {kind} tag "{name}" at byte offset {offset}')
            if closing:
                if not stack:
                    raise _bad(f"can't parse entities: Unexpected end tag at byte offset {offset}")
                open_name, start, attrs = stack.pop()
                if open_name != name:
                    raise _bad(
                        f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if length > start:
                    entity: dict[str, Any] = {"type": _TAG_TYPES[name], "offset": start, "length": length - start}
                    if name == "a":
                        entity["url"] = attrs.get("href", "")
                    entities.append(entity)
            else:
                attrs = {
                    m.group(1).lower(): html_lib.unescape(m.group(2) or m.group(3) or m.group(4) or "")
                    for m in _ATTR.finditer(match.group(3))
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _bad(
                        f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                    )
                stack.append((name, length, attrs))
            i = match.end()
            continue
        if char == "&":
            match = _ENTITY.match(source, i)
            if match is not None:
                ref = match.group(1)
                if ref in _NAMED:
                    decoded = _NAMED[ref]
                elif ref[1:2] in ("x", "X"):
                    decoded = chr(int(ref[2:], 16))
                else:
                    decoded = chr(int(ref[1:]))
                out.append(decoded)
                length += _utf16(decoded)
                i = match.end()
                continue
        out.append(char)
        length += _utf16(char)
        i += 1
    if stack:
        raise _bad(f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\"")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --- the server ----------------------------------------------------------------------------------


class BotApiServer(LocalServer):
    """The Bot API for one bot: see the module docstring."""

    def __init__(
        self,
        token: str = TOKEN,
        username: str = "langlearn_test_bot",
        bot_id: int = 123456789,
        limits: Limits | None = None,
        *,
        record: bool = True,
    ) -> None:
        super().__init__()
        self.token = token
        self.username = username
        self.bot_id = bot_id
        self.limits = limits
        self.record = record  # False: keep no `calls` and no update history (long benchmark runs)
        # observing
        self.calls: list[ApiCall] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.webhook_replies: list[dict[str, Any]] = []  # methods answered in a webhook's response body
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.deleted: list[SentMessage] = []
        self.counts: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        # faults
        self.fail_next: list[tuple[str, int, str]] = []
        self.blocked_users: set[int] = set()
        self.method_delay: dict[str, float] = {}
        # state
        self.started_users: set[int] = set()  # users who wrote to the bot in private (it may write to them)
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, list[SentMessage]] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}  # (chat id, message id) -> a message still there
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._callbacks: dict[str, _Callback] = {}
        self._pending: list[dict[str, Any]] = []
        self._history: dict[int, dict[str, Any]] = {}  # every update ever queued (for `redeliver`)
        self._confirmed_below = 0  # every update id below this was confirmed by an offset
        self._last_offset: int | None = None
        self._allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._next_update_id = 1000  # what the next update without an id gets
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(9000)
        self._file_ids = itertools.count(1)
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing = False
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_post("/_test/updates", self._test_updates)
        app.router.add_get("/_test/stats", self._test_stats)

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on `host:port` (0 = a free port); returns the root URL (TELEGRAM_API_BASE_URL)."""
        self._loop = asyncio.get_running_loop()
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        assert sockets, "the site did not bind"
        bound = sockets[0].getsockname()[1]
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        self._notify()
        await super().stop()

    def _notify(self) -> None:
        """Wake every long poll and `wait_confirmed` (thread-safe)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:
                loop.call_soon_threadsafe(self._wake)
                return
        self._wake()

    def _wake(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # --- injecting updates --------------------------------------------------------------------

    def user(self, user_id: int, first_name: str = "Ana") -> dict[str, Any]:
        """A User object for a (human) user."""
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def chat(self, chat_id: int, chat_type: str = "private", first_name: str = "Ana") -> dict[str, Any]:
        """The Chat object for a chat id (remembered, so sends to it are accepted)."""
        known = self._chats.get(chat_id)
        if known is not None and known["type"] == chat_type:
            return dict(known)
        if chat_type == "private":
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": f"Test {chat_type} {chat_id}"}
        self._chats[chat_id] = chat
        return dict(chat)

    def user_message(
        self,
        user_id: int,
        *,
        text: str | None = None,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ana",
        reply_to_message_id: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A Message object from a user (commands get their bot_command entity, @mentions a mention entity)."""
        chat_id = user_id if chat_id is None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type, first_name),
            "from": self.user(user_id, first_name),
        }
        if text is not None:
            message["text"] = text
            entities = _text_entities(text)
            if entities:
                message["entities"] = entities
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._find_message(chat_id, reply_to_message_id)
        message.update(extra)
        if chat_type == "private":
            self.started_users.add(user_id)
        self._user_messages[(chat_id, message["message_id"])] = message
        return message

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ana",
        reply_to_message_id: int | None = None,
    ) -> int:
        """A text message from a user; returns its update_id."""
        message = self.user_message(
            user_id,
            text=text,
            chat_id=chat_id,
            chat_type=chat_type,
            first_name=first_name,
            reply_to_message_id=reply_to_message_id,
        )
        return self.add_raw_update({"message": message})

    def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        caption: str = "",
        chat_id: int | None = None,
        chat_type: str = "private",
        mime_type: str = "text/csv",
        file_size: int | None = None,
        first_name: str = "Ana",
    ) -> int:
        """A document from a user (`file_size` may claim more than `content` holds, e.g. over 20 MB)."""
        stored = self.add_file(content, f"documents/{filename}", size=file_size)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        extra: dict[str, Any] = {"document": document}
        if caption:
            extra["caption"] = caption
            entities = _text_entities(caption)
            if entities:
                extra["caption_entities"] = entities
        message = self.user_message(user_id, chat_id=chat_id, chat_type=chat_type, first_name=first_name, **extra)
        return self.add_raw_update({"message": message})

    def send_voice(
        self,
        user_id: int,
        content: bytes,
        *,
        duration: int = 2,
        chat_id: int | None = None,
        chat_type: str = "private",
        mime_type: str = "audio/ogg",
        first_name: str = "Ana",
    ) -> int:
        """A voice note from a user."""
        stored = self.add_file(content, f"voice/file_{next(self._file_ids)}.oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        message = self.user_message(user_id, chat_id=chat_id, chat_type=chat_type, first_name=first_name, voice=voice)
        return self.add_raw_update({"message": message})

    def press(self, user_id: int, message: SentMessage, label: str, *, first_name: str = "Ana") -> int:
        """The user presses the callback button whose label contains `label` on the message's current keyboard."""
        current = self._current(message)
        button = current.button(label)
        assert button.callback_data is not None, f"button {button.label!r} is a URL button"
        return self.press_data(user_id, current, button.callback_data, first_name=first_name)

    def press_data(self, user_id: int, message: SentMessage, data: str, *, first_name: str = "Ana") -> int:
        """A callback query with any data on that message (a forged or foreign press)."""
        current = self._current(message)
        query_id = str(next(self._callback_ids))
        self._callbacks[query_id] = _Callback(query_id)
        chat = self._chats.get(current.chat_id, {})
        if chat.get("type") == "private":
            self.started_users.add(user_id)
        query = {
            "id": query_id,
            "from": self.user(user_id, first_name),
            "message": current.raw,
            "chat_instance": str(current.chat_id),
            "data": data,
        }
        return self.add_raw_update({"callback_query": query})

    def add_raw_update(self, update: dict[str, Any]) -> int:
        """Queue an update (an `update_id` is assigned when missing); returns its update_id."""
        with self._lock:
            if "update_id" not in update:
                update = {"update_id": self._next_update_id, **update}
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            self._pending.append(update)
            if self.record:  # kept for `redeliver`; long benchmark runs keep nothing
                self._history[int(update["update_id"])] = update
        self._notify()
        return int(update["update_id"])

    def redeliver(self, update_id: int) -> int:
        """Queue an update again with the same update_id, as Telegram does when its confirmation never came
        (the bot process died after handling it and before its next getUpdates)."""
        return self.add_raw_update(json.loads(json.dumps(self._history[update_id])))

    async def push_webhook(self, update_id: int, *, url: str | None = None, secret: str | bool | None = True) -> int:
        """Deliver a queued update to the webhook as Telegram does: POST the Update JSON with the
        `X-Telegram-Bot-Api-Secret-Token` header; a 2xx answer confirms it (it leaves the queue), anything else
        leaves it queued for another delivery. `url` defaults to the URL of the last setWebhook (a test passes
        the bot's local address instead); `secret` True = the one given to setWebhook, None/False = no header,
        a string = that header. Returns the HTTP status."""
        registered = self.webhook or {}
        target = url or registered.get("url")
        assert target, "no webhook URL: setWebhook was not called and no url was given"
        headers = {}
        header = registered.get("secret_token") if secret is True else secret
        if isinstance(header, str):
            headers["X-Telegram-Bot-Api-Secret-Token"] = header
        update = self._history.get(update_id) or next(u for u in self._pending if u["update_id"] == update_id)
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as response,
        ):
            status = response.status
            body = await response.read()
        if 200 <= status < 300:
            await self._webhook_reply(body)
            with self._lock:
                self._pending = [pending for pending in self._pending if pending["update_id"] != update_id]
            self._wake()
        return status

    async def _webhook_reply(self, body: bytes) -> None:
        """A method call in the webhook's answer (`{"method": ..., params}`) is made as Telegram makes it:
        its result goes nowhere, an error is dropped. Recorded in `webhook_replies`."""
        try:
            reply = json.loads(body)
        except ValueError:
            return  # a plain "OK"
        if not isinstance(reply, dict) or not isinstance(reply.get("method"), str):
            return
        self.webhook_replies.append(dict(reply))
        method = _METHOD_NAMES.get(reply["method"].lower())
        if method is None:
            return
        params = {key: value for key, value in reply.items() if key != "method"}
        with contextlib.suppress(ApiError):
            self._fault(method, params)
            await getattr(self, f"_m_{method}")(params, {}, {})

    def add_file(self, content: bytes, path: str, *, size: int | None = None) -> _StoredFile:
        """Store bytes as a Telegram file (what getFile and the download route serve)."""
        number = next(self._file_ids)
        stored = _StoredFile(
            file_id=f"FILE{number:06d}-{path.rsplit('/', 1)[-1]}",
            file_unique_id=f"U{number:06d}",
            file_path=path,
            content=content,
            size=len(content) if size is None else size,
        )
        self._files[stored.file_id] = stored
        return stored

    def forget_file(self, file_id: str) -> None:
        """Telegram no longer knows this file_id: sending by it answers 400 "wrong file identifier"."""
        self._files.pop(file_id, None)

    # --- waiting ------------------------------------------------------------------------------

    def is_confirmed(self, update_id: int) -> bool:
        """No longer pending: the bot confirmed the update (an offset above it), or allowed_updates dropped it."""
        with self._lock:
            return all(update["update_id"] != update_id for update in self._pending)

    async def wait_confirmed(self, update_id: int, timeout: float = 15) -> None:  # noqa: ASYNC109
        """Return once a getUpdates call confirmed `update_id` (offset > update_id): the bot handled it."""
        await self.wait_until(lambda: self.is_confirmed(update_id), timeout, f"update {update_id} confirmed")

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 15,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Wait until `condition()` holds, re-checked whenever the server's state changes."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    if self._closing:
                        raise AssertionError(f"server stopped while waiting for {what}")
                    await self._changed.wait()
        except TimeoutError:
            pending = [u["update_id"] for u in self._pending]
            raise AssertionError(
                f"timed out after {timeout} s waiting for {what}; last offset {self._last_offset}, "
                f"pending updates {pending}, calls {dict(self.counts)}"
            ) from None

    # --- observing ----------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[SentMessage]:
        """The bot's messages in a chat, current state, in the order sent (deleted ones left out)."""
        return list(self._messages.get(chat_id, []))

    def all_messages(self) -> list[SentMessage]:
        """The bot's messages in every chat, current state, in the order sent."""
        every = [message for sent in list(self._messages.values()) for message in sent]
        return sorted(every, key=lambda message: message.message_id)

    def last(self, chat_id: int) -> SentMessage:
        """The bot's latest message in a chat."""
        sent = self._messages.get(chat_id)
        assert sent, f"the bot sent nothing to chat {chat_id}"
        return sent[-1]

    def texts(self, chat_id: int) -> list[str]:
        return [message.text for message in self._messages.get(chat_id, [])]

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def stats(self) -> dict[str, Any]:
        return {
            "calls": dict(self.counts),
            "errors": {str(code): n for code, n in self.errors.items()},
            "pending": len(self._pending),
            "confirmed_below": self._confirmed_below,
            "last_update_id": self._next_update_id - 1,
            "messages_sent": sum(len(sent) for sent in self._messages.values()),
            "limits_exceeded": getattr(self.limits, "exceeded", None),
        }

    def _current(self, message: SentMessage) -> SentMessage:
        current = self._by_id.get((message.chat_id, message.message_id))
        assert current is not None, f"message {message.message_id} is not (or no longer) in chat {message.chat_id}"
        return current

    def _find_message(self, chat_id: int, message_id: int) -> dict[str, Any]:
        sent = self._by_id.get((chat_id, message_id))
        if sent is not None:
            return sent.raw
        found = self._user_messages.get((chat_id, message_id))
        assert found is not None, f"no message {message_id} in chat {chat_id}"
        return found

    # --- HTTP ---------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.errors[401] += 1
            return _error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        method = _METHOD_NAMES.get(name.lower())
        if method is None:
            self.errors[404] += 1
            return _error_response(ApiError(404, "Not Found"))
        try:
            params, files, file_names = await _read_params(request)
        except (ValueError, json.JSONDecodeError) as exc:
            return _error_response(_bad(f"can't parse request: {exc}"))
        self.counts[method] += 1
        if self.record:
            self.calls.append(ApiCall(method, params, files))
        self._wake()
        delay = self.method_delay.get(method)
        if delay:
            await asyncio.sleep(delay)
        try:
            self._fault(method, params)
            handler = getattr(self, f"_m_{method}")
            result = await handler(params, files, file_names)
        except ApiError as error:
            self.errors[error.code] += 1
            return _error_response(error)
        return web.json_response({"ok": True, "result": result})

    def _fault(self, method: str, params: dict[str, Any]) -> None:
        for index, (failing, code, description) in enumerate(self.fail_next):
            if failing == method:
                del self.fail_next[index]
                raise ApiError(code, description, retry_after=1 if code == 429 else None)
        if self.limits is not None and method in SENDING_METHODS:
            chat_id = params.get("chat_id")
            chat = chat_id if isinstance(chat_id, int) else None
            retry_after = self.limits.check(method, chat, chat is not None and chat < 0)
            if retry_after is not None:
                wait = max(1, int(-(-retry_after // 1)))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        self.counts["download"] += 1
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return _error_response(ApiError(404, "Not Found"))

    async def _test_updates(self, request: web.Request) -> web.Response:
        body = await request.json()
        updates = body if isinstance(body, list) else [body]
        ids = [self.add_raw_update(dict(update)) for update in updates]
        for update in updates:
            for key in ("message", "edited_message", "callback_query"):
                obj = update.get(key)
                if not isinstance(obj, dict):
                    continue
                message = obj.get("message", obj) if key == "callback_query" else obj
                chat = message.get("chat") if isinstance(message, dict) else None
                if isinstance(chat, dict) and "id" in chat:
                    self._chats.setdefault(int(chat["id"]), chat)
                    if chat.get("type") == "private":
                        self.started_users.add(int(chat["id"]))
        return web.json_response({"update_ids": ids})

    async def _test_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    # --- methods: bot and updates -------------------------------------------------------------

    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "LangLearn Test", "username": self.username}

    async def _m_getMe(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        return {
            **self._me(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_logOut(self, *_: Any) -> bool:
        return True

    async def _m_close(self, *_: Any) -> bool:
        return True

    async def _m_getUpdates(self, params: dict[str, Any], *_: Any) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                "the webhook first",
            )
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self._allowed = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if offset is not None:
            self._confirm(int(offset))
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll still waiting ends with 409, as on Telegram
        deadline = time.monotonic() + timeout
        while True:
            ready = self._deliverable(limit)
            if ready or self._closing:
                return ready
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )

    def _confirm(self, offset: int) -> None:
        self._last_offset = offset
        if offset < 0:  # the last -offset updates stay
            keep = self._pending[offset:]
            offset = int(keep[0]["update_id"]) if keep else self._next_update_id
        with self._lock:
            kept = [update for update in self._pending if update["update_id"] >= offset]
            confirmed = len(kept) < len(self._pending)
            self._pending = kept
        self._confirmed_below = max(self._confirmed_below, offset)
        if confirmed:
            self._wake()

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        ready: list[dict[str, Any]] = []
        dropped = False
        with self._lock:
            for update in list(self._pending):
                kinds = [key for key in update if key != "update_id"]
                if kinds and kinds[0] not in self._allowed:
                    self._pending.remove(update)
                    dropped = True
                    continue
                ready.append(update)
                if len(ready) >= limit:
                    break
        if dropped:
            self._wake()
        return ready

    async def _m_setWebhook(self, params: dict[str, Any], *_: Any) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith("https://") and not url.startswith("http://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        if params.get("allowed_updates") is not None:
            self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_UPDATE_TYPES
        self.webhook = dict(params)
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any], *_: Any) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._confirm(self._next_update_id)
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook and self.webhook.get("allowed_updates") is not None:
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _m_setMyCommands(self, params: dict[str, Any], *_: Any) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "commands must be a list")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = list(commands)
        return True

    async def _m_getMyCommands(self, *_: Any) -> list[dict[str, Any]]:
        return list(self.commands)

    async def _m_deleteMyCommands(self, *_: Any) -> bool:
        self.commands = []
        return True

    async def _m_getChat(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        chat = self._chats.get(_int(params, "chat_id"))
        if chat is None:
            raise _bad("chat not found")
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    async def _m_answerCallbackQuery(self, params: dict[str, Any], *_: Any) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(dict(params))
        return True

    async def _m_sendChatAction(self, params: dict[str, Any], *_: Any) -> bool:
        chat_id = self._target_chat(params)
        self.chat_actions.append((chat_id, str(params.get("action"))))
        return True

    # --- methods: messages --------------------------------------------------------------------

    def _target_chat(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _bad("chat not found")
        if chat_id in self.blocked_users:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat = self._chats.get(chat_id)
        if chat_id > 0 and chat_id not in self.started_users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None:
            if chat_id > 0:
                self.chat(chat_id)
            else:
                raise _bad("chat not found")
        return chat_id

    def _keyboard(self, params: dict[str, Any]) -> tuple[list[list[SentButton]], dict[str, Any] | None]:
        markup = params.get("reply_markup")
        if markup is None:
            return [], None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:  # reply keyboards, ForceReply, ReplyKeyboardRemove: not shown here
            return [], None
        rows: list[list[SentButton]] = []
        for row in markup["inline_keyboard"]:
            buttons: list[SentButton] = []
            for button in row:
                label = str(button.get("text", ""))
                if not label:
                    raise _bad("BUTTON_TEXT_INVALID")
                data, url = button.get("callback_data"), button.get("url")
                if data is not None:
                    if not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                        raise _bad("BUTTON_DATA_INVALID")
                elif url is not None:
                    if not re.match(r"(https?|tg)://\S+$", str(url)):
                        raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
                else:
                    raise _bad('can\'t parse inline keyboard button: Field "callback_data" or "url" must be set')
                buttons.append(
                    SentButton(label, None if data is None else str(data), None if url is None else str(url))
                )
            rows.append(buttons)
        return rows, markup if rows else None

    def _formatted(
        self, params: dict[str, Any], key: str, maximum: int, *, required: bool
    ) -> tuple[str, str, list[Any]]:
        """(plain text, raw text, entities) of `text`/`caption` under its parse_mode, with Telegram's checks."""
        raw = params.get(key)
        raw = "" if raw is None else str(raw)
        mode = params.get("parse_mode")
        if mode is None or mode == "":
            plain, entities = raw, list(params.get("entities") or params.get("caption_entities") or [])
        elif str(mode).upper() == "HTML":
            plain, entities = parse_html(raw)
        else:
            raise _bad(f"unsupported parse_mode {mode!r} (this test server speaks HTML only)")
        if required and not plain.strip():
            raise _bad("message text is empty")
        if len(plain) > maximum:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return plain, raw, entities

    def _store(
        self,
        chat_id: int,
        kind: str,
        params: dict[str, Any],
        text_key: str,
        *,
        media: dict[str, Any] | None = None,
        file_name: str | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        maximum = MAX_TEXT if text_key == "text" else MAX_CAPTION
        plain, raw, entities = self._formatted(params, text_key, maximum, required=text_key == "text")
        buttons, markup = self._keyboard(params)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": dict(self._chats[chat_id]),
            "from": self._me(),
        }
        if plain:
            message[text_key] = plain
            if entities:
                message["entities" if text_key == "text" else "caption_entities"] = entities
        if media:
            message.update(media)
        if markup is not None:
            message["reply_markup"] = markup
        sent = SentMessage(
            message_id=message["message_id"],
            chat_id=chat_id,
            kind=kind,
            text=plain,
            html=raw,
            parse_mode=params.get("parse_mode"),
            buttons=buttons,
            file_name=file_name,
            content=content,
            raw=message,
        )
        self._messages.setdefault(chat_id, []).append(sent)
        self._by_id[(chat_id, sent.message_id)] = sent
        self._wake()
        return message

    async def _m_sendMessage(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        return self._store(chat_id, "text", params, "text")

    def _upload(
        self, params: dict[str, Any], files: dict[str, bytes], file_names: dict[str, str], key: str, default_name: str
    ) -> tuple[_StoredFile, str]:
        if key in files:
            name = file_names.get(key) or default_name
            return self.add_file(files[key], f"{key}s/{name}"), name
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if part in files:
                name = file_names.get(part) or default_name
                return self.add_file(files[part], f"{key}s/{name}"), name
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            return stored, stored.file_path.rsplit("/", 1)[-1]
        if isinstance(value, str) and value and not value.startswith("attach://"):
            raise _bad("wrong file identifier/HTTP URL specified")  # an unknown (or forgotten) file_id
        raise _bad(f"there is no {key} in the request")

    def _send_media(
        self, kind: str, default_name: str, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]
    ) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        stored, name = self._upload(params, files, names, kind, default_name)
        described: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if kind == "photo":
            media: dict[str, Any] = {"photo": [{**described, "width": 800, "height": 600}]}
        elif kind == "document":
            media = {"document": {**described, "file_name": name}}
        elif kind == "voice":
            media = {"voice": {**described, "duration": int(params.get("duration") or 1), "mime_type": "audio/ogg"}}
        else:
            media = {kind: {**described, "duration": int(params.get("duration") or 1), "file_name": name}}
        return self._store(chat_id, kind, params, "caption", media=media, file_name=name, content=stored.content)

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]) -> Any:
        return self._send_media("photo", "photo.png", params, files, names)

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]) -> Any:
        return self._send_media("document", "file", params, files, names)

    async def _m_sendVoice(self, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]) -> Any:
        return self._send_media("voice", "voice.ogg", params, files, names)

    async def _m_sendAudio(self, params: dict[str, Any], files: dict[str, bytes], names: dict[str, str]) -> Any:
        return self._send_media("audio", "audio.mp3", params, files, names)

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id") is not None:
            raise _bad("inline messages are not supported by this test server")
        found = self._by_id.get((params.get("chat_id"), params.get("message_id")))  # type: ignore[arg-type]
        if found is None:
            raise _bad("message to edit not found")
        return found

    def _not_modified(self) -> ApiError:
        return _bad(
            "message is not modified: specified new message content and reply markup are exactly the same as a "
            "current content and reply markup of the message"
        )

    async def _m_editMessageText(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        message = self._editable(params)
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        plain, raw, entities = self._formatted(params, "text", MAX_TEXT, required=True)
        buttons, markup = self._keyboard(params)
        if (
            plain == message.text
            and entities == message.raw.get("entities", [])
            and markup == message.raw.get("reply_markup")
        ):
            raise self._not_modified()
        message.text, message.html, message.parse_mode = plain, raw, params.get("parse_mode")
        message.buttons = buttons
        message.raw["text"] = plain
        message.raw.pop("entities", None)
        if entities:
            message.raw["entities"] = entities
        self._set_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageCaption(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        message = self._editable(params)
        if message.kind == "text":
            raise _bad("there is no caption in the message to edit")
        plain, raw, _entities = self._formatted(params, "caption", MAX_CAPTION, required=False)
        buttons, markup = self._keyboard(params)
        if plain == message.text and markup == message.raw.get("reply_markup"):
            raise self._not_modified()
        message.text, message.html, message.parse_mode = plain, raw, params.get("parse_mode")
        message.buttons = buttons
        message.raw["caption"] = plain
        self._set_markup(message, markup)
        return self._edited(message)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        message = self._editable(params)
        buttons, markup = self._keyboard(params)
        if markup == message.raw.get("reply_markup"):
            raise self._not_modified()
        message.buttons = buttons
        self._set_markup(message, markup)
        return self._edited(message)

    def _set_markup(self, message: SentMessage, markup: dict[str, Any] | None) -> None:
        if markup is None:
            message.raw.pop("reply_markup", None)
        else:
            message.raw["reply_markup"] = markup

    def _edited(self, message: SentMessage) -> dict[str, Any]:
        message.edits += 1
        message.raw["edit_date"] = int(time.time())
        self._wake()
        return message.raw

    async def _m_deleteMessage(self, params: dict[str, Any], *_: Any) -> bool:
        found = self._by_id.pop((params.get("chat_id"), params.get("message_id")), None)  # type: ignore[arg-type]
        if found is None:
            raise _bad("message to delete not found")
        self._messages[found.chat_id].remove(found)
        self.deleted.append(found)
        self._wake()
        return True

    async def _m_getFile(self, params: dict[str, Any], *_: Any) -> dict[str, Any]:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise _bad("invalid file_id")
        if stored.size > MAX_DOWNLOAD:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }


_METHOD_NAMES = {
    name.removeprefix("_m_").lower(): name.removeprefix("_m_") for name in vars(BotApiServer) if name.startswith("_m_")
}


def _int(params: dict[str, Any], key: str) -> int:
    value = params.get(key)
    if not isinstance(value, int):
        raise _bad(f"{key} must be an integer")
    return value


def _text_entities(text: str) -> list[dict[str, Any]]:
    """A bot_command entity for a leading /command, a mention entity for each @username."""
    entities: list[dict[str, Any]] = []
    command = re.match(r"/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16(command.group())})
    for mention in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{3,32}", text):
        if command and mention.start() < command.end():
            continue
        entities.append(
            {"type": "mention", "offset": _utf16(text[: mention.start()]), "length": _utf16(mention.group())}
        )
    return entities


def _decode(key: str, value: str) -> Any:
    if key in _JSON_PARAMS:
        return json.loads(value)
    if key in _INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            return value  # "@channelusername"
    if key in _BOOL_PARAMS:
        return value.lower() in ("true", "1")
    return value


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes], dict[str, str]]:
    """Form, multipart or JSON body (and the query string) as decoded params, uploaded files and their names."""
    params: dict[str, Any] = {key: _decode(key, value) for key, value in request.query.items()}
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                files[part.name] = bytes(await part.read())
                names[part.name] = part.filename
            else:
                params[part.name] = _decode(part.name, await part.text())
    elif request.can_read_body:
        form = await request.post()
        for key, value in form.items():
            params[key] = _decode(key, str(value))
    return params, files, names


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return web.json_response(body, status=error.code)


async def _serve(port: int, token: str, username: str, record: bool) -> None:
    server = BotApiServer(token=token, username=username, record=record)
    url = await server.start(port=port)
    print(f"READY {url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> None:
    """`python -m tests.servers.telegram_server --port N`: serve until interrupted."""
    parser = argparse.ArgumentParser(description="A local Telegram Bot API server (tests and benchmarks).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=TOKEN)
    parser.add_argument("--username", default="langlearn_test_bot")
    parser.add_argument("--record", action="store_true", help="keep every call (memory grows with the run)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.token, args.username, args.record))


if __name__ == "__main__":
    main()
