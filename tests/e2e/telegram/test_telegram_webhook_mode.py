"""Webhook mode end to end: Telegram's POSTs reach the real bot only with the secret; the reply goes out
through the Bot API before the 200 (a button's answer in the 200 itself), and a redelivered update is
handled once."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import SecretStr

from bots.chat.errors import SOMETHING_WENT_WRONG
from bots.telegram.bot import TelegramBot
from core.bootstrap import Services
from core.outbound.postgres.database import Database
from tests.e2e.telegram.harness import ANA, settings_for
from tests.servers.telegram_server import BotApiServer

SECRET = "e2e_webhook-secret_42"
PUBLIC_URL = "https://bot.example.org/telegram/hook"


async def test_webhook_updates_are_handled_only_with_the_secret(
    pg_db: Database, pg_url: str, tg_services: Services
) -> None:
    server = BotApiServer()
    await server.start()
    settings = settings_for(
        pg_url,
        server.url,
        TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
        TELEGRAM_WEBHOOK_SECRET=SecretStr(SECRET),
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1:0",
    )
    bot = TelegramBot(settings, tg_services, rate_limiter=None)
    await bot.start()
    try:
        assert server.webhook is not None
        assert (server.webhook["url"], server.webhook["secret_token"]) == (PUBLIC_URL, SECRET)
        assert server.counts["getUpdates"] == 0
        local = f"http://127.0.0.1:{bot.webhook_port}/telegram/hook"

        update_id = server.send_text(ANA, "/start")
        assert await server.push_webhook(update_id, url=local, secret=None) == 403
        assert await server.push_webhook(update_id, url=local, secret="e2e_webhook-secret_43") == 403
        assert server.messages(ANA) == []
        async with pg_db.session() as session:
            assert (await session.execute(sa.text("SELECT count(*) FROM learner"))).scalar_one() == 0

        assert await server.push_webhook(update_id, url=local) == 200  # answered before the 200
        assert server.texts(ANA) == ["Welcome to langlearn! Which language do you want to learn?"]
        assert server.is_confirmed(update_id)
        assert await server.push_webhook(update_id, url=local) == 200  # Telegram delivering it again
        assert len(server.messages(ANA)) == 1

        welcome = server.last(ANA)
        press = server.press(ANA, welcome, "Spanish")
        assert await server.push_webhook(press, url=local) == 200
        assert server.last(ANA).text == "Learning Spanish. Which language do you speak?"
        # the button's answer rode on the webhook's response (Telegram made the call), not a Bot API call
        [answer] = server.callback_answers
        assert server.webhook_replies == [{"method": "answerCallbackQuery", **answer}]
        assert server.counts["answerCallbackQuery"] == 0

        stale = server.press_data(ANA, welcome, "not-ours")  # an expired button: its toast the same way
        assert await server.push_webhook(stale, url=local) == 200
        assert server.webhook_replies[-1]["method"] == "answerCallbackQuery"
        assert server.webhook_replies[-1]["text"] == server.callback_answers[-1]["text"]
        assert server.counts["answerCallbackQuery"] == 0
    finally:
        await bot.stop()
        await server.stop()


async def test_a_failure_after_the_apology_answers_200_so_telegram_does_not_redeliver(
    pg_db: Database, pg_url: str, tg_services: Services
) -> None:
    """The Bot API garbles its answer to the reply (HTTP 200 without a result: PTB fails outside its
    own errors). The user gets the apology; the webhook then answers 200, or Telegram would deliver
    the update again and again, with an apology each time."""
    server = BotApiServer()
    await server.start()
    settings = settings_for(
        pg_url,
        server.url,
        TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
        TELEGRAM_WEBHOOK_SECRET=SecretStr(SECRET),
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1:0",
    )
    bot = TelegramBot(settings, tg_services, rate_limiter=None)
    await bot.start()
    try:
        local = f"http://127.0.0.1:{bot.webhook_port}/telegram/hook"
        server.fail_next.append(("sendMessage", 200, "garbled"))
        update_id = server.send_text(ANA, "/start")
        assert await server.push_webhook(update_id, url=local) == 200
        assert server.texts(ANA) == [SOMETHING_WENT_WRONG]
        assert server.is_confirmed(update_id)
    finally:
        await bot.stop()
        await server.stop()
