"""A virtual-time event loop and a scripted Bot API endpoint, for unit tests of the rate limiter.

`run_virtual(main)` runs a coroutine on an asyncio loop whose clock only moves when every task
waits for a timer: it then jumps to the next timer. A test of a minute of pacing takes
milliseconds and its times are exact, with no wall clock involved. A test in which every task
waits for something that no timer will bring fails with "deadlock" instead of hanging.

`VirtualBotApi.post` stands in for PTB's `Bot._do_post` (the callback the limiter is given): it
takes `up` seconds to reach "Telegram", asks a `TelegramLimits` model there (raising `RetryAfter`
as PTB would on a 429), and takes `down` seconds to answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import selectors
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram.error import RetryAfter

from bots.telegram.ratelimit import TelegramRateLimiter
from tests.servers.telegram_limits import TelegramLimits

START = 1000.0  # virtual clock at the start of each test


class _VirtualSelector(selectors.BaseSelector):
    """Polls the real selector without blocking; a timeout advances the virtual clock instead."""

    def __init__(self) -> None:
        self._real = selectors.DefaultSelector()
        self.now = START

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer will wake any of them")
        self.now += timeout
        return []

    def get_map(self) -> Any:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose `time()` is virtual (see the module docstring)."""

    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run_virtual[T](main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `main()` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def now() -> float:
    """Virtual seconds since the test started."""
    return asyncio.get_running_loop().time() - START


@dataclass
class Call:
    """One request as the virtual Telegram saw it."""

    at: float  # virtual seconds since the start, when it reached Telegram
    method: str
    chat_id: int | str | None
    text: str | None
    refused: int | None  # the retry_after the limits model answered with, None when it went through
    failed: BaseException | None = None  # a scripted failure answered instead


@dataclass
class VirtualBotApi:
    """The Bot API behind the limiter: latency, a limits model, scripted failures, and a record."""

    limits: TelegramLimits | None = None
    up: Callable[[], float] = lambda: 0.0
    down: Callable[[], float] = lambda: 0.0
    fail_next: list[BaseException] = field(default_factory=list)  # raised in order by the next calls
    calls: list[Call] = field(default_factory=list)

    async def post(self, endpoint: str, data: dict[str, Any], **_timeouts: Any) -> dict[str, Any] | bool:
        await asyncio.sleep(self.up())
        chat_id = data.get("chat_id")
        refused = None
        if self.limits is not None:
            group = isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)
            refused = self.limits.check(endpoint, chat_id, group)
        failed = self.fail_next.pop(0) if self.fail_next and refused is None else None
        self.calls.append(Call(now(), endpoint, chat_id, data.get("text"), refused, failed))
        await asyncio.sleep(self.down())
        if refused is not None:
            raise RetryAfter(dt.timedelta(seconds=refused))
        if failed is not None:
            raise failed
        if endpoint == "sendMessage":
            return {"message_id": len(self.calls), "chat": {"id": chat_id}, "text": data.get("text")}
        return True

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """The requests that were delivered (to one chat, when given), in the order they arrived."""
        delivered = (c for c in self.calls if c.refused is None and c.failed is None)
        return [c for c in delivered if chat_id is None or c.chat_id == chat_id]

    def refusals(self) -> list[Call]:
        return [c for c in self.calls if c.refused is not None]


def model(**limits: Any) -> TelegramLimits:
    """A TelegramLimits on the running (virtual) loop's clock."""
    return TelegramLimits(asyncio.get_running_loop().time, **limits)


def jitter(seed: int, low: float, high: float) -> Callable[[], float]:
    """Random latencies in [low, high), reproducible."""
    rng = random.Random(seed)
    return lambda: rng.uniform(low, high)


async def send(
    limiter: TelegramRateLimiter,
    api: VirtualBotApi,
    chat_id: int | str | None,
    text: str = "hi",
    *,
    method: str = "sendMessage",
    rate_limit_args: int | None = None,
) -> Any:
    """What ExtBot does for one call: hand the request and its callback to the limiter."""
    data: dict[str, Any] = {"text": text} if method == "sendMessage" else {}
    if chat_id is not None:
        data["chat_id"] = chat_id
    return await limiter.process_request(
        callback=api.post,
        args=(method, data),
        kwargs={"read_timeout": None},
        endpoint=method,
        data=data,
        rate_limit_args=rate_limit_args,
    )
