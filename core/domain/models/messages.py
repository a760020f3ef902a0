"""Messages the background work sends through the `Messenger` port (no platform types)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.models.jobs import SpeechClip


@dataclass(frozen=True)
class ActionButton:
    """A button the chat layer handles: the adapter encodes (action, ref) as its own payload.

    action: "review" | "add_words" | "listen" …; ref: the id the action is about (a job id …).
    """

    label: str
    action: str
    ref: str


@dataclass
class OutgoingMessage:
    """Text (the adapter splits it when long), a hidden part, buttons, and/or a voice message.

    `voice_audio` carries the OGG/Opus bytes when the platform has no upload of `voice` to reuse.
    """

    text: str = ""
    spoiler: str | None = None  # Telegram: <tg-spoiler>; elsewhere behind a "Show translation" button
    buttons: list[list[ActionButton]] = field(default_factory=list)
    voice: SpeechClip | None = None
    voice_audio: bytes | None = None


@dataclass(frozen=True)
class SentMessage:
    """One message the platform accepted; `platform_file_id` is the reusable id of uploaded audio."""

    message_id: str
    platform_file_id: str | None = None
