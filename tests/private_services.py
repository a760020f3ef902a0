"""Private PostgreSQL and Redis servers that fault tests may stop and start at will.

Fault tests (an outage, a restart) never touch the machine's own services (testing.md, "Fault
tests"): they start one of these, point the code under test at its `.url`, and stop or restart it.

    with PrivateRedis() as redis:            # or `async with`; a fresh redis-server on a free port
        redis.url                            # "redis://127.0.0.1:PORT/0"
        redis.stop()                         # the server is gone: connections are refused
        redis.start()                        # back on the SAME port, empty (no persistence)

    async with PrivatePostgres() as pg:      # a fresh cluster (copied from a per-process initdb template)
        pg.url                               # "postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres" (trust auth)
        await pg.astop()                     # `pg_ctl stop -m fast`: open connections are cut
        await pg.astart()                    # same port, same data
        await pg.arestart()

Both have the same methods: `start()`, `stop()`, `restart()` and `cleanup()` (stop for good and delete
the files; what `with` does on exit; idempotent), `running`, `port`, `url`; and their awaitable
twins `astart()`, `astop()`, `arestart()`, `acleanup()`, which run the blocking call in a thread
so the event loop (and the bot or worker under test) keeps running while the server goes down or
comes up. Each call returns once the server is down, or up and answering.

PostgreSQL runs from `pg_config --bindir` (initdb, pg_ctl). They refuse to run as root, so as root
they run as the `postgres` OS user (`runuser -u postgres --`, else `su postgres`), in a temporary
folder owned by it. The cluster has fsync off (a test's data need not survive a crash of the
machine) and listens on 127.0.0.1 and on a socket in its folder only. Stopping uses
`-m fast` by default (what a restart does: sessions are terminated); `stop(mode="immediate")` is
a crash.

A missing binary (or a missing `postgres` user when running as root) raises
`PrivateServiceError` with what to install: the test fails, it is never skipped. Servers still
running when the test process exits are stopped by an `atexit` hook.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Literal, Self

__all__ = ["PrivatePostgres", "PrivateRedis", "PrivateServiceError", "free_port"]

START_TIMEOUT_S = 30
_LOG_TAIL = 2000

StopMode = Literal["smart", "fast", "immediate"]


class PrivateServiceError(RuntimeError):
    """A private service could not be set up, started or stopped; the message says why and what to do."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _PrivateService:
    """What both services share: context managers, async twins, cleanup at exit."""

    _live: ClassVar[weakref.WeakSet[_PrivateService]] = weakref.WeakSet()

    def __init__(self) -> None:
        self.port = free_port()
        self.running = False
        self._cleaned = False
        self._lock = threading.Lock()  # one start/stop at a time (async twins run in threads)
        _PrivateService._live.add(self)

    @property
    def url(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        """Stop, then start again on the same port."""
        self.stop()
        self.start()

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def arestart(self) -> None:
        await asyncio.to_thread(self.restart)

    async def acleanup(self) -> None:
        await asyncio.to_thread(self.cleanup)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    async def __aenter__(self) -> Self:
        try:
            await self.astart()
        except BaseException:
            await self.acleanup()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.acleanup()


@atexit.register
def _cleanup_leftovers() -> None:
    for service in list(_PrivateService._live):
        with contextlib.suppress(Exception):
            service.cleanup()


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-_LOG_TAIL:]
    except OSError:
        return ""


# --- Redis --------------------------------------------------------------------------------------


class PrivateRedis(_PrivateService):
    """`redis-server --port <free> --save "" --appendonly no` as a subprocess: see the module docstring."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise PrivateServiceError(
                "PrivateRedis needs redis-server on PATH (Debian/Ubuntu: apt-get install redis-server)"
            )
        self._binary = binary
        self._dir = Path(tempfile.mkdtemp(prefix="langlearn-redis-"))
        self._log = self._dir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None
        super().__init__()

    @property
    def url(self) -> str:
        """Database 0 of the private server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server (again) on its port; returns once it answers PING."""
        with self._lock:
            if self._cleaned:
                raise PrivateServiceError("this PrivateRedis was cleaned up; make a new one")
            if self.running:
                return
            command = [
                self._binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._dir),
                "--daemonize", "no",
            ]  # fmt: skip
            with self._log.open("ab") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self._process = process
            deadline = time.monotonic() + START_TIMEOUT_S
            while not self._answers_ping():
                if process.poll() is not None:
                    self._process = None
                    raise PrivateServiceError(
                        f"redis-server on port {self.port} exited with {process.returncode}:\n{_tail(self._log)}"
                    )
                if time.monotonic() > deadline:
                    self._kill(process)
                    raise PrivateServiceError(
                        f"redis-server on port {self.port} did not answer within {START_TIMEOUT_S} s:\n"
                        f"{_tail(self._log)}"
                    )
                time.sleep(0.01)
            self.running = True

    def stop(self) -> None:
        """Stop the server (SIGTERM, as an operator's stop); returns once the process is gone."""
        with self._lock:
            process, self._process = self._process, None
            self.running = False
            if process is not None:
                self._kill(process)

    def cleanup(self) -> None:
        """Stop for good and delete the server's folder (idempotent)."""
        self.stop()
        with self._lock:
            self._cleaned = True
            shutil.rmtree(self._dir, ignore_errors=True)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- PostgreSQL ---------------------------------------------------------------------------------

_CLUSTER_SETTINGS = """
# langlearn PrivatePostgres: a throwaway cluster for fault tests
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
"""


class _Postgres:
    """Where PostgreSQL's binaries are, and how to run them as an unprivileged user."""

    def __init__(self) -> None:
        pg_config = shutil.which("pg_config")
        if pg_config is None:
            raise PrivateServiceError(
                "PrivatePostgres needs PostgreSQL's server binaries (initdb, pg_ctl), found through pg_config, "
                "which is not on PATH (Debian/Ubuntu: apt-get install postgresql)"
            )
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
        bindir = Path(found.stdout.strip())
        missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (bindir / name).exists()]
        if missing:
            raise PrivateServiceError(
                f"PrivatePostgres needs {', '.join(missing)} in {bindir} (pg_config --bindir): install the PostgreSQL "
                "server package (Debian/Ubuntu: apt-get install postgresql)"
            )
        self.bindir = bindir
        self.owner: tuple[int, int] | None = None  # (uid, gid) the files must belong to, when root
        self.prefix: list[str] = []
        self.shell = False
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PrivateServiceError(
                    "initdb and pg_ctl refuse to run as root and there is no `postgres` user to run them as: "
                    "run the tests as an unprivileged user, or create one (useradd --system postgres)"
                ) from None
            self.owner = (user.pw_uid, user.pw_gid)
            runuser = shutil.which("runuser")
            if runuser is not None:
                self.prefix = [runuser, "-u", "postgres", "--"]
            else:
                self.shell = True

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    def make_dir(self, prefix: str) -> Path:
        """A fresh temporary folder the server's user owns (mode 0700)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        path.chmod(0o700)
        if self.owner is not None:
            os.chown(path, *self.owner)
        return path

    def run(self, command: list[str], what: str, log: Path | None = None) -> None:
        """Run a PostgreSQL tool as the unprivileged user; a failure says what failed, with its output."""
        if self.shell:
            full = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        else:
            full = [*self.prefix, *command]
        result = subprocess.run(full, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            server_log = f"\nserver log:\n{_tail(log)}" if log is not None else ""
            raise PrivateServiceError(
                f"{what} failed ({result.returncode}): {shlex.join(command)}\n{output}{server_log}"
            )


_tools: _Postgres | None = None
_template: Path | None = None
_template_lock = threading.Lock()


def _postgres_tools() -> _Postgres:
    global _tools
    with _template_lock:
        if _tools is None:
            _tools = _Postgres()
        return _tools


def _cluster_template(tools: _Postgres) -> Path:
    """One initdb per test process; every PrivatePostgres starts from a copy (≈ 0.1 s instead of ≈ 1 s)."""
    global _template
    with _template_lock:
        if _template is None:
            root = tools.make_dir("langlearn-pg-template-")
            data = root / "data"
            initdb = [tools.tool("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]
            tools.run([*initdb, "--encoding=UTF8", "--locale=C", "--no-instructions"], "initdb")
            with (data / "postgresql.conf").open("a") as config:  # appending keeps the file's owner
                config.write(_CLUSTER_SETTINGS)
            atexit.register(shutil.rmtree, root, True)
            _template = data
        return _template


class PrivatePostgres(_PrivateService):
    """A throwaway PostgreSQL cluster on a free port: see the module docstring."""

    def __init__(self) -> None:
        self._tools = _postgres_tools()
        self._dir: Path | None = None
        super().__init__()

    @property
    def url(self) -> str:
        """The `postgres` database as the `postgres` superuser (trust auth), for SQLAlchemy with asyncpg."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def _data(self) -> Path:
        assert self._dir is not None
        return self._dir / "data"

    @property
    def _log(self) -> Path:
        assert self._dir is not None
        return self._dir / "postgres.log"

    def _pg_ctl(self) -> list[str]:
        """pg_ctl on this cluster, waiting (up to START_TIMEOUT_S) for the start or stop to complete."""
        return [self._tools.tool("pg_ctl"), "-D", str(self._data), "-w", "-t", str(START_TIMEOUT_S)]

    def start(self) -> None:
        """Create the cluster on first use, then start it; returns once it accepts connections."""
        with self._lock:
            if self._cleaned:
                raise PrivateServiceError("this PrivatePostgres was cleaned up; make a new one")
            if self.running:
                return
            tools = self._tools
            if self._dir is None:
                template = _cluster_template(tools)
                self._dir = tools.make_dir("langlearn-pg-")
                tools.run(["cp", "-a", str(template), str(self._data)], "copying the template cluster")
            tools.run(
                [*self._pg_ctl(), "-l", str(self._log), "-o", f"-p {self.port} -k {self._dir}", "start"],
                f"starting the private PostgreSQL on port {self.port}",
                self._log,
            )
            self.running = True

    def stop(self, mode: StopMode = "fast") -> None:
        """`pg_ctl stop -m <mode>`: "fast" ends every session (a restart), "immediate" is a crash."""
        with self._lock:
            if not self.running or self._dir is None:
                return
            self._tools.run(
                [*self._pg_ctl(), "-m", mode, "stop"],
                f"stopping the private PostgreSQL on port {self.port}",
                self._log,
            )
            self.running = False

    async def astop(self, mode: StopMode = "fast") -> None:
        """`stop(mode)` in a thread."""
        await asyncio.to_thread(self.stop, mode)

    def cleanup(self) -> None:
        """Stop for good (immediately) and delete the cluster's files (idempotent)."""
        try:
            self.stop("immediate")
        finally:
            with self._lock:
                self._cleaned = True
                directory, self._dir = self._dir, None
                if directory is not None:
                    shutil.rmtree(directory, ignore_errors=True)
