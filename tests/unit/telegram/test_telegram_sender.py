"""Sending through the real PTB Bot to the local Bot API server: edits, retries, private answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bots.chat.events import Event, EventKind
from bots.chat.replies import Button, Reply
from bots.telegram.convert import Incoming
from bots.telegram.ratelimit import TelegramRateLimiter
from bots.telegram.render import TextOut, keyboard, plan
from bots.telegram.sender import MAX_ATTEMPTS, Sender
from tests.servers.telegram_server import TOKEN, BotApiServer

USERNAME = "langlearn_test_bot"
GROUP = -100777


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApiServer, Bot]]:
    server = BotApiServer(username=USERNAME)
    url = await server.start()
    bot = Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    await bot.initialize()
    try:
        yield server, bot
    finally:
        await bot.shutdown()
        await server.stop()


@pytest.fixture
async def limited_api() -> AsyncIterator[tuple[BotApiServer, ExtBot[None], Sleeps]]:
    """The bot as TelegramBot builds it in production: with TelegramRateLimiter (its pauses recorded, not waited)."""
    server = BotApiServer(username=USERNAME)
    url = await server.start()
    limiter_sleeps = Sleeps()
    limiter = TelegramRateLimiter(sleep=limiter_sleeps)
    bot: ExtBot[None] = ExtBot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot", rate_limiter=limiter)
    await bot.initialize()
    try:
        yield server, bot, limiter_sleeps
    finally:
        await bot.shutdown()
        await server.stop()


def floods(server: BotApiServer, method: str, times: int) -> None:
    """The next `times` calls of `method` get a 429 (retry_after 1)."""
    server.fail_next.extend([(method, 429, "Too Many Requests: retry after 1")] * times)


class Sleeps:
    """Records the pauses the sender asks for instead of waiting them out."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.pauses.append(delay)


def started(server: BotApiServer, user_id: int) -> None:
    """The user wrote to the bot in private, so the bot may write to them."""
    server.send_text(user_id, "/start")


def group_incoming(user_id: int, name: str = "Ana") -> Incoming:
    event = Event(
        platform="telegram",
        user_id=str(user_id),
        chat_id=str(GROUP),
        display_name=name,
        kind=EventKind.COMMAND,
        text="/review",
        command="review",
        is_group=True,
    )
    return Incoming(event=event, chat_id=GROUP, user_id=user_id, is_group=True)


async def test_an_edit_replaces_the_text_and_the_keyboard(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    started(server, 5)
    sender = Sender(bot)
    sent = await sender.send(5, TextOut("comer", keyboard([[Button("Show answer", "rv.s:-:1:1")]])))
    await sender.edit(5, sent.message_id, TextOut("comer → to eat", keyboard([[Button("Good · 3d", "rv.r:-:1:1:3")]])))
    [message] = server.messages(5)
    assert (message.text, message.edits, message.labels) == ("comer → to eat", 1, ["Good · 3d"])


async def test_an_edit_telegram_refuses_becomes_a_new_message(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    started(server, 5)
    sender = Sender(bot)
    await sender.send(5, TextOut("Cancelled: nothing was changed."))
    await sender.edit(5, 999_999, TextOut("Now learning Spanish."))  # "message to edit not found"
    assert [m.text for m in server.messages(5)] == ["Cancelled: nothing was changed.", "Now learning Spanish."]


async def test_an_edit_that_changes_nothing_is_a_success_not_a_new_message(api: tuple[BotApiServer, Bot]) -> None:
    """A double tap on Next: the second edit brings the same page; it must not be sent again."""
    server, bot = api
    started(server, 5)
    sender = Sender(bot)
    page = TextOut("Your words (2 of 3)", keyboard([[Button("Next", "wd.p:-:3")]]))
    sent = await sender.send(5, TextOut("Your words (1 of 3)"))
    await sender.edit(5, sent.message_id, page)
    await sender.edit(5, sent.message_id, page)  # Telegram: "message is not modified"
    assert [(m.text, m.labels) for m in server.messages(5)] == [("Your words (2 of 3)", ["Next"])]
    assert len(server.calls_of("editMessageText")) == 2 and server.errors[400] == 1  # refused once, and that was that


async def test_a_429_is_waited_out_and_the_message_still_arrives(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    started(server, 5)
    sleeps = Sleeps()
    server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
    await Sender(bot, sleep=sleeps).send(5, TextOut("hola"))
    assert [m.text for m in server.messages(5)] == ["hola"]
    assert sleeps.pauses == [1.0]


async def test_a_personal_answer_in_a_group_goes_to_the_private_chat(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    server.chat(GROUP, "supergroup")
    started(server, 6)
    result = plan([Reply(text="Card 1: comer", private=True)], is_button=False, is_group=True, can_edit=False)
    await Sender(bot).deliver(result, group_incoming(6), username=USERNAME)
    assert [m.text for m in server.messages(6)] == ["Card 1: comer"]
    [note] = server.messages(GROUP)
    assert note.text == "Ana, I've answered you in our private chat."
    assert [(b.label, b.url) for row in note.buttons for b in row] == [
        ("Open private chat", f"https://t.me/{USERNAME}")
    ]


async def test_a_user_who_never_started_the_bot_gets_a_start_link_in_the_group(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    server.chat(GROUP, "supergroup")
    result = plan(
        [Reply(text="Card 1: comer", private=True), Reply(text="Card 2", private=True)],
        is_button=False,
        is_group=True,
        can_edit=False,
    )
    await Sender(bot).deliver(result, group_incoming(7, "<Bea>"), username=USERNAME)
    assert server.messages(7) == []
    [note] = server.messages(GROUP)
    assert note.text.startswith("<Bea>, I can't write to you privately yet")
    assert [(b.label, b.url) for row in note.buttons for b in row] == [
        ("Open private chat", f"https://t.me/{USERNAME}?start=group")
    ]


async def test_a_user_who_blocked_the_bot_gets_nothing_and_nothing_breaks(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    started(server, 8)
    server.blocked_users.add(8)
    incoming = Incoming(
        event=Event(platform="telegram", user_id="8", chat_id="8", display_name="Eve", kind=EventKind.TEXT, text="x"),
        chat_id=8,
        user_id=8,
        is_group=False,
    )
    result = plan([Reply(text="one"), Reply(text="two")], is_button=False, is_group=False, can_edit=False)
    await Sender(bot).deliver(result, incoming, username=USERNAME)
    assert server.messages(8) == []
    assert len(server.calls_of("sendMessage")) == 1  # the rest of the answer is dropped after the 403


async def test_without_a_rate_limiter_the_sender_gives_up_after_its_own_attempts(api: tuple[BotApiServer, Bot]) -> None:
    server, bot = api
    started(server, 5)
    sleeps = Sleeps()
    floods(server, "sendMessage", 5)
    with pytest.raises(RetryAfter):
        await Sender(bot, sleep=sleeps).send(5, TextOut("hola"))
    assert len(server.calls_of("sendMessage")) == MAX_ATTEMPTS == 3
    assert sleeps.pauses == [1.0, 1.0]
    assert server.messages(5) == []


async def test_with_a_rate_limiter_only_the_limiter_retries_a_429(
    limited_api: tuple[BotApiServer, ExtBot[None], Sleeps],
) -> None:
    server, bot, limiter_sleeps = limited_api
    started(server, 5)
    sender_sleeps = Sleeps()
    floods(server, "sendMessage", 2)
    await Sender(bot, sleep=sender_sleeps).send(5, TextOut("hola"))
    assert [m.text for m in server.messages(5)] == ["hola"]
    assert len(server.calls_of("sendMessage")) == 3  # two 429s, then the message
    assert sender_sleeps.pauses == []  # the limiter waited (1 s each time), the sender did not
    assert limiter_sleeps.pauses and all(pause <= 1.0 for pause in limiter_sleeps.pauses)


async def test_with_a_rate_limiter_a_lasting_flood_costs_four_tries_not_twelve(
    limited_api: tuple[BotApiServer, ExtBot[None], Sleeps],
) -> None:
    server, bot, _ = limited_api
    started(server, 5)
    sender_sleeps = Sleeps()
    floods(server, "sendMessage", 20)
    with pytest.raises(RetryAfter):
        await Sender(bot, sleep=sender_sleeps).send(5, TextOut("hola"))
    assert len(server.calls_of("sendMessage")) == 4  # the first try and the limiter's 3 retries
    assert sender_sleeps.pauses == []
    assert server.messages(5) == []

    # an edit goes through the same single layer of retries
    server.fail_next.clear()
    sent = await Sender(bot).send(5, TextOut("hola"))
    floods(server, "editMessageText", 20)
    with pytest.raises(RetryAfter):
        await Sender(bot, sleep=sender_sleeps).edit(5, sent.message_id, TextOut("adiós"))
    assert len(server.calls_of("editMessageText")) == 4
    assert [m.text for m in server.messages(5)] == ["hola"]


async def test_a_sender_can_be_told_to_retry_429s_itself_whatever_the_bot(
    limited_api: tuple[BotApiServer, ExtBot[None], Sleeps],
) -> None:
    server, bot, _ = limited_api
    started(server, 5)
    floods(server, "sendMessage", 20)
    with pytest.raises(RetryAfter):
        await Sender(bot, sleep=Sleeps(), retry_flood=True).send(5, TextOut("hola"))
    assert len(server.calls_of("sendMessage")) == 4 * MAX_ATTEMPTS  # what one message cost before: 12 tries


async def test_an_edit_too_long_for_one_message_edits_with_its_first_part_and_sends_the_rest(
    api: tuple[BotApiServer, Bot],
) -> None:
    """A message cannot be edited into two: the pressed one gets the first part (its old buttons
    gone), the rest follows as new messages, the reply's buttons on the last one."""
    server, bot = api
    started(server, 5)
    sender = Sender(bot)
    pressed = await sender.send(5, TextOut("comer → to eat", keyboard([[Button("Good · 3d", "rv.r:-:1:1:3")]])))
    outcome = "comer → to eat\nGood · next in 3d"
    front = "palabra " * 600  # with the outcome, over 4,096 characters
    reply = Reply(text=f"{outcome}\n\n{front}", buttons=[[Button("Show answer", "rv.s:-:1:2")]], edit=True)
    incoming = Incoming(
        event=Event(platform="telegram", user_id="5", chat_id="5", display_name="Ana", kind=EventKind.BUTTON),
        chat_id=5,
        user_id=5,
        is_group=False,
        callback_query_id="q1",
        pressed_message_id=pressed.message_id,
    )
    await sender.deliver(plan([reply], is_button=True, is_group=False, can_edit=True), incoming, username=USERNAME)
    first, rest = server.messages(5)
    assert (first.message_id, first.edits, first.labels) == (pressed.message_id, 1, [])
    assert first.text.startswith(outcome) and len(first.text) <= 4096
    assert rest.labels == ["Show answer"]
    assert f"{first.text} {rest.text}" == reply.text.strip()  # cut at a space: nothing lost
    assert len(server.calls_of("editMessageText")) == 1 and len(server.calls_of("sendMessage")) == 2
