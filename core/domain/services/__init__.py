"""Services: orchestration in the domain's language. Each takes its ports in the constructor."""

from core.domain.services.accounts import AccountService
from core.domain.services.articles import ArticleService
from core.domain.services.conversation import ConversationService
from core.domain.services.data import DataService, LearnerExport
from core.domain.services.jobs import JobFailed, JobPipeline, JobRun, JobService, JobTimings
from core.domain.services.languages import LanguageService
from core.domain.services.packs import PackService
from core.domain.services.reminders import ReminderService
from core.domain.services.review import ReviewService
from core.domain.services.settings import SettingsService
from core.domain.services.speech import SpeechService
from core.domain.services.stats import StatsService
from core.domain.services.vocabulary import VocabularyService

__all__ = [
    "AccountService",
    "ArticleService",
    "ConversationService",
    "DataService",
    "JobFailed",
    "JobPipeline",
    "JobRun",
    "JobService",
    "JobTimings",
    "LanguageService",
    "LearnerExport",
    "PackService",
    "ReminderService",
    "ReviewService",
    "SettingsService",
    "SpeechService",
    "StatsService",
    "VocabularyService",
]
