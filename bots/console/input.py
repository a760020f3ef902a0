r"""Typed lines -> what the console does: send an event, press a button, or tell the user why not.

Console conventions (documented in docs/console.md):
- `/command args` and plain text are sent as they are;
- a bare number presses that button of the most recent reply that had buttons;
- a trailing `@path` attaches that file (the rest of the line is its caption), an audio file
  without a caption is sent as a voice note;
- a leading backslash sends the rest literally (`\3` sends the text "3").
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from bots.chat.events import Attachment, Event, EventKind
from bots.chat.parsing import parse_command
from bots.chat.replies import Button

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # what a Telegram bot may download; keep the console no laxer
QUIT_COMMANDS = frozenset({"/quit", "/exit"})
_BARE_NUMBER = re.compile(r"^\d{1,4}$")
_TRAILING_PATH = re.compile(r"(?:^|\s)@(\"[^\"]+\"|'[^']+'|\S+)\s*$")
_AUDIO_SUFFIXES = frozenset({".ogg", ".oga", ".opus", ".wav", ".mp3", ".m4a", ".flac"})

PLATFORM = "console"


@dataclass(frozen=True)
class Identity:
    """Who the console speaks for: one local learner, their own private chat."""

    user_id: str

    def event(
        self,
        kind: EventKind,
        *,
        text: str = "",
        command: str | None = None,
        args: str = "",
        payload: str | None = None,
        attachment: Attachment | None = None,
    ) -> Event:
        # No update_id: nothing is redelivered here, and a counter restarting at 1 would collide.
        return Event(
            platform=PLATFORM,
            user_id=self.user_id,
            chat_id=self.user_id,
            display_name=self.user_id,
            kind=kind,
            text=text,
            command=command,
            args=args,
            payload=payload,
            attachment=attachment,
        )


@dataclass(frozen=True)
class Send:
    event: Event


@dataclass(frozen=True)
class Say:
    """Answered by the console itself; nothing reaches the chat layer."""

    message: str


@dataclass(frozen=True)
class Quit:
    pass


Action = Send | Say | Quit | None  # None: an empty line, nothing to do


def interpret(line: str, identity: Identity, buttons: list[Button]) -> Action:
    """Decide what one typed line means; never raises on user input."""
    text = line.strip()
    if not text:
        return None
    if text.lower() in QUIT_COMMANDS:
        return Quit()
    if text.startswith("\\"):
        return _message(text[1:], identity)
    if _BARE_NUMBER.match(text):
        return _press(int(text), identity, buttons)
    match = _TRAILING_PATH.search(text)
    if match is not None:
        return _attach(text[: match.start()].strip(), match.group(1).strip("\"'"), identity)
    return _message(text, identity)


def _message(text: str, identity: Identity) -> Send:
    command, args = parse_command(text)
    if command is None:
        return Send(identity.event(EventKind.TEXT, text=text))
    return Send(identity.event(EventKind.COMMAND, text=text, command=command, args=args))


def _press(number: int, identity: Identity, buttons: list[Button]) -> Send | Say:
    if not buttons:
        return Say("There are no buttons to press right now. Type a command (/help lists them).")
    if not 1 <= number <= len(buttons):
        return Say(
            f"There is no button [{number}]: choose 1–{len(buttons)}. To send the number as text, type \\{number}"
        )
    return Send(identity.event(EventKind.BUTTON, payload=buttons[number - 1].payload))


def _attach(caption: str, raw_path: str, identity: Identity) -> Send | Say:
    path = Path(raw_path).expanduser()
    try:
        size = path.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            return Say(f"{path} is too large to attach ({size // 1_048_576} MB; at most 20 MB).")
        content = path.read_bytes()
    except FileNotFoundError:
        return Say(f"No file at {path}. A trailing @path attaches a file, e.g. /pack_import my-pack @words.csv")
    except IsADirectoryError:
        return Say(f"{path} is a folder; attach a file instead.")
    except OSError as exc:
        return Say(f"Cannot read {path}: {exc.strerror}.")
    mime_type = mimetypes.guess_type(path.name)[0]
    is_voice = not caption and path.suffix.lower() in _AUDIO_SUFFIXES
    attachment = Attachment(
        filename=path.name,
        content=content,
        mime_type=mime_type,
        duration_s=_audio_duration(path) if is_voice else None,
    )
    if is_voice:
        return Send(identity.event(EventKind.VOICE, attachment=attachment))
    command, args = parse_command(caption)
    return Send(identity.event(EventKind.FILE, text=caption, command=command, args=args, attachment=attachment))


def _audio_duration(path: Path) -> float | None:
    """Seconds of audio when libsndfile can read the file; the chat layer judges the rest."""
    try:
        import soundfile

        return float(soundfile.info(str(path)).duration)
    except Exception:  # not audio libsndfile knows: let the chat layer say so
        return None
