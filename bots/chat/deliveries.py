"""Buttons on messages the background work sends (articles, reminders), and what pressing them does.

Background messages are built by core services as `OutgoingMessage`s with `ActionButton(label,
action, ref)`; a platform's `Messenger` turns each button into a chat-layer payload with
`button_payload`, so a press comes back to `ChatApp` like any other button. Their owner is PUBLIC
(the service that sent them does not know the chat layer's owner tags): the handler checks the
ownership through the service (`JobService.get` refuses someone else's job).
"""

from __future__ import annotations

from bots.chat import payloads, render
from bots.chat.context import Turn
from bots.chat.errors import BUTTON_EXPIRED, NOT_YOUR_BUTTON, ChatNotice
from bots.chat.flows import review
from bots.chat.replies import Reply
from core.domain.errors import NotFound
from core.domain.models import ActionButton

# ActionButton.action -> chat-layer payload action
_PAYLOAD_ACTIONS: dict[str, str] = {
    "add_words": "jb.w",  # ref: the article's job id
    "review": "rm.r",  # ref: unused
}

# Presses of these never create a learner: only the learner they were sent to has seen them.
PERSONAL_ACTIONS = frozenset(_PAYLOAD_ACTIONS.values())


def button_payload(button: ActionButton) -> str:
    """The payload a platform puts on `button` (Telegram callback_data, Discord custom_id).

    ValueError for an action the chat layer does not handle (a programming error).
    """
    action = _PAYLOAD_ACTIONS.get(button.action)
    if action is None:
        raise ValueError(f"no chat-layer action for button action {button.action!r}")
    args = (button.ref,) if payloads.ACTIONS[action] else ()
    return payloads.encode(action, payloads.PUBLIC, *args)


# --- presses ---------------------------------------------------------------------------------


async def button_add_words(turn: Turn) -> list[Reply]:
    """Add all words: the article's new words join the learner's bank; a second press adds nothing."""
    assert turn.payload is not None
    job_id = turn.payload.args[0]
    jobs, articles = turn.services.jobs, turn.services.articles
    if jobs is None or articles is None:
        raise ChatNotice(BUTTON_EXPIRED)
    try:
        job = await jobs.get(turn.learner_id, job_id)
        words = await articles.new_words(turn.learner_id, job_id)
    except NotFound:
        raise ChatNotice(NOT_YOUR_BUTTON) from None
    if not words:
        raise ChatNotice("This article has no new words to add.")
    target, native = str(job.params.get("target", "")), str(job.params.get("native", ""))
    pair = await turn.services.languages.find_active_pair(turn.learner_id)
    if pair is None or (pair.target, pair.native) != (target, native):
        return [
            Reply(
                text=f"These words are {render.language_name(target)} → {render.language_name(native)}: "
                f"switch with /language {target} {native}, then press Add all words again."
            )
        ]
    lines = [f"{term} = {translation}" for term, translation in words]
    result = await turn.services.vocabulary.add_words(turn.learner_id, lines, source="article")
    if not result.added and not result.needs_translation and not result.rejected:
        text = f"Nothing new: you already have all {render.words(len(words))} of this article."
        return [Reply(text=text, notice=text)]
    return [Reply(text=render.add_result(result) + "\n\nThey're ready for /review.")]


async def button_review(turn: Turn) -> list[Reply]:
    """Review, on a reminder: start (or continue) a review session."""
    return await review.cmd_review(turn)
