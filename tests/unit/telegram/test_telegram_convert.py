"""Telegram updates -> chat-layer events: who, where, what, and whether it is meant for the bot."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bots.chat.events import EventKind
from bots.telegram.convert import DOWNLOAD_LIMIT_BYTES, TOO_BIG, UNSUPPORTED, Incoming, convert, ordering_key

BOT = "langlearn_bot"
BOT_ID = 4242
ANA = {"id": 111, "is_bot": False, "first_name": "Ana", "last_name": "López"}
GROUP = {"id": -100500, "type": "supergroup", "title": "Spanish club"}
PRIVATE = {"id": 111, "type": "private", "first_name": "Ana"}


def message(text: str | None = None, *, chat: dict[str, Any] = PRIVATE, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"message_id": 7, "date": 1_700_000_000, "chat": chat, "from": ANA, **extra}
    if text is not None:
        data["text"] = text
        if text.startswith("/"):
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return data


def update(update_id: int = 501, **fields: Any) -> Update:
    parsed = Update.de_json({"update_id": update_id, **fields}, None)
    assert parsed is not None
    return parsed


def incoming(upd: Update) -> Incoming:
    result = convert(upd, username=BOT, bot_id=BOT_ID)
    assert result is not None
    return result


def test_a_private_text_is_a_text_event_from_that_user() -> None:
    got = incoming(update(message=message("comer")))
    event = got.event
    assert (event.platform, event.user_id, event.chat_id, event.display_name) == ("telegram", "111", "111", "Ana López")
    assert (event.kind, event.text, event.update_id) == (EventKind.TEXT, "comer", "501")
    assert event.addressed_to_bot and not event.is_group
    assert (got.chat_id, got.user_id, got.download, got.refusal) == (111, 111, None, None)


def test_a_command_keeps_its_arguments_and_newlines() -> None:
    event = incoming(update(message=message("/ADD comer = to eat\nbeber = to drink"))).event
    assert (event.kind, event.command, event.args) == (EventKind.COMMAND, "add", "comer = to eat\nbeber = to drink")


def test_in_a_group_only_commands_replies_and_mentions_are_addressed() -> None:
    plain = incoming(update(message=message("hola a todos", chat=GROUP))).event
    assert plain.is_group and not plain.addressed_to_bot

    ours = incoming(update(message=message(f"/review@{BOT.upper()}", chat=GROUP))).event
    assert ours.addressed_to_bot and ours.command == "review"
    bare = incoming(update(message=message("/review", chat=GROUP))).event
    assert bare.addressed_to_bot
    other = incoming(update(message=message("/review@other_bot", chat=GROUP))).event
    assert other.kind == EventKind.COMMAND and not other.addressed_to_bot

    bot_message = {"message_id": 3, "date": 1, "chat": GROUP, "from": {"id": BOT_ID, "is_bot": True, "first_name": "L"}}
    reply = incoming(update(message=message("casa", chat=GROUP, reply_to_message=bot_message))).event
    assert reply.addressed_to_bot and reply.text == "casa"

    mention = incoming(update(message=message(f"@{BOT} casa", chat=GROUP))).event
    assert mention.addressed_to_bot and mention.text == "casa"
    lookalike = incoming(update(message=message(f"@{BOT}2 casa", chat=GROUP))).event
    assert not lookalike.addressed_to_bot


def test_in_a_private_chat_everything_is_addressed_but_a_command_for_another_bot() -> None:
    assert incoming(update(message=message("hola"))).event.addressed_to_bot
    ours = incoming(update(message=message(f"/help@{BOT.upper()}"))).event
    assert ours.addressed_to_bot and ours.command == "help"
    assert incoming(update(message=message("/help"))).event.addressed_to_bot
    other = incoming(update(message=message("/words@someotherbot"))).event
    assert other.kind == EventKind.COMMAND and not other.addressed_to_bot


def test_a_button_press_carries_its_data_and_the_message_to_edit() -> None:
    query = {
        "id": "cb1",
        "from": ANA,
        "chat_instance": "ci",
        "data": "rv.s:ab12cd34:7:1",
        "message": {"message_id": 55, "date": 1_700_000_000, "chat": PRIVATE, "text": "comer"},
    }
    got = incoming(update(callback_query=query))
    assert got.event.kind == EventKind.BUTTON and got.event.payload == "rv.s:ab12cd34:7:1"
    assert (got.callback_query_id, got.pressed_message_id, got.chat_id) == ("cb1", 55, 111)
    assert got.is_button


def test_a_press_on_a_message_too_old_to_read_cannot_edit_it() -> None:
    query = {
        "id": "cb2",
        "from": ANA,
        "chat_instance": "ci",
        "data": "wd.p:-:2",
        "message": {"message_id": 56, "date": 0, "chat": PRIVATE},  # InaccessibleMessage
    }
    got = incoming(update(callback_query=query))
    assert got.pressed_message_id is None and got.event.payload == "wd.p:-:2"


def test_a_document_with_a_command_caption_is_a_file_to_download() -> None:
    document = {"file_id": "F1", "file_unique_id": "U1", "file_name": "food.csv", "mime_type": "text/csv"}
    got = incoming(update(message=message(caption="/pack_import food", document={**document, "file_size": 1234})))
    assert got.event.kind == EventKind.FILE
    assert (got.event.command, got.event.args, got.event.text) == ("pack_import", "food", "/pack_import food")
    assert got.download is not None
    assert (got.download.file_id, got.download.filename, got.download.size) == ("F1", "food.csv", 1234)


def test_a_document_over_20_mb_is_refused_without_a_download() -> None:
    document = {"file_id": "F2", "file_unique_id": "U2", "file_name": "big.csv", "file_size": DOWNLOAD_LIMIT_BYTES + 1}
    got = incoming(update(message=message(caption="/pack_import food", document=document)))
    assert got.download is None and got.refusal == TOO_BIG


def test_a_voice_note_is_a_voice_event_with_its_duration() -> None:
    voice = {"file_id": "V1", "file_unique_id": "UV1", "duration": 3, "mime_type": "audio/ogg", "file_size": 9000}
    got = incoming(update(message=message(voice=voice)))
    assert got.event.kind == EventKind.VOICE
    assert got.download is not None and got.download.duration_s == 3.0 and got.download.filename == "voice.ogg"


def test_a_group_file_not_for_the_bot_is_not_downloaded() -> None:
    document = {"file_id": "F3", "file_unique_id": "U3", "file_name": "notes.csv"}
    got = incoming(update(message=message(chat=GROUP, document=document)))
    assert not got.event.addressed_to_bot and got.download is None


def test_a_sticker_gets_a_hint_in_private_and_silence_in_a_group() -> None:
    sticker = {
        "file_id": "S1",
        "file_unique_id": "US1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    assert incoming(update(message=message(sticker=sticker))).refusal == UNSUPPORTED
    in_group = incoming(update(message=message(sticker=sticker, chat=GROUP)))
    assert not in_group.event.addressed_to_bot and in_group.refusal is None


def test_edits_channel_posts_and_bots_get_no_event() -> None:
    assert convert(update(edited_message={**message("x"), "edit_date": 2}), username=BOT, bot_id=BOT_ID) is None
    channel = {"message_id": 1, "date": 1, "chat": {"id": -1001, "type": "channel", "title": "News"}, "text": "hi"}
    assert convert(update(channel_post=channel), username=BOT, bot_id=BOT_ID) is None
    from_bot = {**message("hi"), "from": {"id": 9, "is_bot": True, "first_name": "Other"}}
    assert convert(update(message=from_bot), username=BOT, bot_id=BOT_ID) is None


def test_updates_are_ordered_per_chat() -> None:
    assert ordering_key(update(message=message("a"))) == 111
    assert ordering_key(update(message=message("a", chat=GROUP))) == -100500
