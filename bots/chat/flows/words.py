"""Words: /add, /words, /remove, owed translations, and plain messages offered as new words."""

from __future__ import annotations

import secrets
from typing import Any

from bots.chat import render
from bots.chat.context import OFFERS, Turn
from bots.chat.errors import BUTTON_EXPIRED, ChatNotice
from bots.chat.flows.review import REVIEW
from bots.chat.replies import Reply
from core.domain.errors import InvalidInput, NotFound
from core.domain.services.vocabulary import MAX_LINES

TRANSLATE = "translate"
MAX_OFFER_CHARS = 40
MAX_OFFER_WORDS = 3
MAX_OFFERS_KEPT = 5
ADD_EXAMPLE = "/add comer = to eat"


async def cmd_add(turn: Turn) -> list[Reply]:
    """Add one or more lines; ask for the translations nobody could provide."""
    lines = [line for line in turn.event.args.split("\n") if line.strip()]
    if not lines:
        raise InvalidInput("Tell me which word to add.", example=ADD_EXAMPLE)
    if len(lines) > MAX_LINES:
        raise InvalidInput(
            f"Too many lines: {len(lines)}. One message adds at most {MAX_LINES} words.", example=ADD_EXAMPLE
        )
    result = await turn.services.vocabulary.add_words(turn.learner_id, lines)
    replies = [Reply(text=render.add_result(result))]
    pending = [[entry.id, entry.term] for entry in result.needs_translation]
    if pending:
        replies.append(await _ask_pending(turn, pending))
    return replies


async def _ask_pending(turn: Turn, queue: list[list[str]]) -> Reply:
    """Start (or continue) asking for owed translations — but never break a review session."""
    if turn.flow == REVIEW:  # never break a review session for a question
        return Reply(text="Words without a translation wait in /words (press “Add missing translations”).")
    if turn.flow == TRANSLATE:  # questions still open from an earlier /add come first
        earlier = [list(item) for item in turn.state.data.get("queue", [])]
        asked = {item[0] for item in earlier}
        queue = earlier + [item for item in queue if item[0] not in asked]
    await turn.set_flow(TRANSLATE, {"queue": queue})
    return render.ask_translation(queue[0][1])


async def text_in_translate(turn: Turn) -> list[Reply]:
    """The plain message after “What does X mean?” is X's translation."""
    queue: list[list[str]] = [list(item) for item in turn.state.data.get("queue", [])]
    if not queue:
        await turn.end_flow()
        return await plain_text(turn)
    entry_id, term = queue[0]
    try:
        entry = await turn.services.vocabulary.provide_translation(turn.learner_id, entry_id, turn.event.text.strip())
    except NotFound:  # removed since the question: the question goes, the flow must not stick on it
        replies = [Reply(text=f"“{term}” is no longer in your words, so nothing was saved.")]
    else:
        replies = [Reply(text=f"Saved: {entry.term} — {entry.translation}. It's ready for /review.")]
    rest = queue[1:]
    if rest:
        await turn.set_flow(TRANSLATE, {"queue": rest})
        replies.append(render.ask_translation(rest[0][1]))
    else:
        await turn.end_flow()
    return replies


def leave_translate(turn: Turn) -> Reply:
    """What /cancel or /stop says when leaving the translation questions."""
    queue = turn.state.data.get("queue", [])
    terms = ", ".join(f"“{item[1]}”" for item in queue) or "Those words"
    return Reply(text=f"OK. {terms} will wait for a translation; /words shows them.")


async def button_translate_pending(turn: Turn) -> list[Reply]:
    """The “Add missing translations” button: ask for each owed translation in turn."""
    pending = await turn.services.vocabulary.pending_translations(turn.learner_id)
    if not pending:
        return [render.notice("No word is missing a translation.")]
    return [await _ask_pending(turn, [[entry.id, entry.term] for entry in pending])]


async def cmd_words(turn: Turn) -> list[Reply]:
    """The word bank, one page at a time."""
    arg = turn.event.args.strip()
    if arg and not arg.isdecimal():
        raise InvalidInput(f"“{arg[:20]}” is not a page number.", example="/words 2")
    page = int(arg[:7]) if arg else 1
    return [await _page(turn, page)]


async def button_words_page(turn: Turn) -> list[Reply]:
    """Previous / Next."""
    assert turn.payload is not None
    arg = turn.payload.args[0]
    if not arg.isdecimal() or len(arg) > 7:
        raise ChatNotice(BUTTON_EXPIRED)
    reply = await _page(turn, int(arg))
    reply.edit = True
    return [reply]


async def _page(turn: Turn, page: int) -> Reply:
    found = await turn.services.vocabulary.list_words(turn.learner_id, max(1, page))
    return render.words_page(turn.learner_id, found)


async def cmd_remove(turn: Turn) -> list[Reply]:
    """Remove a word and its cards."""
    term = turn.event.args.strip()
    if not term or "\n" in term:
        raise InvalidInput("Tell me which one word to remove.", example="/remove comer")
    entry = await turn.services.vocabulary.remove_word(turn.learner_id, term)
    return [Reply(text=f"Removed “{entry.term}” and its cards.")]


# --- plain messages ------------------------------------------------------------------------------

HINT = "Send /help to see what I can do. To add a word: /add comer = to eat"


def is_short_term(text: str) -> bool:
    return (
        0 < len(text) <= MAX_OFFER_CHARS and not any(c in text for c in "\n\r") and len(text.split()) <= MAX_OFFER_WORDS
    )


async def plain_text(turn: Turn) -> list[Reply]:
    """Outside any flow: a short term in a private chat is offered as a new word; the rest gets a hint."""
    raw = turn.event.text.strip()
    text = " ".join(raw.split())
    if text.startswith("/"):
        return [Reply(text="That isn't a command I know — try /help")]
    if turn.event.is_group or not is_short_term(raw):
        return [Reply(text=HINT)]
    if await turn.services.languages.find_active_pair(turn.learner_id) is None:
        return [Reply(text="Pick your languages first: send /start.")]
    offers: dict[str, Any] = dict(turn.state.data.get(OFFERS) or {})
    offer_id = secrets.token_hex(4)
    offers[offer_id] = {"term": text, "done": False}
    await turn.set_flow(None, {OFFERS: dict(list(offers.items())[-MAX_OFFERS_KEPT:])})
    return [render.offer_term(turn.learner_id, offer_id, text)]


async def button_add_offered(turn: Turn) -> list[Reply]:
    """The `Add “<term>”` button: add the offered term once."""
    assert turn.payload is not None
    offers: dict[str, Any] = dict(turn.state.data.get(OFFERS) or {})
    offer = offers.get(turn.payload.args[0])
    if not isinstance(offer, dict) or "term" not in offer:
        raise ChatNotice(BUTTON_EXPIRED)
    if offer.get("done"):
        raise ChatNotice(f"“{offer['term']}” was already added.")
    result = await turn.services.vocabulary.add_words(turn.learner_id, [str(offer["term"])])
    offers[turn.payload.args[0]] = {**offer, "done": True}
    await turn.set_flow(turn.flow, {**turn.state.data, OFFERS: offers})
    replies = [Reply(text=render.add_result(result), edit=True)]
    pending = [[entry.id, entry.term] for entry in result.needs_translation]
    if pending:
        replies.append(await _ask_pending(turn, pending))
    return replies
