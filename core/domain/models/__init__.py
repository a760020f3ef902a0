"""Plain dataclasses, one module per area. Ids are `str` (UUIDs converted at the repository boundary)."""

from core.domain.models.accounts import AdminPolicy, ChatIdentity, Learner, LearnerSettings
from core.domain.models.conversation import ConversationState
from core.domain.models.flashcards import (
    CardDirection,
    CardState,
    DueCard,
    Flashcard,
    Grade,
    Rating,
    ReviewEvent,
    ReviewMode,
    ReviewOutcome,
)
from core.domain.models.languages import CEFR_LEVELS, SUPPORTED_LANGUAGES
from core.domain.models.media import Speech
from core.domain.models.packs import ImportReport, Pack, PackEntry, RejectedLine, SubscribeResult
from core.domain.models.stats import LearnerStats
from core.domain.models.vocabulary import AddWordsResult, LanguagePair, WordBankEntry, WordPage

__all__ = [
    "CEFR_LEVELS",
    "SUPPORTED_LANGUAGES",
    "AddWordsResult",
    "AdminPolicy",
    "CardDirection",
    "CardState",
    "ChatIdentity",
    "ConversationState",
    "DueCard",
    "Flashcard",
    "Grade",
    "ImportReport",
    "LanguagePair",
    "Learner",
    "LearnerSettings",
    "LearnerStats",
    "Pack",
    "PackEntry",
    "Rating",
    "RejectedLine",
    "ReviewEvent",
    "ReviewMode",
    "ReviewOutcome",
    "Speech",
    "SubscribeResult",
    "WordBankEntry",
    "WordPage",
]
