"""Text for Telegram: HTML escaping, and splitting long text where a reader expects a break.

Telegram limits a message to 4,096 characters and a caption to 1,024, counted in UTF-16 code
units after its HTML is parsed (an emoji outside the Basic Multilingual Plane counts twice, a
tag counts nothing, `&amp;` counts once). So the plain text is measured and split first, and
only each part is escaped and wrapped in tags: a split can never land inside an entity or a tag.

A `Styled` text is a list of runs (plain text, hidden or not); spoilers are the only style the
chat layer asks for. A run cut in two by a split is closed at the end of one part and reopened
at the start of the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

# How far into the window a boundary must be to be used: a paragraph break after ten characters
# would make a part of ten characters, so the next kind of boundary is tried instead.
_MIN_FILL = 0.3
_SENTENCE_END = re.compile(r"[.!?…。！？][)\]\"'”’»]*\s+")
_WHITESPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Text safe inside Telegram HTML: `&`, `<` and `>` escaped (quotes mean nothing outside tags)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True)
class Run:
    text: str
    spoiler: bool = False


def _fit(text: str, start: int, limit: int) -> int:
    """The largest end index such that text[start:end] is at most `limit` UTF-16 units."""
    units = 0
    index = start
    end = len(text)
    while index < end:
        units += 2 if ord(text[index]) > 0xFFFF else 1
        if units > limit:
            return index
        index += 1
    return end


def _boundary(text: str, start: int, end: int) -> tuple[int, int]:
    """Where to cut text[start:] given it may not go past `end`: (end of this part, start of next).

    Tries a paragraph break, a line break, the end of a sentence, a space, in that order; each
    must leave the part at least `_MIN_FILL` of the window. Otherwise a hard cut at `end`.
    """
    floor = start + max(1, int((end - start) * _MIN_FILL))
    window = text[start:end]
    for separator in ("\n\n", "\n"):
        cut = window.rfind(separator)
        if cut >= 0 and start + cut >= floor:
            return start + cut, start + cut + len(separator)
    last_sentence = None
    for match in _SENTENCE_END.finditer(window):
        last_sentence = match
    if last_sentence is not None and start + last_sentence.end() >= floor:
        stripped_end = start + last_sentence.start() + len(last_sentence.group().rstrip())
        return stripped_end, start + last_sentence.end()
    last_space = None
    for match in _WHITESPACE.finditer(window):
        last_space = match
    if last_space is not None and start + last_space.start() >= floor:
        return start + last_space.start(), start + last_space.end()
    return end, end


def split_points(text: str, limit: int = MESSAGE_LIMIT) -> list[tuple[int, int]]:
    """(start, end) ranges of `text` that each fit `limit`, cut at the most natural boundaries.

    Whitespace around each part is dropped (Telegram trims it anyway); parts that would hold
    only whitespace are left out.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[tuple[int, int]] = []
    start = 0
    length = len(text)
    while start < length:
        end = _fit(text, start, limit)
        if end >= length:
            parts.append((start, length))
            break
        cut, resume = _boundary(text, start, end)
        parts.append((start, cut))
        start = resume
    trimmed: list[tuple[int, int]] = []
    for a, b in parts:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def split_text(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The plain text in parts of at most `limit` UTF-16 units each."""
    return [text[a:b] for a, b in split_points(text, limit)]


def to_html(runs: list[Run], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Styled runs -> HTML messages (parse_mode HTML), each at most `limit` visible units."""
    plain = "".join(run.text for run in runs)
    spans: list[tuple[int, int, bool]] = []
    position = 0
    for run in runs:
        spans.append((position, position + len(run.text), run.spoiler))
        position += len(run.text)
    messages: list[str] = []
    for start, end in split_points(plain, limit):
        pieces: list[str] = []
        for span_start, span_end, spoiler in spans:
            a, b = max(start, span_start), min(end, span_end)
            if a >= b:
                continue
            chunk = escape(plain[a:b])
            pieces.append(f"<tg-spoiler>{chunk}</tg-spoiler>" if spoiler else chunk)
        messages.append("".join(pieces))
    return messages


def visible_len(runs: list[Run]) -> int:
    """What Telegram would count for these runs as one message."""
    return utf16_len("".join(run.text for run in runs).strip())
