"""worker/main.py: the timings the worker runs with fit arq's own.

arq cuts a run off at its job timeout and hands a killed worker's job to another worker when the
job's in-progress key expires (job timeout + 10 s). The run lease must lie between the two: a live
run never outlives its lease, and the redelivered run's claim takes the row over at once instead of
being refused (and dropped by arq, leaving the job to the sweep minutes later).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from arq.worker import Worker

from worker.main import JOB_TIMEOUT_S, TEST_JOB_TIMEOUT_ENV, WorkerSettings, job_timings, run_job_function


def arq_redelivery_after(timeout_s: float) -> timedelta:
    """When arq lets another worker take a job whose worker died: read from arq's own Worker.

    (Built inside the tests' event loop, as arq expects; it connects to nothing until it runs.)
    """
    worker = Worker(functions=[run_job_function(timeout_s)], job_timeout=timeout_s, handle_signals=False)
    return timedelta(seconds=worker.in_progress_timeout_s)


@pytest.mark.parametrize("timeout_s", [JOB_TIMEOUT_S, 10.0])
async def test_the_run_lease_lies_between_the_job_timeout_and_arqs_redelivery(timeout_s: float) -> None:
    timings = job_timings(timeout_s)
    assert timedelta(seconds=timeout_s) <= timings.run_lease < arq_redelivery_after(timeout_s)
    assert timings.stuck_after > timings.run_lease


async def test_the_worker_runs_with_the_lease_of_its_own_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TEST_JOB_TIMEOUT_ENV, raising=False)
    assert WorkerSettings.job_timeout == JOB_TIMEOUT_S
    [run_job] = WorkerSettings.functions
    assert run_job.timeout_s == JOB_TIMEOUT_S
    lease = job_timings().run_lease
    assert timedelta(seconds=JOB_TIMEOUT_S) <= lease < arq_redelivery_after(JOB_TIMEOUT_S)
    monkeypatch.setenv(TEST_JOB_TIMEOUT_ENV, "10")
    assert timedelta(seconds=10) <= job_timings().run_lease < arq_redelivery_after(10)
