"""Long texts cut into pieces that each fit one platform message (a job's delivery, `JobRun.deliver_text`)."""

from __future__ import annotations

import re

# A text piece of at most this many UTF-16 code units (plus a short label) is one platform
# message on every messenger we have (Telegram's limit is 4,096).
TEXT_PIECE_UNITS = 3500
_SENTENCE_END = re.compile(r"[.!?…。！？][)\]\"'”’»]*\s")


def _units(text: str) -> int:
    """Length as messaging platforms count it (Telegram): UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _fit(text: str, limit: int) -> int:
    """The largest end such that text[:end] is at most `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def text_pieces(text: str, limit: int = TEXT_PIECE_UNITS) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 code units, none empty, in order.

    A piece ends at the last paragraph break, else line break, else sentence end, else space of
    its window that leaves it at least half full; else at the window's end.
    """
    pieces: list[str] = []
    rest = text.strip()
    while _units(rest) > limit:
        end = max(1, _fit(rest, limit))
        window, floor = rest[:end], max(1, end // 2)
        cut = window.rfind("\n\n")
        if cut < floor:
            cut = window.rfind("\n")
        if cut < floor:
            cut = max((match.end() for match in _SENTENCE_END.finditer(window)), default=-1)
        if cut < floor:
            cut = window.rfind(" ")
        if cut < floor:
            cut = end
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
