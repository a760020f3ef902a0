"""Flood control for the Bot API: paces message sends under Telegram's limits and retries a 429.

PTB's `AIORateLimiter` paces overall and per group only, and does not retry by default. This
limiter (`TelegramRateLimiter`, plugged in with `ApplicationBuilder().rate_limiter(...)`) keeps
all three of Telegram's limits and retries what still comes back as `RetryAfter`:

- overall: at most `overall_per_s` messages in any second (30);
- per private chat: one message a second sustained, after a small burst (3); edits of a message
  there (`PRIVATE_CHAT_EDITS`: a review card turned over, rated) are not held to that pace and
  count against the overall limit only. Telegram documents no edit limit; in practice a message
  edited per button press is not paced like new messages, so pacing edits like sends made a fast
  reviewer wait ~1 s per edit for nothing (tests/servers/telegram_limits.py models it the same way);
- per group or channel (negative chat id or `@name`): at most `group_per_window` messages in
  any `group_window_s` seconds (20 a minute).

Unrelated chats are never serialised behind one another: 300 messages to 300 chats go at the
overall rate. Requests to one chat are sent one at a time, in the order they reached the limiter.

Why the limits hold even though requests take time to reach Telegram: a request's slot is
counted from the moment its answer came back (a time no earlier than the moment Telegram saw
it), never from the moment it was let go. So however long a request waits for a connection or on
the wire, Telegram sees no more than the limit in any window; the price is the round trip, once
per window.

Only message-sending methods are paced (`RATE_LIMITED_METHODS`); `getUpdates`, `getMe`,
`getFile`, `answerCallbackQuery`, `sendChatAction`, `setMyCommands`, webhooks and the like go
straight through. Only `RetryAfter` is retried, after its `retry_after`, at most `max_retries`
times (or the `rate_limit_args` a call passes); then it is raised. Every other error propagates
at once. State lives in one asyncio event loop: use one limiter per bot and process. With
`shared` (bots/telegram/shared_limits.py: Redis), the overall and group limits also hold across
every process sending as the bot (the bot and its workers).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bots.telegram.shared_limits import SharedSlot, SharedWindows

log = logging.getLogger(__name__)

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]

RATE_LIMITED_METHODS = frozenset(
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
        "sendInvoice",
        "sendPaidMedia",
        "sendGame",
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

# Edits that, in a private chat, skip the per-chat pace (they still wait for that chat's turn and any 429 pause).
PRIVATE_CHAT_EDITS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})

_SWEEP_THRESHOLD = 1024  # forget idle chats once this many are remembered

_Sleep = Callable[[float], Awaitable[None]]


class _Window:
    """At most `capacity` requests in any `period` seconds, each slot counted from its answer.

    A slot is taken when a request is let go and comes back `period` seconds after that request
    finished. Waiters queue in arrival order (the lock is FIFO), so nobody starves.
    """

    def __init__(self, capacity: int, period: float, clock: Callable[[], float], sleep: _Sleep) -> None:
        self.capacity = capacity
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._in_flight = 0
        self._returns: deque[float] = deque()  # when the finished requests' slots come back, ascending
        self._lock = asyncio.Lock()
        self._finished: asyncio.Future[None] | None = None

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            while True:
                while self._returns and self._returns[0] <= now:
                    self._returns.popleft()
                if self._in_flight + len(self._returns) < self.capacity:
                    self._in_flight += 1
                    return
                if self._returns:
                    comes_back = self._returns[0]
                    await self._sleep(comes_back - now)
                    # a timer may fire a clock tick early: the slot it waited for is back all the same
                    now = max(self._clock(), comes_back)
                else:  # every slot is held by a request still in flight: wait for one to finish
                    self._finished = asyncio.get_running_loop().create_future()
                    await self._finished
                    now = self._clock()

    def release(self) -> None:
        """The request that held a slot has finished: the slot comes back `period` from now."""
        self._in_flight -= 1
        self._returns.append(self._clock() + self.period)
        self._wake()

    def give_back(self) -> None:
        """A slot taken by a request that was never sent comes back at once."""
        self._in_flight -= 1
        self._wake()

    def _wake(self) -> None:
        if self._finished is not None and not self._finished.done():
            self._finished.set_result(None)

    def idle(self, now: float) -> bool:
        return self._in_flight == 0 and not self._lock.locked() and (not self._returns or self._returns[-1] <= now)


@dataclass
class _Chat:
    """What the limiter knows of one chat; requests to it go one at a time under `lock`."""

    group: _Window | None  # None for a private chat
    key: int | str = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # requests holding or waiting for the lock
    tat: float = -math.inf  # private chats: GCRA's theoretical arrival time of the next message
    blocked_until: float = -math.inf  # after a 429: no request before this time


class TelegramRateLimiter(BaseRateLimiter[int]):
    """Paces message sends under Telegram's overall, per-chat and per-group limits; retries 429s.

    `rate_limit_args` (an int, passed by a caller as `rate_limit_args=` to an `ExtBot` method)
    overrides `max_retries` for that call. `clock` and `sleep` default to the running event
    loop's; tests pass their own.
    """

    def __init__(
        self,
        *,
        overall_per_s: int = 30,
        private_per_s: float = 1.0,
        private_burst: int = 3,
        group_per_window: int = 20,
        group_window_s: float = 60.0,
        max_retries: int = 3,
        clock: Callable[[], float] | None = None,
        sleep: _Sleep = asyncio.sleep,
        shared: SharedWindows | None = None,
    ) -> None:
        if overall_per_s < 1 or private_per_s <= 0 or private_burst < 1 or group_per_window < 1 or group_window_s <= 0:
            raise ValueError("every limit must be positive")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._clock = clock if clock is not None else _loop_time
        self._sleep = sleep
        self._private_interval = 1.0 / private_per_s
        self._private_tolerance = (private_burst - 1) * self._private_interval
        self._group_per_window = group_per_window
        self._group_window_s = group_window_s
        self._max_retries = max_retries
        self._overall_per_s = overall_per_s
        self._overall = _Window(overall_per_s, 1.0, self._clock, sleep)
        self._chats: dict[int | str, _Chat] = {}
        self._sweep_above = _SWEEP_THRESHOLD
        self._shared = shared

    async def initialize(self) -> None:
        """Nothing to set up: state is made on first use."""

    async def shutdown(self) -> None:
        """Forget every chat's state (and close the shared windows' connection)."""
        self._chats.clear()
        if self._shared is not None:
            await self._shared.aclose()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        """Send the request when the limits allow it; retry it after a `RetryAfter`."""
        if endpoint not in RATE_LIMITED_METHODS:
            return await callback(*args, **kwargs)
        max_retries = self._max_retries if rate_limit_args is None else rate_limit_args
        key = _chat_key(data.get("chat_id"))
        if key is None:  # e.g. an inline message edit: only the overall limit applies
            return await self._with_retries(endpoint, "inline", max_retries, None, callback, args, kwargs)
        chat = self._chat(key)
        chat.users += 1
        try:
            async with chat.lock:
                kind = "private" if chat.group is None else "group"
                paced = chat.group is not None or endpoint not in PRIVATE_CHAT_EDITS
                return await self._with_retries(endpoint, kind, max_retries, chat, callback, args, kwargs, paced)
        finally:
            chat.users -= 1
            if len(self._chats) > self._sweep_above:
                self._sweep()

    async def _with_retries(
        self,
        endpoint: str,
        kind: str,
        max_retries: int,
        chat: _Chat | None,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        paced: bool = True,
    ) -> ApiResult:
        attempt = 0
        while True:
            try:
                return await self._send(chat, callback, args, kwargs, paced)
            except RetryAfter as exc:
                delay = _retry_after_seconds(exc)
                if attempt >= max_retries:
                    log.warning(
                        "Telegram flood limit on %s (%s chat): giving up after %d retries", endpoint, kind, max_retries
                    )
                    raise
                attempt += 1
                log.info(
                    "Telegram flood limit on %s (%s chat): retrying in %.1f s (retry %d of %d)",
                    endpoint,
                    kind,
                    delay,
                    attempt,
                    max_retries,
                )
                if chat is None:
                    await self._sleep(delay)
                else:
                    chat.blocked_until = max(chat.blocked_until, self._clock() + delay)

    async def _send(
        self,
        chat: _Chat | None,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        paced: bool = True,
    ) -> ApiResult:
        if chat is not None:
            await self._wait_for_turn(chat, paced)
        group = chat.group if chat is not None else None
        shared = self._shared
        taken: list[SharedSlot] = []
        if group is not None:
            await group.acquire()
        try:
            if shared is not None and chat is not None and group is not None:
                # a group's window shared with the bot's other processes, before an overall slot is held
                taken.append(await shared.acquire(f"chat:{chat.key}", self._group_per_window, self._group_window_s))
            await self._overall.acquire()
        except BaseException:  # cancelled while waiting: nothing was sent
            if group is not None:
                group.give_back()
            raise
        try:
            if shared is not None:  # the bot's other processes count too
                taken.append(await shared.acquire("all", self._overall_per_s, 1.0))
        except BaseException:
            self._overall.give_back()
            if group is not None:
                group.give_back()
            raise
        try:
            return await callback(*args, **kwargs)
        finally:
            self._overall.release()
            if chat is not None:
                if chat.group is not None:
                    chat.group.release()
                elif paced:
                    chat.tat = max(chat.tat, self._clock()) + self._private_interval
            if shared is not None:  # last: the local slots are back whatever happens to this round trip
                await shared.finished(taken)  # counted from the answer, as the local windows count

    async def _wait_for_turn(self, chat: _Chat, paced: bool = True) -> None:
        """Sleep until the chat's own pace (private chats, unless not `paced`) and any 429 pause allow it."""
        ready_at = chat.blocked_until
        if chat.group is None and paced:
            ready_at = max(ready_at, chat.tat - self._private_tolerance)
        delay = ready_at - self._clock()
        if delay > 0:
            await self._sleep(delay)

    def _chat(self, key: int | str) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            window = None
            if isinstance(key, str) or key < 0:  # groups, supergroups and channels
                window = _Window(self._group_per_window, self._group_window_s, self._clock, self._sleep)
            chat = self._chats[key] = _Chat(group=window, key=key)
        return chat

    def _sweep(self) -> None:
        """Forget chats whose state no longer constrains anything (a fresh state would behave alike)."""
        now = self._clock()
        for key, chat in list(self._chats.items()):
            unconstrained = chat.blocked_until <= now and chat.tat <= now
            if chat.users == 0 and unconstrained and (chat.group is None or chat.group.idle(now)):
                del self._chats[key]
        self._sweep_above = max(_SWEEP_THRESHOLD, 2 * len(self._chats))


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


def _chat_key(chat_id: object) -> int | str | None:
    """The chat a request goes to: an int id, an `@channel` name, or None (inline messages)."""
    if chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that `retry_after` will become a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def limiter_for(token: str, redis_url: str | None) -> TelegramRateLimiter:
    """The limiter of a process sending as the bot `token`.

    With `redis_url`, its overall and group limits are shared in Redis: the bot and its workers then
    stay under Telegram's limits together.
    """
    from bots.telegram.shared_limits import RedisWindows, bot_namespace

    shared = RedisWindows(redis_url, bot_namespace(token)) if redis_url else None
    return TelegramRateLimiter(shared=shared)
