"""The Telegram adapter: `langlearn telegram` on python-telegram-bot, over the chat layer.

Modules: `convert` (Update -> Event), `render` (Reply -> messages), `text` (HTML escaping and
splitting), `sender` (messages -> Bot API calls), `polling` (our long-polling loop with a
watermark: nothing is confirmed before it is handled), `webhook` (the aiohttp webhook server),
`bot` (`TelegramBot`, which ties them together), `runner` (the process: logging, signals) and
`ratelimit` (Telegram's sending limits). Heavy imports wait until `run` is called so
`langlearn --help` stays instant.
"""

from __future__ import annotations

import argparse

NOT_CONFIGURED = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in .env "
    "(TELEGRAM_BOT_TOKEN=123456:ABC…) or the environment"
)


def run(args: argparse.Namespace) -> int:
    """Entry point of `langlearn telegram` (see bots/cli.py)."""
    from bots.cli import UserError, load_settings

    settings = load_settings(getattr(args, "database", None))
    token = settings.TELEGRAM_BOT_TOKEN
    if token is None or not token.get_secret_value().strip():  # said at once, before the heavy imports
        raise UserError(NOT_CONFIGURED)

    from bots.telegram.runner import run_telegram

    return run_telegram(settings)
