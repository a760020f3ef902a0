"""SQLAlchemy tables. Importing this package registers every table on `Base.metadata`."""

from core.outbound.postgres.entities.accounts import ChatIdentityEntity, LearnerEntity
from core.outbound.postgres.entities.base import Base, UTCDateTime
from core.outbound.postgres.entities.conversation import ConversationStateEntity, ProcessedUpdateEntity
from core.outbound.postgres.entities.flashcards import (
    QUEUE_NEW,
    QUEUE_SCHEDULED,
    QUEUE_SUSPENDED,
    FlashcardEntity,
    ReviewEventEntity,
)
from core.outbound.postgres.entities.jobs import GenerationJobEntity, LearnerReminderEntity, SpeechClipEntity
from core.outbound.postgres.entities.packs import PackEntity, PackEntryEntity
from core.outbound.postgres.entities.vocabulary import LanguagePairEntity, WordBankEntryEntity

__all__ = [
    "QUEUE_NEW",
    "QUEUE_SCHEDULED",
    "QUEUE_SUSPENDED",
    "Base",
    "ChatIdentityEntity",
    "ConversationStateEntity",
    "FlashcardEntity",
    "GenerationJobEntity",
    "LanguagePairEntity",
    "LearnerEntity",
    "LearnerReminderEntity",
    "PackEntity",
    "PackEntryEntity",
    "ProcessedUpdateEntity",
    "ReviewEventEntity",
    "SpeechClipEntity",
    "UTCDateTime",
    "WordBankEntryEntity",
]
