"""Confirmations (/delete_me, /pack_delete): a question with Yes/Cancel buttons kept in the database."""

from __future__ import annotations

import secrets
from typing import Any

from bots.chat import render
from bots.chat.context import Turn
from bots.chat.errors import ChatNotice
from bots.chat.replies import Reply

CONFIRM = "confirm"
NO_LONGER_PENDING = "This question was already answered."


async def ask(turn: Turn, action: str, question: str, yes_label: str, **extra: str) -> Reply:
    """Ask before something that cannot be undone; the answer arrives as a cf.y / cf.n button."""
    token = secrets.token_hex(4)
    await turn.set_flow(CONFIRM, {"action": action, "token": token, **extra})
    return Reply(text=question, buttons=render.confirm_keyboard(turn.learner_id, token, yes_label))


async def take(turn: Turn) -> dict[str, Any]:
    """The pending confirmation this button answers, consumed so a second press applies nothing."""
    assert turn.payload is not None
    data = turn.state.data
    if turn.flow != CONFIRM or data.get("token") != turn.payload.args[0]:
        raise ChatNotice(NO_LONGER_PENDING)
    pending = dict(data)
    await turn.end_flow()
    return pending


async def button_cancel(turn: Turn) -> list[Reply]:
    """Cancel: nothing happens."""
    await take(turn)
    return [Reply(text="Cancelled: nothing was changed.", edit=True)]
