"""Rate limiting: 300 messages to 300 private chats through the real PTB bot and TelegramRateLimiter.

The local Bot API server (tests/servers/telegram_server.py) runs in another process and consults
TelegramLimits (30 messages in any second overall, ...), answering 429 with `retry_after` as
Telegram does. The bot sends all 300 messages at once; the limiter paces them. The ideal is
300 / 30 = 10 s; `ratio` = elapsed / ideal (goal: close to 1, i.e. at most 1.1, and no 429).
`floor_s` is the least any sender can take without a 429 from a sliding one-second window: the
first 30 at once, the last 30 nine seconds later (plus one round trip); `ratio_to_floor` is
elapsed / floor_s.

Beside it, in the same run, the same burst from a bot without a rate limiter (`naive_*`): how many
429s a naive sender gets from the same server, i.e. what the limiter is there to prevent.

    uv run python bench/telegram_ratelimit.py        # one JSON line on stdout
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 300
OVERALL_PER_S = 30
FIRST_USER = 5_000_001


def serve() -> None:
    """`--serve`: the Bot API server with Telegram's limits, in this (separate) process."""
    sys.path.insert(0, str(ROOT))
    from tests.servers.telegram_limits import TelegramLimits
    from tests.servers.telegram_server import BotApiServer

    async def run() -> None:
        server = BotApiServer(limits=TelegramLimits(), record=False)
        url = await server.start()
        print(f"READY {url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("READY "):
        process.kill()
        raise SystemExit(f"bench: the Bot API server did not start ({line!r})")
    return process, line.removeprefix("READY ")


async def burst(url: str, users: range, *, limited: bool) -> dict[str, Any]:
    """Register `users` as having written to the bot, send one message to each at once, time it."""
    from telegram.ext import ApplicationBuilder

    from bots.telegram.ratelimit import TelegramRateLimiter
    from tests.servers.telegram_server import TOKEN

    async with httpx.AsyncClient(base_url=url) as client:
        updates = [
            {"message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                         "chat": {"id": user, "type": "private", "first_name": "U"},
                         "from": {"id": user, "is_bot": False, "first_name": "U"}}}
            for user in users
        ]
        (await client.post("/_test/updates", json=updates)).raise_for_status()
        before = (await client.get("/_test/stats")).json()
        builder = ApplicationBuilder().token(TOKEN).base_url(f"{url}/bot").updater(None)
        if limited:
            builder = builder.rate_limiter(TelegramRateLimiter())
        bot = builder.build().bot
        async with bot:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(bot.send_message(user, f"hello {user}") for user in users), return_exceptions=True
            )
            elapsed = time.perf_counter() - started
        after = (await client.get("/_test/stats")).json()
    return {
        "elapsed_s": round(elapsed, 3),
        "delivered": after["messages_sent"] - before["messages_sent"],
        "surfaced_errors": sum(isinstance(r, BaseException) for r in results),
        "server_429": int(after["errors"].get("429", 0)) - int(before["errors"].get("429", 0)),
    }


async def run() -> dict[str, Any]:
    process, url = start_server()
    try:
        limited = await burst(url, range(FIRST_USER, FIRST_USER + MESSAGES), limited=True)
        await asyncio.sleep(1.5)  # let the overall window empty before the naive burst
        naive = await burst(url, range(FIRST_USER + MESSAGES, FIRST_USER + 2 * MESSAGES), limited=False)
    finally:
        process.terminate()
        process.wait(10)
    ideal = MESSAGES / OVERALL_PER_S
    floor = (MESSAGES - 1) // OVERALL_PER_S * 1.0
    return {
        "messages": MESSAGES,
        "chats": MESSAGES,
        "elapsed_s": limited["elapsed_s"],
        "ideal_s": ideal,
        "ratio": round(limited["elapsed_s"] / ideal, 3),
        "floor_s": floor,
        "ratio_to_floor": round(limited["elapsed_s"] / floor, 3),
        "server_429": limited["server_429"],
        "delivered": limited["delivered"],
        "surfaced_errors": limited["surfaced_errors"],
        "naive_elapsed_s": naive["elapsed_s"],
        "naive_delivered": naive["delivered"],
        "naive_server_429": naive["server_429"],
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from _common import emit, log, now_ns

    started = now_ns()
    log(f"sending {MESSAGES} messages to {MESSAGES} chats through TelegramRateLimiter, then without it")
    figures = asyncio.run(run())
    goals = {
        "all_delivered": figures["delivered"] == MESSAGES and figures["surfaced_errors"] == 0,
        "ratio_at_most_1.1": figures["ratio"] <= 1.1,
    }
    emit("telegram_ratelimit", figures, goals, started_ns=started)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
