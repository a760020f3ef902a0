"""The one composition root: Settings -> services wired to their adapters.

Nothing here runs at import time; adapters call `bootstrap()` in their start-up hook and
`Services.aclose()` in the matching shutdown hook. Tests pass fakes through the keyword arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from core.config import Settings
from core.domain.ports import Clock, Lemmatizer, ReviewScheduler, Translator, UnitOfWorkFactory
from core.domain.services import (
    AccountService,
    ConversationService,
    DataService,
    LanguageService,
    PackService,
    ReviewService,
    SettingsService,
    StatsService,
    VocabularyService,
)


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
    # Builds the NLP pipelines of these languages now (blocking, thread-safe): adapters call it in
    # a background thread at start so a learner's first /add doesn't wait seconds for spaCy.
    warm_up_languages: Callable[[Iterable[str]], None] = lambda _languages: None
    _close: Callable[[], Awaitable[None]] | None = None

    async def aclose(self) -> None:
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
) -> Services:
    """Wire services over given ports (tests call this with fakes)."""
    return Services(
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
        warm_up_languages=warm_up_languages or (lambda _languages: None),
        _close=close,
    )


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    translator: Translator | None = None,
    migrate_sqlite: bool = True,
) -> Services:
    """Build the real adapters from settings. The embedded SQLite default is migrated on start."""
    from core.outbound.fsrs import FsrsScheduler
    from core.outbound.postgres.database import Database
    from core.outbound.postgres.migrate import upgrade_to_head
    from core.outbound.spacy import SpacyLemmatizer

    if settings.is_sqlite and migrate_sqlite:
        await upgrade_to_head(settings.DATABASE_URL)
    database = Database(settings.DATABASE_URL)
    if translator is None and settings.DEEPL_API_KEY is not None:
        from core.outbound.deepl import DeepLTranslator  # the SDK costs ~0.3 s of start-up: only when used

        # A learner waits on /add: one retry and a short timeout, then they are asked instead.
        translator = DeepLTranslator(
            settings.DEEPL_API_KEY.get_secret_value(), settings.DEEPL_SERVER_URL, max_retries=1, timeout_s=4.0
        )
    lemmatizer = SpacyLemmatizer(settings.SPACY_MODELS)
    return build_services(
        settings,
        database.unit_of_work,
        scheduler=FsrsScheduler(),
        lemmatizer=lemmatizer,
        translator=translator,
        clock=clock,
        close=database.dispose,
        warm_up_languages=lemmatizer.warm_up,
    )
