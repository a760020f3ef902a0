"""Background jobs: request (row + enqueue), run (claim, resumable steps, delivery once), sweep.

A job kind is a `JobPipeline` (articles, speech): it validates a request inside the request's
transaction and runs its steps through a `JobRun`, which stores each step's result before the
next runs and sends each delivery part at most once. `JobService` owns the life cycle:

    request  → a queued row (one transaction), then the queue; False from the queue keeps it queued
    run      → claim (done/failed/under a live claim: nothing happens) → pipeline → done
               ProviderRefused, invalid output, a quota → failed, the learner told once
               ProviderUnavailable → released to queued and re-raised (the queue retries);
               at the last attempt → failed, the learner told once
               RecipientUnavailable → failed, nobody to tell
               the row gone or no longer this run's (the learner deleted their account, the sweep
               failed it as stuck, another run took it over) → the run stops: nothing more is
               sent, nobody is told (each stored step checks the claim)
    sweep    → queued rows the queue lost are enqueued again; running rows whose run died are
               enqueued again (a claim takes them over); rows running past `stuck_after` fail

Delivery is at least once per platform message: a part is recorded right after the platform
accepted it, so only a crash (or an outage of our database) between the two sends it twice. Long
texts go through `JobRun.deliver_text`, in pieces that each fit one platform message and are each
recorded, so a failure in the middle of a long text resends none of the pieces already sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.domain.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    RecipientUnavailable,
)
from core.domain.models import (
    DeliveryAddress,
    GenerationJob,
    JobKind,
    JobStatus,
    OutgoingMessage,
    RequestedJob,
    SentMessage,
    SweepReport,
)
from core.domain.ports import Clock, JobQueue, Messenger, UnitOfWork, UnitOfWorkFactory
from core.domain.services._rules import new_id
from core.domain.services._text_pieces import text_pieces

logger = logging.getLogger(__name__)

STATUS_MESSAGE = "status_message_id"
DELIVERED = "delivered"
SENT = "sent"
SWEEP_BATCH = 200


@dataclass(frozen=True)
class JobTimings:
    """How long things may take. The queue's own job timeout must not exceed `run_lease`."""

    queued_grace: timedelta = timedelta(seconds=30)  # a queued row older than this is enqueued again
    run_lease: timedelta = timedelta(minutes=5)  # a run older than this is dead: another claim may take over
    stuck_after: timedelta = timedelta(minutes=10)  # a row running this long is failed (learner told)
    max_attempts: int = 3


class JobFailed(DomainError):
    """A job cannot succeed (the model's output was unusable twice …): failed, the learner told why."""


class _JobGone(Exception):
    """The run's job row is gone or no longer running under its claim: the run stops silently."""


class JobPipeline(Protocol):
    """One job kind: what its request needs and the steps of its run."""

    @property
    def kind(self) -> JobKind: ...

    @property
    def label(self) -> str:
        """The learner's name for the job ("article", "voice message")."""
        ...

    async def prepare(
        self, uow: UnitOfWork, learner_id: str, params: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        """The job's stored params, checked inside the request's transaction (InvalidInput, a quota …)."""
        ...

    async def execute(self, run: JobRun) -> None:
        """Run the steps not yet stored and deliver the parts not yet delivered."""
        ...


class JobRun:
    """One claimed run of a job: resumable steps, the status message and once-only delivery."""

    def __init__(self, job: GenerationJob, messenger: Messenger, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self.job = job
        self.messenger = messenger
        self._uow = uow
        self._clock = clock

    @property
    def address(self) -> DeliveryAddress:
        return self.job.address

    def stored(self, name: str) -> Any:
        """A step's stored result, None when the step has not run."""
        return self.job.steps.get(name)

    async def step[T](self, name: str, compute: Callable[[], Awaitable[T]], status: str | None = None) -> T:
        """The stored result of step `name`, or `compute()` stored now (after showing `status`)."""
        if name in self.job.steps:
            result: T = self.job.steps[name]
            return result
        if status is not None:
            await self.show_status(status)
        result = await compute()
        await self.save(name, result)
        return result

    async def save(
        self, name: str, value: Any, *, also: Callable[[UnitOfWork], Awaitable[None]] | None = None, **more: Any
    ) -> None:
        """Store step `name` (and the steps in `more`) in one transaction, with `also`'s writes when given.

        Raises `_JobGone` when the row is gone or, for a claimed run, no longer running under
        this run's attempt: the run must stop there (and `also` writes nothing).
        """
        values = {name: value, **more}
        attempt = self.job.attempts if self.job.status is JobStatus.RUNNING else None
        async with self._uow() as uow:
            if not await uow.jobs.save_steps(self.job.id, values, self._clock(), attempt=attempt):
                raise _JobGone(self.job.id)
            if also is not None:
                await also(uow)
            await uow.commit()
        self.job.steps.update(values)

    async def deliver(
        self,
        part: str,
        build: Callable[[], Awaitable[OutgoingMessage | None]],
        *,
        also: Callable[[UnitOfWork, list[SentMessage]], Awaitable[None]] | None = None,
    ) -> list[SentMessage] | None:
        """Send part `part` unless it was delivered; None when it was (or `build` had nothing to send).

        `also(uow, sent)`: more writes about what was sent, stored with the delivery record.
        """
        delivered: list[str] = list(self.job.steps.get(DELIVERED, []))
        if part in delivered:
            return None
        message = await build()
        if message is None:
            return None
        sent = await self.messenger.send(self.address, message)
        sent_ids = {**self.job.steps.get(SENT, {}), part: [item.message_id for item in sent]}

        async def record(uow: UnitOfWork) -> None:
            if also is not None:
                await also(uow, sent)

        await self.save(DELIVERED, [*delivered, part], also=record, **{SENT: sent_ids})
        return sent

    async def deliver_text(self, part: str, text: str, make: Callable[[str, int], OutgoingMessage]) -> None:
        """Send `text` as part `part`: `make(piece, number)` for each of its pieces (`text_pieces`).

        Each piece is its own part (`part`, then `part.2`, `part.3` …), recorded as soon as it is
        sent: a retry after a failure in the middle sends only the pieces the learner has not got.
        """
        for number, piece in enumerate(text_pieces(text), start=1):
            await self.deliver(part if number == 1 else f"{part}.{number}", _ready(make(piece, number)))

    async def show_status(self, text: str, *, send: bool = True) -> None:
        """Edit the status message to `text`, sending it first when there is none yet (best effort).

        `send` False: only an existing status message is edited (the final line of a job whose
        kind shows no progress, or that never got to show any).
        """
        message_id = self.job.steps.get(STATUS_MESSAGE)
        if message_id is None and not send:
            return
        try:
            if message_id is None:
                sent = await self.messenger.send(self.address, OutgoingMessage(text=text))
                if sent:
                    await self.save(STATUS_MESSAGE, sent[0].message_id)
            else:
                await self.messenger.edit_text(self.address, str(message_id), text)
        except RecipientUnavailable:
            raise
        except ProviderError as exc:  # a status line is not worth a retry of the job
            logger.warning("job %s: status message not updated: %s", self.job.id, exc)


class JobService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        queue: JobQueue,
        clock: Clock,
        pipelines: Mapping[JobKind, JobPipeline],
        timings: JobTimings | None = None,
    ) -> None:
        self._uow = uow
        self._queue = queue
        self._clock = clock
        self._pipelines = dict(pipelines)
        self.timings = timings or JobTimings()

    async def request(
        self,
        learner_id: str,
        kind: JobKind,
        params: Mapping[str, Any],
        address: DeliveryAddress,
        *,
        messenger: Messenger | None = None,
    ) -> RequestedJob:
        """Store a queued job (checked by its kind: InvalidInput, QuotaExceeded …) and enqueue it.

        With `messenger`, the status message ("queued") is sent now, so the run edits the same
        message; without, the run sends it. `enqueued` False: the queue was unreachable, the job
        stays queued and the sweep enqueues it later.
        """
        pipeline = self._pipeline(kind)
        now = self._clock()
        async with self._uow() as uow:
            prepared = await pipeline.prepare(uow, learner_id, params, now)
            job = GenerationJob(
                id=new_id(),
                learner_id=learner_id,
                kind=kind,
                status=JobStatus.QUEUED,
                params=prepared,
                steps={},
                address=address,
                attempts=0,
                last_error=None,
                created_at=now,
                updated_at=now,
            )
            await uow.jobs.add(job)
            await uow.commit()
        status = None if messenger is None else JobRun(job, messenger, self._uow, self._clock)
        await _show_request_status(status, queued_text(pipeline.label, True))
        enqueued = await self._enqueue(job.id)
        if not enqueued:
            await _show_request_status(status, queued_text(pipeline.label, False))
        return RequestedJob(job=job, enqueued=enqueued)

    async def run(self, job_id: str, messengers: Mapping[str, Messenger]) -> GenerationJob | None:
        """Run the job once more if it is to run; the finished job, or None when there was nothing to do.

        Idempotent: a done or failed job, or one another run holds, is left alone. Raises
        ProviderUnavailable (after releasing the job) when a provider is down and attempts remain.
        A run whose job was deleted or failed meanwhile stops at its next stored step and returns
        the job as stored (None when deleted).
        """
        now = self._clock()
        async with self._uow() as uow:
            job = await uow.jobs.claim(job_id, now, now - self.timings.run_lease)
            await uow.commit()
        if job is None:
            return None
        messenger = messengers.get(job.address.platform)
        if messenger is None:
            logger.error("job %s: no messenger for platform %r", job.id, job.address.platform)
            await self._finish(job, JobStatus.FAILED, f"no messenger for {job.address.platform}")
            return await self._get(job.id)
        run = JobRun(job, messenger, self._uow, self._clock)
        pipeline = self._pipeline(job.kind)
        if job.attempts > self.timings.max_attempts:
            await self._fail(run, pipeline, "It failed too many times; please try again later.")
            return await self._get(job.id)
        try:
            await pipeline.execute(run)
        except _JobGone:
            logger.info("job %s: deleted, failed or taken over while running: this run stops", job.id)
            return await self._get(job.id)
        except RecipientUnavailable as exc:
            await self._finish(job, JobStatus.FAILED, str(exc))
        except ProviderUnavailable as exc:
            if job.attempts >= self.timings.max_attempts:
                await self._fail(run, pipeline, str(exc))
            else:
                await self._release(job, str(exc))
                raise
        except ProviderRefused as exc:
            logger.error("job %s: %s refused: %s", job.id, exc.provider, exc.operator_hint)
            await self._fail(run, pipeline, exc.user_text)
        except DomainError as exc:  # JobFailed, a quota reached at synthesis, a provider not configured …
            await self._fail(run, pipeline, str(exc))
        except BaseException as exc:
            # A bug or an outage of our own: hand the job back so a retry (or the sweep) can resume
            # it; the attempt count bounds the retries.
            await self._release_quietly(job, f"{type(exc).__name__} while running")
            raise
        else:
            completed, finished = await self._complete(job)
            if completed:
                await run.show_status(done_text(pipeline.label), send=False)
            return finished
        return await self._get(job.id)

    async def sweep(self, messengers: Mapping[str, Messenger]) -> SweepReport:
        """Enqueue jobs the queue lost (queued, or running under a dead run); fail jobs stuck running."""
        now = self._clock()
        timings = self.timings
        async with self._uow() as uow:
            stale = await uow.jobs.list_stale_queued(now - timings.queued_grace, SWEEP_BATCH)
            orphaned = await uow.jobs.list_stuck_running(now - timings.run_lease, SWEEP_BATCH)
        requeued = failed = 0
        for job in stale:
            requeued += await self._enqueue(job.id)
        for job in orphaned:
            if job.started_at is not None and job.started_at >= now - timings.stuck_after:
                requeued += await self._enqueue(job.id)
                continue
            messenger = messengers.get(job.address.platform)
            pipeline = self._pipeline(job.kind)
            if messenger is None:
                failed += await self._finish(job, JobStatus.FAILED, "timed out")
            else:
                run = JobRun(job, messenger, self._uow, self._clock)
                failed += await self._fail(run, pipeline, "It took too long and was stopped.")
        return SweepReport(requeued=requeued, failed=failed)

    async def recent(self, learner_id: str, limit: int = 10) -> list[GenerationJob]:
        """The learner's latest jobs, newest first (/jobs)."""
        async with self._uow(read_only=True) as uow:
            return await uow.jobs.list_for_learner(learner_id, limit)

    async def get(self, learner_id: str, job_id: str) -> GenerationJob:
        """The learner's job; NotFound when it does not exist or is someone else's."""
        async with self._uow(read_only=True) as uow:
            job = await uow.jobs.get(job_id)
        if job is None or job.learner_id != learner_id:
            raise NotFound("job")
        return job

    # --- transitions --------------------------------------------------------------------------

    def _pipeline(self, kind: JobKind) -> JobPipeline:
        pipeline = self._pipelines.get(kind)
        if pipeline is None:
            raise InvalidInput(f"{kind.value} jobs are not available here.")
        return pipeline

    async def _enqueue(self, job_id: str) -> bool:
        try:
            return await self._queue.enqueue(job_id)
        except Exception as exc:  # any queue failure means the same: the row waits for the sweep
            logger.warning("job %s stays queued: the queue refused it (%s)", job_id, type(exc).__name__)
            return False

    async def _finish(self, job: GenerationJob, status: JobStatus, error: str | None) -> bool:
        async with self._uow() as uow:
            finished = await uow.jobs.finish(job.id, status, error, self._clock(), attempt=job.attempts)
            await uow.commit()
        return finished

    async def _fail(self, run: JobRun, pipeline: JobPipeline, reason: str) -> bool:
        """Fail the job; when this call failed it (so once), tell the learner why."""
        if not await self._finish(run.job, JobStatus.FAILED, reason):
            return False
        try:
            await run.show_status(failed_text(pipeline.label), send=False)
            await run.messenger.send(run.address, OutgoingMessage(text=failure_message(pipeline.label, reason)))
        except (RecipientUnavailable, ProviderError) as exc:
            logger.warning("job %s failed and the learner could not be told: %s", run.job.id, exc)
        return True

    async def _release(self, job: GenerationJob, error: str) -> None:
        async with self._uow() as uow:
            await uow.jobs.release(job.id, job.attempts, error, self._clock())
            await uow.commit()

    async def _release_quietly(self, job: GenerationJob, error: str) -> None:
        try:
            await self._release(job, error)
        except Exception:  # the original error matters more; the lease hands the job over anyway
            logger.exception("job %s could not be released", job.id)

    async def _complete(self, job: GenerationJob) -> tuple[bool, GenerationJob | None]:
        """Done and delivered, in one transaction; whether this run completed it, and the row as stored."""
        now = self._clock()
        async with self._uow() as uow:
            completed = await uow.jobs.finish(job.id, JobStatus.DONE, None, now, attempt=job.attempts)
            completed = completed and await uow.jobs.mark_delivered(job.id, now)
            stored = await uow.jobs.get(job.id)
            await uow.commit()
        return completed, stored

    async def _get(self, job_id: str) -> GenerationJob | None:
        async with self._uow() as uow:
            return await uow.jobs.get(job_id)


async def _show_request_status(run: JobRun | None, text: str) -> None:
    """The request's status line: the job is stored either way, so a blocked chat only loses the line."""
    if run is None:
        return
    try:
        await run.show_status(text)
    except RecipientUnavailable as exc:
        logger.info("job %s: status message not sent: %s", run.job.id, exc)
    except _JobGone:  # deleted with its learner right after the request: nothing to show
        logger.info("job %s: gone before its status message was stored", run.job.id)


def _ready(message: OutgoingMessage) -> Callable[[], Awaitable[OutgoingMessage]]:
    async def build() -> OutgoingMessage:
        return message

    return build


# --- what the learner reads -------------------------------------------------------------------


def queued_text(label: str, enqueued: bool) -> str:
    if enqueued:
        return f"⏳ Your {label} is queued."
    return f"⏳ Your {label} is queued: it will run as soon as the worker is back."


def done_text(label: str) -> str:
    return f"✅ Your {label} is ready."


def failed_text(label: str) -> str:
    return f"❌ Your {label} could not be made."


def failure_message(label: str, reason: str) -> str:
    return f"Sorry, your {label} could not be made. {reason}"
