"""The bot token never appears in logs (issue 3 §4).

The Bot API's URLs hold the token (`/bot<token>/sendMessage`, `/file/bot<token>/<path>`), and httpx
logs every request URL. These tests log a whole session at DEBUG the way `langlearn telegram` does
(`bots.cli.configure_logging` with the settings that hold the token, whose filter redacts every
secret) and read what was actually written to stderr: no token, in any form, while the log does
hold the request lines that would have carried it.

- in process: logging configured as the runner does, then httpx, httpcore and telegram forced to
  DEBUG as well (the runner keeps httpx at WARNING; a leak must not depend on that);
- the real `langlearn telegram` process at LOG_LEVEL=DEBUG, stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy.engine import make_url

from bots.cli import configure_logging
from bots.telegram.bot import DOWNLOAD_FAILED, TelegramBot
from bots.telegram.ratelimit import TelegramRateLimiter
from core.bootstrap import Services
from core.logging import SecretRedactingFilter
from core.outbound.postgres.database import Database
from tests.e2e.telegram.harness import ADMIN, ADMIN_CHAT, ANA, BOT_USERNAME, Telegram, settings_for, texts
from tests.servers.telegram_server import TOKEN, BotApiServer

CSV = b"term,translation\nagua,water\nsol,sun\n"
DB_PASSWORD = "log-test-db-password"  # Postgres here trusts local connections: any password is accepted
LIBRARIES = ("httpx", "httpcore", "telegram")


def token_forms(token: str = TOKEN) -> list[str]:
    """The token as it could show up: whole, URL-quoted, and its secret part (after the bot id)."""
    return [token, quote(token), quote(token, safe=""), token.split(":", 1)[1]]


def leaks(log: str, secrets: list[str]) -> list[str]:
    return [secret for secret in secrets if secret in log]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put logging back as it was after the test: handlers, their filters, levels."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    filters = {handler: list(handler.filters) for handler in handlers}
    names = ["", *LIBRARIES, "sqlalchemy.engine", "asyncio", "spacy"]
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler, kept in filters.items():
            for added in [f for f in handler.filters if f not in kept and isinstance(f, SecretRedactingFilter)]:
                handler.removeFilter(added)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def test_a_whole_session_logged_at_debug_holds_no_token(
    restore_logging: None, capsys: pytest.CaptureFixture[str], pg_db: Database, pg_url: str, tg_services: Services
) -> None:
    server = BotApiServer(username=BOT_USERNAME)
    await server.start()
    settings = settings_for(pg_url, server.url, LOG_LEVEL="DEBUG")
    # What `langlearn telegram` does first. Its handler writes to the sys.stderr of this moment,
    # which capsys captures: what is read below is what the handler wrote, after its redacting filter.
    configure_logging(settings)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    # The production limiter (it retries the 429 below), with limits that do not make the test wait.
    limiter = TelegramRateLimiter(private_per_s=100, private_burst=100)
    bot = TelegramBot(settings, tg_services, rate_limiter=limiter, poll_timeout=10)
    try:
        await bot.start()
        tg = Telegram(server, bot, pg_db, pg_url, tg_services)
        await tg.onboard()
        assert texts(await tg.send(ANA, "/add comer = to eat\ncasa = house")) == [
            "Added 2:\ncomer — to eat\ncasa — house"
        ]
        [card] = await tg.send(ANA, "/review")
        await tg.press(ANA, card, "Show answer")
        await tg.press(ANA, card, "Good")

        await tg.admin("/pack_new es-basics es en A1 Spanish basics")
        [report] = await tg.document(ADMIN, "words.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT)
        assert report.text.startswith("“es-basics”: 2 added"), report.text

        server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
        [words] = await tg.send(ANA, "/words")  # the limiter waits the 429 out
        assert "comer — to eat" in words.text

        server.fail_next.append(("sendMessage", 400, "Bad Request: chat not found"))
        assert await tg.send(ANA, "/help") == []  # a failed call: logged with its traceback
        server.fail_next.append(("getFile", 400, "Bad Request: wrong file_id"))
        assert texts(await tg.document(ADMIN, "w.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT)) == [
            DOWNLOAD_FAILED
        ]
    finally:
        await bot.stop()
        await server.stop()

    log = capsys.readouterr().err
    assert leaks(log, token_forms()) == []
    # ... and the log would have shown it: httpx's request lines, with the token's place redacted
    assert f"HTTP Request: POST {server.url}/bot***/getUpdates" in log
    assert f"Set Bot API URL: {server.url}/bot***" in log  # PTB's own DEBUG line at start
    assert f"HTTP Request: GET {server.url}/file/bot***/" in log  # the document's download
    assert "Telegram flood limit on sendMessage" in log  # the 429
    assert "sending an answer to chat 1001 failed" in log and "Traceback" in log  # the failed call
    assert "downloading a file from Telegram failed" in log


async def test_langlearn_telegram_at_debug_writes_no_token_to_stderr(
    tmp_path: Path, pg_db: Database, pg_url: str
) -> None:
    server = BotApiServer(username=BOT_USERNAME)
    await server.start()
    database = make_url(pg_url)
    if database.password is None:  # a password in DATABASE_URL is a secret too
        database = database.set(password=DB_PASSWORD)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("TELEGRAM_", "LOG_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.url,
        ADMIN_USER_IDS=f"telegram:{ADMIN}",
        TELEGRAM_ADMIN_CHAT_IDS=str(ADMIN_CHAT),
        DATABASE_URL=database.render_as_string(hide_password=False),
        LOG_LEVEL="DEBUG",
    )
    help_update = server.send_text(ANA, "/help")
    server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))  # retried by the limiter
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "langlearn"),
        "telegram",
        cwd=tmp_path,  # no .env of the checkout
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await server.wait_confirmed(help_update, timeout=60)
        assert server.texts(ANA)[0].startswith("Commands:")
        document = server.send_document(
            ADMIN, "words.csv", CSV, caption="/pack_import x", chat_id=ADMIN_CHAT, chat_type="supergroup"
        )
        await server.wait_confirmed(document)
        assert server.counts["download"] == 1  # the file URL (token inside) was fetched
        server.fail_next.append(("sendMessage", 400, "Bad Request: chat not found"))
        await server.wait_confirmed(server.send_text(ANA, "/help"))  # a failed call
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop()

    log = err.decode()
    assert process.returncode == 0, log
    assert leaks(log, [*token_forms(), DB_PASSWORD, quote(DB_PASSWORD, safe="")]) == []
    assert "stopped cleanly" in log
    assert f"Set Bot API URL: {server.url}/bot***" in log  # PTB logs the URL with the token at DEBUG
    assert "Calling Bot API endpoint `getFile`" in log  # DEBUG lines of the whole session were written
    assert "Telegram flood limit on sendMessage" in log and "sending an answer to chat 1001 failed" in log
