"""The ONE table that turns errors into what the user reads.

Dispatch order in `ChatApp.handle`: a `ChatNotice` (raised by the chat layer itself for stale or
foreign buttons and refusals) → its text; a `DomainError` → `user_message()`; anything else →
`SOMETHING_WENT_WRONG` after logging the traceback.
"""

from __future__ import annotations

from collections.abc import Callable

from core.domain.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NoActivePair,
    NotAllowed,
    NotFound,
    ProviderNotConfigured,
    ProviderUnavailable,
    QuotaExceeded,
)

SOMETHING_WENT_WRONG = "Something went wrong on our side; nothing was lost. Please try again."
BUTTON_EXPIRED = "This button has expired."
NOT_YOUR_BUTTON = "This button isn't for you."


class ChatNotice(Exception):
    """A short answer that changes nothing: a late or foreign button, an admin refusal.

    Shown as a toast where the platform has one (button presses), and always as text.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _invalid_input(error: DomainError) -> str:
    assert isinstance(error, InvalidInput)
    if error.example:
        return f"{error.message}\nExample: {error.example}"
    return error.message


def _not_found(error: DomainError) -> str:
    assert isinstance(error, NotFound)
    what = error.what.strip().rstrip(".")
    if any(verb in f" {what} " for verb in (" is ", " are ", " was ", " isn't ")):
        return f"{what[:1].upper()}{what[1:]}."  # the service already wrote a sentence
    return f"Not found: {what}."


def _plain(error: DomainError) -> str:
    return str(error)


def _unavailable(error: DomainError) -> str:
    return f"{error} Please try again later."


# Most specific classes first: the first isinstance match wins.
_TABLE: list[tuple[type[DomainError], Callable[[DomainError], str]]] = [
    (InvalidInput, _invalid_input),
    (NotFound, _not_found),
    (NoActivePair, _plain),
    (Conflict, _plain),
    (NotAllowed, _plain),
    (QuotaExceeded, _plain),
    (ProviderNotConfigured, _plain),
    (ProviderUnavailable, _unavailable),
]


def user_message(error: DomainError) -> str:
    """What the learner reads for a domain error (never a traceback, never a secret)."""
    for error_type, render in _TABLE:
        if isinstance(error, error_type):
            text = render(error)
            if text:
                return text
    return str(error) or SOMETHING_WENT_WRONG
