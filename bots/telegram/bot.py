"""`TelegramBot`: the real PTB Application around the chat layer, fed by our poller or webhook.

    bot = TelegramBot(settings, services)
    await bot.start()      # getMe, setMyCommands, then polling (or the webhook server)
    ...
    await bot.stop()       # in-flight updates finish; only handled ones are confirmed

Each update: `convert` -> (download the file) -> `ChatApp.handle` -> `render.plan` -> `Sender`.
A button press is always answered (its toast, or nothing); "typing…" shows while an answer
takes longer than half a second.

Background work (articles, voice messages, reminders) is delivered through `self.messenger`, a
`TelegramMessenger` on the application's own Bot (rate-limited like every answer). At start the bot
hands it to `Services.start_background`: with no REDIS_URL the jobs run in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from telegram import BotCommand, Update
from telegram.constants import ChatAction
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseRateLimiter

from bots.chat.app import ChatApp
from bots.chat.commands import COMMANDS
from bots.chat.errors import SOMETHING_WENT_WRONG
from bots.chat.events import EventKind
from bots.chat.replies import Reply
from bots.telegram import render
from bots.telegram.convert import TOO_BIG, Incoming, convert, ordering_key
from bots.telegram.files import described, download_file
from bots.telegram.messenger import TelegramMessenger
from bots.telegram.polling import ALLOWED_UPDATES, Poller
from bots.telegram.ratelimit import limiter_for
from bots.telegram.request import AiohttpRequest
from bots.telegram.sender import Sender
from bots.telegram.text import escape
from core.bootstrap import Services, utc_now
from core.domain.models import AdminPolicy

if TYPE_CHECKING:
    from bots.telegram.webhook import WebhookServer
    from core.config import Settings

logger = logging.getLogger(__name__)

TYPING_AFTER_S = 0.5  # an answer quicker than this shows no "typing…"
TYPING_EVERY_S = 4.0  # Telegram shows a chat action for about 5 s
MAX_COMMAND_DESCRIPTION = 256
DOWNLOAD_FAILED = "I couldn't fetch that file from Telegram just now. Please send it again."

RateLimiterChoice = BaseRateLimiter[Any] | None | Literal["default"]


class TelegramStartError(Exception):
    """The bot cannot start; the message says why in one line (never with the token).

    `usage`: a setting the operator must fix (exit code 2) rather than an outage (exit code 1).
    """

    def __init__(self, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


def admin_policy(settings: Settings) -> AdminPolicy:
    """Admins from ADMIN_USER_IDS, admin chats from TELEGRAM_ADMIN_CHAT_IDS."""
    return AdminPolicy(
        admin_users=settings.admin_users,
        admin_channels=frozenset(("telegram", chat.strip()) for chat in settings.TELEGRAM_ADMIN_CHAT_IDS),
    )


def bot_commands() -> list[BotCommand]:
    """The command menu: every chat-layer command with its one-line summary."""
    return [BotCommand(c.name, c.summary[:MAX_COMMAND_DESCRIPTION] or c.name) for c in COMMANDS]


class TelegramBot:
    """The Telegram adapter: a PTB `Application` (no Updater) driven by our poller or webhook."""

    def __init__(
        self,
        settings: Settings,
        services: Services,
        *,
        rate_limiter: RateLimiterChoice = "default",
        clock: Callable[[], datetime] = utc_now,
        poll_timeout: int = 30,
    ) -> None:
        if settings.TELEGRAM_BOT_TOKEN is None or not settings.TELEGRAM_BOT_TOKEN.get_secret_value().strip():
            raise TelegramStartError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it")
        self._settings = settings
        self._services = services
        self._token = settings.TELEGRAM_BOT_TOKEN.get_secret_value().strip()
        self._root = settings.TELEGRAM_API_BASE_URL.rstrip("/")
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(f"{self._root}/bot")
            .base_file_url(f"{self._root}/file/bot")
            .updater(None)
            .job_queue(None)
            .request(AiohttpRequest())  # PTB's httpx transport costs ~2 ms CPU a call (bots/telegram/request.py)
            .get_updates_request(AiohttpRequest(connection_pool_size=2))  # a long poll reads poll timeout + 5 s
        )
        limiter: BaseRateLimiter[Any] | None = (
            limiter_for(self._token, settings.REDIS_URL) if rate_limiter == "default" else rate_limiter
        )
        if limiter is not None:
            builder = builder.rate_limiter(limiter)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        # Background results (job status lines, voice messages) go out through the bot's own Bot.
        self.messenger = TelegramMessenger(self.application.bot)
        self._admins = admin_policy(settings)
        self._chat = ChatApp(services, self._admins, clock=clock, messengers={self.messenger.platform: self.messenger})
        self._sender = Sender(self.application.bot)
        self._poll_timeout = poll_timeout
        self._poller: Poller | None = None
        self._webhook: WebhookServer | None = None
        self.username = ""
        self.bot_id = 0
        self.webhook_port: int | None = None
        self._warm_up_task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token (getMe), register the commands, then poll or serve the webhook."""
        webhook = self._webhook_config()  # a bad webhook setting fails before any request
        try:
            await self.application.initialize()
        except InvalidToken:
            raise TelegramStartError(
                f"the Bot API at {self._root} rejected TELEGRAM_BOT_TOKEN (Unauthorized): "
                "check the token @BotFather gave you"
            ) from None
        except NetworkError as exc:
            raise TelegramStartError(
                f"cannot reach the Bot API at {self._root}: {self._redacted(exc)}", usage=False
            ) from None
        try:
            bot = self.application.bot
            self.username = bot.username
            self.bot_id = bot.id
            await bot.set_my_commands(bot_commands())
            self._start_warm_up()
            if webhook is not None:
                await self._start_webhook(*webhook)
            else:
                await bot.delete_webhook(drop_pending_updates=False)
                self._poller = Poller(
                    bot,
                    self.handle_update,
                    ordering_key,
                    timeout=self._poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
                self._poller.start()
                logger.info("@%s is polling %s for updates", self.username, self._root)
            # In-process jobs (no REDIS_URL) run here and deliver through this bot; with arq a no-op.
            self._services.start_background({self.messenger.platform: self.messenger})
        except TelegramError as exc:
            await self._cancel_warm_up()
            await self.application.shutdown()
            raise TelegramStartError(
                f"the Bot API at {self._root} failed at start: {self._redacted(exc)}", usage=False
            ) from None
        except BaseException:
            await self._cancel_warm_up()
            await self.application.shutdown()
            raise

    async def stop(self, *, drain_timeout: float | None = None, close_background: bool = False) -> None:
        """Stop fetching; in-flight updates finish; handled ones are confirmed; close the client.

        `drain_timeout`: updates still running after that many seconds are cancelled (and not
        confirmed). `close_background`: close the services' in-process background work (jobs,
        sweep, reminders) before the HTTP client, so no job sends through a closed client; the
        process is ending (a closed background does not start again on the same services).
        """
        if self._poller is not None:
            await self._poller.stop(drain_timeout)
            self._poller = None
        if self._webhook is not None:
            await self._webhook.stop(drain_timeout)
            self._webhook = None
        await self._cancel_warm_up()
        if close_background and self._services.background is not None:
            await self._services.background.aclose()
        await self.application.shutdown()  # a no-op when it was never initialized

    async def _cancel_warm_up(self) -> None:
        """The lookup of the languages in use, if still running (a pipeline thread runs on)."""
        task, self._warm_up_task = self._warm_up_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _webhook_config(self) -> tuple[str, str, str, int] | None:
        """(url, secret, host, port) in webhook mode, None for polling; refuses unusable settings."""
        settings = self._settings
        if not settings.TELEGRAM_WEBHOOK_URL:
            return None
        from bots.telegram.webhook import WebhookConfigError, check_secret, parse_listen, webhook_path  # aiohttp

        secret = settings.TELEGRAM_WEBHOOK_SECRET.get_secret_value() if settings.TELEGRAM_WEBHOOK_SECRET else ""
        if not secret:
            raise TelegramStartError(
                "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: a webhook without a secret "
                "would accept updates from anyone. Set TELEGRAM_WEBHOOK_SECRET (A–Z, a–z, 0–9, _ and -)."
            )
        try:
            check_secret(secret)
            webhook_path(settings.TELEGRAM_WEBHOOK_URL)
            host, port = parse_listen(settings.TELEGRAM_WEBHOOK_LISTEN)
        except WebhookConfigError as exc:
            raise TelegramStartError(str(exc)) from None
        return settings.TELEGRAM_WEBHOOK_URL, secret, host, port

    async def _start_webhook(self, url: str, secret: str, host: str, port: int) -> None:
        from bots.telegram.webhook import WebhookServer, webhook_path

        server = WebhookServer(
            self.application.bot,
            self.handle_update,
            ordering_key,
            path=webhook_path(url),
            secret=secret,
            host=host,
            port=port,
        )
        try:
            self.webhook_port = await server.start()
        except OSError as exc:
            raise TelegramStartError(
                f"cannot listen on {host}:{port} (TELEGRAM_WEBHOOK_LISTEN): {exc.strerror}", usage=False
            ) from None
        self._webhook = server
        try:
            await self.application.bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))
        except BaseException:
            await server.stop()
            self._webhook = None
            raise
        logger.info("@%s receives updates by webhook at %s", self.username, url)

    def _redacted(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        return text.replace(self._token, "***")

    def _start_warm_up(self) -> None:
        """Load the spaCy pipelines of the languages learners use, in a daemon thread.

        Which languages: the distinct target languages of every learner's pairs.
        """
        languages_in_use = self._services.languages.languages_in_use

        async def languages() -> list[str]:
            return sorted(await languages_in_use())

        def warm_up(found: list[str]) -> None:
            if found:
                logger.info("warming up the language pipelines: %s", ", ".join(found))
                threading.Thread(
                    target=self._services.warm_up_languages, args=(found,), name="warm-up", daemon=True
                ).start()

        async def look_up_then_warm() -> None:
            try:
                warm_up(await languages())
            except Exception:
                logger.warning("could not list the languages in use; no warm-up", exc_info=True)

        self._warm_up_task = asyncio.create_task(look_up_then_warm(), name="telegram-warm-up")

    # --- one update ------------------------------------------------------------------------------

    async def handle_update(self, update: Update) -> None:
        """Convert, ask the chat layer, send the answers; a button press is always answered.

        Sending failures are logged by the sender. An exception in here is a bug: the user gets an
        apology; once it was sent the update counts as answered (logged, not raised), else the
        exception propagates and the webhook answers 500 so Telegram delivers it again.
        """
        incoming = convert(update, username=self.username, bot_id=self.bot_id)
        query = update.callback_query
        answered = False
        try:
            if incoming is None:
                return
            replies = await self._answer(incoming)
            plan = render.plan(
                replies,
                is_button=incoming.is_button,
                is_group=incoming.is_group,
                can_edit=incoming.pressed_message_id is not None,
            )
            if incoming.callback_query_id is not None:
                await self._sender.answer_callback(incoming.callback_query_id, plan.notice)
                answered = True
            await self._sender.deliver(plan, incoming, username=self.username)
        except Exception:
            if incoming is not None and incoming.event.addressed_to_bot and await self._apologise(incoming):
                # The user has heard of it: a webhook answering 500 now would have Telegram deliver the
                # update again, and the user would get one apology per redelivery.
                logger.exception("update %s failed after its answer began; the user got an apology", update.update_id)
                return
            raise
        finally:
            if query is not None and not answered:
                await self._sender.answer_callback(query.id, None)

    async def _apologise(self, incoming: Incoming) -> bool:
        """A bug in the adapter: the user hears of it rather than nothing (best effort; True if sent)."""
        try:
            await self._sender.send(incoming.chat_id, render.TextOut(escape(SOMETHING_WENT_WRONG)))
        except Exception:
            return False
        return True

    async def _answer(self, incoming: Incoming) -> list[Reply]:
        if not incoming.event.addressed_to_bot:
            return []  # a group message for someone else: no download, no typing, no database
        incoming = self._without_unwanted_file(incoming)
        if incoming.refusal is not None:
            return [Reply(text=incoming.refusal)]
        event = incoming.event
        if incoming.download is not None and event.kind == EventKind.VOICE and incoming.download.mime_type:
            # Described, not downloaded: the chat layer reads the audio only if it uses it.
            event = dataclasses.replace(event, attachment=described(self.application.bot, incoming.download))
            return await self._chat.handle(event)
        async with self._typing(incoming.chat_id):
            if incoming.download is not None:
                try:
                    attachment = await download_file(self.application.bot, incoming.download)
                except TelegramError as exc:
                    logger.warning("downloading a file from Telegram failed: %s", self._redacted(exc))
                    return [Reply(text=DOWNLOAD_FAILED)]
                if attachment is None:
                    return [Reply(text=TOO_BIG)]
                event = dataclasses.replace(event, attachment=attachment)
            return await self._chat.handle(event)

    def _without_unwanted_file(self, incoming: Incoming) -> Incoming:
        """Fetch a document only when the chat layer will read it.

        That is /pack_import from an admin in an admin chat. Anything else (a captionless file, a
        refused /pack_import) gets the same answer without its bytes ever being downloaded, and
        without the 20 MB refusal, which only matters to a file we would have read.

        Voice notes are not downloaded here either: they reach the chat layer described (size,
        duration, MIME type) with a `fetch` for their bytes (`files.described`).
        """
        event = incoming.event
        has_file = incoming.download is not None or incoming.refusal == TOO_BIG
        if event.kind != EventKind.FILE or not has_file:
            return incoming
        wanted = (
            event.command == "pack_import"
            and self._admins.is_admin_user(event.platform, event.user_id)
            and self._admins.is_admin_channel(event.platform, event.chat_id)
        )
        if wanted:
            return incoming
        refusal = None if incoming.refusal == TOO_BIG else incoming.refusal
        return dataclasses.replace(incoming, download=None, refusal=refusal)

    @contextlib.asynccontextmanager
    async def _typing(self, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" in the chat while the answer takes longer than TYPING_AFTER_S."""
        task = asyncio.create_task(self._keep_typing(chat_id))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_typing(self, chat_id: int) -> None:
        await asyncio.sleep(TYPING_AFTER_S)
        while True:
            await self._sender.chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)
