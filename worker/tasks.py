"""The worker's arq tasks: ids in, one service call, idempotent (arq delivers at least once).

`run_job` turns every exception from `JobService.run` into `Retry(defer=…)`: the run has already
handed the row back to queued, and the row's attempt count (not arq's try count) bounds the
retries; arq's own limit (`RUN_JOB_MAX_TRIES`) is only a backstop. The results are not kept
(`keep_result=0` in WorkerSettings), so a job id arq has finished with can be enqueued again by the
sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypedDict

from arq import Retry

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.domain.ports import Messenger

logger = logging.getLogger(__name__)

RETRY_BASE_S = 15.0  # defer of the first retry; then ×2 a try, up to RETRY_MAX_S
RETRY_MAX_S = 300.0


class WorkerContext(TypedDict, total=False):
    """What `on_startup` puts in arq's ctx (and what arq adds per job)."""

    services: Services
    messengers: dict[str, Messenger]
    closers: list[Callable[[], Awaitable[None]]]
    retry_base_s: float  # tests make it short
    job_try: int  # set by arq for each job: 1 for the first try
    job_id: str


def retry_delay(job_try: int, base_s: float = RETRY_BASE_S) -> float:
    """Seconds before try `job_try + 1`: base, 2×base, 4×base … capped."""
    return min(base_s * (1 << max(job_try - 1, 0)), RETRY_MAX_S)


def _jobs(ctx: WorkerContext) -> Any:
    jobs = ctx["services"].jobs
    if jobs is None:  # bootstrap always builds them; a hand-made ctx might not
        raise RuntimeError("the worker's services have no job service")
    return jobs


async def run_job(ctx: WorkerContext, job_id: str) -> str | None:
    """Run one GenerationJob; its final status, or None when there was nothing to do."""
    try:
        job = await _jobs(ctx).run(job_id, ctx["messengers"])
    except Exception as exc:
        defer = retry_delay(ctx.get("job_try", 1), ctx.get("retry_base_s", RETRY_BASE_S))
        logger.warning("job %s: %s; retrying in %.3g s", job_id, _describe(exc), defer)
        raise Retry(defer=defer) from exc
    return None if job is None else job.status.value


async def sweep(ctx: WorkerContext) -> dict[str, int]:
    """The cron task: enqueue jobs the queue lost, fail jobs stuck running (the learner told)."""
    report = await _jobs(ctx).sweep(ctx["messengers"])
    if report.requeued or report.failed:
        logger.info("sweep: %d job(s) enqueued again, %d failed", report.requeued, report.failed)
    return {"requeued": report.requeued, "failed": report.failed}


async def send_reminders(ctx: WorkerContext) -> dict[str, int]:
    """The cron task: send the reminders due now."""
    reminders = ctx["services"].reminders
    if reminders is None:
        raise RuntimeError("the worker's services have no reminder service")
    report = await reminders.send_due(ctx["messengers"])
    if report.sent or report.disabled:
        logger.info("reminders: %d sent, %d learners' reminders turned off (blocked)", report.sent, report.disabled)
    return {"sent": report.sent, "disabled": report.disabled}


def _describe(exc: BaseException) -> str:
    """The domain errors' own text (ours, no secrets); only the type of anything else."""
    from core.domain.errors import DomainError

    return str(exc) if isinstance(exc, DomainError) else type(exc).__name__
