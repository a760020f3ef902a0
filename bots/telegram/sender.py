"""Rendered messages -> Bot API calls: send, edit with fallback, private answers from groups.

Every call goes through `_call`, which retries a connection failure a couple of times (not a
timeout: the message may have arrived, and a duplicate is worse than a late retry by the user)
and follows a group that became a supergroup (`ChatMigrated`).

A 429 (`RetryAfter`) is waited out and retried by ONE layer only. When the bot has a rate limiter
(`ExtBot.rate_limiter`, the `TelegramRateLimiter` of bots/telegram/ratelimit.py in production), the
limiter paces the calls below this and retries a 429 itself (3 times), so the sender lets its
final `RetryAfter` through: retrying it here too would try one message up to 12 times. A bot
built without a limiter gets the sender's own wait-out (MAX_ATTEMPTS tries in all).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bots.telegram.convert import Incoming, seconds
from bots.telegram.render import (
    PRIVATE_CHAT_LABEL,
    DocumentOut,
    Outgoing,
    PhotoOut,
    Plan,
    Rendered,
    TextOut,
    VoiceOut,
    private_chat_url,
    private_refused_text,
    private_sent_text,
    url_keyboard,
)

logger = logging.getLogger(__name__)

REPLY_DEADLINE_S = 1.0  # a webhook answer not on its way by then goes out as a Bot API call


class WebhookReply:
    """The one Bot API call a webhook's HTTP response may carry (a button's answerCallbackQuery).

    The update's handler `offer`s the call with the means to make it itself. The webhook server
    `take`s it for a 200; when that does not happen within `REPLY_DEADLINE_S` (a slow delivery: a
    voice upload, a group's rate-limit wait), or the response is not a 200 (`release`: a failure,
    a cut-off at stop, a dropped connection), the call is made as usual. Made exactly once either
    way, and never later than a second after the answer was known.
    """

    def __init__(self) -> None:
        self._payload: dict[str, Any] | None = None
        self._make: Callable[[], Coroutine[Any, Any, None]] | None = None
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None

    def offer(self, payload: dict[str, Any], make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._payload is not None:  # one method per response: a second answer goes as a call
            _spawn(make())
            return
        self._payload, self._make = payload, make
        if self._closed:  # the response is gone already
            self._fall_back()
        else:
            self._timer = asyncio.get_running_loop().call_later(REPLY_DEADLINE_S, self._fall_back)

    def take(self) -> dict[str, Any] | None:
        """The call for the 200's body, if one is waiting (the webhook server; once)."""
        self._closed = True
        if self._make is None:
            return None
        self._cancel_timer()
        self._make = None
        return self._payload

    def release(self) -> None:
        """No 200 will carry it: a waiting call is made now, a later offer at once."""
        self._closed = True
        self._fall_back()

    def _fall_back(self) -> None:
        self._closed = True
        self._cancel_timer()
        make, self._make = self._make, None
        if make is not None:
            _spawn(make())

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


_background: set[asyncio.Task[None]] = set()


def _spawn(call: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(call)
    _background.add(task)
    task.add_done_callback(_background.discard)


# Set by the webhook server around one update (None: polling, every answer is a Bot API call).
WEBHOOK_REPLY: ContextVar[WebhookReply | None] = ContextVar("telegram_webhook_reply", default=None)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

MAX_ATTEMPTS = 3
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # a learner's text with a URL stays a text
_UPLOAD_ACTIONS: dict[type, str] = {
    PhotoOut: ChatAction.UPLOAD_PHOTO,
    DocumentOut: ChatAction.UPLOAD_DOCUMENT,
    VoiceOut: ChatAction.RECORD_VOICE,
}


class Sender:
    """Sends what `render.plan` decided, for one bot."""

    def __init__(self, bot: Bot, *, sleep: Sleep = asyncio.sleep, retry_flood: bool | None = None) -> None:
        """`retry_flood`: wait out and retry a `RetryAfter` here; by default only when `bot` has no rate limiter."""
        self._bot = bot
        self._sleep = sleep
        self._retry_flood = getattr(bot, "rate_limiter", None) is None if retry_flood is None else retry_flood

    async def _call(self, chat_id: int, call: Callable[[int], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await call(chat_id)
            except RetryAfter as exc:
                if not self._retry_flood or attempt >= MAX_ATTEMPTS:
                    raise
                await self._sleep(seconds(exc, "retry_after") or 1.0)
            except ChatMigrated as exc:
                if attempt >= MAX_ATTEMPTS:
                    raise
                chat_id = exc.new_chat_id
            except (BadRequest, TimedOut):
                raise
            except NetworkError:
                if attempt >= MAX_ATTEMPTS:
                    raise
                await self._sleep(float(attempt))
            attempt += 1

    # --- single messages -----------------------------------------------------------------------

    async def send(self, chat_id: int, message: Outgoing) -> Message:
        """Send one message (media with its upload chat action first)."""
        bot = self._bot
        action = _UPLOAD_ACTIONS.get(type(message))
        if action is not None:
            await self.chat_action(chat_id, action)
        if isinstance(message, TextOut):
            return await self._call(
                chat_id,
                lambda chat: bot.send_message(
                    chat,
                    message.html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=message.markup,
                    link_preview_options=NO_PREVIEW,
                ),
            )
        if isinstance(message, PhotoOut):
            return await self._call(
                chat_id,
                lambda chat: bot.send_photo(
                    chat,
                    message.file.content,
                    caption=message.caption_html,
                    parse_mode=ParseMode.HTML if message.caption_html else None,
                    reply_markup=message.markup,
                    filename=message.file.filename,
                ),
            )
        if isinstance(message, DocumentOut):
            return await self._call(
                chat_id,
                lambda chat: bot.send_document(
                    chat, message.file.content, filename=message.file.filename, reply_markup=message.markup
                ),
            )
        return await self._call(
            chat_id,
            lambda chat: bot.send_voice(
                chat, message.file.content, filename=message.file.filename, reply_markup=message.markup
            ),
        )

    async def edit(self, chat_id: int, message_id: int, message: TextOut) -> None:
        """Replace the pressed message's text (and keyboard); a new message when it can't be edited.

        An edit that changes nothing ("message is not modified": a double tap on Next, a second
        press racing the first) already shows what it would: success, nothing sent. Telegram
        refuses an edit of a message that is too old or gone, or of a message without text (a
        photo): the reply is then sent as a new message, so the learner always sees it.
        """
        bot = self._bot
        markup: InlineKeyboardMarkup | None = message.markup
        try:
            await self._call(
                chat_id,
                lambda chat: bot.edit_message_text(
                    message.html,
                    chat_id=chat,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=NO_PREVIEW,
                ),
            )
        except BadRequest as exc:
            if "message is not modified" in exc.message.lower():
                logger.debug("edit of message %s changed nothing: it already shows the answer", message_id)
                return
            logger.debug("edit of message %s refused (%s); sending a new message", message_id, exc.message)
            await self.send(chat_id, message)

    async def chat_action(self, chat_id: int, action: str) -> None:
        """Show "typing…" / "sending a photo…"; a failure here never stops an answer."""
        try:
            await self._bot.send_chat_action(chat_id, action)
        except TelegramError as exc:
            logger.debug("chat action %s in %s failed: %s", action, chat_id, exc)

    async def answer_callback(self, query_id: str, notice: str | None) -> None:
        """Stop the button's spinner, with the toast when there is one.

        In webhook mode the answer rides on the webhook's HTTP response when that leaves within a
        second (`WebhookReply`): one Bot API call fewer per press; otherwise it is a call as below.
        """
        reply = WEBHOOK_REPLY.get()
        if reply is not None:
            payload: dict[str, Any] = {"method": "answerCallbackQuery", "callback_query_id": query_id}
            if notice:
                payload["text"] = notice
            reply.offer(payload, lambda: self._answer_by_call(query_id, notice))
            return
        await self._answer_by_call(query_id, notice)

    async def _answer_by_call(self, query_id: str, notice: str | None) -> None:
        try:
            await self._call(0, lambda _chat: self._bot.answer_callback_query(query_id, text=notice or None))
        except TelegramError as exc:  # too late (over ~15 s) or already answered: nothing to do
            logger.debug("answerCallbackQuery failed: %s", exc)

    # --- one update's answers --------------------------------------------------------------------

    async def _send_rendered(self, chat_id: int, rendered: Rendered, pressed_message_id: int | None) -> None:
        messages = rendered.messages
        first = messages[0]
        if rendered.edit and pressed_message_id is not None and isinstance(first, TextOut):
            await self.edit(chat_id, pressed_message_id, first)
            messages = messages[1:]
        for message in messages:
            await self.send(chat_id, message)

    async def deliver(self, plan: Plan, incoming: Incoming, *, username: str) -> None:
        """Send everything planned for one update.

        A failure of one reply is logged and the others still go out; a user who blocked the bot
        (403) gets nothing more. Personal answers asked for in a group go to the private chat,
        and the group gets one short message with a button that opens it, or, when Telegram
        refuses the private message (the user never started the bot), one that says so and links
        to the bot with a Start deep link.
        """
        for rendered in plan.here:
            try:
                await self._send_rendered(incoming.chat_id, rendered, incoming.pressed_message_id)
            except Forbidden as exc:
                logger.info("chat %s refuses messages (%s); the rest of the answer is dropped", incoming.chat_id, exc)
                return
            except TelegramError:
                logger.exception("sending an answer to chat %s failed", incoming.chat_id)
        if plan.private:
            await self._deliver_privately(plan.private, incoming, username)

    async def _deliver_privately(self, private: list[Rendered], incoming: Incoming, username: str) -> None:
        sent = 0
        refused = False
        for rendered in private:
            try:
                await self._send_rendered(incoming.user_id, rendered, None)
                sent += 1
            except Forbidden:
                refused = sent == 0
                break
            except TelegramError:
                logger.exception("sending a private answer to user %s failed", incoming.user_id)
        if sent == 0 and not refused:
            return  # every private message failed for another reason (logged): nothing to point at
        name = incoming.event.display_name
        text = private_refused_text(name) if refused else private_sent_text(name)
        link = url_keyboard(PRIVATE_CHAT_LABEL, private_chat_url(username, deep_link=refused))
        try:
            await self.send(incoming.chat_id, TextOut(text, link))
        except TelegramError:
            logger.exception("the group note in chat %s failed", incoming.chat_id)
