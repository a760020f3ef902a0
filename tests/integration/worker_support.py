"""What the worker tests share: Redis, the local provider servers, services from the real
composition root, a learner, and an arq worker run in-process.

- `redis_url` fixture: TEST_REDIS_URL, else a database of the local Redis claimed for this test run
  (11 when free; another of 10…4 when another run holds it, so two test runs on one machine never
  flush each other's queue); only it is flushed, before each test. Unreachable: the test fails, it
  never skips.
- `providers` fixture: local Anthropic, Gemini and DeepL servers (the real SDKs talk to them),
  the Anthropic one answering ARTICLE to the forced `write_article` tool.
- `job_settings(...)`: Settings pointing at them, Postgres and Redis; `open_job_services(settings)`:
  `bootstrap(settings)` with the provider clients' retries made fast (a constructor argument, not
  a setting).
- `run_worker(services, messengers, redis_url)`: arq's Worker in burst mode (the testing.md recipe)
  with the worker's own task functions, until the queue is empty.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from core.bootstrap import Services, bootstrap
from core.config import Settings
from core.domain.models import JobKind, Learner
from core.domain.ports import Messenger
from core.domain.services import JobTimings
from core.outbound._retry import RetryPolicy
from core.outbound.anthropic import AnthropicLanguageModel
from core.outbound.gemini import GeminiSpeech
from core.outbound.jobs.arq_queue import redis_settings
from tests.servers.anthropic_server import AnthropicServer
from tests.servers.deepl_server import DeepLServer
from tests.servers.gemini_server import GeminiServer
from worker.main import run_job_function, shutdown, startup

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/11"
FAST_RETRIES = RetryPolicy(attempts=4, base_delay_s=0.01, max_delay_s=0.05)

ARTICLE: dict[str, Any] = {
    "title": "Un día en el mercado",
    "text": "Hoy voy al mercado. Compro pan y fruta.",
    "new_words": [{"term": "mercado", "translation": "market"}, {"term": "fruta", "translation": "fruit"}],
}
GLOSSARY = {
    "Un día en el mercado": "A day at the market",
    "Hoy voy al mercado. Compro pan y fruta.": "Today I go to the market. I buy bread and fruit.",
}
ANA_ID = "1001"


CLAIMABLE_DATABASES = (11, 10, 9, 8, 7, 6, 5, 4)
_CLAIM_KEY = "langlearn-tests:redis-db:{}"  # in database 0, which no test flushes
_CLAIM_TTL_S = 3 * 3600
_claimed: list[str] = []


def test_redis_url() -> str:
    """TEST_REDIS_URL, else a database of the local Redis this test run holds (claimed on first use).

    The claim is a key in database 0 (SET NX with a TTL, deleted at exit): a concurrent run takes
    the next free database. When no Redis answers, the default URL (the fixture then fails clearly).
    """
    explicit = os.environ.get("TEST_REDIS_URL")
    if explicit:
        return explicit
    if not _claimed:
        _claimed.append(_claim_database())
    return _claimed[0]


def _claim_database() -> str:
    import atexit

    from redis import Redis
    from redis.exceptions import RedisError

    base = DEFAULT_TEST_REDIS_URL.rsplit("/", 1)[0]
    owner = f"{os.getpid()}:{os.urandom(4).hex()}"
    try:
        client = Redis.from_url(f"{base}/0", socket_connect_timeout=3)
        for number in CLAIMABLE_DATABASES:
            key = _CLAIM_KEY.format(number)
            if client.set(key, owner, nx=True, ex=_CLAIM_TTL_S):

                def release(client: Redis = client, key: str = key) -> None:
                    try:
                        if client.get(key) == owner.encode():
                            client.delete(key)
                    except RedisError:
                        pass

                atexit.register(release)
                return f"{base}/{number}"
    except (RedisError, OSError):
        return DEFAULT_TEST_REDIS_URL
    raise RuntimeError(
        f"every Redis database for tests ({CLAIMABLE_DATABASES}) is held by another test run; "
        "wait for it, or set TEST_REDIS_URL"
    )


test_redis_url.__test__ = False  # type: ignore[attr-defined]  # not a test, despite the name


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The tests' Redis database, emptied first."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    url = test_redis_url()
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.flushdb()
    except (RedisError, OSError) as exc:
        pytest.fail(f"Redis not reachable at {url.rsplit('@', 1)[-1]}: start it (see README). ({exc})", pytrace=False)
    finally:
        await client.aclose()
    yield url


@dataclass
class Providers:
    anthropic: AnthropicServer
    gemini: GeminiServer
    deepl: DeepLServer


@pytest.fixture
async def providers() -> AsyncIterator[Providers]:
    anthropic, gemini, deepl = AnthropicServer(), GeminiServer(), DeepLServer(glossary=GLOSSARY)
    for server in (anthropic, gemini, deepl):
        await server.start()
    anthropic.tool_input = ARTICLE
    try:
        yield Providers(anthropic, gemini, deepl)
    finally:
        for server in (anthropic, gemini, deepl):
            await server.stop()


def job_settings(pg_url: str, redis_url: str | None, providers: Providers, media_dir: Path, **extra: Any) -> Settings:
    """Settings of a bot or worker on these services (no .env)."""
    values: dict[str, Any] = {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "ANTHROPIC_API_KEY": providers.anthropic.api_key,
        "ANTHROPIC_BASE_URL": providers.anthropic.url,
        "GEMINI_API_KEY": providers.gemini.api_key,
        "GEMINI_BASE_URL": providers.gemini.url,
        "DEEPL_API_KEY": providers.deepl.api_key,
        "DEEPL_SERVER_URL": providers.deepl.url,
        "MEDIA_DIR": str(media_dir),
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def open_job_services(settings: Settings, *, job_timings: JobTimings | None = None) -> Services:
    """`bootstrap(settings)`, with the Anthropic and Gemini clients retrying fast (4 attempts)."""
    assert settings.ANTHROPIC_API_KEY is not None and settings.GEMINI_API_KEY is not None
    model = AnthropicLanguageModel(
        settings.ANTHROPIC_API_KEY.get_secret_value(),
        settings.ANTHROPIC_MODEL,
        settings.ANTHROPIC_BASE_URL,
        retry=FAST_RETRIES,
        timeout_s=10,
    )
    speech = GeminiSpeech(
        settings.GEMINI_API_KEY.get_secret_value(),
        settings.GEMINI_TTS_MODEL,
        settings.GEMINI_BASE_URL,
        retry=FAST_RETRIES,
        timeout_s=10,
    )
    services = await bootstrap(settings, language_model=model, speech=speech, job_timings=job_timings)

    close_services = services._close

    async def close() -> None:
        try:
            if close_services is not None:
                await close_services()
        finally:
            await model.aclose()
            await speech.aclose()

    services._close = close
    return services


async def learner(services: Services, user_id: str = ANA_ID, level: str = "A2") -> Learner:
    """A Telegram learner (private chat id = user id) learning Spanish from English."""
    found, _created = await services.accounts.ensure_learner("telegram", user_id, "Ana")
    await services.languages.set_pair(found.id, "es", "en", level)
    return found


async def request_article(services: Services, who: Learner, messenger: Messenger, topic: str = "el mercado") -> Any:
    """What the chat layer does on /article: the job row, the status line, the queue."""
    from core.domain.models import DeliveryAddress

    assert services.jobs is not None
    address = DeliveryAddress("telegram", ANA_ID, ANA_ID)
    return await services.jobs.request(who.id, JobKind.ARTICLE, {"topic": topic}, address, messenger=messenger)


def make_worker(
    services: Services,
    messengers: Mapping[str, Messenger],
    redis_url: str,
    *,
    pool: ArqRedis | None = None,
    **options: Any,
) -> Worker:
    """The worker's own functions and hooks in arq's Worker, in burst mode, on these services."""
    ctx: dict[str, Any] = {"services": services, "messengers": dict(messengers), "retry_base_s": 0.05}
    kwargs: dict[str, Any] = {
        "functions": [run_job_function()],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "burst": True,
        "handle_signals": False,
        "poll_delay": 0.01,
        "keep_result": 0,
        "ctx": ctx,
        **options,
    }
    if pool is not None:
        kwargs["redis_pool"] = pool
    else:
        kwargs["redis_settings"] = redis_settings(redis_url)
    return Worker(**kwargs)


async def run_worker(services: Services, messengers: Mapping[str, Messenger], redis_url: str, **options: Any) -> Worker:
    """Run a burst worker until the queue is empty (deferred retries included); the worker, for its counts."""
    worker = make_worker(services, messengers, redis_url, **options)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


# --- the learner's chat -------------------------------------------------------------------------


class RecordedChat:
    """The learner's chat as a RecordingMessenger keeps it (texts after edits, voice messages)."""

    def __init__(self) -> None:
        from tests.fakes import RecordingMessenger

        self.messenger = RecordingMessenger()

    @property
    def messengers(self) -> dict[str, Messenger]:
        return {"telegram": self.messenger}

    def texts(self) -> list[str]:
        return [item.text for item in self.messenger.delivered if item.message.voice is None]

    def voices(self) -> int:
        return sum(item.message.voice is not None for item in self.messenger.delivered)


class TelegramChat:
    """Ana's private chat on the local Bot API server, the worker's TelegramMessenger sending to it."""

    def __init__(self, server: Any, messenger: Any, close: Any) -> None:
        self.server = server
        self.messenger = messenger
        self._close = close

    @classmethod
    async def open(cls, *, paced: bool = False) -> TelegramChat:
        from bots.telegram.messenger import build_telegram_messenger
        from tests.servers.telegram_server import TOKEN, BotApiServer

        server = BotApiServer()
        await server.start()
        server.started_users.add(int(ANA_ID))  # Ana wrote to the bot: it may write to her
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[arg-type]
            TELEGRAM_API_BASE_URL=server.url,
        )
        if paced:
            messenger, close = build_telegram_messenger(settings)
            return cls(server, messenger, close)
        # The worker's messenger as build_telegram_messenger makes it, with a private chat's pace
        # (1 message a second) raised so a test does not wait out Telegram's limits.
        from telegram.ext import ExtBot

        from bots.telegram.messenger import TelegramMessenger
        from bots.telegram.ratelimit import TelegramRateLimiter

        limiter: Any = TelegramRateLimiter(private_per_s=100, private_burst=100)
        bot: Any = ExtBot(
            TOKEN, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot", rate_limiter=limiter
        )
        fast = TelegramMessenger(bot, initialize=True)
        return cls(server, fast, fast.close)

    async def aclose(self) -> None:
        try:
            await self._close()
        finally:
            await self.server.stop()

    @property
    def messengers(self) -> dict[str, Messenger]:
        return {"telegram": self.messenger}

    def texts(self) -> list[str]:
        """What Ana reads, message by message (voice messages left out; hidden text shown)."""
        return [message.text for message in self.server.messages(int(ANA_ID)) if message.kind != "voice"]

    def voices(self) -> int:
        return sum(message.kind == "voice" for message in self.server.messages(int(ANA_ID)))
