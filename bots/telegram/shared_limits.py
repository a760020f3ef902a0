"""Telegram's limits shared by every process that sends as the same bot, in Redis.

Telegram counts a bot's messages per bot, not per process: the bot process and each worker (which
delivers articles, voice messages and reminders with a `TelegramRateLimiter` of its own) would each
allow 30 messages a second. With REDIS_URL set, every limiter of the bot also takes a slot from a
sliding window in Redis before it lets a message go: the overall limit (30 a second) and each
group's (20 a minute) then hold across processes. A private chat's pace (1 a second after a burst
of 3) stays per process: two processes rarely write to one private chat in the same second, and
Telegram's own 429 is still retried.

The window (`RedisWindows.acquire`): one Lua script per message (one round trip) trims the key's
sorted set to the last `period` (by Redis's own clock, so the processes' clocks do not matter),
and either adds this message or says how long until the oldest one leaves the window. Like the
local windows, a slot counts from the moment the message's answer came back (`finished`
re-stamps it then: a second round trip), so requests slow on the way (uploads) cannot bunch up at
Telegram; `SHARED_MARGIN_S` more covers the clocks of Redis and Telegram.

Redis unreachable or slow (2 s): the message goes out under the process's own limits, and so do
the next ones for `RETRY_AFTER_FAILURE_S` (30 s) before Redis is tried again (logged at most once a
minute): a Redis outage must neither stop the bot from talking nor delay every message by a timeout.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

SHARED_MARGIN_S = 0.1
RETRY_AFTER_FAILURE_S = 30.0
_WARN_EVERY_S = 60.0

_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < capacity then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


_RESTAMP = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now, ARGV[i])
end
return 0
"""

# A slot taken in a shared window: (key, member); None when none was (Redis unavailable).
SharedSlot = tuple[str, str] | None


class SharedWindows(Protocol):
    """Sliding windows every process of a bot draws from (see the module docstring)."""

    async def acquire(self, name: str, capacity: int, period_s: float) -> SharedSlot:
        """Wait until window `name` has fewer than `capacity` messages in the last `period_s`; take a slot."""
        ...

    async def finished(self, slots: list[SharedSlot]) -> None:
        """The messages holding `slots` were answered: their slots count from now."""
        ...

    async def aclose(self) -> None: ...


class RedisWindows:
    """`SharedWindows` in Redis under `<namespace>:<name>` keys (namespace: one per bot)."""

    def __init__(
        self,
        redis_url: str,
        namespace: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._redis: Redis = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2)
        self._script: Any = self._redis.register_script(_SCRIPT)
        self._restamp: Any = self._redis.register_script(_RESTAMP)
        self._namespace = namespace
        self._sleep = sleep
        self._clock = clock
        self._warned_at = -_WARN_EVERY_S
        self._skip_until = -RETRY_AFTER_FAILURE_S

    async def acquire(self, name: str, capacity: int, period_s: float) -> SharedSlot:
        if self._clock() < self._skip_until:
            return None  # Redis failed a moment ago: this process's own limits only, for now
        window_ms = int((period_s + SHARED_MARGIN_S) * 1000)
        member = uuid.uuid4().hex
        key = f"{self._namespace}:{name}"
        while True:
            try:
                wait_ms = int(await self._script(keys=[key], args=[window_ms, capacity, member]))
            except (RedisError, OSError) as exc:
                self._failed(exc)
                return None
            if wait_ms <= 0:
                return key, member
            await self._sleep(wait_ms / 1000)

    async def finished(self, slots: list[SharedSlot]) -> None:
        taken = [slot for slot in slots if slot is not None]
        if not taken or self._clock() < self._skip_until:
            return
        try:
            await self._restamp(keys=[key for key, _ in taken], args=[member for _, member in taken])
        except (RedisError, OSError) as exc:
            self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        self._skip_until = self._clock() + RETRY_AFTER_FAILURE_S
        self._warn(exc)

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _warn(self, exc: BaseException) -> None:
        now = self._clock()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            logger.warning("Telegram limits are per process for now: Redis is unreachable (%s)", type(exc).__name__)


def bot_namespace(token: str) -> str:
    """The Redis key prefix of a bot: its public id (the part of the token before ':'), never the secret."""
    bot_id = token.split(":", 1)[0].strip()
    return f"langlearn:telegram-limits:{bot_id if bot_id.isdigit() else 'bot'}"
