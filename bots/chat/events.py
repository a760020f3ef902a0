"""What reaches the chat layer: one platform-neutral Event per incoming update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    COMMAND = "command"  # "/add comer" -> command="add", args="comer"
    TEXT = "text"  # a plain message
    BUTTON = "button"  # a button press: `payload` is the button's opaque data
    VOICE = "voice"  # a voice note: `attachment` holds the audio
    FILE = "file"  # a document: `attachment` holds it; `text` is the caption (maybe a command)


@dataclass(frozen=True)
class Attachment:
    """A file or voice note. Its bytes are either in `content`, or fetched on demand by `read()`.

    An adapter whose platform says what a file is (type, size, duration) without sending it passes
    `fetch` instead of the bytes, so a voice note the chat layer only answers ("voice answers are not
    configured") is never downloaded; `size` is then the platform's byte count.
    """

    filename: str
    content: bytes = b""
    mime_type: str | None = None
    duration_s: float | None = None  # voice notes
    size: int | None = None  # bytes, as the platform tells it (known before any download)
    fetch: Callable[[], Awaitable[bytes]] | None = field(default=None, compare=False, repr=False)

    @property
    def empty(self) -> bool:
        """No bytes at all: nothing in `content` and nothing to fetch (or a platform size of 0)."""
        if self.content:
            return False
        return self.fetch is None or self.size == 0

    async def read(self) -> bytes:
        """The bytes: `content`, or what `fetch` downloads (the caller keeps them; each call fetches)."""
        if self.content or self.fetch is None:
            return self.content
        return await self.fetch()


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
