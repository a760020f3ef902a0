"""Plain dataclasses, one module per area. Ids are `str` (UUIDs converted at the repository boundary)."""

from core.domain.models.accounts import AdminPolicy, ChatIdentity, Learner, LearnerSettings
from core.domain.models.conversation import ConversationState, OpenedTurn
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
from core.domain.models.jobs import (
    DeliveryAddress,
    DueReminder,
    GenerationJob,
    JobKind,
    JobStatus,
    ReminderCandidate,
    ReminderReport,
    RequestedJob,
    SpeechClip,
    SpeechResult,
    SweepReport,
)
from core.domain.models.languages import CEFR_LEVELS, SUPPORTED_LANGUAGES
from core.domain.models.media import Speech
from core.domain.models.messages import ActionButton, OutgoingMessage, SentMessage
from core.domain.models.packs import ImportReport, Pack, PackEntry, RejectedLine, SubscribeResult
from core.domain.models.stats import LearnerStats
from core.domain.models.vocabulary import AddWordsResult, LanguagePair, WordBankEntry, WordPage

__all__ = [
    "CEFR_LEVELS",
    "SUPPORTED_LANGUAGES",
    "ActionButton",
    "AddWordsResult",
    "AdminPolicy",
    "CardDirection",
    "CardState",
    "ChatIdentity",
    "ConversationState",
    "DeliveryAddress",
    "DueCard",
    "DueReminder",
    "Flashcard",
    "GenerationJob",
    "Grade",
    "ImportReport",
    "JobKind",
    "JobStatus",
    "LanguagePair",
    "Learner",
    "LearnerSettings",
    "LearnerStats",
    "OpenedTurn",
    "OutgoingMessage",
    "Pack",
    "PackEntry",
    "Rating",
    "RejectedLine",
    "ReminderCandidate",
    "ReminderReport",
    "RequestedJob",
    "ReviewEvent",
    "ReviewMode",
    "ReviewOutcome",
    "SentMessage",
    "Speech",
    "SpeechClip",
    "SpeechResult",
    "SubscribeResult",
    "SweepReport",
    "WordBankEntry",
    "WordPage",
]
