"""In-memory fakes of our own ports, faithful to the Protocol docstrings in core.domain.ports.

`FakeUnitOfWorkFactory` shares one `InMemoryStore` across units of work. Each unit of work works
on a private deep copy of the store taken on `__aenter__`; `commit()` publishes the copy, leaving
without commit discards it — the same all-or-nothing behaviour as a database transaction.
Repositories hand out copies, so a service that mutates a returned object changes nothing
until it writes through a repository.

    uow = FakeUnitOfWorkFactory()
    services = make_services(uow=uow, clock=FixedClock(...), translator=FakeTranslator({...}))
    uow.store.cards  # inspect what was committed
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from core.bootstrap import Services, build_services
from core.config import Settings
from core.domain.errors import Conflict, ProviderUnavailable, RecipientUnavailable, StalePlatformFile
from core.domain.models import (
    CardDirection,
    CardState,
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
from core.domain.ports import Lemmatizer, ReviewScheduler, Translator, UnitOfWorkFactory
from core.domain.services import JobTimings
from core.jobs_wiring import JobServices, build_job_services
from core.outbound.fsrs import FsrsScheduler

DEFAULT_NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def _copy[T](value: T) -> T:
    return copy.deepcopy(value)


def refuse_nul(*values: object) -> None:
    """PostgreSQL refuses NUL in text; the fakes do too, so unit and fuzz tests meet what prod meets."""
    for value in values:
        texts = vars(value).values() if hasattr(value, "__dict__") else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("invalid byte sequence for encoding UTF8: 0x00 (as PostgreSQL says)")


# --- the store --------------------------------------------------------------------------------


@dataclass
class InMemoryStore:
    """Every table, keyed by id (identities by (platform, user id); pack entries by pack id)."""

    learners: dict[str, Learner] = field(default_factory=dict)
    identities: dict[tuple[str, str], ChatIdentity] = field(default_factory=dict)
    pairs: dict[str, LanguagePair] = field(default_factory=dict)
    words: dict[str, WordBankEntry] = field(default_factory=dict)
    cards: dict[str, Flashcard] = field(default_factory=dict)
    reviews: list[ReviewEvent] = field(default_factory=list)
    packs: dict[str, Pack] = field(default_factory=dict)
    pack_entries: dict[str, list[PackEntry]] = field(default_factory=dict)
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    processed_updates: set[tuple[str, str]] = field(default_factory=set)
    jobs: dict[str, GenerationJob] = field(default_factory=dict)
    speech_clips: dict[str, SpeechClip] = field(default_factory=dict)
    reminder_days: dict[str, date | None] = field(default_factory=dict)  # learner id -> last reminded day

    def replace_with(self, other: InMemoryStore) -> None:
        for item in dataclasses.fields(self):
            setattr(self, item.name, getattr(other, item.name))


# --- repositories -----------------------------------------------------------------------------


class FakeLearnerRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def get(self, learner_id: str) -> Learner | None:
        return _copy(self._s.learners.get(learner_id))

    async def get_by_identity(self, platform: str, platform_user_id: str) -> Learner | None:
        identity = self._s.identities.get((platform, platform_user_id))
        return None if identity is None else _copy(self._s.learners.get(identity.learner_id))

    async def add(self, learner: Learner, identity: ChatIdentity) -> None:
        """Conflict when the identity already exists (as the unique index would say)."""
        refuse_nul(learner, identity)
        key = (identity.platform, identity.platform_user_id)
        if key in self._s.identities:
            raise Conflict(f"{identity.platform} user {identity.platform_user_id} already has a learner")
        self._s.learners[learner.id] = _copy(learner)
        self._s.identities[key] = identity

    async def link_identity(self, identity: ChatIdentity) -> None:
        """No-op when already linked to this learner; Conflict when linked to another."""
        key = (identity.platform, identity.platform_user_id)
        existing = self._s.identities.get(key)
        if existing is not None and existing.learner_id != identity.learner_id:
            raise Conflict(f"{identity.platform} user {identity.platform_user_id} belongs to another learner")
        self._s.identities[key] = identity

    async def list_identities(self, learner_id: str) -> list[ChatIdentity]:
        found = [identity for identity in self._s.identities.values() if identity.learner_id == learner_id]
        return sorted(found, key=lambda identity: (identity.platform, identity.platform_user_id))

    async def update_settings(self, learner_id: str, settings: LearnerSettings) -> None:
        learner = self._s.learners.get(learner_id)
        if learner is not None:
            learner.settings = settings

    async def delete(self, learner_id: str) -> None:
        """The learner and every row that belongs to them (ON DELETE CASCADE in SQL)."""
        s = self._s
        s.learners.pop(learner_id, None)
        s.identities = {key: value for key, value in s.identities.items() if value.learner_id != learner_id}
        s.pairs = {key: value for key, value in s.pairs.items() if value.learner_id != learner_id}
        s.words = {key: value for key, value in s.words.items() if value.learner_id != learner_id}
        s.cards = {key: value for key, value in s.cards.items() if value.learner_id != learner_id}
        s.reviews = [event for event in s.reviews if event.learner_id != learner_id]
        s.conversations.pop(learner_id, None)
        s.jobs = {key: job for key, job in s.jobs.items() if job.learner_id != learner_id}
        s.reminder_days.pop(learner_id, None)
        for clip in s.speech_clips.values():  # the shared cache stays (ON DELETE SET NULL)
            if clip.requested_by == learner_id:
                clip.requested_by = None


class FakeLanguagePairRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, pair: LanguagePair) -> None:
        if await self.find(pair.learner_id, pair.target, pair.native) is not None:
            raise Conflict("that language pair already exists")
        self._s.pairs[pair.id] = _copy(pair)

    async def get(self, pair_id: str) -> LanguagePair | None:
        return _copy(self._s.pairs.get(pair_id))

    async def find(self, learner_id: str, target: str, native: str) -> LanguagePair | None:
        for pair in self._s.pairs.values():
            if (pair.learner_id, pair.target, pair.native) == (learner_id, target, native):
                return _copy(pair)
        return None

    async def list_for_learner(self, learner_id: str) -> list[LanguagePair]:
        pairs = [pair for pair in self._s.pairs.values() if pair.learner_id == learner_id]
        return _copy(sorted(pairs, key=lambda pair: (pair.created_at, pair.id)))

    async def get_active(self, learner_id: str) -> LanguagePair | None:
        for pair in self._s.pairs.values():
            if pair.learner_id == learner_id and pair.is_active:
                return _copy(pair)
        return None

    async def set_active(self, learner_id: str, pair_id: str) -> None:
        for pair in self._s.pairs.values():
            if pair.learner_id == learner_id:
                pair.is_active = pair.id == pair_id

    async def update_level(self, pair_id: str, level: str) -> None:
        pair = self._s.pairs.get(pair_id)
        if pair is not None:
            pair.level = level

    async def targets_in_use(self) -> list[str]:
        return sorted({pair.target for pair in self._s.pairs.values()})


class FakeWordBankRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add_many(self, entries: Sequence[WordBankEntry]) -> None:
        """Conflict when a lemma is already in the pair (the (pair, lemma) unique index)."""
        refuse_nul(*entries)
        taken = {(entry.pair_id, entry.lemma) for entry in self._s.words.values()}
        for entry in entries:
            if (entry.pair_id, entry.lemma) in taken:
                raise Conflict("a word with the same lemma is already in this language pair")
            taken.add((entry.pair_id, entry.lemma))
        for entry in entries:
            self._s.words[entry.id] = _copy(entry)

    async def get(self, entry_id: str) -> WordBankEntry | None:
        return _copy(self._s.words.get(entry_id))

    async def find_by_lemmas(self, pair_id: str, lemmas: Sequence[str]) -> dict[str, WordBankEntry]:
        wanted = set(lemmas)
        return {
            entry.lemma: _copy(entry)
            for entry in self._s.words.values()
            if entry.pair_id == pair_id and entry.lemma in wanted
        }

    async def find_by_term(self, pair_id: str, text: str) -> WordBankEntry | None:
        """Case-insensitive on term or lemma; a lemma match wins over a term match."""
        wanted = text.lower()
        entries = sorted(self._in_pair(pair_id), key=lambda entry: entry.created_at)
        for entry in entries:
            if entry.lemma.lower() == wanted:
                return _copy(entry)
        for entry in entries:
            if entry.term.lower() == wanted:
                return _copy(entry)
        return None

    async def all_lemmas(self, pair_id: str) -> set[str]:
        return {entry.lemma for entry in self._in_pair(pair_id)}

    async def find_by_forms(self, pair_id: str, forms: Sequence[str]) -> dict[str, WordBankEntry]:
        wanted = {form.lower() for form in forms}
        found: dict[str, WordBankEntry] = {}
        for entry in sorted(self._in_pair(pair_id), key=lambda entry: (entry.created_at, entry.id)):
            for form in (entry.term.lower(), (entry.context or "").lower()):
                if form in wanted and form not in found:
                    found[form] = _copy(entry)
        return found

    async def all_forms(self, pair_id: str) -> set[str]:
        forms = {entry.term.lower() for entry in self._in_pair(pair_id)}
        return forms | {entry.context.lower() for entry in self._in_pair(pair_id) if entry.context}

    async def list_page(self, pair_id: str, offset: int, limit: int) -> tuple[list[WordBankEntry], int]:
        """Newest first, and the total count."""
        entries = sorted(self._in_pair(pair_id), key=lambda entry: (entry.created_at, entry.id), reverse=True)
        start = max(offset, 0)
        return _copy(entries[start : start + max(limit, 0)]), len(entries)

    async def list_needing_translation(self, pair_id: str) -> list[WordBankEntry]:
        pending = [entry for entry in self._in_pair(pair_id) if entry.translation is None]
        return _copy(sorted(pending, key=lambda entry: (entry.created_at, entry.id)))

    async def set_translation(self, entry_id: str, translation: str) -> None:
        refuse_nul(translation)
        entry = self._s.words.get(entry_id)
        if entry is not None:
            entry.translation = translation

    async def delete(self, entry_id: str) -> None:
        """The entry and its cards; review events stay."""
        self._s.words.pop(entry_id, None)
        self._s.cards = {key: card for key, card in self._s.cards.items() if card.entry_id != entry_id}

    async def count_for_learner(self, learner_id: str) -> int:
        return sum(1 for entry in self._s.words.values() if entry.learner_id == learner_id)

    async def list_for_learner(self, learner_id: str) -> list[WordBankEntry]:
        entries = [entry for entry in self._s.words.values() if entry.learner_id == learner_id]
        return _copy(sorted(entries, key=lambda entry: (entry.created_at, entry.id)))

    def _in_pair(self, pair_id: str) -> list[WordBankEntry]:
        return [entry for entry in self._s.words.values() if entry.pair_id == pair_id]


class FakeFlashcardRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add_many(self, cards: Sequence[Flashcard]) -> None:
        """Conflict for a second card of the same entry and direction."""
        taken = {(card.entry_id, card.direction) for card in self._s.cards.values()}
        for card in cards:
            if (card.entry_id, card.direction) in taken:
                raise Conflict("that word already has a card in this direction")
            taken.add((card.entry_id, card.direction))
        for card in cards:
            self._s.cards[card.id] = _copy(card)

    async def get(self, card_id: str) -> Flashcard | None:
        return _copy(self._s.cards.get(card_id))

    async def get_due_card(self, card_id: str) -> DueCard | None:
        card = self._s.cards.get(card_id)
        return None if card is None else self._due_card(card)

    async def next_due(self, pair_id: str, now: datetime) -> DueCard | None:
        """The scheduled (not new, not suspended) card of the pair due earliest, if due by `now`."""
        due = [
            card for card in self._s.cards.values() if card.pair_id == pair_id and _scheduled(card) and card.due <= now
        ]
        return self._due_card(min(due, key=lambda card: card.due)) if due else None

    async def next_new(self, pair_id: str) -> DueCard | None:
        """The oldest new card (earliest due: new cards are due from their word's creation)."""
        fresh = [
            card
            for card in self._s.cards.values()
            if card.pair_id == pair_id and card.state is CardState.NEW and not card.suspended
        ]
        return self._due_card(min(fresh, key=lambda card: (card.due, card.created_at))) if fresh else None

    async def next_due_for_learner(self, learner_id: str, now: datetime) -> DueCard | None:
        pair_id = self._active_pair_id(learner_id)
        return None if pair_id is None else await self.next_due(pair_id, now)

    async def next_new_for_learner(self, learner_id: str) -> DueCard | None:
        pair_id = self._active_pair_id(learner_id)
        return None if pair_id is None else await self.next_new(pair_id)

    def _active_pair_id(self, learner_id: str) -> str | None:
        return next((p.id for p in self._s.pairs.values() if p.learner_id == learner_id and p.is_active), None)

    async def save_schedule(self, card: Flashcard) -> None:
        stored = self._s.cards.get(card.id)
        if stored is None:
            return
        stored.state, stored.step = card.state, card.step
        stored.stability, stored.difficulty = card.stability, card.difficulty
        stored.due, stored.last_review = card.due, card.last_review

    async def count_due(self, learner_id: str, until: datetime) -> int:
        return sum(
            1
            for card in self._s.cards.values()
            if card.learner_id == learner_id and _scheduled(card) and card.due <= until
        )

    async def due_dates_between(self, learner_id: str, start: datetime, end: datetime) -> list[datetime]:
        """Due dates of scheduled cards with start <= due < end, earliest first."""
        return sorted(
            card.due
            for card in self._s.cards.values()
            if card.learner_id == learner_id and _scheduled(card) and start <= card.due < end
        )

    async def entry_ids_with_cards(self, pair_id: str, direction: str) -> set[str]:
        return {
            card.entry_id
            for card in self._s.cards.values()
            if card.pair_id == pair_id and card.direction == CardDirection(direction)
        }

    async def set_direction_suspended(self, learner_id: str, direction: str, suspended: bool) -> None:
        for card in self._s.cards.values():
            if card.learner_id == learner_id and card.direction == CardDirection(direction):
                card.suspended = suspended

    async def list_for_learner(self, learner_id: str) -> list[Flashcard]:
        cards = [card for card in self._s.cards.values() if card.learner_id == learner_id]
        return _copy(sorted(cards, key=lambda card: (card.created_at, card.id)))

    def _due_card(self, card: Flashcard) -> DueCard:
        """Recognition shows the term and expects the translation; production the reverse."""
        entry = self._s.words[card.entry_id]
        pair = self._s.pairs[card.pair_id]
        term, translation = entry.term, entry.translation or ""
        if card.direction is CardDirection.PRODUCTION:
            front, back, answer_language = translation, term, pair.target
        else:
            front, back, answer_language = term, translation, pair.native
        return DueCard(
            card=_copy(card),
            front=front,
            back=back,
            target_language=pair.target,
            answer_language=answer_language,
            context=entry.context,
        )


def _scheduled(card: Flashcard) -> bool:
    return card.state is not CardState.NEW and not card.suspended


class FakeReviewRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, event: ReviewEvent) -> None:
        refuse_nul(event)
        self._s.reviews.append(_copy(event))

    async def count_since(self, learner_id: str, since: datetime) -> int:
        return len(self._since(learner_id, since))

    async def count_new_since(self, learner_id: str, since: datetime) -> int:
        """First reviews only (the card was new before the answer)."""
        return sum(1 for event in self._since(learner_id, since) if event.state_before is CardState.NEW)

    async def reviewed_at_since(self, learner_id: str, since: datetime) -> list[datetime]:
        return sorted(event.reviewed_at for event in self._since(learner_id, since))

    async def retention_since(self, learner_id: str, since: datetime) -> tuple[int, int]:
        """(reviews of cards that were not new, of which rated above Again)."""
        scheduled = [event for event in self._since(learner_id, since) if event.state_before is not CardState.NEW]
        return len(scheduled), sum(1 for event in scheduled if event.rating > Rating.AGAIN)

    async def list_for_learner(self, learner_id: str) -> list[ReviewEvent]:
        events = [event for event in self._s.reviews if event.learner_id == learner_id]
        return _copy(sorted(events, key=lambda event: (event.reviewed_at, event.id)))

    def _since(self, learner_id: str, since: datetime) -> list[ReviewEvent]:
        return [event for event in self._s.reviews if event.learner_id == learner_id and event.reviewed_at >= since]


class FakePackRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, pack: Pack) -> None:
        """A taken slug → Conflict."""
        refuse_nul(pack)
        if any(existing.slug == pack.slug for existing in self._s.packs.values()):
            raise Conflict(f"a pack with the slug “{pack.slug}” already exists")
        self._s.packs[pack.id] = _copy(pack)
        self._s.pack_entries[pack.id] = []

    async def get_by_slug(self, slug: str) -> Pack | None:
        for pack in self._s.packs.values():
            if pack.slug == slug:
                return self._counted(pack)
        return None

    async def list(self, published_only: bool, target: str | None = None, native: str | None = None) -> list[Pack]:
        packs = [
            self._counted(pack)
            for pack in self._s.packs.values()
            if (pack.published or not published_only)
            and (target is None or pack.target == target)
            and (native is None or pack.native == native)
        ]
        return sorted(packs, key=lambda pack: (pack.title, pack.slug))

    async def set_published(self, pack_id: str, published: bool) -> None:
        pack = self._s.packs.get(pack_id)
        if pack is not None:
            pack.published = published

    async def delete(self, pack_id: str) -> None:
        self._s.packs.pop(pack_id, None)
        self._s.pack_entries.pop(pack_id, None)

    async def add_entries(self, pack_id: str, entries: Sequence[PackEntry]) -> None:
        refuse_nul(*entries)
        self._s.pack_entries.setdefault(pack_id, []).extend(_copy(list(entries)))

    async def existing_terms(self, pack_id: str) -> set[str]:
        return {entry.term.lower() for entry in self._s.pack_entries.get(pack_id, [])}

    async def list_entries(self, pack_id: str, limit: int | None = None) -> list[PackEntry]:
        entries = sorted(self._s.pack_entries.get(pack_id, []), key=lambda entry: (entry.position, entry.id))
        return _copy(entries if limit is None else entries[:limit])

    def _counted(self, pack: Pack) -> Pack:
        return dataclasses.replace(_copy(pack), entry_count=len(self._s.pack_entries.get(pack.id, [])))


class FakeConversationRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def get(self, learner_id: str) -> ConversationState:
        """The stored state, or an empty one (no flow) when nothing was saved."""
        state = self._s.conversations.get(learner_id)
        return ConversationState(learner_id, None, {}) if state is None else _copy(state)

    async def save(self, state: ConversationState) -> None:
        refuse_nul(state.flow, repr(state.data))
        self._s.conversations[state.learner_id] = _copy(state)

    async def open_turn(
        self, platform: str, platform_user_id: str, update_key: str | None, now: datetime
    ) -> OpenedTurn:
        if update_key is not None:
            refuse_nul(update_key)
            if (platform, update_key) in self._s.processed_updates:
                return OpenedTurn(fresh=False)
            self._s.processed_updates.add((platform, update_key))
        identity = self._s.identities.get((platform, platform_user_id))
        if identity is None:
            return OpenedTurn(fresh=True)
        learner = _copy(self._s.learners[identity.learner_id])
        return OpenedTurn(fresh=True, learner=learner, state=await self.get(learner.id))


class FakeProcessedUpdateRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def mark_processed(self, platform: str, update_key: str) -> bool:
        key = (platform, update_key)
        if key in self._s.processed_updates:
            return False
        self._s.processed_updates.add(key)
        return True

    async def forget(self, platform: str, update_key: str) -> None:
        self._s.processed_updates.discard((platform, update_key))


class FakeJobRepository:
    """Transitions as the SQL conditional UPDATEs make them (claim, release and finish)."""

    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def add(self, job: GenerationJob) -> None:
        refuse_nul(repr(job.params))
        self._s.jobs[job.id] = _copy(job)

    async def get(self, job_id: str) -> GenerationJob | None:
        return _copy(self._s.jobs.get(job_id))

    async def claim(self, job_id: str, now: datetime, lease_expired_before: datetime) -> GenerationJob | None:
        job = self._s.jobs.get(job_id)
        if job is None:
            return None
        started = job.started_at
        expired = job.status is JobStatus.RUNNING and started is not None and started < lease_expired_before
        if job.status is not JobStatus.QUEUED and not expired:
            return None
        job.status, job.attempts, job.started_at, job.updated_at = JobStatus.RUNNING, job.attempts + 1, now, now
        return _copy(job)

    async def save_steps(
        self, job_id: str, steps: Mapping[str, Any], now: datetime, *, attempt: int | None = None
    ) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or (attempt is not None and (job.status is not JobStatus.RUNNING or job.attempts != attempt)):
            return False
        job.steps = {**job.steps, **_copy(dict(steps))}
        job.updated_at = now
        return True

    async def release(self, job_id: str, attempt: int, error: str, now: datetime) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or job.attempts != attempt:
            return False
        job.status, job.last_error, job.updated_at = JobStatus.QUEUED, error, now
        return True

    async def finish(
        self, job_id: str, status: JobStatus, error: str | None, now: datetime, attempt: int | None = None
    ) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or job.status is not JobStatus.RUNNING or (attempt is not None and job.attempts != attempt):
            return False
        job.status, job.finished_at, job.updated_at = status, now, now
        if error is not None:
            job.last_error = error
        return True

    async def mark_delivered(self, job_id: str, now: datetime) -> bool:
        job = self._s.jobs.get(job_id)
        if job is None or job.status is not JobStatus.DONE:
            return False
        job.delivered_at = job.updated_at = now
        return True

    async def list_for_learner(self, learner_id: str, limit: int) -> list[GenerationJob]:
        jobs = [job for job in self._s.jobs.values() if job.learner_id == learner_id]
        return _copy(sorted(jobs, key=lambda job: (job.created_at, job.id), reverse=True)[:limit])

    async def list_stale_queued(self, older_than: datetime, limit: int) -> list[GenerationJob]:
        jobs = [job for job in self._s.jobs.values() if job.status is JobStatus.QUEUED and job.updated_at < older_than]
        return _copy(sorted(jobs, key=lambda job: job.updated_at)[:limit])

    async def list_stuck_running(self, started_before: datetime, limit: int) -> list[GenerationJob]:
        jobs = [
            job
            for job in self._s.jobs.values()
            if job.status is JobStatus.RUNNING and job.started_at is not None and job.started_at < started_before
        ]
        return _copy(sorted(jobs, key=lambda job: job.started_at or job.created_at)[:limit])

    async def count_since(self, learner_id: str, kind: JobKind, since: datetime, *, pending_only: bool = False) -> int:
        pending = (JobStatus.QUEUED, JobStatus.RUNNING)
        counted = pending if pending_only else (*pending, JobStatus.DONE)
        return sum(
            1
            for job in self._s.jobs.values()
            if job.learner_id == learner_id and job.kind is kind and job.created_at >= since and job.status in counted
        )


class FakeSpeechCacheRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def get(self, cache_key: str) -> SpeechClip | None:
        return _copy(self._s.speech_clips.get(cache_key))

    async def add(self, clip: SpeechClip) -> bool:
        if clip.cache_key in self._s.speech_clips:
            return False
        self._s.speech_clips[clip.cache_key] = _copy(clip)
        return True

    async def set_platform_ref(self, cache_key: str, platform: str, ref: str) -> None:
        clip = self._s.speech_clips.get(cache_key)
        if clip is not None:
            clip.platform_refs = {**clip.platform_refs, platform: ref}

    async def count_requested_since(self, learner_id: str, since: datetime) -> int:
        return sum(
            1
            for clip in self._s.speech_clips.values()
            if clip.requested_by == learner_id and clip.created_at is not None and clip.created_at >= since
        )


class FakeReminderRepository:
    def __init__(self, store: InMemoryStore) -> None:
        self._s = store

    async def reminder_timezones(self) -> list[str]:
        learners = self._s.learners.values()
        return sorted({learner.settings.timezone for learner in learners if learner.settings.reminder_time})

    async def list_candidates(self, local_today: Mapping[str, date]) -> list[ReminderCandidate]:
        candidates = []
        for learner in sorted(self._s.learners.values(), key=lambda learner: learner.id):
            reminder_time = learner.settings.reminder_time
            telegram = sorted(
                identity.platform_user_id
                for identity in self._s.identities.values()
                if identity.learner_id == learner.id and identity.platform == "telegram"
            )
            last = self._s.reminder_days.get(learner.id)
            today = local_today.get(learner.settings.timezone)
            if reminder_time is None or not telegram or today is None or (last is not None and last >= today):
                continue
            timezone = learner.settings.timezone
            candidates.append(ReminderCandidate(learner.id, timezone, reminder_time, telegram[0], last))
        return candidates

    async def mark_reminded(self, learner_id: str, day: date) -> bool:
        last = self._s.reminder_days.get(learner_id)
        if learner_id not in self._s.learners or (last is not None and last >= day):
            return False
        self._s.reminder_days[learner_id] = day
        return True

    async def clear_reminded(self, learner_id: str, day: date) -> None:
        if self._s.reminder_days.get(learner_id) == day:
            self._s.reminder_days[learner_id] = None


# --- unit of work -----------------------------------------------------------------------------


class FakeUnitOfWork:
    """A transaction over a private copy of the shared store: commit publishes, exit discards."""

    learners: FakeLearnerRepository
    pairs: FakeLanguagePairRepository
    words: FakeWordBankRepository
    cards: FakeFlashcardRepository
    reviews: FakeReviewRepository
    packs: FakePackRepository
    conversations: FakeConversationRepository
    updates: FakeProcessedUpdateRepository
    jobs: FakeJobRepository
    speech_cache: FakeSpeechCacheRepository
    reminders: FakeReminderRepository

    def __init__(self, factory: FakeUnitOfWorkFactory, read_only: bool = False) -> None:
        self._factory = factory
        self._working: InMemoryStore | None = None
        self.committed = False
        self.read_only = read_only

    async def __aenter__(self) -> Self:
        if self._factory.fail_next_enter is not None:
            error, self._factory.fail_next_enter = self._factory.fail_next_enter, None
            raise error
        self._factory.entered += 1
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None  # anything not committed is gone

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("use the unit of work inside `async with`")
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._factory.store.replace_with(self._working)
        self._factory.commits += 1
        self.committed = True
        self._begin()

    async def rollback(self) -> None:
        if self._working is None:
            raise RuntimeError("use the unit of work inside `async with`")
        self._begin()

    def _begin(self) -> None:
        # read_only: statements on their own, as the SQL adapter runs them (AUTOCOMMIT), so
        # `open_turn`'s update mark is stored at once; everything else in it only reads.
        working = self._factory.store if self.read_only else _copy(self._factory.store)
        self._working = working
        self.learners = FakeLearnerRepository(working)
        self.pairs = FakeLanguagePairRepository(working)
        self.words = FakeWordBankRepository(working)
        self.cards = FakeFlashcardRepository(working)
        self.reviews = FakeReviewRepository(working)
        self.packs = FakePackRepository(working)
        self.conversations = FakeConversationRepository(working)
        self.updates = FakeProcessedUpdateRepository(working)
        self.jobs = FakeJobRepository(working)
        self.speech_cache = FakeSpeechCacheRepository(working)
        self.reminders = FakeReminderRepository(working)


class FakeUnitOfWorkFactory:
    """The `UnitOfWorkFactory` of the fakes; counts units of work opened and commits made.

    Concurrent units of work are last-commit-wins over the whole store (fine for unit tests;
    races belong in the Postgres integration tests).
    """

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store if store is not None else InMemoryStore()
        self.entered = 0
        self.commits = 0
        self.fail_next_enter: BaseException | None = None  # simulate a database outage once

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        return FakeUnitOfWork(self, read_only)


# --- providers and the clock ------------------------------------------------------------------

DEFAULT_LEMMAS: dict[str, dict[str, str]] = {
    "es": {
        "comían": "comer",
        "comí": "comer",
        "como": "comer",
        "casas": "casa",
        "perros": "perro",
        "hablaba": "hablar",
        "hablamos": "hablar",
        "fui": "ir",
        "gatos": "gato",
        "libros": "libro",
    },
    "fr": {"mangeait": "manger", "maisons": "maison", "chevaux": "cheval"},
    "de": {"Häuser": "Haus", "ging": "gehen", "aß": "essen"},
    "it": {"mangiavano": "mangiare", "case": "casa"},
}


class FakeLemmatizer:
    """Lemmas from a small per-language dict; phrases and unknown words come back unchanged."""

    def __init__(self, lemmas: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.lemmas = {language: dict(table) for language, table in (lemmas or DEFAULT_LEMMAS).items()}
        self.calls: list[tuple[str, str]] = []

    def lemmatize(self, text: str, language: str) -> str:
        self.calls.append((text, language))
        if " " in text.strip():
            return text
        return self.lemmas.get(language, {}).get(text, text)

    def lemmatize_many(self, texts: Sequence[str], language: str) -> list[str]:
        return [self.lemmatize(text, language) for text in texts]


DEFAULT_TRANSLATIONS: dict[str, str] = {
    "comer": "to eat",
    "casa": "house",
    "perro": "dog",
    "gato": "cat",
    "libro": "book",
    "hablar": "to speak",
    "ir": "to go",
    "agua": "water",
}


class FakeTranslator:
    """Dictionary translations. Unknown texts get "<text> (<target>)"; `fail = True` makes every
    call raise ProviderUnavailable, as the DeepL client does after its retries."""

    def __init__(self, translations: Mapping[str, str] | None = None, *, fail: bool = False) -> None:
        self.translations = dict(DEFAULT_TRANSLATIONS if translations is None else translations)
        self.fail = fail
        self.calls: list[tuple[list[str], str, str]] = []

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        self.calls.append((list(texts), source, target))
        if self.fail:
            raise ProviderUnavailable("DeepL", "test outage")
        return [self.translations.get(text, f"{text} ({target})") for text in texts]


# --- background work: queue, messenger and providers -------------------------------------------


class FakeJobQueue:
    """Records enqueued ids. `reachable = False` answers False (Redis down); `fail_with` raises instead."""

    def __init__(self) -> None:
        self.enqueued: list[str] = []
        self.reachable = True
        self.fail_with: BaseException | None = None
        self.closed = False

    async def enqueue(self, job_id: str) -> bool:
        if self.fail_with is not None:
            raise self.fail_with
        if not self.reachable:
            return False
        self.enqueued.append(job_id)
        return True

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class Delivered:
    """One message a RecordingMessenger accepted."""

    address: DeliveryAddress
    message: OutgoingMessage
    message_id: str
    edits: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text as the learner sees it now (after edits)."""
        return self.edits[-1] if self.edits else self.message.text


class RecordingMessenger:
    """A Messenger that keeps what it was asked to send, like a chat would show it.

    Uploaded audio (`voice_audio`) gets a file id back ("file-1" …), as Telegram answers. A text
    message longer than `text_limit` characters (text, then the hidden part, as Telegram shows
    them) is split into platform messages of that many characters, the hidden part shown inline.
    Chats in `blocked` raise RecipientUnavailable; `fail_next` raises the given errors on the
    next calls, `fail_next_voice` on the next voice messages only; `fail_after(n, error)` accepts
    n more platform messages, then raises `error` instead of sending the next one (once).
    File ids in `stale_files` are no longer known: a voice sent by such an id is uploaded again
    when the message carries its audio, else StalePlatformFile (as TelegramMessenger does).
    """

    def __init__(self, platform: str = "telegram", text_limit: int = 4096) -> None:
        self._platform = platform
        self.text_limit = text_limit
        self.delivered: list[Delivered] = []
        self.blocked: set[str] = set()
        self.fail_next: list[BaseException] = []
        self.fail_next_voice: list[BaseException] = []
        self.uploads = 0
        self._ids = 0
        self._fail_after: tuple[int, BaseException] | None = None
        self.stale_files: set[str] = set()

    @property
    def platform(self) -> str:
        return self._platform

    def fail_after(self, messages: int, error: BaseException) -> None:
        self._fail_after = (messages, error)

    async def send(self, address: DeliveryAddress, message: OutgoingMessage) -> list[SentMessage]:
        self._refuse(address)
        if message.voice is not None and self.fail_next_voice:
            raise self.fail_next_voice.pop(0)
        if message.voice is None and len(self._shown(message)) > self.text_limit:
            shown, limit = self._shown(message), self.text_limit
            pieces = [shown[start : start + limit] for start in range(0, len(shown), limit)]
            last = len(pieces) - 1
            return [
                self._accept(address, OutgoingMessage(text=piece, buttons=message.buttons if index == last else []))
                for index, piece in enumerate(pieces)
            ]
        return [self._accept(address, message)]

    def _accept(self, address: DeliveryAddress, message: OutgoingMessage) -> SentMessage:
        """One platform message."""
        if self._fail_after is not None:
            left, error = self._fail_after
            self._fail_after = None if left == 0 else (left - 1, error)
            if left == 0:
                raise error
        stale = None if message.voice is None else message.voice.platform_refs.get(self._platform)
        if stale in self.stale_files:
            if message.voice_audio is None:
                raise StalePlatformFile(self._platform, stale)
            assert message.voice is not None
            message = dataclasses.replace(message, voice=dataclasses.replace(message.voice, platform_refs={}))
        self._ids += 1
        message_id = str(self._ids)
        file_id = None
        if (
            message.voice is not None
            and message.voice_audio is not None
            and not message.voice.platform_refs.get(self._platform)
        ):
            self.uploads += 1
            file_id = f"file-{self.uploads}"
        elif message.voice is not None and self._platform not in message.voice.platform_refs:
            raise AssertionError("a voice message without audio and without an upload to reuse")
        self.delivered.append(Delivered(address, _copy(message), message_id))
        return SentMessage(message_id=message_id, platform_file_id=file_id)

    @staticmethod
    def _shown(message: OutgoingMessage) -> str:
        return "\n\n".join(part for part in (message.text, message.spoiler) if part)

    async def edit_text(self, address: DeliveryAddress, message_id: str, text: str) -> None:
        self._refuse(address)
        for item in self.delivered:
            if item.message_id == message_id and item.address == address:
                item.edits.append(text)
                return
        raise AssertionError(f"edit of an unknown message {message_id}")

    def texts(self) -> list[str]:
        return [item.text for item in self.delivered]

    def _refuse(self, address: DeliveryAddress) -> None:
        if address.chat_id in self.blocked:
            raise RecipientUnavailable(self._platform, address.chat_id)
        if self.fail_next:
            raise self.fail_next.pop(0)


@dataclass
class ModelCall:
    system: str
    prompt: str
    schema: dict[str, Any] | None = None
    tool_name: str | None = None


class FakeLanguageModel:
    """Answers from a script: `json_answers` for generate_json, `text_answers` for generate_text
    (each answer a value, or an exception to raise). Every call is recorded as the model got it."""

    def __init__(
        self,
        json_answers: Sequence[dict[str, Any] | BaseException] = (),
        text_answers: Sequence[str | BaseException] = (),
        model: str = "claude-test",
    ) -> None:
        self.json_answers = list(json_answers)
        self.text_answers = list(text_answers)
        self.calls: list[ModelCall] = []
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    async def generate_json(
        self, *, system: str, prompt: str, schema: dict[str, Any], tool_name: str, max_tokens: int = 2048
    ) -> dict[str, Any]:
        self.calls.append(ModelCall(system, prompt, schema, tool_name))
        if not self.json_answers:
            raise AssertionError("the model was asked for more JSON answers than scripted")
        answer = self.json_answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return _copy(answer)

    async def generate_text(self, *, system: str, prompt: str, max_tokens: int = 2048) -> str:
        self.calls.append(ModelCall(system, prompt))
        if not self.text_answers:
            raise AssertionError("the model was asked for more text answers than scripted")
        answer = self.text_answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class FakeSpeechSynthesizer:
    """Audio bytes derived from the text; records calls; `fail_next` raises on the next calls."""

    def __init__(self, model: str = "tts-test") -> None:
        self._model = model
        self.calls: list[tuple[str, str, str | None]] = []
        self.fail_next: list[BaseException] = []

    @property
    def model(self) -> str:
        return self._model

    def voice_for(self, language: str) -> str:
        return {"es": "Kore", "fr": "Puck"}.get(language, "Zephyr")

    async def synthesize(self, text: str, language: str, voice: str | None = None) -> Speech:
        self.calls.append((text, language, voice))
        if self.fail_next:
            raise self.fail_next.pop(0)
        audio = b"OggS" + f"{language}:{text}".encode()
        voice = voice or self.voice_for(language)
        return Speech(audio=audio, mime_type="audio/ogg", duration_s=len(text) / 15, voice=voice, model=self._model)


class FakeMediaStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts: list[str] = []

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts.append(key)
        self.objects[key] = data

    async def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def exists(self, key: str) -> bool:
        return key in self.objects

    def location(self, key: str) -> str:
        return f"memory://{key}"

    async def ensure_ready(self) -> None:
        return None


class FixedClock:
    """A settable clock: `clock()` returns the same aware UTC instant until moved."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self.now = _aware(now)

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = _aware(now)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move forward by `delta` or by timedelta keyword parts (`advance(days=1)`)."""
        self.now = self.now + (delta if delta is not None else timedelta(**parts))
        return self.now


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- wiring -----------------------------------------------------------------------------------


def make_services(
    *,
    clock: FixedClock | None = None,
    translator: Translator | None = None,
    lemmatizer: Lemmatizer | None = None,
    scheduler: ReviewScheduler | None = None,
    uow: UnitOfWorkFactory | None = None,
    settings: Settings | None = None,
) -> Services:
    """Services wired to fakes through the real composition root.

    Defaults: a fresh in-memory store, FixedClock(DEFAULT_NOW), no translator (the learner is asked),
    FakeLemmatizer(), the real FSRS scheduler with fuzzing off (deterministic intervals).
    Pass your own `uow`/`clock`/`translator` to keep a handle on them; `uow` may also be a real
    `Database.unit_of_work` for integration tests of the services.
    """
    return build_services(
        settings or Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:"),
        uow if uow is not None else FakeUnitOfWorkFactory(),
        scheduler=scheduler or FsrsScheduler(enable_fuzzing=False),
        lemmatizer=lemmatizer or FakeLemmatizer(),
        translator=translator,
        clock=clock or FixedClock(),
    )


# --- background work wiring -------------------------------------------------------------------


@dataclass
class JobWorld:
    """Job services over fakes, beside the core services on the same store (to make learners, words)."""

    services: Services
    jobs: JobServices
    uow: FakeUnitOfWorkFactory
    clock: FixedClock
    queue: FakeJobQueue
    messenger: RecordingMessenger
    model: FakeLanguageModel
    synthesizer: FakeSpeechSynthesizer
    media: FakeMediaStore
    translator: FakeTranslator | None

    async def learner(
        self, user_id: str = "1001", pair: tuple[str, str] | None = ("es", "en"), level: str = "A2"
    ) -> Learner:
        """A learner reached on Telegram (private chat id = user id), with an active pair unless None."""
        learner, _created = await self.services.accounts.ensure_learner("telegram", user_id, "Ana")
        if pair is not None:
            await self.services.languages.set_pair(learner.id, pair[0], pair[1], level)
        return learner

    @staticmethod
    def address(user_id: str = "1001") -> DeliveryAddress:
        return DeliveryAddress(platform="telegram", chat_id=user_id, user_id=user_id)

    @property
    def messengers(self) -> dict[str, RecordingMessenger]:
        return {"telegram": self.messenger}

    def stored_job(self, job_id: str) -> GenerationJob:
        return self.uow.store.jobs[job_id]

    async def run_enqueued(self) -> None:
        """Run every job the queue holds, once each, in order (as a worker would)."""
        while self.queue.enqueued:
            await self.jobs.jobs.run(self.queue.enqueued.pop(0), self.messengers)


def build_job_world(
    *,
    model: FakeLanguageModel | None = None,
    translator: FakeTranslator | None = None,
    speech: bool = True,
    language_model: bool = True,
    settings: Settings | None = None,
    timings: JobTimings | None = None,
) -> JobWorld:
    """Defaults: a model with no scripted answers, no translator (the model translates), speech on.

    `speech` / `language_model` False: that provider is not configured (the fakes still exist, unused).
    """
    uow, clock, queue = FakeUnitOfWorkFactory(), FixedClock(), FakeJobQueue()
    settings = settings or Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:")
    model = model or FakeLanguageModel()
    synthesizer, media = FakeSpeechSynthesizer(), FakeMediaStore()
    jobs = build_job_services(
        uow,
        settings,
        queue=queue,
        language_model=model if language_model else None,
        speech=synthesizer if speech else None,
        media=media if speech else None,
        translator=translator,
        clock=clock,
        timings=timings,
    )
    services = make_services(clock=clock, uow=uow, settings=settings)
    return JobWorld(services, jobs, uow, clock, queue, RecordingMessenger(), model, synthesizer, media, translator)
