"""with_retries: how many calls, how long between them, and what the caller gets in the end."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from core.domain.errors import ProviderRefused, ProviderUnavailable
from core.outbound._retry import RetryPolicy, TransientError, retry_after_seconds, with_retries


class Script:
    """An operation that fails with the given exceptions in turn, then returns "ok"."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def policy(sleeps: list[float], *, attempts: int = 4, jitter: float = 0.0, **kwargs: float) -> RetryPolicy:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(attempts=attempts, sleep=sleep, random=lambda: jitter, **kwargs)


async def test_three_transient_failures_then_success_takes_four_calls_with_growing_waits() -> None:
    sleeps: list[float] = []
    operation = Script(TransientError("a"), TransientError("b"), TransientError("c"))

    assert await with_retries(operation, provider="P", what="call", policy=policy(sleeps)) == "ok"

    assert operation.calls == 4
    assert sleeps == [0.25, 0.5, 1.0]  # base 0.5 s doubling, times the jitter factor 0.5 (random() = 0)


async def test_jitter_keeps_each_wait_between_half_and_all_of_the_backoff() -> None:
    low: list[float] = []
    high: list[float] = []
    await with_retries(Script(TransientError("x")), provider="P", what="call", policy=policy(low, jitter=0.0))
    await with_retries(Script(TransientError("x")), provider="P", what="call", policy=policy(high, jitter=0.999))

    assert low == [0.25]
    assert high[0] == pytest.approx(0.5, abs=0.001) and high[0] < 0.5


async def test_backoff_is_capped() -> None:
    sleeps: list[float] = []
    failures = [TransientError(str(n)) for n in range(7)]
    retry = policy(sleeps, attempts=8, jitter=0.999, base_delay_s=1.0, max_delay_s=3.0)

    await with_retries(Script(*failures), provider="P", what="call", policy=retry)

    assert max(sleeps) <= 3.0
    assert sleeps[-1] == pytest.approx(3.0, abs=0.01)


async def test_attempts_used_up_raise_provider_unavailable_with_our_last_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps: list[float] = []
    operation = Script(*(TransientError(f"server error (HTTP 50{n})") for n in range(4)))

    with caplog.at_level(logging.INFO), pytest.raises(ProviderUnavailable) as caught:
        await with_retries(operation, provider="Gemini", what="speech", policy=policy(sleeps))

    assert operation.calls == 4 and len(sleeps) == 3
    assert str(caught.value) == "Gemini is unavailable right now: server error (HTTP 503)."
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert any("failed after 4 attempt(s)" in record.getMessage() for record in caplog.records)


async def test_refusal_is_not_retried() -> None:
    sleeps: list[float] = []
    refusal = ProviderRefused("Gemini", "Speech is unavailable.", "check GEMINI_API_KEY")
    operation = Script(refusal)

    with pytest.raises(ProviderRefused) as caught:
        await with_retries(operation, provider="Gemini", what="speech", policy=policy(sleeps))

    assert caught.value is refusal
    assert operation.calls == 1 and sleeps == []


async def test_other_exceptions_pass_through_untouched() -> None:
    operation = Script(KeyError("bug"))
    with pytest.raises(KeyError):
        await with_retries(operation, provider="P", what="call", policy=policy([]))
    assert operation.calls == 1


async def test_retry_after_longer_than_the_backoff_is_honoured() -> None:
    sleeps: list[float] = []
    operation = Script(TransientError("rate-limited", retry_after_s=3.0), TransientError("rate-limited", 0.01))

    await with_retries(operation, provider="P", what="call", policy=policy(sleeps))

    assert sleeps == [3.0, 0.5]  # the hint when longer, our backoff when the hint is shorter


async def test_retry_after_beyond_what_a_job_waits_gives_up_at_once() -> None:
    sleeps: list[float] = []
    operation = Script(TransientError("rate-limited (HTTP 429)", retry_after_s=3600))

    with pytest.raises(ProviderUnavailable, match="rate-limited"):
        await with_retries(operation, provider="P", what="call", policy=policy(sleeps))

    assert operation.calls == 1 and sleeps == []


async def test_a_single_attempt_policy_never_sleeps() -> None:
    sleeps: list[float] = []
    operation = Script(TransientError("x"))
    with pytest.raises(ProviderUnavailable):
        await with_retries(operation, provider="P", what="call", policy=policy(sleeps, attempts=1))
    assert operation.calls == 1 and sleeps == []


def test_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        (None, None),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "Thu, 26 Nov 2026 12:00:30 GMT"}, 30.0),
        ({"retry-after": "Thu, 26 Nov 2026 11:59:00 GMT"}, 0.0),
    ],
)
def test_retry_after_header_forms(headers: dict[str, str] | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(headers, now=now) == seconds
