"""TelegramRateLimiter paces sends under Telegram's limits: per chat, per group, overall.

Every test runs on a virtual clock (see virtual_api.py): times are exact, nothing sleeps for real.
The virtual Telegram behind the limiter consults the same TelegramLimits model the local Bot API
server uses, so "no refusal" means Telegram would not have answered 429.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bots.telegram.ratelimit import TelegramRateLimiter
from tests.unit.telegram_ratelimit.virtual_api import VirtualBotApi, jitter, model, now, run_virtual, send


def arrival_times(api: VirtualBotApi, chat_id: int | str | None = None) -> list[float]:
    return [round(call.at, 3) for call in api.sent(chat_id)]


def most_in_any_window(times: list[float], width: float) -> int:
    """The largest number of `times` inside any half-open window [t, t + width)."""
    ordered = sorted(times)
    return max((sum(1 for u in ordered if t <= u < t + width) for t in ordered), default=0)


def test_a_private_chat_gets_a_burst_of_three_then_one_message_a_second() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        results = await asyncio.gather(*(send(limiter, api, 42, f"m{i}") for i in range(10)))
        assert [r["text"] for r in results] == [f"m{i}" for i in range(10)]
        assert arrival_times(api) == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        assert api.refusals() == []

    run_virtual(main)


def test_messages_to_one_chat_arrive_in_the_order_they_were_sent() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), up=jitter(1, 0.0, 0.3), down=jitter(2, 0.0, 0.3))
        limiter = TelegramRateLimiter()
        await asyncio.gather(*(send(limiter, api, 42, f"m{i}") for i in range(8)))
        assert [c.text for c in api.sent(42)] == [f"m{i}" for i in range(8)]
        assert api.refusals() == []

    run_virtual(main)


def test_unrelated_chats_are_not_held_up_by_a_busy_one() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        busy = [asyncio.create_task(send(limiter, api, 42, f"m{i}")) for i in range(6)]
        await asyncio.sleep(0.1)
        await asyncio.gather(*(send(limiter, api, chat) for chat in range(100, 110)))
        assert now() == pytest.approx(0.1)  # the ten other chats went at once
        assert not all(task.done() for task in busy)
        await asyncio.gather(*busy)

    run_virtual(main)


def test_300_chats_go_at_the_overall_rate_not_one_by_one() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(), up=jitter(3, 0.005, 0.05), down=jitter(4, 0.005, 0.05))
        limiter = TelegramRateLimiter()
        await asyncio.gather(*(send(limiter, api, chat) for chat in range(1, 301)))
        assert len(api.sent()) == 300 and api.refusals() == []
        assert most_in_any_window(arrival_times(api), 1.0) <= 30
        # 10 windows of 30, each slot counted from its answer (at most 0.1 s later): 9 s to 11 s
        assert 9.0 <= now() <= 11.0

    run_virtual(main)


def test_a_group_takes_20_messages_and_the_rest_wait_for_the_minute() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        await asyncio.gather(*(send(limiter, api, -1001, f"m{i}") for i in range(25)))
        times = arrival_times(api)
        assert times[:20] == [0.0] * 20
        assert times[20:] == [60.0] * 5
        assert api.refusals() == []

    run_virtual(main)


def test_a_channel_given_by_name_is_paced_like_a_group() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        await asyncio.gather(*(send(limiter, api, "@news") for _ in range(21)))
        assert arrival_times(api)[19:] == [0.0, 60.0]
        assert api.refusals() == []

    run_virtual(main)


def test_the_limits_can_be_scaled_down() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(group_per_min=5, group_window_s=2.0, private_per_s=4.0, private_burst=1))
        limiter = TelegramRateLimiter(group_per_window=5, group_window_s=2.0, private_per_s=4.0, private_burst=1)
        await asyncio.gather(*(send(limiter, api, -5) for _ in range(7)), *(send(limiter, api, 5) for _ in range(3)))
        assert arrival_times(api, -5) == [0.0] * 5 + [2.0] * 2
        assert arrival_times(api, 5) == [0.0, 0.25, 0.5]
        assert api.refusals() == []

    run_virtual(main)


@pytest.mark.parametrize(
    "method",
    [
        "getMe",
        "getFile",
        "answerCallbackQuery",
        "sendChatAction",
        "setMyCommands",
        "deleteWebhook",
        "setWebhook",
        "getUpdates",
    ],
)
def test_methods_that_send_no_message_pass_straight_through_a_saturated_limiter(method: str) -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        # the overall window and chat 42 are both full: 30 messages, 10 of them to chat 42
        backlog = [asyncio.create_task(send(limiter, api, 42)) for _ in range(10)]
        backlog += [asyncio.create_task(send(limiter, api, chat)) for chat in range(1, 31)]
        await asyncio.sleep(0)
        await asyncio.gather(*(send(limiter, api, 42, method=method) for _ in range(50)))
        assert now() == 0.0
        assert Counter(c.method for c in api.calls if c.method == method) == {method: 50}
        await asyncio.gather(*backlog)
        assert api.refusals() == []

    run_virtual(main)


def test_a_message_without_a_chat_only_counts_against_the_overall_limit() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        # inline-message edits carry no chat_id
        await asyncio.gather(*(send(limiter, api, None, method="editMessageText") for _ in range(31)))
        assert arrival_times(api) == [0.0] * 30 + [1.0]

    run_virtual(main)


def test_a_slot_counts_from_the_answer_so_slow_requests_never_bunch_up_at_telegram() -> None:
    """Requests that take long to arrive must not let the next batch overtake them in Telegram's window."""

    async def main() -> None:
        api = VirtualBotApi(model(), up=jitter(5, 0.0, 0.9), down=jitter(6, 0.0, 0.9))
        limiter = TelegramRateLimiter()
        await asyncio.gather(*(send(limiter, api, chat) for chat in range(1, 121)))
        assert len(api.sent()) == 120
        assert api.refusals() == []

    run_virtual(main)


def test_a_private_chat_is_paced_from_each_answer_so_a_slow_message_is_not_overtaken() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(private_burst=1), up=jitter(10, 0.0, 0.9))
        limiter = TelegramRateLimiter(private_burst=1)
        await asyncio.gather(*(send(limiter, api, 42, f"m{i}") for i in range(12)))
        assert len(api.sent(42)) == 12
        assert api.refusals() == []

    run_virtual(main)


def test_a_mixed_concurrent_load_never_trips_telegram() -> None:
    async def main() -> None:
        api = VirtualBotApi(
            model(group_window_s=5.0), up=jitter(7, 0.001, 0.2), down=jitter(8, 0.001, 0.2)
        )
        limiter = TelegramRateLimiter(group_window_s=5.0)
        chats = [*range(1, 40), *range(-10, 0), "@news"]
        pace = jitter(9, 0.0, 0.05)

        async def user(chat: int | str) -> None:
            for i in range(6):
                await asyncio.sleep(pace())
                await send(limiter, api, chat, f"{chat}:{i}")

        async def broadcaster(chat: int | str) -> None:
            await asyncio.gather(*(send(limiter, api, chat, f"{chat}:b{i}") for i in range(4)))

        await asyncio.gather(*(user(c) for c in chats), *(broadcaster(c) for c in chats[::3]))
        assert api.refusals() == []
        assert len(api.sent()) == 6 * len(chats) + 4 * len(chats[::3])
        for chat in chats:
            mine = [c.text for c in api.sent(chat) if c.text is not None and ":b" not in c.text]
            assert mine == [f"{chat}:{i}" for i in range(6)]

    run_virtual(main)


def test_a_caller_cancelled_while_waiting_frees_its_place() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter(group_per_window=2, group_window_s=10.0)
        await asyncio.gather(send(limiter, api, -7, "a"), send(limiter, api, -7, "b"))
        waiting = asyncio.create_task(send(limiter, api, -7, "never"))
        await asyncio.sleep(1.0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await send(limiter, api, -7, "c")
        assert [c.text for c in api.sent(-7)] == ["a", "b", "c"]
        assert now() == pytest.approx(10.0)

    run_virtual(main)


def test_idle_chats_are_forgotten_and_come_back_fresh() -> None:
    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        for start in range(0, 3000, 30):  # 3000 chats, 30 a second
            await asyncio.gather(*(send(limiter, api, chat) for chat in range(start + 1, start + 31)))
        await asyncio.sleep(5)
        await asyncio.gather(*(send(limiter, api, 1) for _ in range(3)))
        assert len(limiter._chats) < 1100  # the state of the idle chats was dropped
        assert api.refusals() == []

    run_virtual(main)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        TelegramRateLimiter(overall_per_s=0)
    with pytest.raises(ValueError, match="max_retries"):
        TelegramRateLimiter(max_retries=-1)


def test_edits_in_a_private_chat_are_not_paced_like_new_messages() -> None:
    """A reviewer on buttons: per card the card is turned over (edit), rated (edit), and the next
    card sent. Only the sends take the chat's one-a-second pace; the edits go at once, in order."""

    async def main() -> None:
        api = VirtualBotApi(model())
        limiter = TelegramRateLimiter()
        for card in range(10):
            await send(limiter, api, 42, method="editMessageText")
            await send(limiter, api, 42, method="editMessageReplyMarkup")
            await send(limiter, api, 42, f"card {card + 1}")
        sends = [call.at for call in api.sent(42) if call.method == "sendMessage"]
        assert [round(t, 3) for t in sends] == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        assert round(now(), 3) == 7.0  # edits added no wait of their own
        first_card = ["editMessageText", "editMessageReplyMarkup", "sendMessage"]
        assert [call.method for call in api.sent(42)][:3] == first_card
        assert api.refusals() == []  # and Telegram's model did not object

    run_virtual(main)


def test_edits_in_a_group_are_paced_like_messages() -> None:
    async def main() -> None:
        api = VirtualBotApi(model(group_per_min=3, group_window_s=10.0))
        limiter = TelegramRateLimiter(group_per_window=3, group_window_s=10.0)
        await asyncio.gather(*(send(limiter, api, -5, method="editMessageText") for _ in range(4)))
        assert [round(call.at, 3) for call in api.sent(-5)] == [0.0, 0.0, 0.0, 10.0]
        assert api.refusals() == []

    run_virtual(main)
