"""/stop and /cancel: leave whatever flow is going on, saying what happened to it."""

from __future__ import annotations

from bots.chat.context import Turn
from bots.chat.flows import review, words
from bots.chat.flows.confirm import CONFIRM
from bots.chat.flows.start import ONBOARDING
from bots.chat.replies import Reply


async def cmd_stop(turn: Turn) -> list[Reply]:
    """End a review session with its summary, or leave any other flow."""
    flow = turn.flow
    if flow == review.REVIEW:
        return [await review.end_session(turn)]
    if flow == words.TRANSLATE:
        reply = words.leave_translate(turn)
        await turn.end_flow()
        return [reply]
    if flow == ONBOARDING:
        await turn.end_flow()
        return [Reply(text="Stopped the setup. Send /start when you want to pick your languages.")]
    if flow == CONFIRM:
        await turn.end_flow()
        return [Reply(text="Cancelled: nothing was changed.")]
    return [Reply(text="Nothing to stop. Start a review with /review.")]


async def cmd_cancel(turn: Turn) -> list[Reply]:
    """Same as /stop: the learner may use either word."""
    return await cmd_stop(turn)
