"""docker-compose.yml and the Dockerfile describe production with the names Settings knows.

No Docker engine runs here, so the files are checked as data: every setting a langlearn
service is given exists in Settings, and the start-up order is migrate first, then the rest.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.config import Settings
from core.outbound.postgres.database import POOL_OVERFLOW, POOL_SIZE

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = set(Settings.model_fields)
# Variables compose itself reads that are not langlearn settings (documented in the file's header).
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}
APP_SERVICES = {"migrate": "langlearn migrate", "telegram": "langlearn telegram", "worker": "langlearn worker"}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(compose["services"])


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): str(value) for key, value in env.items()}


def test_production_services_exist(services: dict[str, Any]) -> None:
    assert {"postgres", "redis", "minio", *APP_SERVICES} <= set(services)


def test_langlearn_services_are_built_from_the_dockerfile_and_run_their_command(services: dict[str, Any]) -> None:
    for name, command in APP_SERVICES.items():
        assert services[name]["build"] == ".", name
        assert " ".join(services[name]["command"]) == command, name


def test_every_setting_given_to_a_langlearn_service_exists_in_settings(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = environment(services[name])
        assert env, name
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name}: {sorted(unknown)} are not Settings fields"
        interpolated = {m for value in env.values() for m in re.findall(r"\$\{([A-Z0-9_]+)", value)}
        assert interpolated <= SETTINGS | COMPOSE_ONLY, f"{name}: {sorted(interpolated - SETTINGS - COMPOSE_ONLY)}"


def test_every_langlearn_service_runs_a_command_that_exists(services: dict[str, Any]) -> None:
    """A service whose command is not built yet would crash-loop under `restart: unless-stopped`."""
    from bots.cli import SUBCOMMANDS

    for name, service in services.items():
        command = service.get("command", [])
        if service.get("build") == "." and command[:1] == ["langlearn"]:
            assert command[1] in SUBCOMMANDS, f"{name}: langlearn {command[1]} does not exist"
        elif service.get("build") == ".":
            pytest.fail(f"{name}: unexpected command {command}")


def test_wiring_points_langlearn_at_the_compose_services(services: dict[str, Any]) -> None:
    env = environment(services["migrate"])
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["STORAGE_ENDPOINT_URL"] == "http://minio:9000"
    assert "STORAGE_BUCKET" in env


def test_migrate_is_one_shot_after_postgres_is_healthy(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_telegram_bot_starts_after_a_successful_migration(services: dict[str, Any]) -> None:
    depends = services["telegram"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["redis"]["condition"] == "service_healthy"
    assert depends["minio"]["condition"] == "service_healthy"
    assert services["telegram"]["restart"] == "unless-stopped"


def test_the_worker_starts_after_a_successful_migration_with_arqs_health_check(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    assert worker["healthcheck"]["test"] == ["CMD", "langlearn", "worker", "--check"]
    assert environment(worker)["REDIS_URL"] == "redis://redis:6379/0"
    assert worker["restart"] == "unless-stopped"


def test_backing_services(services: dict[str, Any]) -> None:
    postgres, redis, minio = services["postgres"], services["redis"], services["minio"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert redis["image"].startswith("redis:7")
    assert "healthcheck" in redis and "healthcheck" in minio
    assert environment(minio)["MINIO_ROOT_USER"].startswith("${STORAGE_ACCESS_KEY")
    assert environment(minio)["MINIO_ROOT_PASSWORD"].startswith("${STORAGE_SECRET_KEY")


def test_postgres_takes_the_connections_of_the_bot_and_five_workers(services: dict[str, Any]) -> None:
    command = " ".join(services["postgres"]["command"])
    [limit] = re.findall(r"max_connections=(\d+)", command)
    per_process = POOL_SIZE + POOL_OVERFLOW
    long_running = [name for name in APP_SERVICES if name != "migrate"]  # the telegram bot and one worker
    assert int(limit) >= per_process * (len(long_running) + 4) + 10  # --scale worker=5, and psql/migrate


def test_dockerfile_builds_the_locked_runtime_environment() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.13-slim" in dockerfile.splitlines()
    assert "uv sync --frozen --no-dev" in dockerfile
    for folder in ("core", "bots", "worker", "migrations"):
        assert f"COPY {folder} ./{folder}" in dockerfile


def seconds(duration: str) -> float:
    """A compose duration such as "60s", "1m30s" or "1m" in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?", duration.strip())
    assert parts and any(parts.groups()), f"unreadable duration {duration!r}"
    minutes, secs = parts.groups()
    return int(minutes or 0) * 60 + float(secs or 0)


def test_a_stopped_worker_lets_its_running_jobs_finish_within_the_grace_period(services: dict[str, Any]) -> None:
    """On SIGTERM arq stops taking jobs and waits `job_completion_wait` for the running ones, then
    cancels them and shuts down: all of it before compose's SIGKILL at stop_grace_period."""
    from arq.worker import get_kwargs

    from worker.main import WorkerSettings

    wait = get_kwargs(WorkerSettings).get("job_completion_wait")  # what arq's run_worker passes to Worker
    assert isinstance(wait, int) and wait > 0, "arq cancels running jobs at once on SIGTERM"
    grace = seconds(services["worker"]["stop_grace_period"])
    assert wait + 5 <= grace, f"job_completion_wait {wait} s leaves no time to shut down before {grace} s"
