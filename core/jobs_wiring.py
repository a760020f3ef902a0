"""Background-work services wired over their ports (the lead folds this into `core.bootstrap`).

Usage: `build_job_services(uow, settings, queue=…, language_model=…, speech=…, media=…,
translator=…, clock=…)`, then `services.jobs.request(learner_id, JobKind.ARTICLE, {"topic": …},
address)` in the bot and `services.jobs.run(job_id, messengers)` in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Settings
from core.domain.models import JobKind
from core.domain.ports import (
    Clock,
    JobQueue,
    LanguageModel,
    MediaStore,
    SpeechSynthesizer,
    Translator,
    UnitOfWorkFactory,
)
from core.domain.services import ArticleService, JobService, JobTimings, ReminderService, SpeechService


@dataclass
class JobServices:
    jobs: JobService  # request / run / sweep / recent (every kind)
    articles: ArticleService  # new_words of a delivered article (**Add all words**)
    speech: SpeechService  # cached clips (a cached /listen can skip the queue)
    reminders: ReminderService  # send_due (the reminder cron)


def build_job_services(
    uow: UnitOfWorkFactory,
    settings: Settings,
    *,
    queue: JobQueue,
    language_model: LanguageModel | None,
    speech: SpeechSynthesizer | None,
    media: MediaStore | None,
    translator: Translator | None,
    clock: Clock,
    timings: JobTimings | None = None,
) -> JobServices:
    """Job services over the given adapters; a missing provider makes its job kind say so when asked."""
    speech_service = SpeechService(uow, speech, media, clock, settings.DAILY_SPEECH_QUOTA)
    articles = ArticleService(uow, language_model, translator, speech_service, clock, settings.DAILY_ARTICLE_QUOTA)
    jobs = JobService(uow, queue, clock, {JobKind.ARTICLE: articles, JobKind.SPEECH: speech_service}, timings)
    return JobServices(jobs=jobs, articles=articles, speech=speech_service, reminders=ReminderService(uow, clock))
