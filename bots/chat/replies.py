"""What the chat layer answers: Reply objects each adapter renders natively."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    label: str  # contract wording from product.md; an adapter may prefix an emoji, never reword
    payload: str  # opaque, at most 64 bytes (Telegram's callback_data limit)


@dataclass(frozen=True)
class FileOut:
    filename: str
    content: bytes
    mime_type: str


@dataclass
class Reply:
    text: str = ""
    buttons: list[list[Button]] = field(default_factory=list)  # rows of buttons
    image: FileOut | None = None  # a chart (PNG)
    files: list[FileOut] = field(default_factory=list)
    audio: FileOut | None = None  # a voice message (OGG/Opus)
    spoiler: str | None = None  # hidden text (Telegram spoiler; elsewhere behind a button)
    edit: bool = False  # replace the message the pressed button was on, where the platform can
    private: bool = False  # answer privately (Discord ephemeral; Telegram: in the private chat)
    notice: str | None = None  # a short toast for a button press (Telegram answerCallbackQuery)
