"""`langlearn telegram`: a missing or wrong token is one clear line; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.cli import main
from tests.servers.telegram_server import TOKEN, BotApiServer


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No Telegram settings from the machine, no .env, an embedded database of our own."""
    for name in list(os.environ):
        if name.startswith("TELEGRAM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/langlearn.db")
    return tmp_path


@pytest.fixture
def threaded_server() -> Iterator[BotApiServer]:
    server = BotApiServer()
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def test_no_token_is_a_usage_error(clean_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["telegram"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("langlearn: TELEGRAM_BOT_TOKEN is not set")
    assert len(err.strip().splitlines()) == 1


def test_a_wrong_token_is_one_line_without_the_token(
    clean_env: Path, threaded_server: BotApiServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "987654321:AAwrong-token-for-this-server_xyz"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", threaded_server.url)
    assert main(["telegram"]) == 2
    err = capsys.readouterr().err
    assert "rejected TELEGRAM_BOT_TOKEN" in err
    assert wrong not in err and "AAwrong" not in err
    assert err.strip().splitlines()[-1].startswith("langlearn: the Bot API at")


def test_an_unreachable_api_is_an_outage_not_a_usage_error(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9")  # discard port: nothing listens
    assert main(["telegram"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Bot API at http://127.0.0.1:9" in err
    assert TOKEN not in err


async def test_sigterm_stops_the_bot_cleanly_after_answering(tmp_path: Path) -> None:
    server = BotApiServer()
    url = await server.start()
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/langlearn.db",
        LOG_LEVEL="DEBUG",
    )
    update = server.send_text(42, "/help")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "telegram",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await server.wait_confirmed(update, timeout=60)
        assert server.messages(42)[0].text.startswith("Commands:")
        assert [c["command"] for c in server.commands][:3] == ["start", "language", "help"]
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "SIGTERM received" in log and "stopped cleanly" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log  # DEBUG logs of a whole session hold no token
    assert "getUpdates" in log  # the session really was logged at DEBUG


async def test_a_second_signal_forces_the_exit_while_an_answer_hangs(tmp_path: Path) -> None:
    server = BotApiServer()
    url = await server.start()
    server.method_delay["sendMessage"] = 120.0  # the answer to /help hangs: stopping would wait for it
    env = {name: value for name, value in os.environ.items() if not name.startswith("TELEGRAM_")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/langlearn.db",
    )
    update = server.send_text(42, "/help")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "telegram",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await server.wait_until(lambda: bool(server.calls_of("sendMessage")), timeout=60, what="the answer sent")
        process.send_signal(signal.SIGTERM)  # finishing the update in flight: it hangs
        # Two signals sent back to back may arrive as one: the second goes once the first was taken.
        assert process.stderr is not None
        seen = b""
        while b"SIGTERM received" not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=30)
            assert line, f"the bot exited before taking the first SIGTERM:\n{seen.decode()}"
            seen += line
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=15)  # well before the 25 s drain
        stderr = seen + rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await server.stop()
    log = stderr.decode()
    assert process.returncode == 1, log
    assert "SIGTERM again: exiting now" in log
    assert not server.is_confirmed(update)  # the hanging update was not confirmed: delivered again


def test_the_bot_runs_on_uvloop() -> None:
    """`langlearn telegram` runs its event loop on uvloop (a dependency on Linux)."""
    import asyncio

    import uvloop

    from bots.telegram.runner import event_loop_factory

    factory = event_loop_factory()
    assert factory is uvloop.new_event_loop
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
