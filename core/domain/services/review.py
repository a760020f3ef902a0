"""Reviews: the due queue, FSRS scheduling and typed/spoken answer grading."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.domain.errors import AlreadyReviewed, InvalidInput, NotFound
from core.domain.models import (
    ConversationState,
    DueCard,
    Flashcard,
    Grade,
    Learner,
    Rating,
    ReviewEvent,
    ReviewMode,
    ReviewOutcome,
)
from core.domain.ports import Clock, ReviewScheduler, UnitOfWork, UnitOfWorkFactory
from core.domain.services._rules import is_id, load_learner, local_midnight, new_id
from core.domain.services.grading import grade_typed_answer

MAX_ANSWER_CHARS = 300
_END_OF_TIME = datetime(9999, 12, 31, tzinfo=UTC)  # "due by" bound that every due date meets

# The chat layer's flow state after a review, given its outcome and the next card; saved in the
# review's own transaction (one commit per answer). None: nothing to save.
StateAfterReview = Callable[[ReviewOutcome, DueCard | None], ConversationState | None]


class ReviewService:
    """The review loop. `review` is the hot path: one transaction, a handful of indexed statements."""

    def __init__(self, uow: UnitOfWorkFactory, scheduler: ReviewScheduler, clock: Clock) -> None:
        self._uow = uow
        self._scheduler = scheduler
        self._clock = clock

    async def next_card(self, learner_id: str, *, learner: Learner | None = None) -> DueCard | None:
        """The card to show next, or None when nothing is due.

        Due cards of the active pair first (earliest due), then new cards while fewer than the
        learner's new-cards-per-day were introduced since local midnight (learner timezone).

        None too when the learner has no active pair: there is nothing to review yet.
        `learner`: the learner the caller already read this turn (saves reading it again).

        A due card is one statement (the active pair is found inside it); the learner row and the
        daily count are read only when the new-card limit decides. Reads only: no transaction.
        """
        async with self._uow(read_only=True) as uow:
            now = self._clock()
            due = await uow.cards.next_due_for_learner(learner_id, now)
            if due is not None:
                return due
            learner = await _learner(uow, learner_id, learner)
            if not await self._may_introduce(uow, learner, now):
                return None
            return await uow.cards.next_new_for_learner(learner_id)

    async def next_due_at(self, learner_id: str) -> datetime | None:
        """When the earliest scheduled card of the active pair falls due; None without one.

        For the chat layer's "next card due in 3h" — about the pair /review serves, so it never
        promises a card /review won't show. New cards are not counted: they wait for the daily
        limit, not for a date. One indexed lookup, whatever the backlog.
        """
        async with self._uow(read_only=True) as uow:
            pair = await uow.pairs.get_active(learner_id)
            earliest = await uow.cards.next_due(pair.id, _END_OF_TIME) if pair is not None else None
        return earliest.card.due if earliest is not None else None

    async def get_card(self, learner_id: str, card_id: str) -> DueCard:
        """A card with its two sides, for re-showing it (e.g. after "Show answer"). NotFound."""
        async with self._uow(read_only=True) as uow:
            due = await uow.cards.get_due_card(card_id) if is_id(card_id) else None
            if due is None or due.card.learner_id != learner_id:
                raise NotFound("card")
            return due

    async def preview_intervals(
        self,
        learner_id: str,
        card_id: str,
        *,
        save: ConversationState | None = None,
        learner: Learner | None = None,
    ) -> dict[Rating, timedelta]:
        """The interval each rating would give now (no change to the card). NotFound.

        `save`: the chat layer's flow state, stored in this same transaction (one unit of work for
        a "Show answer" press instead of two); nothing is stored when the card is not found.
        `learner`: the learner the caller already read this turn (saves reading it again).
        """
        async with self._uow() as uow:
            learner = await _learner(uow, learner_id, learner)
            card = await self._own_card(uow, learner_id, card_id)
            if save is not None:
                await uow.conversations.save(dataclasses.replace(save, updated_at=self._clock()))
                await uow.commit()
        return self._scheduler.preview(card, self._clock(), learner.fsrs_parameters, learner.desired_retention)

    async def review(
        self,
        learner_id: str,
        card_id: str,
        rating: Rating,
        mode: ReviewMode,
        answer_text: str | None = None,
        *,
        shown_due: datetime | None = None,
        then: StateAfterReview | None = None,
        learner: Learner | None = None,
    ) -> tuple[ReviewOutcome, DueCard | None]:
        """Rate the card, store the new schedule and a ReviewEvent, and return the next card.

        The card must be the learner's (NotFound otherwise); all of it happens in one transaction.

        The next card comes from the reviewed card's pair (the session's pair), which saves a query.

        `shown_due`: the card's due date when it was shown; if it changed since, the showing was
        already rated (AlreadyReviewed). The schedule update is also conditional on the card read
        in this transaction being unchanged, so two processes rating one showing at once can't
        both succeed. `then` gives the flow state to save in this same transaction. `learner`:
        the learner the caller already read this turn (saves reading it again).
        """
        rating = Rating(rating)
        async with self._uow() as uow:
            learner = await _learner(uow, learner_id, learner)
            card = _as_shown(await self._own_card(uow, learner_id, card_id), shown_due)
            outcome, upcoming = await self._rate(uow, learner, card, rating, mode, answer_text)
            await self._save_state(uow, then, outcome, upcoming)
            await uow.commit()
        return outcome, upcoming

    async def answer(
        self,
        learner_id: str,
        card_id: str,
        answer_text: str,
        mode: ReviewMode,
        *,
        shown_due: datetime | None = None,
        then: StateAfterReview | None = None,
        learner: Learner | None = None,
    ) -> tuple[Grade, ReviewOutcome, DueCard | None]:
        """Grade a typed or spoken answer against the card's back, then `review` with that rating.

        `shown_due`, `then` and `learner` as in `review`.

        Blank or over-long answers are InvalidInput (nothing is rated).
        """
        text = answer_text.strip()
        if not text:
            raise InvalidInput("The answer is empty: type the word, or tap Show answer.")
        if len(text) > MAX_ANSWER_CHARS:
            raise InvalidInput(f"An answer has at most {MAX_ANSWER_CHARS} characters.")
        async with self._uow() as uow:
            learner = await _learner(uow, learner_id, learner)
            shown = await uow.cards.get_due_card(card_id) if is_id(card_id) else None
            if shown is None or shown.card.learner_id != learner_id:
                raise NotFound("card")
            card = _as_shown(shown.card, shown_due)
            grade = grade_typed_answer(text, shown.back, shown.answer_language)
            outcome, upcoming = await self._rate(uow, learner, card, grade.rating, mode, text)
            await self._save_state(uow, then, outcome, upcoming)
            await uow.commit()
        return grade, outcome, upcoming

    # --- steps ----------------------------------------------------------------------------------

    async def _save_state(
        self, uow: UnitOfWork, then: StateAfterReview | None, outcome: ReviewOutcome, upcoming: DueCard | None
    ) -> None:
        state = then(outcome, upcoming) if then is not None else None
        if state is not None:
            await uow.conversations.save(dataclasses.replace(state, updated_at=self._clock()))

    @staticmethod
    async def _own_card(uow: UnitOfWork, learner_id: str, card_id: str) -> Flashcard:
        card = await uow.cards.get(card_id) if is_id(card_id) else None
        if card is None or card.learner_id != learner_id:
            raise NotFound("card")
        return card

    async def _rate(
        self,
        uow: UnitOfWork,
        learner: Learner,
        card: Flashcard,
        rating: Rating,
        mode: ReviewMode,
        answer_text: str | None,
    ) -> tuple[ReviewOutcome, DueCard | None]:
        """Schedule, store the schedule and the event, and find what comes next (no commit)."""
        now = self._clock()
        scheduled = self._scheduler.review(card, rating, now, learner.fsrs_parameters, learner.desired_retention)
        event = ReviewEvent(
            id=new_id(),
            card_id=card.id,
            learner_id=learner.id,
            rating=rating,
            mode=ReviewMode(mode),
            answer_text=answer_text,
            state_before=card.state,
            due_before=card.due,
            due_after=scheduled.due,
            stability_after=scheduled.stability,
            difficulty_after=scheduled.difficulty,
            reviewed_at=now,
        )
        await uow.cards.save_schedule(scheduled)
        await uow.reviews.add(event)
        upcoming = await self._next_card(uow, learner, card.pair_id, now)
        return ReviewOutcome(card=scheduled, event=event, interval=scheduled.due - now), upcoming

    @staticmethod
    async def _next_card(uow: UnitOfWork, learner: Learner, pair_id: str, now: datetime) -> DueCard | None:
        due = await uow.cards.next_due(pair_id, now)
        if due is not None:
            return due
        if not await ReviewService._may_introduce(uow, learner, now):
            return None
        return await uow.cards.next_new(pair_id)

    @staticmethod
    async def _may_introduce(uow: UnitOfWork, learner: Learner, now: datetime) -> bool:
        """Fewer than the learner's new-cards-per-day were introduced since their local midnight."""
        limit = learner.settings.new_cards_per_day
        if limit <= 0:
            return False
        introduced = await uow.reviews.count_new_since(learner.id, local_midnight(now, learner.settings))
        return introduced < limit


def _as_shown(card: Flashcard, shown_due: datetime | None) -> Flashcard:
    """The card, unless it was rescheduled since it was shown (that showing is already rated)."""
    if shown_due is not None and card.due != shown_due:
        raise AlreadyReviewed()
    return card


async def _learner(uow: UnitOfWork, learner_id: str, known: Learner | None) -> Learner:
    """The learner the caller passed (read earlier in the same turn), else loaded (NotFound)."""
    if known is not None and known.id == learner_id:
        return known
    return await load_learner(uow, learner_id)
