"""The article pipeline's own cost: total time of a job minus the time spent waiting on providers.

Each sample is one /article as the bot and the worker do it: `JobService.request` (row, status
line, arq enqueue) and then `JobService.run` (what the worker's task calls): write (the real
Anthropic SDK against a local server answering after 300 ms), translate (the real DeepL SDK, the
local server answers at once), record (the real Gemini SDK, 100 ms, PCM -> OGG/Opus), and delivery
through the TelegramMessenger to the local Bot API server (no rate limiter: Telegram's pace is
bench/telegram_ratelimit.py's subject); Postgres is a fresh database (bench/_common). Every
article is a new text, so every one is narrated.

The provider clients and the messenger are wrapped in timers *at our ports* (LanguageModel,
Translator, SpeechSynthesizer, Messenger; the SDKs are untouched), so per sample:

- `run_ms`: the whole run; `providers_ms`: time inside those port calls (SDK, HTTP, the servers'
  delays, encoding); `overhead_ms` = run − providers: our orchestration, the job row's
  transactions, the cache and media store;
- `overhead_vs_delays_ms` = run − the servers' configured delays (300 + 100 ms): everything we
  add, SDK and audio encoding included.

`BENCH_ARTICLES` (20) samples, one after another, after one warm-up article.

    uv run python bench/article_overhead.py        # one JSON line on stdout
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = int(os.environ.get("BENCH_ARTICLES", "20"))
LLM_DELAY_S = 0.3
TTS_DELAY_S = 0.1
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
USER = 9_000_001


class Timer:
    """Seconds spent inside wrapped port calls, per port."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    async def time(self, port: str, call: Any) -> Any:
        started = time.perf_counter()
        try:
            return await call
        finally:
            self.spent[port] = self.spent.get(port, 0.0) + time.perf_counter() - started

    def total(self) -> float:
        return sum(self.spent.values())


class TimedModel:
    def __init__(self, inner: Any, timer: Timer) -> None:
        self._inner, self._timer = inner, timer

    @property
    def model(self) -> str:
        return str(self._inner.model)

    async def generate_json(self, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self._timer.time("anthropic", self._inner.generate_json(**kwargs))
        return result

    async def generate_text(self, **kwargs: Any) -> str:
        return str(await self._timer.time("anthropic", self._inner.generate_text(**kwargs)))


class TimedTranslator:
    def __init__(self, inner: Any, timer: Timer) -> None:
        self._inner, self._timer = inner, timer

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        result: list[str] = await self._timer.time("deepl", self._inner.translate(texts, source, target))
        return result


class TimedSpeech:
    def __init__(self, inner: Any, timer: Timer) -> None:
        self._inner, self._timer = inner, timer

    def voice_for(self, language: str) -> str:
        return str(self._inner.voice_for(language))

    @property
    def model(self) -> str:
        return str(self._inner.model)

    async def synthesize(self, text: str, language: str, voice: str | None = None) -> Any:
        return await self._timer.time("gemini", self._inner.synthesize(text, language, voice))


class TimedMessenger:
    def __init__(self, inner: Any, timer: Timer) -> None:
        self._inner, self._timer = inner, timer

    @property
    def platform(self) -> str:
        return str(self._inner.platform)

    async def send(self, address: Any, message: Any) -> list[Any]:
        result: list[Any] = await self._timer.time("telegram", self._inner.send(address, message))
        return result

    async def edit_text(self, address: Any, message_id: str, text: str) -> None:
        await self._timer.time("telegram", self._inner.edit_text(address, message_id, text))


def article(n: int) -> dict[str, Any]:
    words = " ".join(f"palabra{n}x{k}" for k in range(60))
    return {
        "title": f"Un día en el mercado {n}",
        "text": f"Hoy voy al mercado número {n}. Compro pan y fruta. {words}.",
        "new_words": [{"term": "mercado", "translation": "market"}, {"term": "fruta", "translation": "fruit"}],
    }


async def flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


async def run() -> dict[str, Any]:
    from _common import fresh_database, latency_ms, log
    from telegram.ext import ExtBot

    from bots.telegram.messenger import TelegramMessenger
    from core.bootstrap import bootstrap
    from core.config import Settings
    from core.domain.models import DeliveryAddress, JobKind, JobStatus
    from core.outbound.anthropic import AnthropicLanguageModel
    from core.outbound.deepl import DeepLTranslator
    from core.outbound.gemini import GeminiSpeech
    from tests.servers.anthropic_server import AnthropicServer
    from tests.servers.deepl_server import DeepLServer
    from tests.servers.gemini_server import GeminiServer
    from tests.servers.telegram_server import TOKEN, BotApiServer

    await flush_redis()
    anthropic, deepl, gemini, telegram = AnthropicServer(), DeepLServer(), GeminiServer(), BotApiServer()
    for server in (anthropic, deepl, gemini, telegram):
        await server.start()
    anthropic.delay, gemini.delay, gemini.audio_seconds = LLM_DELAY_S, TTS_DELAY_S, 1.0
    anthropic.tool_inputs = [article(n) for n in range(ARTICLES + 1)]
    telegram.started_users.add(USER)
    timer = Timer()
    samples: list[dict[str, float]] = []
    try:
        async with fresh_database() as db:
            with tempfile.TemporaryDirectory(prefix="langlearn-bench-media-") as media:
                settings = Settings(
                    _env_file=None,  # type: ignore[call-arg]
                    DATABASE_URL=db.url,
                    REDIS_URL=REDIS_URL,
                    MEDIA_DIR=media,
                    DAILY_ARTICLE_QUOTA=10 * (ARTICLES + 1),
                )
                model = AnthropicLanguageModel(anthropic.api_key, settings.ANTHROPIC_MODEL, anthropic.url)
                translator = DeepLTranslator(deepl.api_key, deepl.url)
                speech = GeminiSpeech(gemini.api_key, settings.GEMINI_TTS_MODEL, gemini.url)
                services = await bootstrap(
                    settings,
                    language_model=TimedModel(model, timer),  # type: ignore[arg-type]
                    translator=TimedTranslator(translator, timer),  # type: ignore[arg-type]
                    speech=TimedSpeech(speech, timer),  # type: ignore[arg-type]
                )
                assert services.jobs is not None
                bot: Any = ExtBot(TOKEN, base_url=f"{telegram.url}/bot", base_file_url=f"{telegram.url}/file/bot")
                telegram_messenger = TelegramMessenger(bot, initialize=True)
                messenger = TimedMessenger(telegram_messenger, timer)
                messengers: Any = {"telegram": messenger}
                learner, _ = await services.accounts.ensure_learner("telegram", str(USER), "Ana")
                await services.languages.set_pair(learner.id, "es", "en", "A2")
                address = DeliveryAddress("telegram", str(USER), str(USER))
                try:
                    log(f"{ARTICLES} articles one after another (+1 warm-up)")
                    for n in range(ARTICLES + 1):
                        timer.spent.clear()
                        started = time.perf_counter()
                        requested = await services.jobs.request(
                            learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, address, messenger=messenger
                        )
                        requested_at = time.perf_counter()
                        request_providers = timer.total()
                        job = await services.jobs.run(requested.job.id, messengers)
                        ended = time.perf_counter()
                        assert job is not None and job.status is JobStatus.DONE, job
                        if n == 0:
                            continue  # the first call of each SDK and the first statements cost more
                        run_s = ended - requested_at
                        providers = timer.total() - request_providers
                        samples.append(
                            {
                                "request_s": requested_at - started,
                                "run_s": run_s,
                                "providers_s": providers,
                                "overhead_s": run_s - providers,
                                "overhead_vs_delays_s": run_s - LLM_DELAY_S - TTS_DELAY_S,
                                **{f"{port}_s": spent for port, spent in timer.spent.items()},
                            }
                        )
                finally:
                    await telegram_messenger.close()
                    await services.aclose()
                    await model.aclose()
                    await speech.aclose()
                    translator.close()
    finally:
        for server in (anthropic, deepl, gemini, telegram):
            await server.stop()
        await flush_redis()

    def figure(name: str) -> dict[str, float]:
        return latency_ms([round(sample[name] * 1e9) for sample in samples])

    messages = len(telegram.messages(USER))
    return {
        "articles": len(samples),
        "provider_delays_ms": {"anthropic": LLM_DELAY_S * 1000, "gemini": TTS_DELAY_S * 1000, "deepl": 0},
        "request": figure("request_s"),
        "run": figure("run_s"),
        "providers": figure("providers_s"),
        "overhead": figure("overhead_s"),
        "overhead_vs_delays": figure("overhead_vs_delays_s"),
        "per_port_p50_ms": {
            port: figure(f"{port}_s")["p50_ms"] for port in ("anthropic", "deepl", "gemini", "telegram")
        },
        "telegram_messages_per_article": round(messages / (len(samples) + 1), 2),
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import logging

    from _common import emit, now_ns

    logging.basicConfig(level=os.environ.get("BENCH_LOG_LEVEL", "WARNING"))
    started = now_ns()
    figures = asyncio.run(run())
    emit("article_overhead", figures, {"all_delivered": figures["articles"] == ARTICLES}, started_ns=started)


if __name__ == "__main__":
    main()
