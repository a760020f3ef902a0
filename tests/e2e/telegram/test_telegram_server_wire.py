"""The local Bot API server (tests/servers/telegram_server.py) driven by the real PTB `telegram.Bot`.

Proves the server speaks the wire format PTB sends and parses, so the adapter's end-to-end tests can trust
it: what PTB sends arrives decoded, what the server answers PTB turns into objects or the right exception.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.servers.telegram_server import TOKEN, BotApiServer

ROOT = Path(__file__).resolve().parents[3]
ANA = 111


def make_bot(server: BotApiServer, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(token, base_url=f"{server.url}/bot", base_file_url=f"{server.url}/file/bot")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    api = BotApiServer()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[telegram.Bot]:
    client = make_bot(server)
    async with client:  # initialize() calls getMe
        yield client


async def test_get_me_and_a_wrong_token(server: BotApiServer, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "langlearn_test_bot", True)
    assert bot.username == "langlearn_test_bot"
    wrong = make_bot(server, "987654321:not-the-right-token")
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    assert [call.method for call in server.calls] == ["getMe", "getMe"]  # the wrong-token call is not recorded


async def test_send_message_with_an_inline_keyboard_then_edit_it(server: BotApiServer, bot: telegram.Bot) -> None:
    server.send_text(ANA, "/start")  # the user has written to the bot: it may answer
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Show answer", callback_data="r:1:show")],
            [InlineKeyboardButton("Open", url="https://t.me/langlearn_test_bot")],
        ]
    )
    sent = await bot.send_message(ANA, "<b>comer</b> &lt;b&gt;&amp; — <tg-spoiler>to eat</tg-spoiler>",
                                  parse_mode="HTML", reply_markup=keyboard)
    assert sent.text == "comer <b>& — to eat"
    assert [entity.type for entity in sent.entities] == ["bold", "spoiler"]
    assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].callback_data == "r:1:show"

    [message] = server.messages(ANA)
    assert (message.message_id, message.kind, message.text, message.parse_mode) == (
        sent.message_id, "text", "comer <b>& — to eat", "HTML")
    assert message.has_spoiler
    assert message.labels == ["Show answer", "Open"]
    assert message.button("Open").url == "https://t.me/langlearn_test_bot"
    call = server.calls_of("sendMessage")[0]
    assert call.params["chat_id"] == ANA
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Show answer"

    edited = await bot.edit_message_text("comer → to eat", chat_id=ANA, message_id=sent.message_id)
    assert isinstance(edited, telegram.Message) and edited.text == "comer → to eat"
    assert (message.text, message.edits, message.buttons) == ("comer → to eat", 1, [])
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("comer → to eat", chat_id=ANA, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ANA, message_id=99999)
    assert await bot.delete_message(ANA, sent.message_id)
    assert server.messages(ANA) == []


async def test_telegram_refuses_what_it_refuses(server: BotApiServer, bot: telegram.Bot) -> None:
    server.send_text(ANA, "/start")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ANA, "1 < 2 <b>bold", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ANA, "a" * 4097)
    await bot.send_message(ANA, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 65)]])
        await bot.send_message(ANA, "x", reply_markup=too_long)
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(222, "hello")  # 222 never wrote to the bot
    server.blocked_users.add(ANA)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(ANA, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-100500, "hello")
    assert len(server.messages(ANA)) == 1


async def test_uploads_arrive_with_their_bytes(server: BotApiServer, bot: telegram.Bot) -> None:
    server.send_text(ANA, "/export")
    payload = json.dumps({"words": ["comer"]}).encode()
    document = await bot.send_document(ANA, payload, filename="langlearn-export.json", caption="Your data")
    assert document.document is not None and document.document.file_name == "langlearn-export.json"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    photo = await bot.send_photo(ANA, png, caption="<i>Reviews</i>", parse_mode="HTML")
    assert photo.caption == "Reviews" and photo.photo
    voice = await bot.send_voice(ANA, b"OggS-voice", duration=3)
    assert voice.voice is not None and voice.voice.file_id
    assert server.calls_of("sendVoice")[0].params["duration"] == 3
    assert await bot.send_chat_action(ANA, "upload_document")

    sent = server.messages(ANA)
    assert [(m.kind, m.content, m.text) for m in sent] == [
        ("document", payload, "Your data"),
        ("photo", png, "Reviews"),
        ("voice", b"OggS-voice", ""),
    ]
    assert sent[0].file_name == "langlearn-export.json"
    assert server.chat_actions == [(ANA, "upload_document")]
    assert server.calls_of("sendDocument")[0].files == {"document": payload}
    # what the bot uploaded can be fetched back like any file
    assert document.document is not None
    file = await bot.get_file(document.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload


async def test_get_file_and_download_of_a_user_document(server: BotApiServer, bot: telegram.Bot) -> None:
    content = b"term,translation\ncomer,to eat\n"
    update_id = server.send_document(ANA, "words.csv", content, caption="/pack_import basics")
    big_id = server.send_document(ANA, "huge.csv", b"x", file_size=21 * 1024 * 1024)
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update_id, big_id]
    message = updates[0].message
    assert message is not None and message.document is not None
    assert message.caption == "/pack_import basics"
    assert message.caption_entities[0].type == "bot_command"
    assert (message.document.file_name, message.document.file_size) == ("words.csv", len(content))
    file = await bot.get_file(message.document.file_id)
    assert file.file_path is not None and file.file_path.startswith(f"{server.url}/file/bot{TOKEN}/")
    assert bytes(await file.download_as_bytearray()) == content

    big = updates[1].message
    assert big is not None and big.document is not None and big.document.file_size == 21 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big.document.file_id)


async def test_get_updates_long_polls_and_an_offset_confirms(server: BotApiServer, bot: telegram.Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_until(lambda: server.counts["getUpdates"] == 1, what="the long poll to arrive")
    assert not poll.done()
    first = server.send_text(ANA, "/start")  # wakes the waiting long poll
    [update] = await poll
    assert update.update_id == first and update.message is not None and update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 6
    assert not server.is_confirmed(first)

    second = server.send_text(ANA, "hola @langlearn_test_bot")
    again = await bot.get_updates(timeout=0)  # no offset: nothing confirmed, both come again
    assert [u.update_id for u in again] == [first, second]
    assert again[1].message is not None and again[1].message.entities[0].type == "mention"

    confirm = asyncio.create_task(server.wait_confirmed(first, timeout=5))
    assert [u.update_id for u in await bot.get_updates(offset=first + 1, timeout=0)] == [second]
    await confirm
    assert not server.is_confirmed(second)
    assert await bot.get_updates(offset=second + 1, timeout=0) == ()
    assert server.is_confirmed(second)
    assert await bot.get_updates(timeout=0) == ()  # confirmed updates never come back


async def test_a_second_poller_ends_the_first_with_a_conflict(server: BotApiServer, bot: telegram.Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await server.wait_until(lambda: server.counts["getUpdates"] == 1, what="the first long poll")
    other = make_bot(server)  # another bot process with the same token (PTB's getUpdates pool holds 1 connection)
    async with other:
        second = asyncio.create_task(other.get_updates(timeout=10))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await first
        update_id = server.send_text(ANA, "/help")
        assert [u.update_id for u in await second] == [update_id]


async def test_button_presses_and_callback_answers(server: BotApiServer, bot: telegram.Bot) -> None:
    server.send_text(ANA, "/review")
    await bot.send_message(ANA, "comer", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("Show answer", callback_data="show:1")]]))
    card = server.last(ANA)
    update_id = server.press(ANA, card, "Show")
    forged = server.press_data(222, card, "show:1")
    updates = await bot.get_updates(offset=update_id)
    query = updates[0].callback_query
    assert query is not None and query.data == "show:1" and query.from_user.id == ANA
    assert query.message is not None and query.message.message_id == card.message_id
    assert updates[1].update_id == forged and updates[1].callback_query is not None
    assert updates[1].callback_query.from_user.id == 222
    assert await bot.answer_callback_query(query.id, text="Done")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    assert server.callback_answers == [{"callback_query_id": query.id, "text": "Done"}]


async def test_429_surfaces_as_retry_after(server: BotApiServer, bot: telegram.Bot) -> None:
    server.send_text(ANA, "/start")
    server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
    with pytest.raises(RetryAfter, match=r"Retry in (1 seconds|0:00:01)$"):
        await bot.send_message(ANA, "first")
    await bot.send_message(ANA, "second")  # the fault fires once
    assert server.texts(ANA) == ["second"]

    class OnePerChat:
        """A stand-in for telegram_limits: the first send to each chat passes, the next waits 3 s."""

        def __init__(self) -> None:
            self.seen: list[tuple[str, int | None, bool]] = []

        def check(self, method: str, chat_id: int | None, chat_is_group: bool) -> float | None:
            self.seen.append((method, chat_id, chat_is_group))
            return 2.2 if len(self.seen) > 1 else None

    server.limits = OnePerChat()
    await bot.send_message(ANA, "third")
    with pytest.raises(RetryAfter, match=r"Retry in (3 seconds|0:00:03)$"):  # whole seconds, rounded up
        await bot.send_message(ANA, "fourth")
    assert await bot.send_chat_action(ANA, "typing")  # not a counted send
    assert server.limits.seen == [("sendMessage", ANA, False), ("sendMessage", ANA, False)]
    assert server.errors[429] == 2


async def test_commands_webhook_and_polling_conflict(server: BotApiServer, bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("review", "Review your due cards"), ("add", "Add words")])
    assert server.commands == [
        {"command": "review", "description": "Review your due cards"},
        {"command": "add", "description": "Add words"},
    ]
    assert [c.command for c in await bot.get_my_commands()] == ["review", "add"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Pack-Import", "bad name")])

    assert await bot.set_webhook("https://bot.example/tg", secret_token="s3cret_value", allowed_updates=["message"])
    assert server.webhook is not None and server.webhook["secret_token"] == "s3cret_value"
    assert server.webhook["allowed_updates"] == ["message"]
    assert (await bot.get_webhook_info()).url == "https://bot.example/tg"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert server.webhook is None
    # allowed_updates from setWebhook stays: a callback query is filtered out and counts as confirmed
    start = server.send_text(ANA, "/start")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="b")]])
    await bot.send_message(ANA, "x", reply_markup=keyboard)
    press = server.press(ANA, server.last(ANA), "b")
    text = server.send_text(ANA, "hola")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [start, text]
    assert server.is_confirmed(press)


async def test_the_server_in_another_process() -> None:
    """`python -m tests.servers.telegram_server --port 0`: updates posted over HTTP reach PTB; stats count."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.servers.telegram_server", "--port", "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line.startswith("READY "), line
        url = line.split()[1]
        updates = [
            {"message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private", "first_name": "A"},
                         "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": "hi"}},
            {"update_id": 5000, "message": {"message_id": 2, "date": 0, "chat": {"id": 5, "type": "private"},
                                          "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": "again"}},
        ]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{url}/_test/updates", json=updates) as response:
                ids = (await response.json())["update_ids"]
            assert ids == [1000, 5000]
            bot = telegram.Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
            async with bot:
                got = await bot.get_updates(timeout=0)
                assert [u.message.text for u in got if u.message] == ["hi", "again"]
                await bot.send_message(5, "echo")
                assert await bot.get_updates(offset=5001, timeout=0) == ()
            async with session.get(f"{url}/_test/stats") as response:
                stats = await response.json()
        assert stats["calls"] == {"getMe": 1, "getUpdates": 2, "sendMessage": 1}
        assert (stats["pending"], stats["confirmed_below"], stats["messages_sent"]) == (0, 5001, 1)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
