"""Resident memory of `langlearn telegram` after start with three languages' spaCy pipelines loaded.

The bot runs as it does in production: `langlearn telegram` in a subprocess (the `langlearn`
script of this environment, a temporary working directory, a clean environment plus
TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL and DATABASE_URL), polling the local Bot API server
(tests/servers/telegram_server.py), which runs in this process. The database is a fresh, migrated
Postgres database.

1. `no_learners`: the bot on the empty database (no language in use, so no pipeline is loaded):
   started, one /start answered, RSS once it is steady. The bot is stopped with SIGTERM.
2. `three_languages`: learners studying Spanish, French and German are loaded (`_load.BulkLoader`,
   a few cards each), so the bot's start-up warm-up (`languages_in_use()`, in a thread) builds
   those three pipelines. The bench waits for its log lines ("warming up the language pipelines:
   de, es, fr" and one "spaCy: … pipeline for xx built" per language), then a learner of each
   language sends `/add <word> = <translation>` (the word is lemmatised with that language's
   pipeline) and the bench waits for the three answers; then RSS until steady (no growth over
   0.5 MB for 2 s, at most 20 s). VmRSS and VmHWM (peak) come from /proc/<pid>/status.

The lookup lemmas of es/fr/de come from SQLite files in `~/.cache/langlearn/spacy` (HOME is kept),
built by a child process at the first start on a machine (tens of seconds a language, hence the
long warm-up timeout) and opened in milliseconds afterwards; run with `HOME` pointed at an empty
directory to measure a first start. The child's memory is not the bot's.

Beside them, in the same run: `bare_imports`, a bare `python -c` importing telegram, telegram.ext,
sqlalchemy (asyncio), asyncpg and httpx, then reading its own VmRSS.

Goal (issue 3): under 300 MB with three languages loaded.

    uv run python bench/telegram_memory.py      # one JSON line on stdout, ~30 s
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"es": ("casa", "house"), "fr": ("maisons", "houses"), "de": ("Häuser", "houses")}
FIRST_USER = 8_000_001
START_TIMEOUT_S = 60.0
WARM_UP_TIMEOUT_S = 600.0  # the first start on a machine builds each language's lemma file (tens of seconds each)
STEADY_MB = 0.5
STEADY_S = 2.0
STEADY_MAX_S = 20.0
BUILT = re.compile(r"spaCy: (\S+) pipeline for (\w+) built in (\d+) ms")
WARMING = re.compile(r"warming up the language pipelines: (.+)$")
READY = re.compile(r"langlearn telegram is running as @")
BARE_IMPORTS = (
    "import telegram, telegram.ext, sqlalchemy, sqlalchemy.ext.asyncio, asyncpg, httpx\n"
    "print([l for l in open('/proc/self/status') if l.startswith('VmRSS:')][0].split()[1])"
)


def _langlearn() -> str:
    candidate = Path(sys.executable).with_name("langlearn")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("langlearn")
    if found is None:
        raise SystemExit("bench: the `langlearn` command is not installed in this environment")
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment minus any langlearn setting that would reach a real service, plus `extra`."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONHASHSEED"}
    return {**{k: v for k, v in os.environ.items() if k in keep}, **extra}


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB (from /proc/<pid>/status)."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key = line.split(":", 1)[0]
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(line.split()[1]) / 1024, 1)
    return found


@dataclass
class BotProcess:
    """`langlearn telegram` as a subprocess, its stderr lines watched for log lines."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, url: str, database_url: str, cwd: str) -> BotProcess:
        from tests.servers.telegram_server import TOKEN

        env = _clean_env(
            TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=url, DATABASE_URL=database_url, LOG_LEVEL="INFO"
        )
        process = await asyncio.create_subprocess_exec(
            _langlearn(), "telegram", cwd=cwd, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        bot = cls(process)
        bot.reader = asyncio.create_task(bot._read())
        return bot

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self.changed.set()
        self.changed.set()

    async def wait_for(self, what: str, found: Callable[[list[str]], bool], timeout: float = START_TIMEOUT_S) -> None:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout):
                while not found(self.lines):
                    if self.process.returncode is not None or (self.reader is not None and self.reader.done()):
                        raise SystemExit(f"bench: the bot exited before {what}:\n" + "\n".join(self.lines[-30:]))
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise SystemExit(f"bench: no {what} after {timeout} s:\n" + "\n".join(self.lines[-30:])) from None

    async def steady_rss(self) -> tuple[dict[str, float], float]:
        """VmRSS/VmHWM once RSS grew by less than STEADY_MB over STEADY_S (and the seconds waited)."""
        started = time.monotonic()
        samples: list[tuple[float, float]] = []
        while True:
            now = time.monotonic()
            samples.append((now, status_mb(self.process.pid)["VmRSS"]))
            window = [rss for t, rss in samples if t >= now - STEADY_S]
            if now - started >= STEADY_S and max(window) - min(window) < STEADY_MB:
                break
            if now - started >= STEADY_MAX_S:
                break
            await asyncio.sleep(0.25)
        return status_mb(self.process.pid), round(time.monotonic() - started, 1)

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self.reader is not None:
            await self.reader
        return code


async def _ask(server: Any, user: int, text: str) -> str:
    """`text` from `user`; the bot's last message in that chat once the update is confirmed."""
    update_id = server.send_text(user, text)
    await server.wait_confirmed(update_id, timeout=60)
    return str(server.last(user).text)


async def _bare_imports_mb(cwd: str) -> float:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BARE_IMPORTS, cwd=cwd, env=_clean_env(), stdout=subprocess.PIPE
    )
    out, _ = await process.communicate()
    return round(int(out.decode().strip()) / 1024, 1)


async def run() -> dict[str, Any]:
    import asyncpg
    from _common import fresh_database, log
    from _load import BulkLoader, LearnerSpec

    from tests.servers.telegram_server import BotApiServer

    figures: dict[str, Any] = {}
    server = BotApiServer(record=False)
    url = await server.start()
    with tempfile.TemporaryDirectory(prefix="langlearn_bench_") as cwd:
        try:
            async with fresh_database() as db:
                # 1. no learners: no pipeline
                bot = await BotProcess.start(url, db.url, cwd)
                await bot.wait_for("start-up", lambda lines: any(READY.search(line) for line in lines))
                started_answer = await _ask(server, FIRST_USER - 1, "/start")
                memory, waited = await bot.steady_rss()
                figures["no_learners"] = {
                    "rss_mb": memory["VmRSS"],
                    "hwm_mb": memory["VmHWM"],
                    "steady_after_s": waited,
                    "answered_start": bool(started_answer),
                    "pipelines_built": [m.group(2) for line in bot.lines if (m := BUILT.search(line))],
                    "exit_code": await bot.stop(),
                }
                log(f"no learners: {figures['no_learners']}")

                # 2. learners studying three languages
                conn = await asyncpg.connect(db.dsn)
                try:
                    loader = BulkLoader(conn)
                    for i, language in enumerate(LANGUAGES):
                        spec = LearnerSpec(cards=20, platform="telegram", platform_user_id=str(FIRST_USER + i))
                        await loader.load([spec], target=language)
                finally:
                    await conn.close()
                spawned = time.monotonic()
                bot = await BotProcess.start(url, db.url, cwd)
                await bot.wait_for("start-up", lambda lines: any(READY.search(line) for line in lines))
                ready_s = time.monotonic() - spawned
                rss_at_ready = status_mb(bot.process.pid)["VmRSS"]
                await bot.wait_for(
                    "the warm-up of three pipelines",
                    lambda lines: len({m.group(2) for line in lines if (m := BUILT.search(line))}) >= len(LANGUAGES),
                    timeout=WARM_UP_TIMEOUT_S,
                )
                warmed_s = time.monotonic() - spawned
                rss_after_warm_up = status_mb(bot.process.pid)["VmRSS"]
                answers = {}
                for i, (language, (word, translation)) in enumerate(LANGUAGES.items()):
                    answers[language] = await _ask(server, FIRST_USER + i, f"/add {word} = {translation}")
                memory, waited = await bot.steady_rss()
                built = {m.group(2): {"kind": m.group(1), "ms": int(m.group(3))}
                         for line in bot.lines if (m := BUILT.search(line))}
                warming = next((m.group(1) for line in bot.lines if (m := WARMING.search(line))), None)
                figures["three_languages"] = {
                    "rss_mb": memory["VmRSS"],
                    "hwm_mb": memory["VmHWM"],
                    "rss_at_ready_mb": rss_at_ready,
                    "rss_after_warm_up_mb": rss_after_warm_up,
                    "ready_s": round(ready_s, 2),
                    "warm_up_done_s": round(warmed_s, 2),
                    "steady_after_s": waited,
                    "warming_up_log": warming,
                    "pipelines": built,
                    "add_answers": {language: text[:80] for language, text in answers.items()},
                    "exit_code": await bot.stop(),
                }
                log(f"three languages: {figures['three_languages']}")
        finally:
            await server.stop()
        figures["bare_imports_rss_mb"] = await _bare_imports_mb(cwd)
    return figures


def main() -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from _common import emit, log, now_ns

    started = now_ns()
    log("langlearn telegram: RSS with no learners, then with learners of es, fr and de")
    measured = asyncio.run(run())
    three = measured["three_languages"]
    loaded = sorted(three["pipelines"])
    figures = {
        "rss_mb": three["rss_mb"],
        "languages": loaded,
        "pipelines_cost_mb": round(three["rss_mb"] - measured["no_learners"]["rss_mb"], 1),
        "baseline_no_learners_rss_mb": measured["no_learners"]["rss_mb"],
        "baseline_bare_imports_rss_mb": measured["bare_imports_rss_mb"],
        **measured,
    }
    goals = {
        "three_pipelines_loaded": loaded == sorted(LANGUAGES),
        "rss_under_300_mb": three["rss_mb"] < 300,
    }
    emit("telegram_memory", figures, goals, started_ns=started)


if __name__ == "__main__":
    main()
