"""Review sessions: cards with Show answer / rating buttons, typed answers, /stop with a summary.

The session lives in the conversation state (flow "review"): the card on screen, its sides, a
showing number (so a button from an earlier showing never rates twice), and the counts. A new
process reads it back, so a button pressed before a restart still works.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bots.chat import render
from bots.chat.context import Turn
from bots.chat.errors import BUTTON_EXPIRED, ChatNotice
from bots.chat.flows import background
from bots.chat.replies import Reply
from core.domain.errors import AlreadyReviewed, NotFound
from core.domain.models import ConversationState, DueCard, Rating, ReviewMode, ReviewOutcome
from core.domain.services.review import StateAfterReview

REVIEW = "review"
LISTENED = "listened"  # a voice message of the card on screen was sent below it
SESSION_OVER = "This review session is over — send /review to start a new one."
ALREADY_REVIEWED = "This card was already reviewed."
CARD_GONE = "That card's word was removed from your words."


async def cmd_review(turn: Turn) -> list[Reply]:
    """Start a session (or continue the current one) with the next due or new card."""
    card = await turn.services.reviews.next_card(turn.learner_id, learner=turn.learner)
    if card is None:
        if turn.flow == REVIEW:
            return [await end_session(turn)]
        return [render.nothing_due(await _next_due(turn), turn.clock())]
    data = turn.state.data if turn.flow == REVIEW else _new_session(turn)
    return [await _show(turn, data, card)]


def _new_session(turn: Turn) -> dict[str, Any]:
    return {"reviewed": 0, "correct": 0, "seq": 0, "started_at": turn.clock().isoformat()}


async def _show(turn: Turn, data: dict[str, Any], card: DueCard) -> Reply:
    await turn.set_flow(REVIEW, _showing(data, card))
    return _front(turn, card)


def _showing(data: dict[str, Any], card: DueCard) -> dict[str, Any]:
    """The session's state while `card` is on screen (a new showing number; its due date as shown)."""
    return {
        **data,
        "seq": int(data.get("seq", 0)) + 1,
        "card_id": card.card.id,
        "due": card.card.due.isoformat(),
        "front": card.front,
        "back": card.back,
        "context": card.context,
        "answer_language": card.answer_language,
        "target_language": card.target_language,
        "shown": False,
        LISTENED: False,
    }


def _front(turn: Turn, card: DueCard) -> Reply:
    seq = int(turn.state.data["seq"])
    speech = turn.speech_available and card.answer_language != card.target_language  # a front in the language learnt
    return render.card_front(turn.learner_id, card.card.id, seq, card.front, card.answer_language, speech)


def _recognition(data: dict[str, Any]) -> bool | None:
    """Whether the card on screen shows the language learnt on its front (None: a session saved before it was known)."""
    target = data.get("target_language")
    return None if target is None else data.get("answer_language") != target


def _shown_due(data: dict[str, Any]) -> datetime | None:
    """The card's due date when shown (None for a session saved before it was recorded)."""
    due = data.get("due")
    try:
        return datetime.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        return None


def _counted(data: dict[str, Any], outcome: ReviewOutcome) -> dict[str, Any]:
    return {
        **data,
        "reviewed": int(data.get("reviewed", 0)) + 1,
        "correct": int(data.get("correct", 0)) + (outcome.event.rating > Rating.AGAIN),
    }


def _next_state(turn: Turn, data: dict[str, Any]) -> StateAfterReview:
    """The session after a review (next card, or ended), saved in the review's own transaction."""

    def state_after(outcome: ReviewOutcome, next_card: DueCard | None) -> ConversationState:
        counted = _counted(data, outcome)
        if next_card is None:
            return turn.stage_flow(None, {})
        return turn.stage_flow(REVIEW, _showing(counted, next_card))

    return state_after


def _sides(data: dict[str, Any]) -> str:
    return render.card_sides(str(data.get("front", "")), str(data.get("back", "")), data.get("context"))


def _current(turn: Turn) -> dict[str, Any]:
    """The session's state when the pressed button belongs to the card on screen; else a notice."""
    assert turn.payload is not None
    card_id, seq = turn.payload.args[0], turn.payload.args[1]
    if turn.flow != REVIEW:
        raise ChatNotice(SESSION_OVER)
    data = turn.state.data
    if data.get("card_id") != card_id or str(data.get("seq")) != seq:
        raise ChatNotice(ALREADY_REVIEWED)
    return data


async def button_show_answer(turn: Turn) -> list[Reply]:
    """Show answer: the back, and rating buttons labelled with the interval each would give."""
    data = _current(turn)
    if data.get("shown"):
        raise ChatNotice("The answer is already shown.")
    card_id = str(data["card_id"])
    shown = turn.stage_flow(REVIEW, {**data, "shown": True})
    try:
        intervals = await turn.services.reviews.preview_intervals(
            turn.learner_id, card_id, save=shown, learner=turn.learner
        )
    except NotFound:
        return await _card_gone(turn, data)
    listen = turn.speech_available and _recognition(data) is False  # production: the answer is in the language learnt
    return [render.card_back(turn.learner_id, card_id, int(data["seq"]), _sides(data), intervals, listen=listen)]


async def button_rate(turn: Turn) -> list[Reply]:
    """Again / Hard / Good / Easy: the pressed card becomes its outcome, then the next card (or the summary).

    One message edited in place: a session by buttons does not add a message per card.
    """
    data = _current(turn)
    assert turn.payload is not None
    rating_arg = turn.payload.args[2]
    if rating_arg not in {"1", "2", "3", "4"}:
        raise ChatNotice(BUTTON_EXPIRED)
    rating = Rating(int(rating_arg))
    try:
        outcome, next_card = await turn.services.reviews.review(
            turn.learner_id,
            str(data["card_id"]),
            rating,
            ReviewMode.BUTTON,
            shown_due=_shown_due(data),
            then=_next_state(turn, data),
            learner=turn.learner,
        )
    except AlreadyReviewed as error:
        raise ChatNotice(ALREADY_REVIEWED) from error
    except NotFound:
        return await _card_gone(turn, data)
    rated = render.rated(_sides(data), rating, outcome.interval)
    after = await _after(turn, data, outcome, next_card)
    if data.get(LISTENED):  # a voice message came below the card: the session goes on under it
        return [rated, after]
    return [render.then(rated, after, edit=True)]


async def button_listen(turn: Turn) -> list[Reply]:
    """Listen: the card's word in the language learnt, as a voice message (the session does not move).

    Recognition cards read their front; production cards read their answer, once it is shown. The
    voice message comes below the card, so the rating that follows leaves the card with its outcome
    and sends the next card as a new message under the voice (not edited into the card above it).
    """
    assert turn.payload is not None
    data = turn.state.data
    if turn.flow != REVIEW:
        raise ChatNotice(SESSION_OVER)
    if data.get("card_id") != turn.payload.args[0]:
        raise ChatNotice(ALREADY_REVIEWED)
    recognition = _recognition(data)
    if recognition is None:  # an older session: its front is in the language learnt unless the answer is
        pair = await turn.services.languages.active_pair(turn.learner_id)
        recognition, language = data.get("answer_language") != pair.target, pair.target
    else:
        language = str(data["target_language"])
    if not recognition and not data.get("shown"):
        raise ChatNotice("Answer first: Listen reads the answer of this card.")
    text = str(data.get("front" if recognition else "back", ""))
    replies = await background.speak(turn, text, language, pressed=True)
    if not data.get(LISTENED):  # the voice message lands below the card: the next card will follow it
        await turn.set_flow(REVIEW, {**data, LISTENED: True})
    return replies


async def text_in_review(turn: Turn) -> list[Reply]:
    """A typed answer: graded, stored as a review; one message with the verdict, then the next card."""
    data = turn.state.data
    card_id = data.get("card_id")
    if not card_id:
        await turn.end_flow()
        return [Reply(text=SESSION_OVER)]
    answer = turn.event.text.strip()
    try:
        grade, outcome, next_card = await turn.services.reviews.answer(
            turn.learner_id,
            str(card_id),
            answer,
            ReviewMode.TYPED,
            shown_due=_shown_due(data),
            then=_next_state(turn, data),
            learner=turn.learner,
        )
    except NotFound:
        return await _card_gone(turn, data)
    verdict = render.verdict(grade, outcome.interval)
    return [render.then(verdict, await _after(turn, data, outcome, next_card), edit=False)]


async def _after(turn: Turn, data: dict[str, Any], outcome: ReviewOutcome, next_card: DueCard | None) -> Reply:
    """The next card or the summary; the session's state was saved with the review."""
    if next_card is None:
        return await _summary(turn, _counted(data, outcome))
    return _front(turn, next_card)


async def _card_gone(turn: Turn, data: dict[str, Any]) -> list[Reply]:
    """The card on screen was removed (/remove, another device): say so and go on with the next one.

    One message: the notice then the next card (or the summary); it replaces the pressed card.
    """
    card = await turn.services.reviews.next_card(turn.learner_id, learner=turn.learner)
    after = await end_session(turn) if card is None else await _show(turn, data, card)
    pressed = turn.payload is not None
    if pressed and data.get(LISTENED):  # a voice message is below the card: go on under it
        return [Reply(text=CARD_GONE, edit=True), after]
    return [render.then(Reply(text=CARD_GONE), after, edit=pressed)]


async def end_session(turn: Turn) -> Reply:
    """The summary (reviewed, correct, next due); the session's state is cleared."""
    data = turn.state.data
    await turn.end_flow()
    return await _summary(turn, data)


async def _summary(turn: Turn, data: dict[str, Any]) -> Reply:
    reviewed, correct = int(data.get("reviewed", 0)), int(data.get("correct", 0))
    return render.session_summary(reviewed, correct, await _next_due(turn), turn.clock())


async def _next_due(turn: Turn) -> datetime | None:
    return await turn.services.reviews.next_due_at(turn.learner_id)
