"""What bad input gets (product.md): an answer saying what happened, or a deliberate silence."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from bots.chat.events import Attachment, EventKind
from tests.unit.chat.conftest import ChatWorld, build_chat_world
from tests.unit.chat.harness import ADMIN, Chat, texts

TOO_LONG = (
    "That message is too long: 4,001 characters (the limit is 4,000). Send it in shorter parts.\n"
    "Example: /add comer = to eat — one word per line, up to 100 lines per message"
)


async def test_a_message_over_4000_characters_is_refused_before_any_work(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("x" * 4001)) == [TOO_LONG]
    assert texts(await chat.send("/add " + "y" * 3996)) == [TOO_LONG]
    assert cw.store.words == {}


async def test_an_update_delivered_twice_is_handled_once(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    event = chat.event(
        "ann", EventKind.COMMAND, text="/add comer = to eat", command="add", args="comer = to eat", update_id="4242"
    )
    assert texts(await chat.handle(event)) == ["Added 1:\ncomer — to eat"]
    assert await chat.handle(event) == []
    assert len(cw.store.words) == 1


async def test_the_same_update_id_on_another_platform_is_not_a_duplicate(chat: Chat) -> None:
    first = chat.event("ann", EventKind.COMMAND, text="/help", command="help", update_id="7")
    other = chat.event("ann", EventKind.COMMAND, text="/help", command="help", update_id="7")
    other = type(other)(**{**other.__dict__, "platform": "discord"})
    assert await chat.handle(first) and await chat.handle(other)


@pytest.mark.parametrize(
    ("content", "duration", "mime", "answer"),
    [
        (b"", 3.0, "audio/ogg", "That voice note is empty: hold the microphone button, speak, then release."),
        (
            b"OggS" + b"\0" * 100,
            0.0,
            "audio/ogg",
            "That voice note is empty: hold the microphone button, speak, then release.",
        ),
        (
            b"OggS" + b"\0" * 100,
            61.0,
            "audio/ogg",
            "That voice note is too long: voice answers are at most 60 seconds.",
        ),
        (
            b"OggS" + b"\0" * 100,
            float("inf"),
            "audio/ogg",
            "That voice note is too long: voice answers are at most 60 seconds.",
        ),
        (b"%PDF-1.4 not audio", None, "application/pdf", "That isn't audio. Send a voice note, or type your answer."),
        (b"plain bytes", None, None, "That isn't audio. Send a voice note, or type your answer."),
        (
            b"OggS" + b"\0" * 100,
            4.0,
            "audio/ogg",
            "Voice answers are not configured: set DEEPGRAM_API_KEY to enable them. Type your answer instead.",
        ),
        (
            b"OggS" + b"\0" * 100,
            None,
            None,
            "Voice answers are not configured: set DEEPGRAM_API_KEY to enable them. Type your answer instead.",
        ),
    ],
)
async def test_voice_notes(chat: Chat, content: bytes, duration: float | None, mime: str | None, answer: str) -> None:
    assert texts(await chat.voice(content, duration, mime)) == [answer]


async def test_a_voice_note_during_review_changes_nothing(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add comer = to eat")
    await chat.send("/review")
    await chat.voice(b"OggS" + b"\0" * 100, 2.0)
    assert cw.store.reviews == []
    assert texts(await chat.send("to eat"))[0].startswith("✓ Correct")


async def test_a_group_message_not_for_the_bot_gets_deliberate_silence(cw: ChatWorld) -> None:
    chat = cw.chat
    event = chat.event("ann", EventKind.TEXT, text="hola a todos", chat="group-1", group=True)
    silent = type(event)(**{**event.__dict__, "addressed_to_bot": False})
    assert await chat.handle(silent) == []
    assert cw.store.learners == {}


async def test_personal_commands_in_a_group_are_answered_privately(chat: Chat) -> None:
    [words] = await chat.send("/words", chat="group-1", group=True)
    assert words.private is True
    [help_reply] = await chat.send("/help", chat="group-1", group=True)
    assert help_reply.private is False
    [unknown] = await chat.send("/nope", chat="group-1", group=True)
    assert unknown.private is False


async def test_a_plain_message_to_the_bot_in_a_group_gets_a_hint_not_an_offer(chat: Chat) -> None:
    await chat.onboard()
    assert texts(await chat.send("perro", chat="group-1", group=True)) == [
        "Send /help to see what I can do. To add a word: /add comer = to eat"
    ]


async def test_unknown_commands(chat: Chat) -> None:
    assert texts(await chat.send("/frobnicate now")) == ["Unknown command /frobnicate — try /help"]
    assert texts(await chat.send("/ünïcode")) == ["That isn't a command I know — try /help"]


async def test_empty_text(chat: Chat) -> None:
    assert texts(await chat.send("   ")) == [
        "That message is empty. Send a word to add it, or /help to see what I can do."
    ]


async def test_a_file_without_a_command_caption_says_what_files_are_for(chat: Chat) -> None:
    hint = (
        "Files are for admins importing word packs: send a CSV or TSV with the caption /pack_import <slug>. "
        "To add your own words, use /add."
    )
    assert texts(await chat.file("", b"a,b\n", user="ann")) == [hint]
    assert texts(await chat.file("here are my words", b"a,b\n", user="ann")) == [hint]


async def test_a_file_captioned_with_another_command_runs_that_command(chat: Chat) -> None:
    assert texts(await chat.file("/help", b"a,b\n", user=ADMIN))[0].startswith("Commands:\n")


@pytest.mark.parametrize("payload", ["", "garbage", "rv.r:zzzz:1:2:3", "x" * 200, "rv.r:-:a:b", "ad:-:\u00e9"])
async def test_unknown_or_garbage_button_payloads_have_expired(chat: Chat, payload: str) -> None:
    await chat.onboard()
    [reply] = await chat.tap(payload)
    assert (reply.text, reply.notice) == ("This button has expired.", "This button has expired.")


class ExplodingTranslator:
    """A translator with a bug in it (not a provider outage): the chat layer must not leak it."""

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        raise RuntimeError("bug with api_key=sk-secret inside")


async def test_an_unexpected_error_is_logged_and_answered_with_an_apology(caplog: pytest.LogCaptureFixture) -> None:
    cw = build_chat_world(translator=ExplodingTranslator())
    await cw.chat.onboard()
    with caplog.at_level(logging.ERROR, logger="bots.chat.app"):
        replies = await cw.chat.send("/add perro")
    assert texts(replies) == ["Something went wrong on our side; nothing was lost. Please try again."]
    [record] = [r for r in caplog.records if r.name == "bots.chat.app"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "kind=command command=add" in record.getMessage()
    assert "perro" not in record.getMessage()
    # the learner can go on
    assert texts(await cw.chat.send("/words")) == [
        "Your word bank is empty. Add words with /add comer = to eat, or browse /packs."
    ]


async def test_every_attachment_kind_without_content_is_answered(chat: Chat) -> None:
    event = chat.event(
        "ann",
        EventKind.FILE,
        text="/pack_import x",
        attachment=Attachment("empty.csv", b""),
        command="pack_import",
        args="x",
    )
    assert texts(await chat.handle(event)) == [
        "/pack_import is for pack admins only, and you are not one. Nothing was changed."
    ]
