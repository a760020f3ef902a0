"""The embedded default: jobs run as asyncio tasks of the bot (or console) process.

Same code path as the arq worker: the queue calls the bound runner, `JobService.run(job_id,
messengers)`, which is idempotent. A job id already held (waiting, running or waiting for a
retry) is not taken twice. Like arq's job timeout, each run is cut off after `run_timeout_s`
(cancelled: JobService hands the row back to queued), which must not exceed the service's run
lease (JobTimings.run_lease): a run still going past its lease could be taken over while alive.
A run that raises or times out (a provider down, an outage of our own) is tried again after a
delay, a few times; after that the row stays queued and the sweep, which `InProcessBackground`
runs every minute beside the reminders, hands it back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from core.domain.errors import ProviderUnavailable
from core.domain.ports import Messenger

logger = logging.getLogger(__name__)

Messengers = Mapping[str, Messenger]
JobRunner = Callable[[str, Messengers], Awaitable[object]]

DEFAULT_RETRY_DELAYS = (5.0, 30.0, 120.0)
# The worker's arq job timeout: below JobTimings' default run lease (5 minutes).
DEFAULT_RUN_TIMEOUT_S = 240.0


class InProcessJobQueue:
    """Runs enqueued jobs in tasks of this process, at most `max_jobs` at a time.

    Each run is cut off after `run_timeout_s` (keep it at most the run lease). `bind(runner)`
    gives it the code to run (JobService.run, built after the queue); `start(messengers)` gives it
    the process's messengers: jobs enqueued before that wait for it. Jobs still running at
    `aclose()` are cancelled (the run hands the row back to queued; the next start's sweep resumes it).
    """

    def __init__(
        self,
        *,
        max_jobs: int = 10,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        run_timeout_s: float = DEFAULT_RUN_TIMEOUT_S,
    ) -> None:
        if run_timeout_s <= 0:
            raise ValueError("run_timeout_s must be positive")
        self.run_timeout_s = run_timeout_s
        self._runner: JobRunner | None = None
        self._messengers: Messengers | None = None
        self._retry_delays = tuple(retry_delays)
        self._slots = asyncio.Semaphore(max_jobs)
        self._waiting: dict[str, None] = {}  # enqueued before start, in order
        self._held: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def bind(self, runner: JobRunner) -> None:
        """The code that runs one job: `JobService.run`."""
        self._runner = runner

    @property
    def started(self) -> bool:
        return self._messengers is not None and not self._closed

    def start(self, messengers: Messengers) -> None:
        """Start running jobs (the ones enqueued so far first), delivering through these messengers."""
        if self._runner is None:
            raise RuntimeError("InProcessJobQueue.start before bind")
        self._messengers = dict(messengers)
        waiting, self._waiting = list(self._waiting), {}
        for job_id in waiting:
            self._spawn(job_id)

    async def enqueue(self, job_id: str) -> bool:
        if self._closed:
            return False
        if job_id in self._held or job_id in self._waiting:
            return True
        if self._messengers is None:
            self._waiting[job_id] = None
        else:
            self._spawn(job_id)
        return True

    async def join(self) -> None:
        """Wait until no job is held (tests, benchmarks)."""
        while self._held:
            await asyncio.gather(*self._held.values(), return_exceptions=True)

    async def aclose(self) -> None:
        self._closed = True
        tasks = list(self._held.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._held.clear()
        self._waiting.clear()

    def _spawn(self, job_id: str) -> None:
        self._held[job_id] = asyncio.create_task(self._run(job_id), name=f"job {job_id}")

    async def _run(self, job_id: str) -> None:
        try:
            await self._run_with_retries(job_id)
        finally:
            self._held.pop(job_id, None)  # in the task itself: no window where a finished job looks held

    async def _run_with_retries(self, job_id: str) -> None:
        assert self._runner is not None and self._messengers is not None
        for delay in (0.0, *self._retry_delays):
            if delay:
                await asyncio.sleep(delay)
            limit = asyncio.timeout(self.run_timeout_s)
            try:
                async with self._slots, limit:
                    await self._runner(job_id, self._messengers)
                return
            except TimeoutError:
                if not limit.expired():
                    logger.exception("job %s raised; trying again in a while", job_id)
                else:
                    logger.warning("job %s: cut off after %g s; trying again in a while", job_id, self.run_timeout_s)
            except ProviderUnavailable as exc:
                logger.warning("job %s: %s; trying again in a while", job_id, exc)
            except Exception:
                logger.exception("job %s raised; trying again in a while", job_id)
        logger.warning("job %s: retries used up in this process; the sweep will hand it back", job_id)


@dataclass(frozen=True)
class PeriodicTask:
    """A task run every `InProcessBackground.interval_s` (the sweep, the reminders)."""

    name: str
    run: Callable[[Messengers], Awaitable[object]]


class InProcessBackground:
    """The in-process queue plus the periodic tasks the arq worker would run as cron jobs.

    `start(messengers)` starts the queue and a loop running each periodic task at once and then
    every `interval_s` (a failure is logged, the loop goes on); `aclose()` stops both. Starting
    again (a bot restarted on the same services) hands over the new messengers: the queue and the
    periodic tasks deliver through them from then on, the loop is not started twice.
    """

    def __init__(self, queue: InProcessJobQueue, periodic: Sequence[PeriodicTask], interval_s: float = 60.0) -> None:
        self.queue = queue
        self.periodic = tuple(periodic)
        self.interval_s = interval_s
        self._loop: asyncio.Task[None] | None = None
        self._messengers: dict[str, Messenger] = {}  # the current ones: the loop reads them each round
        self.ticks = 0  # completed rounds of the periodic tasks
        self._ticked = asyncio.Condition()

    def start(self, messengers: Messengers) -> None:
        self._messengers.clear()
        self._messengers.update(messengers)
        self.queue.start(messengers)
        if self._loop is None:
            self._loop = asyncio.create_task(self._every_interval(self._messengers), name="periodic jobs")

    async def _every_interval(self, messengers: Messengers) -> None:
        while True:
            for task in self.periodic:
                try:
                    await task.run(messengers)
                except Exception:
                    logger.exception("periodic task %s failed", task.name)
            async with self._ticked:
                self.ticks += 1
                self._ticked.notify_all()
            await asyncio.sleep(self.interval_s)

    async def wait_rounds(self, count: int = 1) -> None:
        """Wait until the periodic tasks have run `count` rounds since start (tests)."""
        async with self._ticked:
            await self._ticked.wait_for(lambda: self.ticks >= count)

    async def aclose(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None
        await self.queue.aclose()
