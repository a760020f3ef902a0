"""A model of the Bot API's flood limits, consulted by local Bot API servers per request.

Telegram answers `429 Too Many Requests` with `parameters.retry_after` (whole seconds) when a bot
sends faster than it allows. It documents the limits only roughly ("about 30 messages per second
overall, no more than one message per second in a chat, 20 messages per minute in a group"), so
this model states them exactly, and strictly enough that a naive sender trips them:

- overall: at most `global_per_s` messages in any one-second window (sliding, not per calendar
  second);
- per private chat: one message every `1 / private_per_s` seconds sustained, with a burst of
  `private_burst` (a token bucket, written as GCRA);
- per group (negative chat id, or an `@channel` name): at most `group_per_min` messages in any
  window of `group_window_s` seconds (60 as Telegram has it; tests shrink the window).

Edits of a message in a private chat (`PRIVATE_CHAT_EDITS`) count against the overall limit only,
not the per-chat pace. Telegram documents no limit for edits; what bots see in practice is that a
message edited on each button press (a review card) is not held to one update a second per
private chat the way new messages are, while edits still count towards the bot's overall flood
limit. This model takes that reading, so it stays strict where Telegram is documented and does not
invent a per-chat edit limit it cannot know. Edits in groups count like messages.

Only message-sending methods count (`LIMITED_METHODS`). A refused request is not counted. Times
are those at which the server sees each request, from `clock` (`time.monotonic` by default: the
clock of the asyncio loop, in this process and in others on the machine).
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable

LIMITED_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)


# Edits that, in a private chat, count against the overall limit only (see the module docstring).
PRIVATE_CHAT_EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})


class TelegramLimits:
    """Decides per request whether Telegram would answer 429, and with which `retry_after`."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        global_per_s: int = 30,
        private_per_s: float = 1.0,
        private_burst: int = 3,
        group_per_min: int = 20,
        group_window_s: float = 60.0,
    ) -> None:
        if global_per_s < 1 or private_per_s <= 0 or private_burst < 1 or group_per_min < 1 or group_window_s <= 0:
            raise ValueError("every limit must be positive")
        self._clock = clock
        self.global_per_s = global_per_s
        self.private_interval = 1.0 / private_per_s
        self.private_burst = private_burst
        self.group_per_window = group_per_min
        self.group_window_s = group_window_s
        self._global: deque[float] = deque()
        self._private_tat: dict[int, float] = {}
        self._groups: dict[int | str, deque[float]] = {}
        self.exceeded = 0  # how many 429s were produced
        self.allowed = 0  # how many limited requests were let through
        self.exceeded_by: Counter[str] = Counter()  # "global" / "chat" / "group" -> 429s

    def check(self, method: str, chat_id: int | str | None, chat_is_group: bool) -> int | None:
        """None when the request may go (it is counted); else the `retry_after` to answer with."""
        if method not in LIMITED_METHODS:
            return None
        now = self._clock()
        waits: dict[str, float] = {"global": self._global_wait(now)}
        group = chat_is_group or isinstance(chat_id, str) or (chat_id is not None and chat_id < 0)
        if chat_id is not None and group:
            waits["group"] = self._group_wait(chat_id, now)
        elif isinstance(chat_id, int) and method not in PRIVATE_CHAT_EDITS:
            waits["chat"] = self._private_wait(chat_id, now)
        else:
            chat_id = None  # a private-chat edit (or no chat): counted overall only
        reason, wait = max(waits.items(), key=lambda item: item[1])
        if wait > 0:
            self.exceeded += 1
            self.exceeded_by[reason] += 1
            return max(1, math.ceil(wait))
        self._count(chat_id, group, now)
        return None

    # --- the three limits: how long until a request would be allowed (<= 0: now) ------------

    def _global_wait(self, now: float) -> float:
        window = self._global
        while window and window[0] <= now - 1.0:
            window.popleft()
        return window[0] + 1.0 - now if len(window) >= self.global_per_s else 0.0

    def _private_wait(self, chat_id: int, now: float) -> float:
        tat = self._private_tat.get(chat_id, now)
        return tat - (self.private_burst - 1) * self.private_interval - now

    def _group_wait(self, chat_id: int | str, now: float) -> float:
        window = self._groups.get(chat_id)
        if window is None:
            return 0.0
        while window and window[0] <= now - self.group_window_s:
            window.popleft()
        return window[0] + self.group_window_s - now if len(window) >= self.group_per_window else 0.0

    def _count(self, chat_id: int | str | None, group: bool, now: float) -> None:
        self.allowed += 1
        self._global.append(now)
        if chat_id is None:
            return
        if group:
            self._groups.setdefault(chat_id, deque()).append(now)
        elif isinstance(chat_id, int):
            self._private_tat[chat_id] = max(self._private_tat.get(chat_id, now), now) + self.private_interval
