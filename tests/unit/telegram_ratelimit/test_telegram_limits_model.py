"""The model of Telegram's limits that the local Bot API servers consult: strict enough to catch a naive sender."""

from __future__ import annotations

import pytest

from tests.servers.telegram_limits import TelegramLimits


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_31_messages_to_31_chats_in_one_second_trip_the_overall_limit(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    answers = [limits.check("sendMessage", chat, False) for chat in range(1, 32)]
    assert answers[:30] == [None] * 30
    assert answers[30] == 1
    assert limits.exceeded == 1 and limits.exceeded_by == {"global": 1}


def test_the_overall_window_slides_rather_than_resetting_each_second(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    clock.now = 500.9
    assert all(limits.check("sendMessage", chat, False) is None for chat in range(1, 31))
    clock.now = 501.1  # a new calendar second, but the 30 above are 0.2 s old
    assert limits.check("sendMessage", 99, False) == 1
    clock.now = 501.9
    assert limits.check("sendMessage", 99, False) is None


def test_a_private_chat_takes_a_burst_of_three_then_one_a_second(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    assert [limits.check("sendMessage", 7, False) for _ in range(4)] == [None, None, None, 1]
    clock.now += 0.5
    assert limits.check("sendMessage", 7, False) == 1
    clock.now += 0.5
    assert limits.check("sendMessage", 7, False) is None
    assert limits.check("sendMessage", 7, False) == 1
    assert limits.check("sendMessage", 8, False) is None  # other chats are not affected
    assert limits.exceeded_by == {"chat": 3}


def test_a_long_wait_in_a_private_chat_is_answered_in_whole_seconds(clock: Clock) -> None:
    limits = TelegramLimits(clock, private_per_s=0.25, private_burst=1)
    assert limits.check("sendMessage", 7, False) is None
    clock.now += 0.5
    assert limits.check("sendMessage", 7, False) == 4  # 3.5 s to go, rounded up as Telegram does


def test_a_group_takes_20_messages_a_minute(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    assert all(limits.check("sendMessage", -100, True) is None for _ in range(20))
    assert limits.check("sendMessage", -100, True) == 60
    clock.now += 59.5
    assert limits.check("sendMessage", -100, True) == 1
    clock.now += 0.5
    assert limits.check("sendMessage", -100, True) is None
    assert limits.check("sendMessage", -200, True) is None  # another group
    assert limits.exceeded_by == {"group": 2}


def test_the_group_window_can_be_shrunk_for_tests(clock: Clock) -> None:
    limits = TelegramLimits(clock, group_per_min=20, group_window_s=2.0)
    assert all(limits.check("sendMessage", -100, True) is None for _ in range(20))
    assert limits.check("sendMessage", -100, True) == 2
    clock.now += 2.0
    assert limits.check("sendMessage", -100, True) is None


def test_negative_ids_and_channel_names_are_groups_whatever_the_flag_says(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    assert all(limits.check("sendMessage", -100, False) is None for _ in range(20))
    assert limits.check("sendMessage", -100, False) is not None
    clock.now += 1.0  # out of the overall window
    assert all(limits.check("sendMessage", "@news", False) is None for _ in range(20))
    assert limits.check("sendMessage", "@news", False) is not None


@pytest.mark.parametrize(
    "method", ["getUpdates", "getMe", "getFile", "answerCallbackQuery", "sendChatAction", "setMyCommands", "setWebhook"]
)
def test_methods_that_send_no_message_are_never_refused(clock: Clock, method: str) -> None:
    limits = TelegramLimits(clock)
    assert all(limits.check(method, 7, False) is None for _ in range(100))
    assert limits.exceeded == 0 and limits.allowed == 0


def test_edits_in_a_group_count_like_messages(clock: Clock) -> None:
    limits = TelegramLimits(clock, group_per_min=3)
    assert [limits.check("editMessageText", -7, True) for _ in range(4)] == [None, None, None, 60]


def test_edits_in_a_private_chat_count_against_the_overall_limit_only(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    # a review card turned over and rated, then the next card, five times in a second
    answers = [limits.check(method, 7, False) for _ in range(5) for method in ("editMessageText", "editMessageText")]
    assert answers == [None] * 10
    assert [limits.check("editMessageReplyMarkup", 7, False) for _ in range(20)] == [None] * 20
    assert limits.check("editMessageText", 7, False) == 1  # the 31st request in the second: overall
    assert limits.exceeded_by == {"global": 1}
    clock.now += 1.0
    # the edits did not use up the chat's own pace: new messages still get their burst of three
    assert [limits.check("sendMessage", 7, False) for _ in range(4)] == [None, None, None, 1]


def test_a_refused_request_is_not_counted(clock: Clock) -> None:
    limits = TelegramLimits(clock)
    for _ in range(3):
        assert limits.check("sendMessage", 7, False) is None
    for _ in range(50):  # a sender hammering a full chat...
        assert limits.check("sendMessage", 7, False) == 1
    clock.now += 1.0  # ...still gets the next message through one second later
    assert limits.check("sendMessage", 7, False) is None
    assert limits.allowed == 4 and limits.exceeded == 50
