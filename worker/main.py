"""arq's WorkerSettings: `langlearn worker` runs this.

Start it with `langlearn worker`, not arq's own CLI: `langlearn worker` passes `redis_settings`
from REDIS_URL (`worker_options`) and configures logging with secrets redacted. A bare
`arq worker.main.WorkerSettings` would connect to arq's default localhost Redis whatever REDIS_URL
says, and log without the redaction.

- functions: `run_job` (one GenerationJob); cron: the sweep and the reminders, every minute (each
  tick runs once across all workers: arq's unique cron ids).
- on_startup: `bootstrap(Settings())` (the same composition root as the bots) and the messengers
  (Telegram when TELEGRAM_BOT_TOKEN is set); on_shutdown closes both.
- The run lease is derived from the job timeout: `run_lease = job_timeout + LEASE_MARGIN_S` (5 s).
  A live run is cut off by arq at `job_timeout`, so it never outlives its lease; arq hands a killed
  worker's job to another worker `job_timeout + 10 s` after it started (its in-progress key
  expires), past the lease, so the new run's claim takes the row over at once: with the defaults a
  killed worker's job resumes about 250 s after it started. (The sweep, every minute, is only the
  backstop: it re-enqueues a row running past its lease that arq lost.)
- SIGTERM (docker compose stop): arq stops taking jobs and waits up to JOB_COMPLETION_WAIT_S for
  the running ones, then cancels what is left (each cancelled run hands its row back to queued and
  its finished steps stay stored; another worker or the sweep resumes it) — within compose's
  stop_grace_period (60 s) before the SIGKILL.
- The health check key is refreshed every HEALTH_CHECK_INTERVAL_S; `langlearn worker --check`
  reads it (exit 0) — it expires shortly after a worker dies (exit 1).

Test-only knobs (environment; not settings, not in config.md): LANGLEARN_TEST_JOB_TIMEOUT_S
shortens arq's job timeout (and with it the run lease), so a test that kills a worker sees the job
handed over in seconds; LANGLEARN_TEST_RETRY_BASE_S shortens the retry defer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, cast

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.typing import WorkerCoroutine

from worker.tasks import RETRY_BASE_S, WorkerContext, run_job, send_reminders, sweep

if TYPE_CHECKING:
    from core.config import Settings
    from core.domain.ports import Messenger
    from core.domain.services import JobTimings

logger = logging.getLogger(__name__)

JOB_TIMEOUT_S = 240
# run_lease = job timeout + this: at least the timeout (a live run is cut off first) and below arq's
# redelivery of a dead worker's job (job timeout + 10 s), so that redelivery's claim succeeds.
LEASE_MARGIN_S = 5.0
ARQ_REDELIVERY_EXTRA_S = 10.0  # arq: in_progress_timeout_s = max function timeout + 10
RUN_JOB_MAX_TRIES = 12  # a backstop: the row's attempts (JobTimings.max_attempts) end a job first
HEALTH_CHECK_INTERVAL_S = 30
JOB_COMPLETION_WAIT_S = 50  # on SIGTERM; below docker-compose.yml's stop_grace_period (60 s)
MAX_JOBS = 20  # jobs at a time per worker: mostly waiting on providers
# arq reads new job ids once per poll (default every 0.5 s): with jobs of ~100 ms a slot then sits
# idle most of the time (bench/speech_jobs: 5x the ideal at 0.5 s). One ZRANGEBYSCORE every 20 ms
# costs Redis nothing.
POLL_DELAY_S = 0.02

TEST_JOB_TIMEOUT_ENV = "LANGLEARN_TEST_JOB_TIMEOUT_S"
TEST_RETRY_BASE_ENV = "LANGLEARN_TEST_RETRY_BASE_S"


def _test_seconds(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def job_timeout_s() -> float:
    """The arq job timeout: JOB_TIMEOUT_S unless a test shortens it."""
    return _test_seconds(TEST_JOB_TIMEOUT_ENV) or JOB_TIMEOUT_S


def job_timings(timeout_s: float | None = None) -> JobTimings:
    """The worker's JobTimings: core's defaults with the run lease derived from the job timeout.

    `job_timeout ≤ run_lease < job_timeout + 10 s` (see the module docstring); `stuck_after` stays
    core's default, well past the lease.
    """
    from core.domain.services import JobTimings

    timeout = timeout_s if timeout_s is not None else job_timeout_s()
    lease = timedelta(seconds=timeout + LEASE_MARGIN_S)
    defaults = JobTimings()
    return JobTimings(run_lease=lease, stuck_after=max(defaults.stuck_after, lease * 2))


async def open_messengers(settings: Settings) -> tuple[dict[str, Messenger], list[Callable[[], Awaitable[None]]]]:
    """A messenger per configured platform (the worker delivers to where each job came from)."""
    messengers: dict[str, Messenger] = {}
    closers: list[Callable[[], Awaitable[None]]] = []
    if settings.TELEGRAM_BOT_TOKEN is not None and settings.TELEGRAM_BOT_TOKEN.get_secret_value().strip():
        from bots.telegram.messenger import build_telegram_messenger

        telegram, close = build_telegram_messenger(settings)
        messengers[telegram.platform] = telegram
        closers.append(close)
    if not messengers:
        logger.warning("No messenger is configured (TELEGRAM_BOT_TOKEN): jobs will fail with nobody to deliver to")
    return messengers, closers


async def startup(ctx: WorkerContext) -> None:
    """Bootstrap the services and the messengers, unless the caller (a test) put them in ctx already."""
    from core.bootstrap import bootstrap
    from core.config import Settings

    if "services" not in ctx:
        settings = Settings()
        ctx["services"] = await bootstrap(settings, job_timings=job_timings())
        messengers, closers = await open_messengers(settings)
        ctx["messengers"], ctx["closers"] = messengers, closers
    retry_base = _test_seconds(TEST_RETRY_BASE_ENV)
    if retry_base is not None:
        ctx.setdefault("retry_base_s", retry_base)
    ctx.setdefault("retry_base_s", RETRY_BASE_S)
    logger.info("worker ready: delivering to %s", ", ".join(sorted(ctx.get("messengers", {}))) or "nobody")


async def shutdown(ctx: WorkerContext) -> None:
    """Close what startup opened (messengers first: they may still edit a status line)."""
    for close in ctx.get("closers", []):
        try:
            await close()
        except Exception:
            logger.warning("closing a messenger failed", exc_info=True)
    services = ctx.get("services")
    if services is not None and ctx.get("closers") is not None:
        await services.aclose()


def redis_settings_from(settings: Settings) -> RedisSettings:
    """The arq RedisSettings for REDIS_URL; a clear error when it is not set."""
    if not settings.REDIS_URL:
        raise ValueError("REDIS_URL is not set: the worker needs Redis (without it, the bot runs jobs in-process)")
    from core.outbound.jobs.arq_queue import redis_settings

    return redis_settings(settings.REDIS_URL, conn_timeout=5.0, conn_retries=5)


def _task(coroutine: Callable[..., Awaitable[Any]]) -> WorkerCoroutine:
    """Our tasks type their ctx with a TypedDict; arq's annotation says plain dict."""
    return cast("WorkerCoroutine", coroutine)


def run_job_function(timeout_s: float | None = None) -> Any:
    """`run_job` as arq registers it (name, timeout, tries)."""
    return func(_task(run_job), name="run_job", timeout=timeout_s or job_timeout_s(), max_tries=RUN_JOB_MAX_TRIES)


class WorkerSettings:
    """What `arq` reads; `langlearn worker` adds redis_settings (from REDIS_URL) and test overrides.

    No redis_settings here on purpose: run it through `langlearn worker` (see the module docstring).
    """

    functions: ClassVar[list[Any]] = [run_job_function()]
    cron_jobs: ClassVar[list[CronJob]] = [
        cron(_task(sweep), name="sweep", second=0, run_at_startup=True),
        cron(_task(send_reminders), name="send_reminders", second=0),
    ]
    on_startup = startup
    on_shutdown = shutdown
    job_timeout = JOB_TIMEOUT_S
    keep_result = 0  # a finished job's id may be enqueued again (the sweep); runs are idempotent
    max_jobs = MAX_JOBS
    poll_delay = POLL_DELAY_S
    health_check_interval = HEALTH_CHECK_INTERVAL_S
    job_completion_wait = JOB_COMPLETION_WAIT_S


def worker_options(settings: Settings) -> dict[str, Any]:
    """Keyword overrides of WorkerSettings for this process: Redis from REDIS_URL, test knobs."""
    options: dict[str, Any] = {"redis_settings": redis_settings_from(settings)}
    timeout = _test_seconds(TEST_JOB_TIMEOUT_ENV)
    if timeout is not None:
        options["functions"] = [run_job_function(timeout)]
        options["job_timeout"] = timeout
    return options
