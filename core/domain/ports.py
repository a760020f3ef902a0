"""Ports: the Protocols the services need. `core.outbound` implements them; tests fake them.

Repositories are small and speak domain models. All of them live behind one
`UnitOfWork` (cosmicpython style): `async with uow:` opens a transaction that
rolls back unless the service calls `await uow.commit()`.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

from core.domain.models import (
    ChatIdentity,
    ConversationState,
    DeliveryAddress,
    DueCard,
    Flashcard,
    GenerationJob,
    JobKind,
    JobStatus,
    LanguagePair,
    Learner,
    LearnerSettings,
    OpenedTurn,
    OutgoingMessage,
    Pack,
    PackEntry,
    Rating,
    ReminderCandidate,
    ReviewEvent,
    SentMessage,
    Speech,
    SpeechClip,
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
    async def targets_in_use(self) -> list[str]:
        """The distinct target languages of every learner's pairs, sorted."""
        ...


class WordBankRepository(Protocol):
    async def add_many(self, entries: Sequence[WordBankEntry]) -> None: ...
    async def get(self, entry_id: str) -> WordBankEntry | None: ...
    async def find_by_lemmas(self, pair_id: str, lemmas: Sequence[str]) -> dict[str, WordBankEntry]:
        """Entries of the pair whose lemma is one of `lemmas`, keyed by lemma."""
        ...

    async def find_by_term(self, pair_id: str, text: str) -> WordBankEntry | None:
        """The entry whose term or lemma equals `text` (case-insensitive)."""
        ...

    async def find_by_forms(self, pair_id: str, forms: Sequence[str]) -> dict[str, WordBankEntry]:
        """Entries whose term or typed form (context) is one of `forms`, case-insensitive.

        Keyed by the lower-cased form; the oldest entry wins. Catches a word stored under another
        lemma key (an older lemmatizer's guess) when the learner types it again.
        """
        ...

    async def all_lemmas(self, pair_id: str) -> set[str]: ...

    async def all_forms(self, pair_id: str) -> set[str]:
        """The lower-cased terms and typed forms (contexts) of the pair's entries."""
        ...
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
    async def open_turn(
        self, platform: str, platform_user_id: str, update_key: str | None, now: datetime
    ) -> OpenedTurn:
        """Mark `update_key` processed (when given) and read the identity's learner and flow state.

        Meant for a `read_only` unit of work, where the mark commits on its own: on Postgres it is
        ONE statement (one round trip, no BEGIN/COMMIT) on every incoming event.
        """
        ...


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
    @property
    def jobs(self) -> JobRepository: ...
    @property
    def speech_cache(self) -> SpeechCacheRepository: ...
    @property
    def reminders(self) -> ReminderRepository: ...

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
    in a READ COMMITTED transaction. Its one permitted write is `conversations.open_turn`'s
    idempotent update mark, which then commits by itself; `commit` refuses.
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


class JobRepository(Protocol):
    """Generation jobs. A run claims its job, stores each step's result, then finishes it.

    Every transition names the attempt it belongs to, so a run that lost its claim (it outlived
    its lease and another worker took the job over) cannot finish or release the job.
    """

    async def add(self, job: GenerationJob) -> None: ...
    async def get(self, job_id: str) -> GenerationJob | None: ...
    async def claim(self, job_id: str, now: datetime, lease_expired_before: datetime) -> GenerationJob | None:
        """Atomically take the job for a run; None when it is not to be run now.

        Queued, or running with `started_at < lease_expired_before` (its run died) → running,
        attempts + 1, started_at = now. None when it is done, failed, unknown or running under a
        live claim: of two concurrent claims, one wins.
        """
        ...

    async def save_steps(
        self, job_id: str, steps: Mapping[str, Any], now: datetime, *, attempt: int | None = None
    ) -> bool:
        """Store `steps[name] = result` for each item (JSON-serialisable), all or none; whether they were stored.

        False, storing nothing, when the job is gone (its learner deleted their account) or, with
        `attempt`, when it no longer runs under that attempt (failed by the sweep, finished, taken
        over by another run): the run that asked must stop.
        """
        ...

    async def release(self, job_id: str, attempt: int, error: str, now: datetime) -> bool:
        """Put a running job (this attempt) back to queued with `last_error`; False when it is no longer ours."""
        ...

    async def finish(
        self, job_id: str, status: JobStatus, error: str | None, now: datetime, attempt: int | None = None
    ) -> bool:
        """Running → done/failed (only the given attempt when `attempt` is set).

        False when it was not running (already finished, or taken over): the caller then tells nobody.
        """
        ...

    async def mark_delivered(self, job_id: str, now: datetime) -> bool:
        """Record when a done job was delivered; False when it is gone or not done."""
        ...

    async def list_for_learner(self, learner_id: str, limit: int) -> list[GenerationJob]:
        """Newest first."""
        ...

    async def list_stale_queued(self, older_than: datetime, limit: int) -> list[GenerationJob]:
        """Queued jobs whose last change (created or released) is before `older_than`, oldest first."""
        ...

    async def list_stuck_running(self, started_before: datetime, limit: int) -> list[GenerationJob]:
        """Running jobs whose current attempt started before `started_before`, oldest first."""
        ...

    async def count_since(self, learner_id: str, kind: JobKind, since: datetime, *, pending_only: bool = False) -> int:
        """Jobs of `kind` the learner asked for since `since`, failed ones excepted (the daily quota).

        `pending_only`: only those not finished yet (queued or running).
        """
        ...


class SpeechCacheRepository(Protocol):
    """Synthesised speech by cache key (sha256 of text|language|voice|model)."""

    async def get(self, cache_key: str) -> SpeechClip | None: ...
    async def add(self, clip: SpeechClip) -> bool:
        """Insert; False when the key was already there (a concurrent synthesis won; nothing changes)."""
        ...

    async def set_platform_ref(self, cache_key: str, platform: str, ref: str) -> None:
        """Remember the platform's id of the uploaded audio (Telegram file_id), replacing any stored for it."""
        ...

    async def count_requested_since(self, learner_id: str, since: datetime) -> int:
        """Clips the learner's requests synthesised since `since` (the daily speech quota; hits are free)."""
        ...


class ReminderRepository(Protocol):
    """Who gets a daily "cards due" reminder, and the local day each was last reminded on."""

    async def reminder_timezones(self) -> list[str]:
        """The timezones (as stored) of the learners who have a reminder time."""
        ...

    async def list_candidates(self, local_today: Mapping[str, date]) -> list[ReminderCandidate]:
        """Learners with a reminder time and a Telegram identity not reminded yet on their local today.

        `local_today` maps each timezone (as stored) to its current day; learners of other zones
        are left out, and so is anyone whose last reminder is on or after their zone's day.
        """
        ...

    async def mark_reminded(self, learner_id: str, day: date) -> bool:
        """Record the reminder for `day`; whether this call recorded it.

        False when it was already recorded (another sender won) or the learner is gone (deleted meanwhile).
        """
        ...

    async def clear_reminded(self, learner_id: str, day: date) -> None:
        """Undo `mark_reminded(learner_id, day)` (the send failed for a passing reason: try again)."""
        ...


class JobQueue(Protocol):
    """Hands job ids to the workers (arq on Redis, or in-process). Delivery is at least once."""

    async def enqueue(self, job_id: str) -> bool:
        """Whether the queue holds the job now.

        True also when it already did (the job id deduplicates); False when the queue could not be
        reached: the job stays queued and the sweep retries.
        """
        ...

    async def aclose(self) -> None: ...


class Messenger(Protocol):
    """Sends background results to a chat of one platform (Telegram Bot API, Discord REST, console).

    Both calls raise RecipientUnavailable when the platform refuses the chat for good (blocked: 403),
    ProviderUnavailable when it is down after retries.
    """

    @property
    def platform(self) -> str: ...

    async def send(self, address: DeliveryAddress, message: OutgoingMessage) -> list[SentMessage]:
        """Send the message (split into several when the platform needs it); the messages sent, in order.

        Jobs send texts of at most 3,500 UTF-16 code units plus a short label (`JobRun.deliver_text`)
        and record each once sent: a messenger should send such a text as one platform message,
        since a message split and cut short in the middle is sent again whole.
        """
        ...

    async def edit_text(self, address: DeliveryAddress, message_id: str, text: str) -> None:
        """Replace the text of a message sent earlier (a status message); no error when it is unchanged."""
        ...
