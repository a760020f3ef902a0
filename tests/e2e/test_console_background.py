"""`langlearn chat` with background work: the local Anthropic, Gemini and DeepL servers configured (in
the working directory's .env), jobs in the console's own process (no REDIS_URL), results printed as they
come — the article's text, its translation marked hidden, the path of the saved audio — and its buttons
pressable by number.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_console import (
    _BUTTON,
    STEP_TIMEOUT_S,
    ConsoleProcess,
    clean_env,
    langlearn_command,
    onboard,
    query,
    saved_paths,
    sqlite_url,
)
from tests.servers.anthropic_server import AnthropicServer
from tests.servers.deepl_server import DeepLServer
from tests.servers.gemini_server import GeminiServer

ARTICLE = {
    "title": "Un día en el mercado",
    "text": "Hoy voy al mercado.\n\nCompro pan y queso.",
    "new_words": [{"term": "mercado", "translation": "market"}, {"term": "queso", "translation": "cheese"}],
}


@pytest.fixture(scope="module")
def providers() -> Iterator[tuple[AnthropicServer, GeminiServer, DeepLServer]]:
    anthropic, gemini, deepl = AnthropicServer(), GeminiServer(), DeepLServer()
    for server in (anthropic, gemini, deepl):
        server.start_in_thread()
    try:
        yield anthropic, gemini, deepl
    finally:
        for server in (anthropic, gemini, deepl):
            server.stop_thread()


@pytest.fixture
def workdir(tmp_path: Path, providers: tuple[AnthropicServer, GeminiServer, DeepLServer]) -> Path:
    """A working directory whose .env points langlearn at the local provider servers."""
    anthropic, gemini, deepl = providers
    for server in providers:
        server.reset()
    anthropic.tool_input = ARTICLE
    (tmp_path / ".env").write_text(
        f"ANTHROPIC_API_KEY={anthropic.api_key}\nANTHROPIC_BASE_URL={anthropic.url}\n"
        f"GEMINI_API_KEY={gemini.api_key}\nGEMINI_BASE_URL={gemini.url}\n"
        f"DEEPL_API_KEY={deepl.api_key}\nDEEPL_SERVER_URL={deepl.url}\n"
        "MEDIA_DIR=data/media\n",
        encoding="utf-8",
    )
    return tmp_path


def wait_for(console: ConsoleProcess, *expected: str) -> str:
    """What the console printed (between prompts) until every `expected` text appeared."""
    printed = ""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not all(text in printed for text in expected):
        assert time.monotonic() < deadline, f"not printed: {expected}; printed:\n{printed}"
        printed += console.send_nothing()
    return printed


def test_article_then_listen_twice(workdir: Path, providers: tuple[AnthropicServer, GeminiServer, DeepLServer]) -> None:
    gemini = providers[1]
    console = Console(workdir, sqlite_url(workdir))
    onboard(console)
    queued = console.send("/article el mercado")
    assert "⏳ Your article is queued." in queued, queued
    printed = wait_for(console, "· ✅ Your article is ready.", "Add all words")
    assert "Un día en el mercado\n\nHoy voy al mercado.\n\nCompro pan y queso." in printed
    assert "(hidden) Un día en el mercado [EN-US]" in printed
    [audio] = saved_paths(printed, "audio")
    assert audio.parent == Path("data/console") and audio.suffix == ".ogg"
    assert (workdir / audio).read_bytes().startswith(b"OggS")
    assert "New words:\n• mercado — market\n• queso — cheese" in printed

    added = console.press("Add all words")
    assert "Added 2:" in added, added
    assert "Nothing new" in console.press("Add all words")

    console.send("/listen hola")
    [first] = saved_paths(wait_for(console, "[audio]"), "audio")
    again = console.send("/listen hola")  # cached: printed while the command is answered
    [second] = saved_paths(again, "audio")
    assert (workdir / first).read_bytes() == (workdir / second).read_bytes()
    assert len(gemini.calls) == 2  # the article's narration and the first /listen
    jobs = console.send("/jobs")
    assert "Voice message “hola” — ✅ done" in jobs and "Article “el mercado” — ✅ done" in jobs, jobs
    assert console.quit() == 0
    assert sorted(query(workdir, "SELECT term, translation FROM word_bank_entry")) == [
        ("mercado", "market"),
        ("queso", "cheese"),
    ]
    assert sorted(query(workdir, "SELECT kind, status FROM generation_job")) == [
        ("article", "done"),
        ("speech", "done"),
    ]


def test_piped_article_is_printed_before_the_console_exits(workdir: Path) -> None:
    lines = "/start\n/language es en A2\n/article\n"
    finished = subprocess.run(
        [*langlearn_command(), "chat", "--user", "carol", "--database", sqlite_url(workdir)],
        cwd=workdir,
        env=clean_env(),
        input=lines.encode(),
        capture_output=True,
        timeout=STEP_TIMEOUT_S * 2,
        check=False,
    )
    out = finished.stdout.decode()
    assert finished.returncode == 0, out + finished.stderr.decode()
    assert "Waiting for 1 background job to finish" in out
    assert "Un día en el mercado" in out and "[audio] data/console/" in out, out


def test_console_runs_its_jobs_itself_even_with_redis_url(workdir: Path) -> None:
    """REDIS_URL is for the bot and its workers: a worker has no messenger for this terminal, so the
    console keeps its jobs in-process (nothing listens at this REDIS_URL: no Redis is involved)."""
    with (workdir / ".env").open("a", encoding="utf-8") as env:
        env.write(f"REDIS_URL=redis://127.0.0.1:{closed_port()}/0\n")
    lines = "/start\n/language es en A2\n/article\n"
    finished = subprocess.run(
        [*langlearn_command(), "chat", "--user", "dave", "--database", sqlite_url(workdir)],
        cwd=workdir,
        env=clean_env(),
        input=lines.encode(),
        capture_output=True,
        timeout=STEP_TIMEOUT_S * 2,
        check=False,
    )
    out = finished.stdout.decode()
    assert finished.returncode == 0, out + finished.stderr.decode()
    assert "Un día en el mercado" in out and "[audio] data/console/" in out, out
    assert query(workdir, "SELECT kind, status FROM generation_job") == [("article", "done")]


def closed_port() -> int:
    """A local TCP port nobody listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Console(ConsoleProcess):
    """ConsoleProcess plus reading output that arrives without typing (background results)."""

    def send_nothing(self) -> str:
        """The output up to the next prompt, without typing anything (its buttons become pressable)."""
        printed = self._until_prompt()
        buttons = {label.strip(): int(n) for line in printed.splitlines() for n, label in _BUTTON.findall(line)}
        if buttons:
            self.last_buttons = buttons
        return printed
