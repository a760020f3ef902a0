"""Ports: the Protocols the services need. `core.outbound` implements them; tests fake them.

Repositories are small and speak domain models. All of them live behind one
`UnitOfWork` (cosmicpython style): `async with uow:` opens a transaction that
rolls back unless the service calls `await uow.commit()`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from core.domain.models import (
    ChatIdentity,
    ConversationState,
    DueCard,
    Flashcard,
    LanguagePair,
    Learner,
    LearnerSettings,
    Pack,
    PackEntry,
    Rating,
    ReviewEvent,
    Speech,
    WordBankEntry,
)

Clock = Callable[[], datetime]  # returns an aware UTC datetime


# --- repositories -----------------------------------------------------------------------------


class LearnerRepository(Protocol):
    async def get(self, learner_id: str) -> Learner | None: ...
    async def get_by_identity(self, platform: str, platform_user_id: str) -> Learner | None: ...
    async def add(self, learner: Learner, identity: ChatIdentity) -> None: ...
    async def link_identity(self, identity: ChatIdentity) -> None: ...
    async def list_identities(self, learner_id: str) -> list[ChatIdentity]: ...
    async def update_settings(self, learner_id: str, settings: LearnerSettings) -> None: ...
    async def delete(self, learner_id: str) -> None:
        """Delete the learner and every row that belongs to them."""
        ...


class LanguagePairRepository(Protocol):
    async def add(self, pair: LanguagePair) -> None: ...
    async def get(self, pair_id: str) -> LanguagePair | None: ...
    async def find(self, learner_id: str, target: str, native: str) -> LanguagePair | None: ...
    async def list_for_learner(self, learner_id: str) -> list[LanguagePair]: ...
    async def get_active(self, learner_id: str) -> LanguagePair | None: ...
    async def set_active(self, learner_id: str, pair_id: str) -> None:
        """Make `pair_id` the only active pair of the learner."""
        ...
    async def update_level(self, pair_id: str, level: str) -> None: ...


class WordBankRepository(Protocol):
    async def add_many(self, entries: Sequence[WordBankEntry]) -> None: ...
    async def get(self, entry_id: str) -> WordBankEntry | None: ...
    async def find_by_lemmas(self, pair_id: str, lemmas: Sequence[str]) -> dict[str, WordBankEntry]:
        """Entries of the pair whose lemma is one of `lemmas`, keyed by lemma."""
        ...
    async def find_by_term(self, pair_id: str, text: str) -> WordBankEntry | None:
        """The entry whose term or lemma equals `text` (case-insensitive)."""
        ...
    async def all_lemmas(self, pair_id: str) -> set[str]: ...
    async def list_page(self, pair_id: str, offset: int, limit: int) -> tuple[list[WordBankEntry], int]:
        """A page ordered newest first, and the total count."""
        ...
    async def list_needing_translation(self, pair_id: str) -> list[WordBankEntry]: ...
    async def set_translation(self, entry_id: str, translation: str) -> None: ...
    async def delete(self, entry_id: str) -> None:
        """Delete the entry and its cards (review events stay until the learner is deleted)."""
        ...
    async def count_for_learner(self, learner_id: str) -> int: ...
    async def list_for_learner(self, learner_id: str) -> list[WordBankEntry]: ...


class FlashcardRepository(Protocol):
    async def add_many(self, cards: Sequence[Flashcard]) -> None: ...
    async def get(self, card_id: str) -> Flashcard | None: ...
    async def get_due_card(self, card_id: str) -> DueCard | None:
        """The card with its two sides (from its entry and pair)."""
        ...
    async def next_due(self, pair_id: str, now: datetime) -> DueCard | None:
        """The scheduled (not new, not suspended) card of the pair due earliest, if due by `now`."""
        ...
    async def next_new(self, pair_id: str) -> DueCard | None:
        """The oldest new (never reviewed, not suspended) card of the pair."""
        ...
    async def next_due_for_learner(self, learner_id: str, now: datetime) -> DueCard | None:
        """`next_due` of the learner's active pair, in one statement (None without an active pair)."""
        ...
    async def next_new_for_learner(self, learner_id: str) -> DueCard | None:
        """`next_new` of the learner's active pair, in one statement (None without an active pair)."""
        ...
    async def save_schedule(self, card: Flashcard) -> None:
        """Store the FSRS fields (state, step, stability, difficulty, due, last_review)."""
        ...
    async def count_due(self, learner_id: str, until: datetime) -> int:
        """Scheduled cards (all pairs) due by `until`."""
        ...
    async def due_dates_between(self, learner_id: str, start: datetime, end: datetime) -> list[datetime]: ...
    async def entry_ids_with_cards(self, pair_id: str, direction: str) -> set[str]: ...
    async def set_direction_suspended(self, learner_id: str, direction: str, suspended: bool) -> None: ...
    async def list_for_learner(self, learner_id: str) -> list[Flashcard]: ...


class ReviewRepository(Protocol):
    async def add(self, event: ReviewEvent) -> None: ...
    async def count_since(self, learner_id: str, since: datetime) -> int: ...
    async def count_new_since(self, learner_id: str, since: datetime) -> int:
        """Reviews since `since` of cards that were new (first reviews): the daily new-card count."""
        ...
    async def reviewed_at_since(self, learner_id: str, since: datetime) -> list[datetime]: ...
    async def retention_since(self, learner_id: str, since: datetime) -> tuple[int, int]:
        """(reviews of scheduled cards, of which rated above Again) since `since`."""
        ...
    async def list_for_learner(self, learner_id: str) -> list[ReviewEvent]: ...


class PackRepository(Protocol):
    async def add(self, pack: Pack) -> None: ...
    async def get_by_slug(self, slug: str) -> Pack | None:
        """The pack with its current `entry_count`."""
        ...
    async def list(self, published_only: bool, target: str | None = None, native: str | None = None) -> list[Pack]: ...
    async def set_published(self, pack_id: str, published: bool) -> None: ...
    async def delete(self, pack_id: str) -> None: ...
    async def add_entries(self, pack_id: str, entries: Sequence[PackEntry]) -> None:
        """Bulk insert (COPY on Postgres)."""
        ...
    async def existing_terms(self, pack_id: str) -> set[str]:
        """Terms already in the pack, lower-cased."""
        ...
    # `builtins.list`: inside this class body `list` names the method above
    async def list_entries(self, pack_id: str, limit: int | None = None) -> builtins.list[PackEntry]:
        """Entries in position order."""
        ...


class ConversationRepository(Protocol):
    async def get(self, learner_id: str) -> ConversationState: ...
    async def save(self, state: ConversationState) -> None: ...


class ProcessedUpdateRepository(Protocol):
    async def mark_processed(self, platform: str, update_key: str) -> bool:
        """Record an incoming update; False when it was already recorded (a duplicate delivery)."""
        ...
    async def forget(self, platform: str, update_key: str) -> None:
        """Drop the record, so a redelivery of an update whose handling failed is handled again."""
        ...


class UnitOfWork(Protocol):
    # Read-only members: an adapter may expose its concrete repositories (attributes are fine);
    # a mutable protocol attribute would have to be typed exactly as the Protocol.
    @property
    def learners(self) -> LearnerRepository: ...
    @property
    def pairs(self) -> LanguagePairRepository: ...
    @property
    def words(self) -> WordBankRepository: ...
    @property
    def cards(self) -> FlashcardRepository: ...
    @property
    def reviews(self) -> ReviewRepository: ...
    @property
    def packs(self) -> PackRepository: ...
    @property
    def conversations(self) -> ConversationRepository: ...
    @property
    def updates(self) -> ProcessedUpdateRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """`uow()` opens a unit of work (one transaction).

    `uow(read_only=True)` is for work that only reads: an adapter may run each statement on its
    own (no BEGIN/ROLLBACK round trips), so each sees the latest committed data, as statements do
    in a READ COMMITTED transaction. Such a unit of work must not write; `commit` refuses.
    """

    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...


# --- algorithms and providers -----------------------------------------------------------------


class ReviewScheduler(Protocol):
    """FSRS behind a port (implemented with the `fsrs` package in core.outbound.fsrs)."""

    def review(
        self, card: Flashcard, rating: Rating, now: datetime, parameters: Sequence[float], desired_retention: float
    ) -> Flashcard:
        """The card rescheduled after `rating` at `now` (a new object)."""
        ...

    def preview(
        self, card: Flashcard, now: datetime, parameters: Sequence[float], desired_retention: float
    ) -> dict[Rating, timedelta]:
        """The interval each rating would give at `now` (nothing changes)."""
        ...

    def default_parameters(self) -> tuple[float, ...]: ...


class Lemmatizer(Protocol):
    def lemmatize(self, text: str, language: str) -> str:
        """The lemma of a single word, or `text` unchanged for phrases and unknown words."""
        ...

    def lemmatize_many(self, texts: Sequence[str], language: str) -> list[str]:
        """`lemmatize` of each text, in order, in one call (bulk imports)."""
        ...


class Translator(Protocol):
    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        """Raises ProviderUnavailable on failure."""
        ...


class LanguageModel(Protocol):
    """A large language model (Anthropic). Failures: ProviderUnavailable after retries, ProviderRefused at once."""

    @property
    def model(self) -> str:
        """The model id every request names (ANTHROPIC_MODEL)."""
        ...

    async def generate_json(
        self, *, system: str, prompt: str, schema: dict[str, Any], tool_name: str, max_tokens: int = 2048
    ) -> dict[str, Any]:
        """Structured output: the model is made to call the tool `tool_name` whose input follows `schema`.

        Returns the tool input as the model wrote it; validating it (and asking for a repair) is the caller's.
        """
        ...

    async def generate_text(self, *, system: str, prompt: str, max_tokens: int = 2048) -> str:
        """The model's text answer to `prompt` under the `system` instructions."""
        ...


class SpeechSynthesizer(Protocol):
    """Text to speech (Gemini). Failures: ProviderUnavailable after retries, ProviderRefused at once."""

    @property
    def model(self) -> str:
        """The TTS model id (GEMINI_TTS_MODEL): part of the speech cache key."""
        ...

    def voice_for(self, language: str) -> str:
        """The voice used for `language` (an ISO 639-1 code, region allowed) when none is asked for."""
        ...

    async def synthesize(self, text: str, language: str, voice: str | None = None) -> Speech:
        """`text` read aloud in `language` as an OGG/Opus voice message."""
        ...


class MediaStore(Protocol):
    """Where generated media (speech) is kept: an S3 bucket or a local directory. Keys are relative paths."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when nothing is stored under `key`."""
        ...

    async def exists(self, key: str) -> bool: ...

    def location(self, key: str) -> str:
        """Where `key` lives, for people: an absolute file path, or s3://bucket/key."""
        ...

    async def ensure_ready(self) -> None:
        """Make the store usable: create the bucket (S3) or the directory (local) when missing."""
        ...


# --- background jobs --------------------------------------------------------------------------
