"""The one composition root: Settings -> services wired to their adapters.

Nothing here runs at import time; adapters call `bootstrap()` in their start-up hook and
`Services.aclose()` in the matching shutdown hook. Tests pass fakes through the keyword arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.config import Settings
from core.domain.ports import (
    Clock,
    JobQueue,
    LanguageModel,
    Lemmatizer,
    MediaStore,
    Messenger,
    ReviewScheduler,
    SpeechSynthesizer,
    Translator,
    UnitOfWorkFactory,
)
from core.domain.services import (
    AccountService,
    ArticleService,
    ConversationService,
    DataService,
    JobService,
    JobTimings,
    LanguageService,
    PackService,
    ReminderService,
    ReviewService,
    SettingsService,
    SpeechService,
    StatsService,
    VocabularyService,
)
from core.jobs_wiring import build_job_services
from core.outbound.jobs import InProcessBackground, InProcessJobQueue, PeriodicTask
from core.outbound.jobs.inprocess import DEFAULT_RUN_TIMEOUT_S

logger = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    accounts: AccountService
    languages: LanguageService
    vocabulary: VocabularyService
    reviews: ReviewService
    packs: PackService
    stats: StatsService
    learner_settings: SettingsService
    data: DataService
    conversation: ConversationService
    translator: Translator | None
    # Providers of background work: None when not configured (bootstrap always gives a media store:
    # S3 when STORAGE_ENDPOINT_URL is set, else the MEDIA_DIR directory).
    language_model: LanguageModel | None = None
    speech: SpeechSynthesizer | None = None
    media: MediaStore | None = None
    # Builds the NLP pipelines of these languages now (blocking, thread-safe): adapters call it in
    # a background thread at start so a learner's first /add doesn't wait seconds for spaCy.
    warm_up_languages: Callable[[Iterable[str]], None] = lambda _languages: None
    # Background work (articles, speech, reminders): None when no queue was given (unit-test fakes).
    jobs: JobService | None = None
    articles: ArticleService | None = None
    speech_clips: SpeechService | None = None
    reminders: ReminderService | None = None
    queue: JobQueue | None = None
    # The in-process queue + periodic sweep/reminders (no REDIS_URL); None with arq (the worker runs them).
    background: InProcessBackground | None = None
    _close: Callable[[], Awaitable[None]] | None = None

    def start_background(self, messengers: Mapping[str, Messenger]) -> None:
        """Start the in-process queue (with the sweep and reminders every minute) on these messengers.

        A no-op with arq: the worker process runs the jobs and the cron tasks.
        """
        if self.background is not None:
            self.background.start(messengers)

    async def aclose(self) -> None:
        try:
            if self.background is not None:
                await self.background.aclose()
        finally:
            if self._close is not None:
                await self._close()


def build_services(
    settings: Settings,
    uow: UnitOfWorkFactory,
    *,
    scheduler: ReviewScheduler,
    lemmatizer: Lemmatizer,
    translator: Translator | None,
    clock: Clock = utc_now,
    close: Callable[[], Awaitable[None]] | None = None,
    warm_up_languages: Callable[[Iterable[str]], None] | None = None,
    language_model: LanguageModel | None = None,
    speech: SpeechSynthesizer | None = None,
    media: MediaStore | None = None,
    queue: JobQueue | None = None,
    job_timings: JobTimings | None = None,
    periodic_interval_s: float = 60.0,
) -> Services:
    """Wire services over given ports (tests call this with fakes).

    With a `queue`, the job services are built too; an `InProcessJobQueue` is bound to
    `JobService.run` and comes with the periodic sweep and reminders (`Services.start_background`).
    """
    services = Services(
        settings=settings,
        accounts=AccountService(uow, scheduler, clock),
        languages=LanguageService(uow, clock),
        vocabulary=VocabularyService(uow, lemmatizer, translator, clock),
        reviews=ReviewService(uow, scheduler, clock),
        packs=PackService(uow, lemmatizer, clock),
        stats=StatsService(uow, clock),
        learner_settings=SettingsService(uow, clock),
        data=DataService(uow, clock),
        conversation=ConversationService(uow, clock, scheduler),
        translator=translator,
        language_model=language_model,
        speech=speech,
        media=media,
        warm_up_languages=warm_up_languages or (lambda _languages: None),
        _close=close,
    )
    if queue is not None:
        built = build_job_services(
            uow,
            settings,
            queue=queue,
            language_model=language_model,
            speech=speech,
            media=media,
            translator=translator,
            clock=clock,
            timings=job_timings,
        )
        services.jobs, services.articles = built.jobs, built.articles
        services.speech_clips, services.reminders, services.queue = built.speech, built.reminders, queue
        if isinstance(queue, InProcessJobQueue):
            queue.bind(built.jobs.run)
            services.background = InProcessBackground(
                queue,
                [PeriodicTask("sweep", built.jobs.sweep), PeriodicTask("reminders", built.reminders.send_due)],
                periodic_interval_s,
            )
    return services


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    translator: Translator | None = None,
    language_model: LanguageModel | None = None,
    speech: SpeechSynthesizer | None = None,
    media: MediaStore | None = None,
    queue: JobQueue | None = None,
    job_timings: JobTimings | None = None,
    migrate_sqlite: bool = True,
) -> Services:
    """Build the real adapters from settings. The embedded SQLite default is migrated on start.

    An adapter passed in (a test's fake) replaces the one settings would build; bootstrap closes
    only what it built. The job queue: arq on REDIS_URL, else the in-process queue (started by
    `Services.start_background`).
    """
    from core.outbound.fsrs import FsrsScheduler
    from core.outbound.postgres.database import Database
    from core.outbound.postgres.migrate import upgrade_to_head
    from core.outbound.spacy import SpacyLemmatizer

    if settings.is_sqlite and migrate_sqlite:
        await upgrade_to_head(settings.DATABASE_URL)
    database = Database(settings.DATABASE_URL)
    closers: list[Closer] = []
    if translator is None and settings.DEEPL_API_KEY is not None:
        from core.outbound.deepl import DeepLTranslator  # the SDK costs ~0.3 s of start-up: only when used

        # A learner waits on /add: one retry and a short timeout, then they are asked instead.
        # These SDK settings are process-wide, so article jobs run here translate with them too:
        # a translation that fails is retried by the job queue, resuming after the stored write step.
        deepl_translator = DeepLTranslator(
            settings.DEEPL_API_KEY.get_secret_value(), settings.DEEPL_SERVER_URL, max_retries=1, timeout_s=4.0
        )
        translator = deepl_translator

        async def close_translator() -> None:
            deepl_translator.close()

        closers.append(close_translator)
    if language_model is None:
        language_model = _language_model(settings, closers)
    if speech is None:
        speech = _speech(settings, closers)
    if media is None:
        media = _media(settings, closers)
    if queue is None:
        queue = _queue(settings, closers, job_timings or JobTimings())

    lemmatizer = SpacyLemmatizer(settings.SPACY_MODELS)

    async def close() -> None:
        try:
            for closer in closers:
                try:
                    await closer()
                except Exception:  # one client failing to close must not keep the others open
                    logger.warning("Closing a provider client failed", exc_info=True)
            try:
                lemmatizer.close()  # after the clients: nothing that might still lemmatise is running
            except Exception:
                logger.warning("Closing the lemma files failed", exc_info=True)
        finally:
            await database.dispose()

    return build_services(
        settings,
        database.unit_of_work,
        scheduler=FsrsScheduler(),
        lemmatizer=lemmatizer,
        translator=translator,
        clock=clock,
        close=close,
        warm_up_languages=lemmatizer.warm_up,
        language_model=language_model,
        speech=speech,
        media=media,
        queue=queue,
        job_timings=job_timings,
    )


def _queue(settings: Settings, closers: list[Closer], timings: JobTimings) -> JobQueue:
    """The arq queue on Redis when REDIS_URL is set (a `langlearn worker` runs the jobs), else in this process.

    An in-process run is cut off within its lease (a run outliving it could be taken over alive).
    """
    if settings.REDIS_URL is None:
        timeout = min(DEFAULT_RUN_TIMEOUT_S, timings.run_lease.total_seconds())
        return InProcessJobQueue(run_timeout_s=timeout)  # closed by Services.aclose through its background
    from core.outbound.jobs.arq_queue import ArqJobQueue  # arq/redis only when used

    queue = ArqJobQueue(settings.REDIS_URL)
    closers.append(queue.aclose)
    return queue


def _language_model(settings: Settings, closers: list[Closer]) -> LanguageModel | None:
    """Anthropic when ANTHROPIC_API_KEY is set (the SDK is imported only then: it is slow to import)."""
    if settings.ANTHROPIC_API_KEY is None:
        return None
    from core.outbound.anthropic import AnthropicLanguageModel

    client = AnthropicLanguageModel(
        settings.ANTHROPIC_API_KEY.get_secret_value(), settings.ANTHROPIC_MODEL, settings.ANTHROPIC_BASE_URL
    )
    closers.append(client.aclose)
    return client


def _speech(settings: Settings, closers: list[Closer]) -> SpeechSynthesizer | None:
    """Gemini text-to-speech when GEMINI_API_KEY is set."""
    if settings.GEMINI_API_KEY is None:
        return None
    from core.outbound.gemini import GeminiSpeech

    client = GeminiSpeech(
        settings.GEMINI_API_KEY.get_secret_value(), settings.GEMINI_TTS_MODEL, settings.GEMINI_BASE_URL
    )
    closers.append(client.aclose)
    return client


def _media(settings: Settings, closers: list[Closer]) -> MediaStore:
    """S3 (or compatible) when STORAGE_ENDPOINT_URL is set, else the MEDIA_DIR directory."""
    if not settings.STORAGE_ENDPOINT_URL:
        from core.outbound.storage import LocalMediaStore

        return LocalMediaStore(settings.MEDIA_DIR)
    from core.outbound.storage.s3 import S3MediaStore

    access_key, secret_key = settings.STORAGE_ACCESS_KEY, settings.STORAGE_SECRET_KEY
    store = S3MediaStore(
        settings.STORAGE_BUCKET,
        endpoint_url=settings.STORAGE_ENDPOINT_URL,
        region=settings.STORAGE_REGION,
        access_key=access_key.get_secret_value() if access_key is not None else None,
        secret_key=secret_key.get_secret_value() if secret_key is not None else None,
    )
    closers.append(store.aclose)
    return store
