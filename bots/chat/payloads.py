"""Button payloads: short opaque strings that say which action and which object a button is for.

Format: ``<action>:<owner>:<arg>:<arg>…`` — at most 64 bytes (Telegram's callback_data limit).
`owner` is a short hash of the learner the button was made for ("-" for buttons anyone may
press, such as a pack's "Add to my words"), so a press by someone else is recognised without a
database lookup. Anything that does not decode is treated as an expired button.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

MAX_PAYLOAD_BYTES = 64
PUBLIC = "-"

# action -> how many arguments it carries
ACTIONS: dict[str, int] = {
    "ob.t": 1,  # onboarding: target language code
    "ob.n": 1,  # onboarding: native language code
    "ob.l": 1,  # onboarding: level
    "ob.c": 1,  # onboarding: "Type a code" for step t|n
    "lg.s": 1,  # switch to a language pair id
    "lg.a": 0,  # add a language
    "rv.s": 2,  # show the answer: card id, showing number in the session
    "rv.r": 3,  # rate: card id, showing number, rating 1-4
    "rv.l": 1,  # listen to a card id
    "wd.p": 1,  # words page number
    "tr.go": 0,  # provide missing translations
    "ad": 1,  # add an offered term (offer id)
    "pk.v": 1,  # preview a pack slug
    "pk.a": 1,  # subscribe to a pack slug
    "cf.y": 1,  # confirm a pending action (token)
    "cf.n": 1,  # cancel a pending action (token)
    "jb.w": 1,  # Add all words of a delivered article (job id)
    "rm.r": 0,  # Review, on a reminder
}

_PART = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_OWNER = re.compile(r"^(-|[0-9a-f]{8})$")


class PayloadTooLong(Exception):
    """A programming error: a button would not fit the platforms' payload limit."""


@dataclass(frozen=True)
class Payload:
    action: str
    owner: str  # owner tag, or PUBLIC
    args: tuple[str, ...]


@lru_cache(maxsize=1024)
def owner_tag(learner_id: str) -> str:
    """Eight hex characters derived from the learner id (not secret; only tells buttons apart).

    Cached: one reply's buttons all carry the same learner's tag, and each press checks it again.
    """
    return hashlib.blake2s(learner_id.encode(), digest_size=4).hexdigest()


def encode(action: str, owner: str, *args: object) -> str:
    """`owner` is a learner id, or PUBLIC for buttons anyone may press."""
    parts = [str(arg) for arg in args]
    if action not in ACTIONS or len(parts) != ACTIONS[action] or not all(_PART.match(p) for p in parts):
        raise ValueError(f"bad button payload: {action} {parts}")
    tag = PUBLIC if owner == PUBLIC else owner_tag(owner)
    payload = ":".join([action, tag, *parts])
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise PayloadTooLong(payload)
    return payload


@lru_cache(maxsize=256)
def decode(payload: str | None) -> Payload | None:
    """The decoded payload, or None for anything we did not make (or no longer understand).

    Cached (the result is immutable): a press is decoded when its turn starts and again when routed.
    """
    if not payload or len(payload.encode()) > MAX_PAYLOAD_BYTES:
        return None
    parts = payload.split(":")
    if len(parts) < 2:
        return None
    action, owner, args = parts[0], parts[1], tuple(parts[2:])
    if action not in ACTIONS or not _OWNER.match(owner) or len(args) != ACTIONS[action]:
        return None
    if not all(_PART.match(arg) for arg in args):
        return None
    return Payload(action, owner, args)
