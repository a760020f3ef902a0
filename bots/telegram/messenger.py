"""`TelegramMessenger`: core's `Messenger` port on the Bot API, for messages the background work sends.

An `OutgoingMessage` is shown the way the bot shows a chat reply (`render.render_reply`: HTML,
escaped, the hidden part in `<tg-spoiler>`, long text split, buttons on the last part) and sent by
the bot's `Sender`. A voice message is uploaded (`voice_audio` bytes; the returned `file_id` comes
back as `SentMessage.platform_file_id`) or, when the clip already has a Telegram `file_id`, sent
by that id: no upload.

A `file_id` Telegram no longer knows (400 "wrong file identifier", "file reference expired") is
not worth retrying: when the message also carries the audio (`voice_audio`), it is uploaded at once
instead (the new `file_id` comes back in `platform_file_id`); otherwise `StalePlatformFile`, so the
caller forgets the id and sends again with the audio bytes.

Errors: a chat that refuses the bot (403: blocked, kicked; or a chat that no longer exists) →
`RecipientUnavailable`; any other Telegram failure → `ProviderUnavailable("Telegram", …)`, so the
job is retried.

The bot process passes its own `Bot` (`TelegramMessenger(application.bot)`); the worker builds
one with `build_telegram_messenger(settings)` (rate-limited like the bot).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError

from bots.chat.deliveries import button_payload
from bots.chat.replies import Button, FileOut, Reply
from bots.telegram.render import Outgoing, VoiceOut, keyboard, render_reply
from bots.telegram.sender import Sender
from bots.telegram.text import escape
from core.domain.errors import ProviderUnavailable, RecipientUnavailable, StalePlatformFile
from core.domain.models import DeliveryAddress, OutgoingMessage, SentMessage

if TYPE_CHECKING:
    from core.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")
PLATFORM = "telegram"
PROVIDER = "Telegram"
# BadRequest descriptions that mean the chat is gone for good (not worth a retry).
_GONE = ("chat not found", "user not found", "bot was blocked", "bot was kicked", "user is deactivated")
# BadRequest descriptions, when sending by file_id, that mean Telegram no longer knows the file.
_STALE_FILE = ("wrong file identifier", "wrong remote file identifier", "file reference expired", "file_id_invalid")


class TelegramMessenger:
    """Sends background results to Telegram chats through a PTB `Bot`."""

    def __init__(self, bot: Bot, *, initialize: bool = False) -> None:
        """`initialize`: the bot is not initialized yet (a worker's own bot): do it before the first call."""
        self._bot = bot
        self._sender = Sender(bot)
        self._initialized = not initialize
        self._init_lock = asyncio.Lock()

    @property
    def platform(self) -> str:
        return PLATFORM

    @property
    def bot(self) -> Bot:
        return self._bot

    async def send(self, address: DeliveryAddress, message: OutgoingMessage) -> list[SentMessage]:
        """The text (split when long, translation hidden, buttons on its last part), then the voice."""
        chat_id = _chat(address)
        rows = [[Button(b.label, button_payload(b)) for b in row] for row in message.buttons if row]
        voice = message.voice
        if voice is None:
            parts = render_reply(Reply(text=message.text, spoiler=message.spoiler, buttons=rows))
            return [await self._send(address, chat_id, part) for part in parts]
        # The voice message carries the buttons (it comes last).
        parts = render_reply(Reply(text=message.text, spoiler=message.spoiler))  # [] when there is no text
        sent = [await self._send(address, chat_id, part) for part in parts]
        markup = keyboard(rows)
        file_id = voice.platform_refs.get(PLATFORM)
        if file_id is None and message.voice_audio is None:
            raise ValueError("a voice message without audio and without a Telegram file_id")
        if file_id is not None:
            try:
                sent.append(await self._send_voice_by_id(address, chat_id, file_id, markup))
                return sent
            except StalePlatformFile:
                if message.voice_audio is None:
                    raise
                logger.warning("Telegram no longer knows file_id %s: uploading the audio again", file_id)
        assert message.voice_audio is not None
        audio = FileOut(f"{voice.cache_key[:16]}.ogg", message.voice_audio, "audio/ogg")
        sent.append(await self._send(address, chat_id, VoiceOut(audio, markup)))
        return sent

    async def edit_text(self, address: DeliveryAddress, message_id: str, text: str) -> None:
        """Replace a status message's text. Unchanged, too old or gone: nothing happens (logged)."""
        chat_id = _chat(address)
        bot = self._bot
        try:
            await self._guarded(
                address,
                lambda: bot.edit_message_text(
                    escape(text), chat_id=chat_id, message_id=int(message_id), parse_mode=ParseMode.HTML
                ),
            )
        except _EditRefused as exc:
            logger.debug("status message %s in chat %s not edited: %s", message_id, chat_id, exc)

    async def close(self) -> None:
        """Close the bot's HTTP clients (only for a bot this messenger was built with)."""
        await self._bot.shutdown()

    # --- calls -----------------------------------------------------------------------------------

    async def _send(self, address: DeliveryAddress, chat_id: int, part: Outgoing) -> SentMessage:
        message = await self._guarded(address, lambda: self._sender.send(chat_id, part))
        return _sent(message)

    async def _send_voice_by_id(
        self, address: DeliveryAddress, chat_id: int, file_id: str, markup: InlineKeyboardMarkup | None
    ) -> SentMessage:
        bot = self._bot

        async def send() -> Message:
            await self._sender.chat_action(chat_id, ChatAction.RECORD_VOICE)
            try:
                return await bot.send_voice(chat_id, file_id, reply_markup=markup)
            except BadRequest as exc:
                if any(reason in exc.message.lower() for reason in _STALE_FILE):
                    raise StalePlatformFile(PLATFORM, file_id) from None
                raise

        return _sent(await self._guarded(address, send))

    async def _guarded(self, address: DeliveryAddress, call: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call with Telegram's errors turned into the port's."""
        try:
            await self._ready()
            return await call()
        except Forbidden:
            raise RecipientUnavailable(PLATFORM, address.chat_id) from None
        except BadRequest as exc:
            description = exc.message.lower()
            if any(reason in description for reason in _GONE):
                raise RecipientUnavailable(PLATFORM, address.chat_id) from None
            if (
                "not modified" in description
                or "message to edit not found" in description
                or "can't be edited" in (description)
            ):
                raise _EditRefused(exc.message) from None
            raise ProviderUnavailable(PROVIDER, _reason(exc)) from None
        except InvalidToken:
            raise ProviderUnavailable(PROVIDER, "the bot token was rejected (check TELEGRAM_BOT_TOKEN)") from None
        except TelegramError as exc:
            raise ProviderUnavailable(PROVIDER, _reason(exc)) from None

    async def _ready(self) -> None:
        if self._initialized:
            return
        async with self._init_lock:
            if not self._initialized:
                await self._bot.initialize()
                self._initialized = True


class _EditRefused(Exception):
    """Telegram refused to edit a status message (unchanged, too old, gone): not worth a retry."""


def _chat(address: DeliveryAddress) -> int:
    try:
        return int(address.chat_id)
    except ValueError:
        raise RecipientUnavailable(PLATFORM, address.chat_id) from None


def _sent(message: Message) -> SentMessage:
    voice = message.voice
    return SentMessage(message_id=str(message.message_id), platform_file_id=voice.file_id if voice else None)


def _reason(exc: TelegramError) -> str:
    """A short reason in our words plus Telegram's description (which never holds the token)."""
    if isinstance(exc, BadRequest):
        return f"it refused the message ({exc.message[:120]})"
    return type(exc).__name__


def build_telegram_messenger(settings: Settings) -> tuple[TelegramMessenger, Callable[[], Awaitable[None]]]:
    """A messenger on a bot of its own (the worker's), paced by Telegram's rate limits, and its closer.

    Nothing is sent before the first message; the bot is initialized (getMe) then.
    """
    from telegram.ext import ExtBot

    from bots.telegram.ratelimit import limiter_for
    from bots.telegram.request import AiohttpRequest

    token = settings.TELEGRAM_BOT_TOKEN.get_secret_value().strip() if settings.TELEGRAM_BOT_TOKEN else ""
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set: the worker cannot deliver to Telegram")
    root = settings.TELEGRAM_API_BASE_URL.rstrip("/")
    limiter: Any = limiter_for(token, settings.REDIS_URL)  # shared with the bot's process through Redis
    bot: ExtBot[Any] = ExtBot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        rate_limiter=limiter,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),  # never polls; PTB wants one
    )
    messenger = TelegramMessenger(bot, initialize=True)
    return messenger, messenger.close
