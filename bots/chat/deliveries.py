"""Buttons on messages the background work sends (articles, reminders), and what pressing them does.

Background messages are built by core services as `OutgoingMessage`s with `ActionButton(label,
action, ref)`; a platform's `Messenger` turns each button into a chat-layer payload with
`button_payload`, so a press comes back to `ChatApp` like any other button. Their owner is PUBLIC
(the service that sent them does not know the chat layer's owner tags): the handler checks the
ownership through the service (`JobService.get` refuses someone else's job).
"""

from __future__ import annotations

from bots.chat import payloads
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
