"""The in-process queue (no REDIS_URL): jobs run as tasks of the bot's process through the same
`JobService.run` as the worker, at most once at a time per job id, retried after a provider
outage, with the sweep and reminders run periodically beside them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from core.bootstrap import build_services
from core.config import Settings
from core.domain.errors import ProviderUnavailable
from core.domain.models import DeliveryAddress, JobKind, JobStatus
from core.domain.ports import Messenger
from core.outbound.fsrs import FsrsScheduler
from core.outbound.jobs import InProcessBackground, InProcessJobQueue, PeriodicTask
from tests.fakes import (
    FakeLanguageModel,
    FakeLemmatizer,
    FakeUnitOfWorkFactory,
    FixedClock,
    RecordingMessenger,
)

ARTICLE: dict[str, Any] = {
    "title": "Un día en el mercado",
    "text": "Hoy voy al mercado.",
    "new_words": [{"term": "mercado", "translation": "market"}],
}
NO_DELAY = (0.0, 0.0, 0.0)


class Runner:
    """A stand-in for JobService.run: records calls, raises what `failures` scripts, can be held."""

    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.calls: list[tuple[str, Mapping[str, Messenger]]] = []
        self.failures = list(failures or [])
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()

    async def __call__(self, job_id: str, messengers: Mapping[str, Messenger]) -> None:
        self.calls.append((job_id, messengers))
        self.started.set()
        await self.release.wait()
        if self.failures:
            raise self.failures.pop(0)


async def test_jobs_enqueued_before_start_run_once_it_has_the_messengers() -> None:
    queue, runner, messenger = InProcessJobQueue(retry_delays=NO_DELAY), Runner(), RecordingMessenger()
    queue.bind(runner)
    assert await queue.enqueue("job-1") and await queue.enqueue("job-2")
    await asyncio.sleep(0)
    assert runner.calls == []
    queue.start({"telegram": messenger})
    await queue.join()
    assert [job_id for job_id, _ in runner.calls] == ["job-1", "job-2"]
    assert runner.calls[0][1] == {"telegram": messenger}
    await queue.aclose()


async def test_a_job_id_already_held_is_not_taken_twice() -> None:
    queue, runner = InProcessJobQueue(retry_delays=NO_DELAY), Runner()
    queue.bind(runner)
    queue.start({})
    runner.release.clear()
    assert await queue.enqueue("job-1")
    await runner.started.wait()
    assert await queue.enqueue("job-1")  # running: True (held), not started again
    runner.release.set()
    await queue.join()
    assert [job_id for job_id, _ in runner.calls] == ["job-1"]
    assert await queue.enqueue("job-1")  # finished: a new enqueue runs it again (run is idempotent)
    await queue.join()
    assert len(runner.calls) == 2
    await queue.aclose()


async def test_a_run_that_raises_is_tried_again_after_a_delay() -> None:
    runner = Runner([ProviderUnavailable("Claude", "overloaded"), RuntimeError("database restarting")])
    queue = InProcessJobQueue(retry_delays=NO_DELAY)
    queue.bind(runner)
    queue.start({})
    await queue.enqueue("job-1")
    await queue.join()
    assert [job_id for job_id, _ in runner.calls] == ["job-1"] * 3


async def test_retries_are_bounded_and_the_sweep_takes_over() -> None:
    runner = Runner([ProviderUnavailable("Claude", "down")] * 10)
    queue = InProcessJobQueue(retry_delays=(0.0, 0.0))
    queue.bind(runner)
    queue.start({})
    await queue.enqueue("job-1")
    await queue.join()
    assert len(runner.calls) == 3  # the first try and two retries; the row stays queued for the sweep


async def test_closing_cancels_running_jobs_and_refuses_new_ones() -> None:
    queue, runner = InProcessJobQueue(retry_delays=NO_DELAY), Runner()
    queue.bind(runner)
    queue.start({})
    runner.release.clear()
    await queue.enqueue("job-1")
    await runner.started.wait()
    await queue.aclose()
    assert not await queue.enqueue("job-2")
    assert [job_id for job_id, _ in runner.calls] == ["job-1"]


async def test_the_periodic_tasks_run_at_start_and_then_every_interval() -> None:
    runs: list[str] = []
    third = asyncio.Event()

    async def sweep(messengers: Mapping[str, Messenger]) -> None:
        runs.append("sweep")

    async def reminders(messengers: Mapping[str, Messenger]) -> None:
        runs.append("reminders")
        if runs.count("reminders") == 3:
            third.set()

    async def broken(messengers: Mapping[str, Messenger]) -> None:
        raise RuntimeError("a failing task does not stop the others")

    queue = InProcessJobQueue()
    queue.bind(Runner())
    background = InProcessBackground(
        queue, [PeriodicTask("broken", broken), PeriodicTask("sweep", sweep), PeriodicTask("reminders", reminders)],
        interval_s=0.001,
    )
    background.start({})
    await asyncio.wait_for(third.wait(), 5)
    await background.aclose()
    assert runs[:6] == ["sweep", "reminders"] * 3
    assert not await queue.enqueue("job-1")  # closed with the background


async def test_starting_again_hands_over_the_new_messengers_to_jobs_and_periodic_tasks() -> None:
    """A bot restarted on the same services: its new messenger is used, the loop is not doubled."""
    seen: list[Mapping[str, Messenger]] = []
    round_done = asyncio.Event()

    async def sweep(messengers: Mapping[str, Messenger]) -> None:
        seen.append(dict(messengers))
        round_done.set()

    queue, runner = InProcessJobQueue(retry_delays=NO_DELAY), Runner()
    queue.bind(runner)
    background = InProcessBackground(queue, [PeriodicTask("sweep", sweep)], interval_s=0.001)
    first, second = RecordingMessenger(), RecordingMessenger()
    background.start({"telegram": first})
    await asyncio.wait_for(round_done.wait(), 5)
    background.start({"telegram": second})
    round_done.clear()
    seen.clear()
    await asyncio.wait_for(round_done.wait(), 5)
    assert await queue.enqueue("job-1")
    await queue.join()
    await background.aclose()
    assert seen and all(messengers["telegram"] is second for messengers in seen)
    assert [(job_id, messengers["telegram"]) for job_id, messengers in runner.calls] == [("job-1", second)]


async def test_without_redis_the_services_run_jobs_in_process_through_job_service_run() -> None:
    """build_services with an InProcessJobQueue: the same JobService.run delivers in this process."""
    uow, clock = FakeUnitOfWorkFactory(), FixedClock()
    settings = Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:")  # type: ignore[call-arg]
    model = FakeLanguageModel(json_answers=[ARTICLE], text_answers=["A day at the market\n\nI go to the market."])
    queue = InProcessJobQueue(retry_delays=NO_DELAY)
    services = build_services(
        settings, uow, scheduler=FsrsScheduler(enable_fuzzing=False), lemmatizer=FakeLemmatizer(),
        translator=None, clock=clock, language_model=model, queue=queue,
    )  # fmt: skip
    assert services.jobs is not None and services.background is not None and services.queue is queue
    learner, _ = await services.accounts.ensure_learner("telegram", "1001", "Ana")
    await services.languages.set_pair(learner.id, "es", "en", "A2")
    messenger = RecordingMessenger()
    address = DeliveryAddress("telegram", "1001", "1001")

    requested = await services.jobs.request(learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, address)
    assert requested.enqueued
    services.start_background({"telegram": messenger})
    await queue.join()

    assert messenger.texts() == [
        "✅ Your article is ready.",
        "Un día en el mercado\n\nHoy voy al mercado.",
        "Translation",
        "New words:\n• mercado — market",
    ]
    assert (await services.jobs.get(learner.id, requested.job.id)).status is JobStatus.DONE
    await services.aclose()
    assert not await queue.enqueue(requested.job.id)


class Hanging:
    """A runner that never finishes on its own; records that it was cancelled (as JobService.run does,
    it does its clean-up and lets the cancellation through)."""

    def __init__(self) -> None:
        self.calls = 0
        self.cancelled = 0

    async def __call__(self, job_id: str, messengers: Mapping[str, Messenger]) -> None:
        self.calls += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def test_a_run_past_its_time_limit_is_cancelled_and_tried_again() -> None:
    runner = Hanging()
    queue = InProcessJobQueue(retry_delays=(0.0,), run_timeout_s=0.01)
    queue.bind(runner)
    queue.start({})
    assert await queue.enqueue("job-1")
    await asyncio.wait_for(queue.join(), 5)  # without a limit the job would be held for ever
    assert (runner.calls, runner.cancelled) == (2, 2)  # the first run and one retry, each cut off
    assert await queue.enqueue("job-1")  # no longer held
    await queue.aclose()


def test_the_default_time_limit_fits_within_the_default_run_lease() -> None:
    from core.domain.services import JobTimings

    assert 0 < InProcessJobQueue().run_timeout_s <= JobTimings().run_lease.total_seconds()


class HangingModel(FakeLanguageModel):
    """A model that never answers (the provider hangs)."""

    async def generate_json(
        self, *, system: str, prompt: str, schema: dict[str, Any], tool_name: str, max_tokens: int = 2048
    ) -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def test_a_job_cut_off_by_the_time_limit_is_handed_back_to_queued() -> None:
    """JobService.run's own clean-up releases the row when the queue cancels it."""
    uow, clock = FakeUnitOfWorkFactory(), FixedClock()
    settings = Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:")  # type: ignore[call-arg]
    queue = InProcessJobQueue(retry_delays=(), run_timeout_s=0.01)
    services = build_services(
        settings, uow, scheduler=FsrsScheduler(enable_fuzzing=False), lemmatizer=FakeLemmatizer(),
        translator=None, clock=clock, language_model=HangingModel(), queue=queue,
    )  # fmt: skip
    assert services.jobs is not None
    learner, _ = await services.accounts.ensure_learner("telegram", "1001", "Ana")
    await services.languages.set_pair(learner.id, "es", "en", "A2")
    address = DeliveryAddress("telegram", "1001", "1001")
    requested = await services.jobs.request(learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, address)
    services.start_background({"telegram": RecordingMessenger()})
    await asyncio.wait_for(queue.join(), 5)

    job = await services.jobs.get(learner.id, requested.job.id)
    assert job.status is JobStatus.QUEUED  # not left "running" under a run nobody is doing any more
    assert job.attempts == 1 and job.last_error is not None and "Cancelled" in job.last_error
    await services.aclose()
