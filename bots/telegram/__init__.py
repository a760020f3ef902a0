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


def run(args: argparse.Namespace) -> int:
    """Entry point of `langlearn telegram` (see bots/cli.py)."""
    from bots.telegram.runner import run_telegram

    return run_telegram(args)
