"""/listen end to end: a fresh text (a SPEECH job through arq and the worker, a synthesis, an upload)
beside the same text again (the cached clip sent at once by its Telegram file_id).

In this process: the local Bot API server, the real TelegramBot (PTB, our poller, handlers) on a
fresh Postgres database with REDIS_URL set, an arq worker (the worker's own task function and
WorkerSettings' poll delay) delivering through a TelegramMessenger, and a local Gemini server that
takes 100 ms a call. Neither bot has a rate limiter: Telegram's pace (1 message a second per
private chat) would be measured, not /listen (bench/telegram_ratelimit.py measures the limiter).

A sample: a learner sends `/listen <text>` (the update is queued at the server); it ends when the
voice message is in their chat. `BENCH_LISTEN_SAMPLES` (30) fresh texts, one at a time, then the
same texts again. Figures: p50/p90/max of both, the ratio fresh/cached, how many syntheses and
uploads each round caused (cached: none), and fresh p50 minus the provider's 100 ms.

    uv run python bench/listen_cached.py        # one JSON line on stdout
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = int(os.environ.get("BENCH_LISTEN_SAMPLES", "30"))
LATENCY_S = 0.1
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
FIRST_USER = 8_000_001


async def flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def until_voice(server: Any, user: int, count: int) -> None:
    """Until the user's chat holds `count` voice messages (re-checked whenever the server's state changes)."""

    def arrived() -> bool:
        return sum(message.kind == "voice" for message in server.messages(user)) >= count

    await server.wait_until(arrived, 30, f"voice message {count} of user {user}")


async def one_round(server: Any, users: list[int], texts: list[str], voices_before: int) -> list[float]:
    latencies = []
    for user, text in zip(users, texts, strict=True):
        started = time.perf_counter()
        server.send_text(user, f"/listen {text}")
        await until_voice(server, user, voices_before + 1)
        latencies.append(time.perf_counter() - started)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    from _common import percentile

    values = sorted(value * 1000 for value in latencies)
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 2),
        "p90_ms": round(percentile(values, 90), 2),
        "max_ms": round(values[-1], 2),
    }


async def run() -> dict[str, Any]:
    from _common import fresh_database, log
    from arq.worker import Worker
    from telegram.ext import ExtBot

    from bots.telegram.bot import TelegramBot
    from bots.telegram.messenger import TelegramMessenger
    from core.bootstrap import bootstrap
    from core.config import Settings
    from core.outbound.jobs.arq_queue import redis_settings
    from tests.servers.gemini_server import GeminiServer
    from tests.servers.telegram_server import TOKEN, BotApiServer
    from worker.main import WorkerSettings, run_job_function

    await flush_redis()
    telegram, gemini = BotApiServer(), GeminiServer()  # a short run: keep the calls (uploads are counted)
    await telegram.start()
    await gemini.start()
    gemini.delay = LATENCY_S
    gemini.audio_seconds = 1.0
    users = list(range(FIRST_USER, FIRST_USER + SAMPLES))
    texts = [f"El gato número {n} duerme en la casa." for n in range(SAMPLES)]
    try:
        async with fresh_database() as db:
            with tempfile.TemporaryDirectory(prefix="langlearn-bench-media-") as media:
                settings = Settings(
                    _env_file=None,  # type: ignore[call-arg]
                    DATABASE_URL=db.url,
                    REDIS_URL=REDIS_URL,
                    TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[arg-type]
                    TELEGRAM_API_BASE_URL=telegram.url,
                    GEMINI_API_KEY=gemini.api_key,  # type: ignore[arg-type]
                    GEMINI_BASE_URL=gemini.url,
                    MEDIA_DIR=media,
                    DAILY_SPEECH_QUOTA=10 * SAMPLES,
                )
                services = await bootstrap(settings)
                for user in [*users, FIRST_USER + SAMPLES]:  # the last one warms up
                    learner, _ = await services.accounts.ensure_learner("telegram", str(user), "L")
                    await services.languages.set_pair(learner.id, "es", "en", "A2")
                    telegram.started_users.add(user)
                root = telegram.url
                worker_bot: Any = ExtBot(TOKEN, base_url=f"{root}/bot", base_file_url=f"{root}/file/bot")
                messenger = TelegramMessenger(worker_bot, initialize=True)
                worker = Worker(
                    functions=[run_job_function()],
                    redis_settings=redis_settings(REDIS_URL),
                    handle_signals=False,
                    keep_result=WorkerSettings.keep_result,
                    poll_delay=WorkerSettings.poll_delay,
                    max_jobs=WorkerSettings.max_jobs,
                    ctx={"services": services, "messengers": {"telegram": messenger}, "retry_base_s": 1.0},
                )
                worker_task = asyncio.create_task(worker.async_run())
                bot = TelegramBot(settings, services, rate_limiter=None, poll_timeout=10)
                await bot.start()
                try:
                    warm = await one_round(telegram, [FIRST_USER + SAMPLES], ["Hola."], 0)  # first call costs
                    log(f"warm-up /listen: {warm[0] * 1000:.0f} ms; {SAMPLES} fresh texts, then the same again")
                    calls_before, uploads_before = len(gemini.calls), _uploads(telegram)
                    fresh = await one_round(telegram, users, texts, 0)
                    fresh_calls = len(gemini.calls) - calls_before
                    fresh_uploads = _uploads(telegram) - uploads_before
                    cached = await one_round(telegram, users, texts, 1)
                    cached_calls = len(gemini.calls) - calls_before - fresh_calls
                    cached_uploads = _uploads(telegram) - uploads_before - fresh_uploads
                finally:
                    await bot.stop()
                    worker.handle_sig(2)
                    await asyncio.gather(worker_task, return_exceptions=True)
                    await worker.close()
                    await messenger.close()
                    await services.aclose()
    finally:
        await telegram.stop()
        await gemini.stop()
        await flush_redis()
    fresh_s, cached_s = summary(fresh), summary(cached)
    return {
        "samples": SAMPLES,
        "provider_latency_ms": LATENCY_S * 1000,
        "fresh": {**fresh_s, "syntheses": fresh_calls, "uploads": fresh_uploads},
        "cached": {**cached_s, "syntheses": cached_calls, "uploads": cached_uploads},
        "ratio_fresh_to_cached_p50": round(fresh_s["p50_ms"] / cached_s["p50_ms"], 2),
        "fresh_p50_minus_provider_ms": round(fresh_s["p50_ms"] - LATENCY_S * 1000, 2),
    }


def _uploads(server: Any) -> int:
    """Voice messages sent with the audio itself (an upload), not by file_id."""
    return sum(1 for call in server.calls_of("sendVoice") if call.files)  # by file_id: no file part


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import logging

    from _common import emit, now_ns

    logging.basicConfig(level=os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    started = now_ns()
    figures = asyncio.run(run())
    goals = {
        "cached_makes_no_synthesis_and_no_upload": figures["cached"]["syntheses"] == 0
        and figures["cached"]["uploads"] == 0,
        "cached_faster_than_fresh": figures["cached"]["p50_ms"] < figures["fresh"]["p50_ms"],
    }
    emit("listen_cached", figures, goals, started_ns=started)


if __name__ == "__main__":
    main()
