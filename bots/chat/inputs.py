"""Checks on raw input before any handler runs: length limits, commands in captions, voice notes."""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from bots.chat.context import Turn
from bots.chat.events import Attachment, Event
from bots.chat.parsing import parse_command
from core.domain.errors import InvalidInput

MAX_MESSAGE_CHARS = 4000
MAX_VOICE_SECONDS = 60
_AUDIO_MAGIC = (b"OggS", b"RIFF", b"ID3", b"fLaC", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xf1", b"\x1aE\xdf\xa3")
_AUDIO_CONTAINERS = frozenset({"application/ogg", "video/ogg", "video/webm"})
_REVIEW = "review"
# C0/C1 control characters but tab, newline and carriage return: Postgres refuses NUL in text,
# and none of them means anything in a word or a command.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TEXT_FIELDS = ("text", "command", "args", "payload", "display_name")


def command_of(event: Event) -> tuple[str | None, str]:
    """The command and its arguments: as the adapter parsed them, or parsed from the text/caption."""
    if event.command:
        return event.command.lower().lstrip("/"), event.args
    if event.text.lstrip().startswith("/"):
        command, args = parse_command(event.text)
        return command, args if command is not None else ""
    return None, ""


def without_control_characters(event: Event) -> Event:
    """The event with control characters removed from its text fields (the same object when clean)."""
    dirty: dict[str, Any] = {
        name: _CONTROL_CHARACTERS.sub("", value)
        for name in _TEXT_FIELDS
        if isinstance(value := getattr(event, name), str) and _CONTROL_CHARACTERS.search(value)
    }
    return dataclasses.replace(event, **dirty) if dirty else event


def check_length(event: Event, body: str) -> None:
    """Refuse a message over the limit before any work is done."""
    size = max(len(body), len(event.text))
    if size > MAX_MESSAGE_CHARS:
        raise InvalidInput(
            f"That message is too long: {size:,} characters (the limit is {MAX_MESSAGE_CHARS:,}). "
            "Send it in shorter parts.",
            example="/add comer = to eat — one word per line, up to 100 lines per message",
        )


def _is_audio(attachment: Attachment) -> bool:
    mime = (attachment.mime_type or "").lower()
    if mime.startswith("audio/") or mime in _AUDIO_CONTAINERS:
        return True
    return not mime and attachment.content.startswith(_AUDIO_MAGIC)


def voice_problem(turn: Turn) -> str:
    """What a voice note gets: what is wrong with it, or which setting enables voice answers."""
    attachment = turn.event.attachment
    duration = attachment.duration_s if attachment is not None else None
    if duration is not None and math.isnan(duration):
        duration = None  # unknown; the platform could not tell
    if attachment is None or attachment.empty or (duration is not None and duration <= 0):
        return "That voice note is empty: hold the microphone button, speak, then release."
    if duration is not None and duration > MAX_VOICE_SECONDS:
        return f"That voice note is too long: voice answers are at most {MAX_VOICE_SECONDS} seconds."
    if not _is_audio(attachment):
        return "That isn't audio. Send a voice note, or type your answer."
    if turn.services.settings.DEEPGRAM_API_KEY is None:
        return "Voice answers are not configured: set DEEPGRAM_API_KEY to enable them. Type your answer instead."
    if turn.flow != _REVIEW:
        return "Voice notes answer review cards: start a session with /review."
    return "Voice answers are not available yet: type your answer instead."
