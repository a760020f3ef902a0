"""What reaches the chat layer: one platform-neutral Event per incoming update."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventKind(StrEnum):
    COMMAND = "command"  # "/add comer" -> command="add", args="comer"
    TEXT = "text"  # a plain message
    BUTTON = "button"  # a button press: `payload` is the button's opaque data
    VOICE = "voice"  # a voice note: `attachment` holds the audio
    FILE = "file"  # a document: `attachment` holds it; `text` is the caption (maybe a command)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str | None = None
    duration_s: float | None = None  # voice notes


@dataclass(frozen=True)
class Event:
    platform: str  # "telegram" | "discord" | "console"
    user_id: str  # platform user id
    chat_id: str  # where to answer (private chat, channel…)
    display_name: str
    kind: EventKind
    text: str = ""  # message text, or the caption of a file
    command: str | None = None  # lower-case, without "/" and "@botname"
    args: str = ""  # everything after the command, newlines kept
    payload: str | None = None  # button data
    attachment: Attachment | None = None
    update_id: str | None = None  # the platform's id for de-duplicating redeliveries
    is_group: bool = False
    addressed_to_bot: bool = True  # False: a group message not meant for the bot (silence)
