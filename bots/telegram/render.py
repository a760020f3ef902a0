"""Reply objects -> the Telegram messages that show them (pure: no network, unit-tested).

One `Reply` becomes one or more `Outgoing` messages: its text in HTML (split when over 4,096
characters, the translation in a `<tg-spoiler>`), then its chart as a photo (the text as its
caption when it fits 1,024 characters), its files as documents, its audio as a voice message.
The reply's buttons go on the last message it sends.

`plan` decides, for all the replies to one update, what the toast of a button press says, which
messages go to the chat the update came from and which to the user's private chat (a personal
answer in a group), and which single reply may edit the message whose button was pressed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bots.chat.replies import Button, FileOut, Reply
from bots.telegram.text import CAPTION_LIMIT, MESSAGE_LIMIT, Run, escape, to_html, visible_len

MAX_NOTICE_CHARS = 200  # answerCallbackQuery's text limit
PRIVATE_CHAT_LABEL = "Open private chat"
DEEP_LINK_START = "group"  # /start group: the learner opened the private chat from a group


@dataclass(frozen=True)
class TextOut:
    html: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class PhotoOut:
    file: FileOut
    caption_html: str | None = None
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class DocumentOut:
    file: FileOut
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class VoiceOut:
    file: FileOut
    markup: InlineKeyboardMarkup | None = None


Outgoing = TextOut | PhotoOut | DocumentOut | VoiceOut


@dataclass(frozen=True)
class Rendered:
    """The messages of one reply; `edit`: its first message replaces the pressed message."""

    messages: list[Outgoing]
    edit: bool = False


@dataclass
class Plan:
    """Everything to send for one update."""

    notice: str | None = None  # the toast of a button press ("" or None: answered without text)
    here: list[Rendered] = field(default_factory=list)  # to the chat the update came from
    private: list[Rendered] = field(default_factory=list)  # to the user's private chat (from a group)


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard of the reply's buttons (labels verbatim, payload as callback data)."""
    cleaned = [[InlineKeyboardButton(b.label, callback_data=b.payload) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(cleaned) if cleaned else None


def url_keyboard(label: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, url=url)]])


def _runs(reply: Reply) -> list[Run]:
    runs = [Run(reply.text)] if reply.text else []
    if reply.spoiler:
        if runs:
            runs.append(Run("\n\n"))
        runs.append(Run(reply.spoiler, spoiler=True))
    return runs


def render_reply(reply: Reply) -> list[Outgoing]:
    """The messages that show one reply, buttons on the last of them."""
    runs = _runs(reply)
    markup = keyboard(reply.buttons)
    caption: str | None = None
    texts: list[str] = []
    if runs and visible_len(runs) > 0:
        if reply.image is not None and visible_len(runs) <= CAPTION_LIMIT:
            caption = to_html(runs, CAPTION_LIMIT)[0]
        else:
            texts = to_html(runs, MESSAGE_LIMIT)
    if not texts and caption is None and reply.image is None and not reply.files and reply.audio is None:
        if markup is None:
            return []  # nothing to show
        texts = [escape("Choose:")]  # Telegram sends no message without text; the buttons need one
    messages: list[Outgoing] = [TextOut(html) for html in texts]
    if reply.image is not None:
        messages.append(PhotoOut(reply.image, caption))
    messages.extend(DocumentOut(file) for file in reply.files)
    if reply.audio is not None:
        messages.append(VoiceOut(reply.audio))
    if markup is not None:
        messages[-1] = _with_markup(messages[-1], markup)
    return messages


def _with_markup(message: Outgoing, markup: InlineKeyboardMarkup) -> Outgoing:
    if isinstance(message, TextOut):
        return TextOut(message.html, markup)
    if isinstance(message, PhotoOut):
        return PhotoOut(message.file, message.caption_html, markup)
    if isinstance(message, DocumentOut):
        return DocumentOut(message.file, markup)
    return VoiceOut(message.file, markup)


def _toast_only(reply: Reply) -> bool:
    """A refusal answered by the toast alone ("This button has expired.")."""
    return (
        bool(reply.notice)
        and reply.text == reply.notice
        and not reply.buttons
        and reply.image is None
        and not reply.files
        and reply.audio is None
        and not reply.spoiler
    )


def plan(replies: list[Reply], *, is_button: bool, is_group: bool, can_edit: bool) -> Plan:
    """Where each reply goes, and which one edits the pressed message.

    `can_edit`: the update is a button press on a message still there to edit. Only the first
    `edit` reply that is plain text (the message with the buttons was text) edits it, and only
    when it goes to the same chat; any other reply is a new message.
    """
    result = Plan()
    for reply in replies:
        if reply.notice and result.notice is None:
            result.notice = reply.notice[:MAX_NOTICE_CHARS]
        if is_button and _toast_only(reply):
            continue
        messages = render_reply(reply)
        if not messages:
            continue
        private = is_group and reply.private
        edit = (
            is_button
            and can_edit
            and reply.edit
            and not private
            and not any(r.edit for r in result.here)
            and isinstance(messages[0], TextOut)
        )
        (result.private if private else result.here).append(Rendered(messages, edit=edit))
    return result


def mention(name: str) -> str:
    """The user's name as shown in a group message (escaped)."""
    return escape(name.strip() or "there")


def private_sent_text(name: str) -> str:
    return f"{mention(name)}, I've answered you in our private chat."


def private_refused_text(name: str) -> str:
    return (
        f"{mention(name)}, I can't write to you privately yet: open our private chat, press Start, "
        "then send the command again."
    )


def private_chat_url(username: str, *, deep_link: bool) -> str:
    base = f"https://t.me/{username}"
    return f"{base}?start={DEEP_LINK_START}" if deep_link else base
