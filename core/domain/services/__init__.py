"""Services: orchestration in the domain's language. Each takes its ports in the constructor."""

from core.domain.services.accounts import AccountService
from core.domain.services.conversation import ConversationService
from core.domain.services.data import DataService, LearnerExport
from core.domain.services.languages import LanguageService
from core.domain.services.packs import PackService
from core.domain.services.review import ReviewService
from core.domain.services.settings import SettingsService
from core.domain.services.stats import StatsService
from core.domain.services.vocabulary import VocabularyService

__all__ = [
    "AccountService",
    "ConversationService",
    "DataService",
    "LanguageService",
    "LearnerExport",
    "PackService",
    "ReviewService",
    "SettingsService",
    "StatsService",
    "VocabularyService",
]
