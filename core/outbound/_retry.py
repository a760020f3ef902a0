"""Retries with exponential backoff and jitter, shared by the provider clients.

A client runs each provider call through `with_retries`. Inside, it turns the SDK's exceptions
into ours: `TransientError(reason)` for what may pass (429, 529 overloaded, 5xx, time-outs,
connection errors), which is retried; `ProviderRefused` for what will not (a rejected key, a
used-up quota), which is raised at once, like any other exception. After the last attempt a
`TransientError` becomes `ProviderUnavailable(provider, reason)`. Reasons are written by the
client, never copied from the provider, whose error bodies can echo the API key.

The SDKs' own retries are turned off, so the number of calls a provider sees is ours to decide.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from core.domain.errors import ProviderUnavailable

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)


class TransientError(Exception):
    """A failure worth another attempt. `reason` is ours; `retry_after_s` is the provider's hint, if any."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait.

    Attempt n (from 1) that fails waits `min(max_delay_s, base_delay_s * 2 ** (n - 1))`, scaled by a
    random factor in [0.5, 1) (jitter, so many workers do not retry in step), or the provider's
    `retry-after` when that is longer. A `retry-after` above `max_retry_after_s` ends the retries at
    once: the caller (a background job) can come back later instead of holding a worker.
    """

    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")

    def backoff(self, failed_attempt: int) -> float:
        """The wait after attempt `failed_attempt` (1-based) failed, jitter included."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failed_attempt - 1))
        return ceiling * (0.5 + self.random() / 2)


DEFAULT_POLICY = RetryPolicy()


async def with_retries[T](
    operation: Callable[[], Awaitable[T]], *, provider: str, what: str, policy: RetryPolicy = DEFAULT_POLICY
) -> T:
    """`await operation()`, again after each `TransientError`, up to `policy.attempts` calls in all.

    `what` names the call in log lines ("speech synthesis"). Raises ProviderUnavailable when the
    attempts are used up; any other exception (ProviderRefused included) passes through at once.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return await operation()
        except TransientError as exc:
            failure = exc
        retry_after = failure.retry_after_s
        if attempt == policy.attempts:
            logger.warning("%s %s failed after %d attempt(s): %s", provider, what, attempt, failure.reason)
            raise ProviderUnavailable(provider, failure.reason) from None
        if retry_after is not None and retry_after > policy.max_retry_after_s:
            logger.warning(
                "%s %s failed: %s; the provider asks to wait %.0f s, more than we wait in a job",
                provider,
                what,
                failure.reason,
                retry_after,
            )
            raise ProviderUnavailable(provider, failure.reason) from None
        delay = policy.backoff(attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        logger.info(
            "%s %s failed (attempt %d of %d): %s; retrying in %.2f s",
            provider,
            what,
            attempt,
            policy.attempts,
            failure.reason,
            delay,
        )
        await policy.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def retry_after_seconds(headers: Mapping[str, str] | None, now: datetime | None = None) -> float | None:
    """The wait a response asks for: `retry-after-ms`, or `retry-after` in seconds or as an HTTP date."""
    if not headers:
        return None
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = lowered.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
