"""Telegram updates -> chat-layer Events (pure: no network; downloads are described, not done).

- A message starting with "/" is a COMMAND (`/cmd@otherbot` in a group is not addressed to us).
- In a private chat everything is addressed to the bot. In a group only a command (to us or
  without "@"), a reply to one of the bot's messages, or a message mentioning @username is;
  anything else becomes an Event with `addressed_to_bot=False` (the chat layer stays silent).
- A button press (callback query) is a BUTTON event with the callback data as payload.
- A document is a FILE (its caption parsed like a message), a voice note (or an audio file) a
  VOICE; both are downloaded by the bot before the event goes on, unless the document is over
  the Bot API's 20 MB download limit, which the user is told instead.
- Edited messages, channel posts, messages from bots or on behalf of a chat, and other kinds of
  update get no Event at all (`None`): nothing is answered.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import timedelta

from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.warnings import PTBDeprecationWarning

from bots.chat.events import Event, EventKind
from bots.chat.parsing import parse_command

PLATFORM = "telegram"
DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024  # what getFile serves on the public Bot API
TOO_BIG = (
    "That file is over Telegram's 20 MB download limit, so I can't read it. "
    "Split it into smaller files (a pack import takes up to 50,000 rows per file) and send them one by one."
)
UNSUPPORTED = (
    "I can read text, voice notes and CSV/TSV files, but not this kind of message. Send /help to see what I can do."
)
_GROUP_TYPES = frozenset({Chat.GROUP, Chat.SUPERGROUP})
_COMMAND_TARGET = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@([A-Za-z0-9_]{1,64}))?(?:\s|$)", re.ASCII)


@dataclass(frozen=True)
class Download:
    """A file to fetch with getFile before the event is handled."""

    file_id: str
    filename: str
    mime_type: str | None
    size: int | None
    duration_s: float | None = None


@dataclass(frozen=True)
class Incoming:
    """One update the bot answers, with everything needed to answer it."""

    event: Event  # for a download: without its attachment yet
    chat_id: int  # where the update came from (and where answers go)
    user_id: int
    is_group: bool
    callback_query_id: str | None = None
    pressed_message_id: int | None = None  # the message whose button was pressed, when it can be edited
    download: Download | None = None
    refusal: str | None = None  # answered by the adapter itself; the chat layer is not asked

    @property
    def is_button(self) -> bool:
        return self.callback_query_id is not None


def display_name(user: User) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part).strip()


def ordering_key(update: Update) -> int | str:
    """Updates with the same key are handled one after another, in order (per chat)."""
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return f"user:{user.id}" if user is not None else f"update:{update.update_id}"


def convert(update: Update, *, username: str, bot_id: int) -> Incoming | None:
    """The Incoming for an update the bot answers, or None for one it ignores."""
    if update.callback_query is not None:
        return _button(update, update.callback_query)
    message = update.message
    if message is None:  # edited messages, channel posts, polls, member updates…
        return None
    return _message(update, message, username=username, bot_id=bot_id)


def _button(update: Update, query: CallbackQuery) -> Incoming | None:
    user = query.from_user
    if query.data is None:  # a game's button; nothing of ours
        return None
    message = query.message
    chat_id = message.chat.id if message is not None else user.id
    is_group = message is not None and message.chat.type in _GROUP_TYPES
    editable = message is not None and message.is_accessible  # an inaccessible one (date 0) is too old
    event = Event(
        platform=PLATFORM,
        user_id=str(user.id),
        chat_id=str(chat_id),
        display_name=display_name(user),
        kind=EventKind.BUTTON,
        payload=query.data,
        update_id=str(update.update_id),
        is_group=is_group,
    )
    return Incoming(
        event=event,
        chat_id=chat_id,
        user_id=user.id,
        is_group=is_group,
        callback_query_id=query.id,
        pressed_message_id=message.message_id if editable and message is not None else None,
    )


def _message(update: Update, message: Message, *, username: str, bot_id: int) -> Incoming | None:
    user = message.from_user
    if user is None or user.is_bot or message.sender_chat is not None:
        return None  # channel posts forwarded into a group, anonymous admins, other bots
    chat = message.chat
    is_group = chat.type in _GROUP_TYPES
    if chat.type != Chat.PRIVATE and not is_group:
        return None
    text = message.text if message.text is not None else (message.caption or "")
    if is_group:
        addressed = _addressed(message, text, username=username, bot_id=bot_id)
    else:  # a private chat is all ours, except a command meant for another bot (`/words@otherbot`)
        addressed = not _for_another_bot(text, username)
    if is_group and addressed:
        text = _without_mention(text, username)
    command, args = parse_command(text)
    download: Download | None = None
    refusal: str | None = None
    if message.document is not None:
        document = message.document
        kind = EventKind.FILE
        download = Download(
            file_id=document.file_id,
            filename=document.file_name or "file",
            mime_type=document.mime_type,
            size=document.file_size,
        )
    elif message.voice is not None or message.audio is not None:
        audio = message.voice or message.audio
        assert audio is not None
        kind = EventKind.VOICE
        download = Download(
            file_id=audio.file_id,
            filename=getattr(audio, "file_name", None) or "voice.ogg",
            mime_type=audio.mime_type,
            size=audio.file_size,
            duration_s=seconds(audio, "duration"),
        )
    elif message.text is not None or message.caption:
        kind = EventKind.COMMAND if command is not None else EventKind.TEXT
    else:  # stickers, photos without a caption, locations…
        kind = EventKind.TEXT
        refusal = UNSUPPORTED
    if not addressed:
        download = None  # a silence needs no file
        refusal = None
    elif download is not None and download.size is not None and download.size > DOWNLOAD_LIMIT_BYTES:
        download = None
        refusal = TOO_BIG
    event = Event(
        platform=PLATFORM,
        user_id=str(user.id),
        chat_id=str(chat.id),
        display_name=display_name(user),
        kind=kind,
        text=text,
        command=command,
        args=args if command is not None else "",
        update_id=str(update.update_id),
        is_group=is_group,
        addressed_to_bot=addressed,
    )
    return Incoming(
        event=event, chat_id=chat.id, user_id=user.id, is_group=is_group, download=download, refusal=refusal
    )


def seconds(obj: object, attribute: str) -> float | None:
    """A PTB time period (an int or a timedelta, depending on PTB_TIMEDELTA) in seconds.

    PTB 22 warns on every read of such an attribute while it still returns ints; the value is
    read with that warning silenced, whichever type it has.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = getattr(obj, attribute, None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) if isinstance(value, int | float) else None


def _addressed(message: Message, text: str, *, username: str, bot_id: int) -> bool:
    """In a group: a command to us (or to nobody), a reply to the bot, or a mention of it."""
    match = _COMMAND_TARGET.match(text.lstrip())
    if match is not None:
        target = match.group(1)
        return target is None or target.lower() == username.lower()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return True
    return _mentions(text, username)


def _for_another_bot(text: str, username: str) -> bool:
    """`/cmd@somebot …` where somebot is not us."""
    match = _COMMAND_TARGET.match(text.lstrip())
    target = match.group(1) if match is not None else None
    return target is not None and target.lower() != username.lower()


def _mentions(text: str, username: str) -> bool:
    return _mention_pattern(username).search(text) is not None


def _mention_pattern(username: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)", re.IGNORECASE)


def _without_mention(text: str, username: str) -> str:
    """'@langlearn_bot comer' -> 'comer' (the mention only addressed the message)."""
    if text.lstrip().startswith("/"):
        return text
    stripped = _mention_pattern(username).sub("", text)
    return " ".join(stripped.split()) if "\n" not in stripped else stripped.strip()
