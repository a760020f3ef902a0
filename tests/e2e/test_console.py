"""`langlearn chat` as a user runs it: a subprocess driven through stdin and stdout.

Each test gets its own working directory (so no developer `.env` leaks in, and files land in
its ./data/console/) and its own SQLite file, which is opened afterwards to check what was
stored. The process is real end to end: the CLI, the console adapter, the chat layer, the
services, SQLite through aiosqlite, spaCy lemmas, FSRS and the matplotlib chart.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.config import Settings

STEP_TIMEOUT_S = 90.0  # generous: the first /add loads a spaCy pipeline, first /stats matplotlib
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BUTTON = re.compile(r"\[(\d+)\] (.+?)(?=   \[\d+\] |$)")


def langlearn_command() -> list[str]:
    """The installed `langlearn` script of this venv (what `uv run langlearn` runs)."""
    script = Path(sys.executable).with_name("langlearn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bots.cli"]


def clean_env(**extra: str) -> dict[str, str]:
    """The test runner's environment without any langlearn setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(extra)
    return env


class ConsoleProcess:
    """Runs `langlearn chat` and talks to it one message at a time, reading up to each prompt."""

    def __init__(self, workdir: Path, database_url: str, user: str = "alice") -> None:
        self.workdir = workdir
        self._stderr = (workdir / f"stderr-{user}.log").open("ab")
        self.proc = subprocess.Popen(
            [*langlearn_command(), "chat", "--user", user, "--database", database_url],
            cwd=workdir,
            env=clean_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._output = bytearray()
        self._seen = 0
        self._changed = threading.Condition()
        threading.Thread(target=self._pump, daemon=True).start()
        self.banner = self._until_prompt()
        self.last_buttons: dict[str, int] = {}

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 65536):
            with self._changed:
                self._output.extend(chunk)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _until_prompt(self) -> str:
        """Everything printed since the last prompt, once the process waits for input again."""

        def ready() -> bool:
            fresh = len(self._output) > self._seen
            return (fresh and self._output.endswith(b"> ")) or self.proc.poll() is not None

        with self._changed:
            if not self._changed.wait_for(ready, timeout=STEP_TIMEOUT_S):
                raise AssertionError(f"no prompt within {STEP_TIMEOUT_S}s; output so far:\n{self._tail()}")
            if not self._output.endswith(b"> "):
                raise AssertionError(f"langlearn chat exited ({self.proc.poll()}):\n{self._tail()}\n{self.stderr()}")
            text = self._output[self._seen : -2].decode("utf-8", errors="replace")
            self._seen = len(self._output)
        return text

    def _tail(self) -> str:
        return self._output[-3000:].decode("utf-8", errors="replace")

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return Path(self._stderr.name).read_text(errors="replace")

    def send(self, *lines: str) -> str:
        """Type lines (a trailing backslash continues a message) and return the reply text."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("".join(line + "\n" for line in lines).encode())
        self.proc.stdin.flush()
        reply = self._until_prompt()
        assert "Traceback" not in reply and "Something went wrong" not in reply, reply + self.stderr()
        buttons = {label.strip(): int(n) for line in reply.splitlines() for n, label in _BUTTON.findall(line)}
        if buttons:
            self.last_buttons = buttons
        return reply

    def press(self, label: str) -> str:
        """Type the number of the button whose label starts with `label` (as a user reads it)."""
        matches = [n for text, n in self.last_buttons.items() if text.startswith(label)]
        assert matches, f"no button {label!r} among {self.last_buttons}"
        return self.send(str(matches[0]))

    def quit(self) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"/quit\n")
        self.proc.stdin.close()
        code = self.proc.wait(timeout=STEP_TIMEOUT_S)
        self._stderr.close()
        return code

    def kill(self) -> None:
        """As abrupt as it gets: no shutdown hook runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=STEP_TIMEOUT_S)
        self._stderr.close()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def sqlite_url(workdir: Path) -> str:
    return f"sqlite+aiosqlite:///{workdir / 'x.db'}"


def query(workdir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(workdir / "x.db") as db:
        return db.execute(sql, params).fetchall()


def saved_paths(reply: str, kind: str) -> list[Path]:
    return [Path(p) for p in re.findall(rf"^\[{kind}\] (.+)$", reply, flags=re.MULTILINE)]


def onboard(console: ConsoleProcess) -> None:
    """/start, then Spanish, English and A2 by typing the numbers of the buttons."""
    reply = console.send("/start")
    assert "Spanish" in console.last_buttons, reply
    reply = console.press("Spanish")
    assert "English" in console.last_buttons, reply
    reply = console.press("English")
    assert "A2" in console.last_buttons, reply
    console.press("A2")


def test_learner_loop_through_numbered_buttons(workdir: Path) -> None:
    console = ConsoleProcess(workdir, sqlite_url(workdir))
    assert "/start" in console.banner
    onboard(console)
    assert query(workdir, "SELECT target, native, level, is_active FROM language_pair") == [("es", "en", "A2", 1)]

    reply = console.send("/add comer = to eat\\", "beber = to drink\\", "casa = house")
    assert "comer" in reply and "casa — house" in reply

    reply = console.send("/review")
    assert "Show answer" in console.last_buttons, reply
    reply = console.press("Show answer")
    assert {"Again", "Hard", "Easy"} <= {label.split(" ·")[0] for label in console.last_buttons}, reply
    console.press("Good")
    console.send("/stop")

    stats = console.send("/stats")
    [chart] = saved_paths(stats, "image")
    assert (workdir / chart).read_bytes().startswith(PNG_SIGNATURE)
    assert chart.parent == Path("data/console")

    exported = console.send("/export")
    files = saved_paths(exported, "file")
    [json_file] = [workdir / f for f in files if f.suffix == ".json"]
    [csv_file] = [workdir / f for f in files if f.suffix == ".csv"]
    assert "comer" in json.dumps(json.loads(json_file.read_text(encoding="utf-8")), ensure_ascii=False)
    assert "to drink" in csv_file.read_text(encoding="utf-8")

    assert console.quit() == 0
    terms = {row[0] for row in query(workdir, "SELECT term FROM word_bank_entry")}
    assert terms == {"comer", "beber", "casa"}  # a noun the lookup table alone would turn into "casar"
    assert query(workdir, "SELECT mode, rating FROM review_event") == [("button", 3)]


def test_out_of_range_number_and_unknown_command_are_answered(workdir: Path) -> None:
    console = ConsoleProcess(workdir, sqlite_url(workdir), user="bob")
    assert "no buttons" in console.send("1")
    console.send("/start")
    count = len(console.last_buttons)
    assert f"no button [{count + 1}]" in console.send(str(count + 1))
    assert "/help" in console.send("/frobnicate")
    assert console.quit() == 0


def test_pack_import_with_an_attached_file(workdir: Path) -> None:
    words = workdir / "words.csv"
    words.write_text("term,translation\nperro,dog\ngato,cat\n,missing term\n", encoding="utf-8")
    console = ConsoleProcess(workdir, sqlite_url(workdir))
    console.send("/pack_new animals es en A1 Animals")
    reply = console.send("/pack_import animals @words.csv")
    assert "2" in reply and "rejected" in reply.lower(), reply
    assert console.quit() == 0
    assert sorted(row[0] for row in query(workdir, "SELECT term FROM pack_entry")) == ["gato", "perro"]


def _start_review_and_kill(workdir: Path) -> None:
    console = ConsoleProcess(workdir, sqlite_url(workdir))
    console.send("/language es en A2")
    console.send("/add comer = to eat")
    reply = console.send("/review")
    assert "comer" in reply and "Show answer" in console.last_buttons, reply
    console.kill()


def test_review_session_survives_a_kill_by_button_number(workdir: Path) -> None:
    _start_review_and_kill(workdir)
    console = ConsoleProcess(workdir, sqlite_url(workdir))
    reply = console.send("1")  # the "Show answer" shown before the kill
    assert "to eat" in reply, reply
    console.press("Good")
    assert console.quit() == 0
    assert query(workdir, "SELECT mode, rating FROM review_event") == [("button", 3)]


def test_review_session_survives_a_kill_by_typed_answer(workdir: Path) -> None:
    _start_review_and_kill(workdir)
    console = ConsoleProcess(workdir, sqlite_url(workdir))
    console.send("to eat")
    assert console.quit() == 0
    assert query(workdir, "SELECT mode, rating, answer_text FROM review_event") == [("typed", 3, "to eat")]


def test_doctor_prints_no_secret(workdir: Path) -> None:
    secrets = {
        name: f"s3cr3t-{name.lower().replace('_', '-')}-x9"
        for name in (
            "STORAGE_ACCESS_KEY",
            "STORAGE_SECRET_KEY",
            "TELEGRAM_BOT_TOKEN",
            "TELEGRAM_WEBHOOK_SECRET",
            "DISCORD_BOT_TOKEN",
            "ANTHROPIC_API_KEY",
            "GEMINI_API_KEY",
            "DEEPL_API_KEY",
            "DEEPGRAM_API_KEY",
        )
    }
    assert set(secrets) == {name for name, f in Settings.model_fields.items() if "SecretStr" in str(f.annotation)}
    env = clean_env(
        **secrets,
        DATABASE_URL="postgresql+asyncpg://langlearn:db-pa55word-x9@127.0.0.1:1/langlearn",
        REDIS_URL="redis://:redis-pa55word-x9@127.0.0.1:1/0",
        TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook",
    )
    done = subprocess.run(
        [*langlearn_command(), "doctor"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    shown = done.stdout + done.stderr
    assert done.returncode == 0, shown
    assert "Telegram" in shown or "telegram" in shown.lower()
    for secret in [*secrets.values(), "db-pa55word-x9", "redis-pa55word-x9"]:
        assert secret not in shown


def test_console_on_postgres_asks_for_migrate_first_then_works(workdir: Path, pg_empty_url: str) -> None:
    def langlearn(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*langlearn_command(), *argv, "--database", pg_empty_url],
            cwd=workdir,
            env=clean_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    unmigrated = langlearn("chat", stdin="/start\n")
    assert unmigrated.returncode == 2
    assert "has no langlearn tables yet: run `langlearn migrate` first" in unmigrated.stderr
    assert "Traceback" not in unmigrated.stderr and unmigrated.stdout == ""

    migrated = langlearn("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "latest schema" in migrated.stdout

    chatted = langlearn("chat", "--user", "carol", stdin="/start\n/quit\n")
    assert chatted.returncode == 0, chatted.stderr
    assert "[1] Spanish" in chatted.stdout


def test_unreachable_database_is_one_line_before_any_prompt(workdir: Path) -> None:
    done = subprocess.run(
        [*langlearn_command(), "chat", "--database", "postgresql+asyncpg://postgres:hunter2@127.0.0.1:1/x"],
        cwd=workdir,
        env=clean_env(),
        input="/start\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("langlearn: cannot reach the database: ")
    assert "hunter2" not in line
