"""Shared scaffolding for the benchmark scripts (not tests: see shared/spec/testing.md).

Each script creates its own throw-away Postgres database, migrates it with the real
migrations, measures the real code path and a hand-written baseline in the same run,
prints ONE JSON line and drops the database again.

`BENCH_DATABASE_URL` names the server to use (any database on it, e.g.
`postgresql://postgres@127.0.0.1:5432/postgres`); the benchmark database is created beside it.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


# --- databases --------------------------------------------------------------------------------


def _with_database(url: str, database: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def server_url() -> str:
    """The maintenance URL of the Postgres server (asyncpg form, no driver suffix)."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)
    return _with_database(url, urlsplit(url).path.lstrip("/") or "postgres", "postgresql")


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    dsn: str  # for asyncpg: postgresql://…/name
    url: str  # for SQLAlchemy: postgresql+asyncpg://…/name


async def _admin_connect() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(server_url(), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        raise SystemExit(f"bench: cannot reach Postgres at {server_url()} ({exc}); set BENCH_DATABASE_URL") from exc


@asynccontextmanager
async def fresh_database(*, migrate: bool = True) -> AsyncIterator[BenchDatabase]:
    """A new `langlearn_bench_<hex>` database, migrated to head, dropped afterwards."""
    name = f"langlearn_bench_{secrets.token_hex(4)}"
    admin = await _admin_connect()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = server_url()
    db = BenchDatabase(
        name=name,
        dsn=_with_database(base, name, "postgresql"),
        url=_with_database(base, name, "postgresql+asyncpg"),
    )
    try:
        if migrate:
            from core.outbound.postgres.migrate import upgrade_to_head

            await upgrade_to_head(db.url)
        yield db
    finally:
        admin = await _admin_connect()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


# --- timing and statistics --------------------------------------------------------------------


def now_ns() -> int:
    return time.perf_counter_ns()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def latency_ms(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50 / p90 / p99 / max / mean of nanosecond samples, in milliseconds (3 decimals)."""
    values = sorted(s / 1e6 for s in samples_ns)
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p90_ms": round(percentile(values, 90), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(values[-1], 3) if values else float("nan"),
        "mean_ms": round(sum(values) / len(values), 3) if values else float("nan"),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float | None:
    """Resident set size right now (Linux /proc), None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# --- output -----------------------------------------------------------------------------------


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": sys.platform,
        "commit": _git_commit(),
        # Other work on the machine skews every figure: the 1-minute load average at the end of the run.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def emit(bench: str, figures: dict[str, Any], goals: dict[str, bool], *, started_ns: int) -> None:
    """Print the one JSON line of a benchmark run."""
    line = {
        "bench": bench,
        **figures,
        "goals": goals,
        "goals_met": all(goals.values()) if goals else None,
        "wall_s": round((now_ns() - started_ns) / 1e9, 1),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print(json.dumps(line, ensure_ascii=False, sort_keys=False), flush=True)


def log(message: str) -> None:
    """Progress to stderr, so stdout stays one JSON line."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- statement capture ------------------------------------------------------------------------


@dataclass
class Captured:
    statement: str
    parameters: Any


class StatementRecorder:
    """Records what SQLAlchemy sends to the driver (every engine), while `recording` is on."""

    def __init__(self) -> None:
        self.statements: list[Captured] = []
        self.recording = False

    def _on_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if self.recording:
            self.statements.append(Captured(statement, parameters))

    def _boundary(self, name: str) -> Any:
        def on_event(conn: Any) -> None:
            # Under AUTOCOMMIT (read-only units of work) begin/commit/rollback are SQLAlchemy's
            # bookkeeping only: nothing reaches the server, so nothing is recorded.
            if self.recording and conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                self.statements.append(Captured(name, None))

        return on_event

    def __enter__(self) -> StatementRecorder:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._on_execute)
        self._hooks = {name: self._boundary(name.upper()) for name in ("begin", "commit", "rollback")}
        for name, hook in self._hooks.items():
            event.listen(Engine, name, hook)
        self._watch_driver()
        return self

    def _watch_driver(self) -> None:
        """Also record statements the repositories send straight to asyncpg (the hot path on Postgres).

        Those bypass SQLAlchemy's events; asyncpg's `Connection._execute` is where its execute/fetch
        calls with a query text meet (SQLAlchemy's own statements go through prepared statements,
        and BEGIN/COMMIT through the protocol, so nothing is recorded twice).
        """
        import asyncpg.connection

        cls = asyncpg.connection.Connection
        original = cls._execute
        recorder = self

        async def recording_execute(conn: Any, query: str, args: Any, *rest: Any, **kw: Any) -> Any:
            if recorder.recording and not kw.get("ignore_custom_codec"):
                recorder.statements.append(Captured(query, args))
            return await original(conn, query, args, *rest, **kw)

        cls._execute = recording_execute
        self._driver_original = (cls, original)

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._on_execute)
        for name, hook in self._hooks.items():
            event.remove(Engine, name, hook)
        cls, original = self._driver_original
        cls._execute = original

    def take(self) -> list[Captured]:
        taken, self.statements = self.statements, []
        return taken


def short_sql(statement: str, limit: int = 160) -> str:
    """One line of a statement, for the JSON output."""
    flat = " ".join(statement.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
