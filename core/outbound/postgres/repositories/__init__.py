"""SQL implementations of the repository ports (the only code that touches the entities)."""

from core.outbound.postgres.repositories.cards import SqlFlashcardRepository
from core.outbound.postgres.repositories.conversations import SqlConversationRepository
from core.outbound.postgres.repositories.jobs import SqlJobRepository, SqlReminderRepository, SqlSpeechCacheRepository
from core.outbound.postgres.repositories.learners import SqlLearnerRepository
from core.outbound.postgres.repositories.packs import SqlPackRepository
from core.outbound.postgres.repositories.pairs import SqlLanguagePairRepository
from core.outbound.postgres.repositories.reviews import SqlReviewRepository
from core.outbound.postgres.repositories.updates import SqlProcessedUpdateRepository
from core.outbound.postgres.repositories.words import SqlWordBankRepository

__all__ = [
    "SqlConversationRepository",
    "SqlFlashcardRepository",
    "SqlJobRepository",
    "SqlLanguagePairRepository",
    "SqlLearnerRepository",
    "SqlPackRepository",
    "SqlProcessedUpdateRepository",
    "SqlReminderRepository",
    "SqlReviewRepository",
    "SqlSpeechCacheRepository",
    "SqlWordBankRepository",
]
