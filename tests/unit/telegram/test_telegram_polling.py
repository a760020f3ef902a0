"""Our polling loop: nothing is confirmed before it is handled; per-chat order; a clean stop.

The watermark and the per-chat queue are checked on their own; the poller itself runs with the
real PTB `Bot` against the local Bot API server, with a handler the test holds and releases.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Bot, Update

from bots.telegram.convert import ordering_key
from bots.telegram.polling import ChatQueue, Poller, Watermark
from tests.servers.telegram_server import TOKEN, BotApiServer

# --- the watermark ------------------------------------------------------------------------------


def test_the_offset_never_passes_an_update_in_flight() -> None:
    mark = Watermark()
    assert mark.offset is None  # nothing fetched: confirm nothing
    assert mark.begin(10) and mark.begin(11) and mark.begin(12)
    mark.finish(11)
    mark.finish(12)
    assert mark.offset == 10  # 10 is still being handled: 11 and 12 wait with it
    mark.finish(10)
    assert mark.offset == 13


def test_updates_fetched_again_are_skipped_by_id() -> None:
    mark = Watermark()
    assert mark.begin(10) and mark.begin(11)
    mark.finish(11)
    assert mark.offset == 10
    assert not mark.begin(10)  # still in flight
    assert not mark.begin(11)  # handled, above the watermark
    assert mark.begin(12)
    mark.finish(10)
    mark.finish(12)
    assert mark.offset == 13
    assert not mark.begin(9) and not mark.begin(12)  # below the confirmed offset


def test_ids_with_gaps_are_confirmed_up_to_the_lowest_in_flight() -> None:
    mark = Watermark()
    for update_id in (100, 105, 230):
        assert mark.begin(update_id)
    mark.finish(100)
    assert mark.offset == 105
    mark.finish(230)
    assert mark.offset == 105
    assert mark.in_flight == 1
    mark.finish(105)
    assert mark.offset == 231


# --- per-chat order -----------------------------------------------------------------------------


async def test_jobs_of_one_chat_run_in_order_and_other_chats_do_not_wait() -> None:
    queue = ChatQueue()
    order: list[str] = []
    release_first = asyncio.Event()
    other_chat_done = asyncio.Event()

    async def first() -> None:
        order.append("a1 start")
        await release_first.wait()
        order.append("a1 end")

    async def second() -> None:
        order.append("a2")

    async def other() -> None:
        order.append("b1")
        other_chat_done.set()

    queue.submit("a", first)
    queue.submit("a", second)
    queue.submit("b", other)
    await other_chat_done.wait()
    assert order == ["a1 start", "b1"]  # chat b ran while a1 holds chat a; a2 waits behind a1
    release_first.set()
    await queue.drain()
    assert order == ["a1 start", "b1", "a1 end", "a2"]
    assert queue.pending == 0


async def test_a_failed_job_does_not_block_its_chat() -> None:
    queue = ChatQueue()
    ran: list[str] = []

    async def failing() -> None:
        raise RuntimeError("boom")

    async def after() -> None:
        ran.append("after")

    failed = queue.submit("a", failing)
    queue.submit("a", after)
    await queue.drain()
    assert ran == ["after"]
    assert isinstance(failed.exception(), RuntimeError)


# --- the poller against the local Bot API server -----------------------------------------------------


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApiServer, Bot]]:
    server = BotApiServer()
    url = await server.start()
    bot = Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    await bot.initialize()
    try:
        yield server, bot
    finally:
        await bot.shutdown()
        await server.stop()


class HeldHandler:
    """Records the texts it handles; the texts in `hold` wait until released."""

    def __init__(self, *hold: str) -> None:
        self.handled: list[str] = []
        self.started: dict[str, asyncio.Event] = {}
        self.done: dict[str, asyncio.Event] = {}
        self.release: dict[str, asyncio.Event] = {text: asyncio.Event() for text in hold}

    def event(self, table: dict[str, asyncio.Event], text: str) -> asyncio.Event:
        return table.setdefault(text, asyncio.Event())

    async def __call__(self, update: Update) -> None:
        assert update.message is not None and update.message.text is not None
        text = update.message.text
        self.event(self.started, text).set()
        if text in self.release:
            await self.release[text].wait()
        self.handled.append(text)
        self.event(self.done, text).set()


async def test_an_update_in_flight_holds_back_the_confirmation_of_later_ones(
    api: tuple[BotApiServer, Bot],
) -> None:
    server, bot = api
    handler = HeldHandler("slow")
    slow = server.send_text(1, "slow")
    other_chat = server.send_text(2, "other chat")
    same_chat = server.send_text(1, "same chat")
    poller = Poller(bot, handler, ordering_key, timeout=1)
    poller.start()
    try:
        await handler.event(handler.done, "other chat").wait()
        fetches = len(server.calls_of("getUpdates"))
        await server.wait_until(lambda: len(server.calls_of("getUpdates")) > fetches, what="another getUpdates")
        # Handled, but below it "slow" is still in flight: nothing may be confirmed yet.
        assert not server.is_confirmed(slow) and not server.is_confirmed(other_chat)
        assert handler.handled == ["other chat"]  # "same chat" waits behind "slow" (same chat)
        handler.release["slow"].set()
        await server.wait_confirmed(same_chat)
        assert handler.handled == ["other chat", "slow", "same chat"]
        assert handler.handled.count("slow") == 1  # fetched again while in flight, handled once
    finally:
        await poller.stop()


async def test_stop_lets_the_update_in_flight_finish_and_confirms_only_what_was_handled(
    api: tuple[BotApiServer, Bot],
) -> None:
    server, bot = api
    handler = HeldHandler("in flight")
    in_flight = server.send_text(1, "in flight")
    poller = Poller(bot, handler, ordering_key, timeout=1)
    poller.start()
    await handler.event(handler.started, "in flight").wait()
    stopping = asyncio.create_task(poller.stop())
    await asyncio.sleep(0)  # let stop() begin: no fetch from here on
    late = server.send_text(3, "late")
    assert not stopping.done()
    handler.release["in flight"].set()
    await stopping
    assert handler.handled == ["in flight"]
    assert server.is_confirmed(in_flight)
    assert not server.is_confirmed(late)  # delivered again at the next start
    final = server.calls_of("getUpdates")[-1]
    assert (final.params["offset"], final.params["timeout"]) == (in_flight + 1, 0)


async def test_a_held_update_does_not_stop_the_other_chats(api: tuple[BotApiServer, Bot]) -> None:
    """Head-of-line: a fetch that brings back only updates in flight is asked again soon, so
    updates of other chats arriving later are handled while one update is held."""
    server, bot = api
    handler = HeldHandler("slow")
    slow = server.send_text(7777, "slow")
    poller = Poller(bot, handler, ordering_key, timeout=1, pin_cap=600)
    poller.start()
    try:
        await handler.event(handler.started, "slow").wait()
        fetches = len(server.calls_of("getUpdates"))
        # the poller has seen "slow" come back again (it is unconfirmed) before the others arrive
        await server.wait_until(lambda: len(server.calls_of("getUpdates")) > fetches + 1, what="a re-poll")
        others = [f"hi {i}" for i in range(60)]
        for i, text in enumerate(others):
            server.send_text(2000 + i, text)
        for text in others:
            await asyncio.wait_for(handler.event(handler.done, text).wait(), timeout=15)
        assert sorted(handler.handled) == sorted(others)  # "slow" is still held
        assert not server.is_confirmed(slow)  # and within the pin cap it holds back the offset
        handler.release["slow"].set()
        await server.wait_confirmed(slow)
        assert handler.handled.count("slow") == 1
    finally:
        handler.release["slow"].set()
        await poller.stop()


async def test_an_update_held_past_the_pin_cap_lets_the_window_of_100_move_on(
    api: tuple[BotApiServer, Bot],
) -> None:
    """Telegram hands out at most 100 updates from the offset: with more than 100 behind a held
    update, the rest only arrive once the offset passes it, which the pin cap allows."""
    server, bot = api
    handler = HeldHandler("slow")
    slow = server.send_text(7777, "slow")
    others = [f"hi {i}" for i in range(150)]
    ids = [server.send_text(2000 + i, text) for i, text in enumerate(others)]
    poller = Poller(bot, handler, ordering_key, timeout=1, pin_cap=0.5)
    poller.start()
    try:
        await server.wait_confirmed(ids[-1], timeout=20)
        assert sorted(handler.handled) == sorted(others)  # all 150, "slow" still held
        assert server.is_confirmed(slow)  # released by the cap: the offset passed it
        assert poller.watermark.released == 1
        stopping = asyncio.create_task(poller.stop())
        await asyncio.sleep(0)
        assert not stopping.done()  # stop still waits for the released update to finish
        handler.release["slow"].set()
        await stopping
        assert handler.handled.count("slow") == 1  # fetched again meanwhile, handled once
        assert poller.watermark.released == 0
    finally:
        handler.release["slow"].set()
        await poller.stop()


def test_a_released_update_counts_as_handled_for_the_offset() -> None:
    mark = Watermark()
    assert mark.begin(10) and mark.begin(11)
    mark.finish(11)
    assert mark.offset == 10
    mark.release(10)
    assert mark.offset == 12 and mark.released == 1
    assert not mark.begin(10)  # fetched again while still running: skipped
    mark.finish(10)
    assert mark.released == 0 and mark.in_flight == 0 and mark.offset == 12


async def test_a_bounded_stop_cancels_what_is_still_running_and_confirms_none_of_it(
    api: tuple[BotApiServer, Bot],
) -> None:
    server, bot = api
    handler = HeldHandler("stuck")  # never released
    stuck = server.send_text(1, "stuck")
    queued = server.send_text(1, "queued behind it")
    server.send_text(2, "quick")
    poller = Poller(bot, handler, ordering_key, timeout=1)
    poller.start()
    await handler.event(handler.done, "quick").wait()
    await handler.event(handler.started, "stuck").wait()
    await poller.stop(drain_timeout=0.2)  # returns although "stuck" never finishes
    assert handler.handled == ["quick"]
    assert "queued behind it" not in handler.started  # cancelled before it began
    final = server.calls_of("getUpdates")[-1]
    assert (final.params["offset"], final.params["timeout"]) == (stuck, 0)  # nothing from "stuck" on is confirmed
    assert not server.is_confirmed(stuck) and not server.is_confirmed(queued)


def parsed_updates(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the updates PTB parses into `Update` objects from here on, in order."""
    parsed: list[int] = []
    original = Update.de_json

    def de_json(data: dict[str, Any], bot: Bot | None = None) -> Update:
        parsed.append(data["update_id"])
        return original(data, bot)

    monkeypatch.setattr(Update, "de_json", de_json)
    return parsed


async def test_an_update_fetched_again_while_in_flight_is_not_parsed_again(
    api: tuple[BotApiServer, Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, bot = api
    parsed = parsed_updates(monkeypatch)
    handler = HeldHandler("slow")
    slow = server.send_text(1, "slow")
    poller = Poller(bot, handler, ordering_key, timeout=1, pin_cap=600)
    poller.start()
    try:
        await handler.event(handler.started, "slow").wait()
        fetches = len(server.calls_of("getUpdates"))
        await server.wait_until(lambda: len(server.calls_of("getUpdates")) > fetches + 2, what="re-polls")
        refetches = server.calls_of("getUpdates")[fetches:]
        assert all(call.params["offset"] == slow for call in refetches)  # unconfirmed: each brought it back
        other = server.send_text(2, "other")
        await handler.event(handler.done, "other").wait()
        handler.release["slow"].set()
        await server.wait_confirmed(other)
        assert handler.handled == ["other", "slow"]
        assert parsed == [slow, other]  # each parsed once, however often it was fetched
    finally:
        handler.release["slow"].set()
        await poller.stop()
    assert parsed == [slow, other]  # the confirming getUpdates at stop parses nothing either


async def test_an_update_that_cannot_be_read_is_skipped_and_confirmed(api: tuple[BotApiServer, Bot]) -> None:
    """Not fetched again forever (the whole batch failed with PTB's parsing): logged, passed."""
    server, bot = api
    handler = HeldHandler()
    unreadable = server.add_raw_update({"message": "not a message"})
    after = server.send_text(1, "after")
    poller = Poller(bot, handler, ordering_key, timeout=1)
    poller.start()
    try:
        await server.wait_confirmed(after)
        assert server.is_confirmed(unreadable)
        assert handler.handled == ["after"]
    finally:
        await poller.stop()
