"""The users' side of an end-to-end Telegram test: see conftest.py for how it is wired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from bots.telegram.bot import TelegramBot
from core.bootstrap import Services
from core.config import Settings
from core.outbound.postgres.database import Database
from tests.servers.telegram_server import TOKEN, BotApiServer, SentMessage

ANA = 1001  # a learner
BEN = 1002  # another learner
ADMIN = 9001  # in ADMIN_USER_IDS
ADMIN_CHAT = -1001900  # in TELEGRAM_ADMIN_CHAT_IDS (a supergroup)
GROUP = -1005000  # a study group (supergroup)
BOT_USERNAME = "langlearn_test_bot"

LANGUAGE_BUTTONS = ["Spanish", "French", "German", "Italian", "Portuguese", "Japanese", "English", "Type a code"]
FRONT_HINT = "In English? Type your answer, or press Show answer."


def settings_for(pg_url: str, api_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=pg_url,
        TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[arg-type]
        TELEGRAM_API_BASE_URL=api_url,
        ADMIN_USER_IDS=[f"telegram:{ADMIN}"],
        TELEGRAM_ADMIN_CHAT_IDS=[str(ADMIN_CHAT)],
        **extra,
    )



@dataclass
class Telegram:
    """The users' side of the conversation, and the database behind the bot."""

    server: BotApiServer
    bot: TelegramBot
    db: Database
    pg_url: str
    services: Services
    stopped: list[TelegramBot] = field(default_factory=list)

    # --- acting as users ----------------------------------------------------------------------

    async def deliver(self, update_id: int) -> list[SentMessage]:
        """Wait until the bot handled `update_id`; the messages it sent meanwhile (any chat), in order."""
        before = self._seen
        await self.server.wait_confirmed(update_id)
        return self._new_since(before)

    async def send(
        self,
        user: int,
        text: str,
        *,
        chat: int | None = None,
        first_name: str = "Ana",
        reply_to: int | None = None,
    ) -> list[SentMessage]:
        """A text message from `user` (in their private chat, or in group `chat`)."""
        before = self._seen
        update_id = self.server.send_text(
            user,
            text,
            chat_id=chat,
            chat_type="private" if chat is None else "supergroup",
            first_name=first_name,
            reply_to_message_id=reply_to,
        )
        await self.server.wait_confirmed(update_id)
        return self._new_since(before)

    async def press(self, user: int, message: SentMessage, label: str) -> list[SentMessage]:
        """`user` presses the button labelled `label` (substring) on `message`."""
        before = self._seen
        await self.server.wait_confirmed(self.server.press(user, message, label))
        return self._new_since(before)

    async def press_data(self, user: int, message: SentMessage, data: str) -> list[SentMessage]:
        before = self._seen
        await self.server.wait_confirmed(self.server.press_data(user, message, data))
        return self._new_since(before)

    async def document(
        self,
        user: int,
        filename: str,
        content: bytes,
        *,
        caption: str = "",
        chat: int | None = None,
        file_size: int | None = None,
    ) -> list[SentMessage]:
        before = self._seen
        update_id = self.server.send_document(
            user,
            filename,
            content,
            caption=caption,
            chat_id=chat,
            chat_type="private" if chat is None else "supergroup",
            file_size=file_size,
        )
        await self.server.wait_confirmed(update_id)
        return self._new_since(before)

    async def onboard(self, user: int = ANA, level: str = "A2") -> None:
        """/start, then Spanish, English and the level with the buttons."""
        [welcome] = await self.send(user, "/start")
        await self.press(user, welcome, "Spanish")
        await self.press(user, self.server.last(user), "English")
        await self.press(user, self.server.last(user), level)
        assert self.server.last(user).text.startswith("All set: you're learning Spanish"), self.server.texts(user)

    async def admin(self, text: str) -> list[SentMessage]:
        """A command from the admin user in the admin chat."""
        return await self.send(ADMIN, text, chat=ADMIN_CHAT, first_name="Ada")

    async def publish_pack(self, slug: str = "es-basics", words: str = "agua = water\nsol = sun\ncasa = house") -> None:
        await self.admin(f"/pack_new {slug} es en A1 Spanish basics")
        await self.admin(f"/pack_add {slug}\n{words}")
        [published] = await self.admin(f"/pack_publish {slug}")
        assert published.text.startswith(f"Published “{slug}”"), published.text

    # --- reading ------------------------------------------------------------------------------

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.db.session() as session:
            return [tuple(row) for row in (await session.execute(sa.text(sql), params)).all()]

    async def count(self, table: str) -> int:
        [(n,)] = await self.rows(f"SELECT count(*) FROM {table}")
        return int(n)

    async def restart(self) -> TelegramBot:
        """Stop the bot (it confirms what it handled) and start a new process's bot on the same server."""
        await self.bot.stop()
        self.stopped.append(self.bot)
        self.bot = await start_bot(self.pg_url, self.server, self.services)
        return self.bot

    @property
    def _seen(self) -> set[int]:
        return {message.message_id for message in self.server.all_messages()}

    def _new_since(self, before: set[int]) -> list[SentMessage]:
        return [message for message in self.server.all_messages() if message.message_id not in before]


async def start_bot(pg_url: str, server: BotApiServer, services: Services) -> TelegramBot:
    bot = TelegramBot(settings_for(pg_url, server.url), services, rate_limiter=None, poll_timeout=10)
    await bot.start()
    return bot



def texts(messages: list[SentMessage]) -> list[str]:
    return [message.text for message in messages]
