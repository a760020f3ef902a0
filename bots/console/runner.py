"""`langlearn chat`: bootstrap the services, then read, handle and print until EOF or /quit."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Protocol, TextIO

from bots.chat.app import ChatApp
from bots.chat.events import Event
from bots.chat.replies import Reply
from bots.cli import EXIT_OK, configure_logging, display_url, load_settings, open_services
from bots.console.input import PLATFORM, Identity, Quit, Say, Send, interpret
from bots.console.messenger import ConsoleMessenger
from bots.console.reader import LineReader
from bots.console.render import ButtonMemory, FileSink, render
from core.bootstrap import Services
from core.config import Settings
from core.domain.models import AdminPolicy, JobStatus

logger = logging.getLogger("langlearn.console")

PROMPT = "> "
CONTINUATION_PROMPT = "… "
BACKGROUND_WAIT_S = 180.0  # at the end of the input, how long to wait for unfinished background jobs


def run_chat(args: argparse.Namespace) -> int:
    """Entry point behind `langlearn chat [--user NAME] [--database URL] [--files-dir DIR]`."""
    settings = load_settings(args.database)
    configure_logging(settings, quiet=True)
    user = (args.user or os.environ.get("USER") or "local").strip() or "local"
    _tolerate_odd_bytes()
    return asyncio.run(chat(settings, user, Path(args.files_dir), sys.stdin, sys.stdout))


def _tolerate_odd_bytes() -> None:
    """A stray byte on a pipe must not end the session with a UnicodeError."""
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors=errors)


async def chat(settings: Settings, user: str, files_dir: Path, source: TextIO, sink: TextIO) -> int:
    """The console loop. The local user owns this database, so admin commands are allowed.

    Background work (articles, voice messages) always runs in this process, whatever REDIS_URL says:
    a worker has no messenger for this terminal, and the results must come back here. They are
    printed as they come (`ConsoleMessenger`). At the end of the input the console waits for the
    learner's unfinished jobs, so a piped `/article` still prints its article.
    """
    services = await open_services(in_process_jobs(settings))
    try:
        reader = LineReader(source, sink)
        buttons = ButtonMemory(files_dir / f".buttons-{_memory_key(settings.DATABASE_URL, user)}.json")
        messenger = ConsoleMessenger(sink, files_dir, buttons=buttons, waiting_prompt=lambda: reader.waiting_at)
        messengers = {messenger.platform: messenger}
        console = Console(
            ChatApp(services, AdminPolicy(allow_everyone=True), messengers=messengers),
            Identity(user),
            FileSink(files_dir),
            buttons,
            sink,
        )
        sink.write(_banner(user, display_url(settings.DATABASE_URL)))
        services.start_background(messengers)
        await _start_warming_up(services, user)
        code = await console.run(reader)
        await _wait_for_background(services, user, sink)
        return code
    finally:
        await services.aclose()


def in_process_jobs(settings: Settings) -> Settings:
    """These settings without REDIS_URL, so bootstrap gives the console the in-process job queue.

    REDIS_URL is for the bots and their `langlearn worker`s; the worker delivers through the
    platforms' messengers and cannot print on this terminal.
    """
    if settings.REDIS_URL is None:
        return settings
    logger.info("REDIS_URL is ignored by the console: its background jobs run in this process")
    return settings.model_copy(update={"REDIS_URL": None})


async def _wait_for_background(services: Services, user: str, sink: TextIO) -> None:
    """Let this process finish the learner's jobs it is running (bounded; Ctrl-C leaves at once)."""
    background, jobs = services.background, services.jobs
    if background is None or jobs is None:
        return  # no job services (not configured): nothing to wait for
    learner = await services.accounts.find_learner(PLATFORM, user)
    if learner is None:
        return
    unfinished = [job for job in await jobs.recent(learner.id) if job.status in (JobStatus.QUEUED, JobStatus.RUNNING)]
    if not unfinished:
        return
    sink.write(
        f"Waiting for {len(unfinished)} background job{'s' if len(unfinished) > 1 else ''} to finish "
        "(Ctrl-C to leave now: they resume the next time you start langlearn chat)…\n"
    )
    sink.flush()
    try:
        await asyncio.wait_for(background.queue.join(), BACKGROUND_WAIT_S)
    except TimeoutError:
        sink.write("Still not finished: they resume the next time you start langlearn chat.\n")


async def _start_warming_up(services: Services, user: str) -> None:
    """Load the learner's languages in a daemon thread while they type their first line.

    A daemon thread, not the default executor: quitting right away must not wait for spaCy.
    """
    learner = await services.accounts.find_learner(PLATFORM, user)
    if learner is None:
        return
    languages = sorted({pair.target for pair in await services.languages.list_pairs(learner.id)})
    if languages:
        threading.Thread(target=services.warm_up_languages, args=(languages,), daemon=True).start()


def _memory_key(database_url: str, user: str) -> str:
    """Buttons belong to one learner in one database."""
    return hashlib.sha256(f"{database_url}\n{user}".encode()).hexdigest()[:16]


def _banner(user: str, database: str) -> str:
    return (
        f"langlearn — chatting as {user} · database {database}\n"
        "Type /start to begin, /help for the commands, /quit or Ctrl-D to leave.\n"
        "A number presses a button; a trailing @path attaches a file.\n"
    )


class ChatHandler(Protocol):
    """What the console needs of the chat layer (ChatApp; a fake in unit tests)."""

    async def handle(self, event: Event) -> list[Reply]: ...


class Console:
    """One terminal conversation: lines in, replies printed, buttons remembered."""

    def __init__(
        self, app: ChatHandler, identity: Identity, files: FileSink, buttons: ButtonMemory, sink: TextIO
    ) -> None:
        self._app = app
        self._identity = identity
        self._files = files
        self._buttons = buttons
        self._sink = sink

    async def run(self, reader: LineReader) -> int:
        while True:
            line = await _read_message(reader)
            if line is None:
                self._print("")
                return EXIT_OK
            action = interpret(line, self._identity, self._buttons.buttons)
            if isinstance(action, Quit):
                return EXIT_OK
            if isinstance(action, Say):
                self._print(action.message)
            elif isinstance(action, Send):
                self._show(await self._answer(action))

    async def _answer(self, action: Send) -> list[Reply]:
        """The chat layer maps every domain error; anything reaching here is a bug, logged."""
        try:
            return await self._app.handle(action.event)
        except Exception:
            logger.exception("the chat layer failed on a %s event", action.event.kind)
            return [Reply(text="Something went wrong on our side (logged on stderr). Nothing was lost; try again.")]

    def _show(self, replies: list[Reply]) -> None:
        text, buttons = render(replies, self._files)
        self._buttons.remember(buttons)
        if text:
            self._print(text)

    def _print(self, text: str) -> None:
        self._sink.write(text + "\n")
        self._sink.flush()


async def _read_message(reader: LineReader) -> str | None:
    """One message; a line ending in a backslash continues on the next (for multi-line /add)."""
    line = await reader.read(PROMPT)
    parts: list[str] = []
    while line is not None and line.endswith("\\") and not line.endswith("\\\\"):
        parts.append(line[:-1])
        line = await reader.read(CONTINUATION_PROMPT)
    if line is None:
        return "\n".join(parts) if parts else None
    return "\n".join([*parts, line])
