"""The arq queue on Redis: one arq job per GenerationJob row, its `_job_id` the row's id.

The only module of `core` that imports arq (the import-linter contract names it as the exception);
`core.bootstrap` imports it only when REDIS_URL is set. The worker side (WorkerSettings, the task
functions) lives in `worker/`; the task name below is what both agree on.
"""

from __future__ import annotations

import asyncio
import logging

from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RUN_JOB_TASK = "run_job"  # worker.tasks.run_job(ctx, job_id)


def redis_settings(redis_url: str, *, conn_timeout: float = 2.0, conn_retries: int = 0) -> RedisSettings:
    """The arq connection settings for a redis:// URL; no connection retries by default (callers fall back)."""
    settings = RedisSettings.from_dsn(redis_url)
    settings.conn_timeout = max(1, round(conn_timeout))
    settings.conn_retries = conn_retries
    return settings


class ArqJobQueue:
    """`JobQueue` over arq.

    `enqueue` is True when arq holds the job (now or already), False when Redis cannot be reached:
    the row stays queued and the sweep enqueues it again.

    The pool is made on first use (a bot may start while Redis is down) and reconnects by itself.
    """

    def __init__(self, redis_url: str, *, queue_name: str | None = None, conn_timeout: float = 2.0) -> None:
        self._settings = redis_settings(redis_url, conn_timeout=conn_timeout)
        self._queue_name = queue_name
        self._pool: ArqRedis | None = None
        self._connecting = asyncio.Lock()

    async def enqueue(self, job_id: str) -> bool:
        try:
            pool = await self._connect()
            await pool.enqueue_job(RUN_JOB_TASK, job_id, _job_id=job_id, _queue_name=self._queue_name)
        except (RedisError, OSError, TimeoutError) as exc:
            # The URL may carry a password: name the error type only.
            logger.warning("job %s stays queued: Redis is unreachable (%s)", job_id, type(exc).__name__)
            return False
        return True  # a Job, or None: arq already holds this id

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose(close_connection_pool=True)

    async def _connect(self) -> ArqRedis:
        async with self._connecting:
            if self._pool is None:
                self._pool = await create_pool(self._settings)
            return self._pool
