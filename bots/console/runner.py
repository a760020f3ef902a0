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
from bots.console.reader import LineReader
from bots.console.render import ButtonMemory, FileSink, render
from core.bootstrap import Services
from core.config import Settings
from core.domain.models import AdminPolicy

logger = logging.getLogger("langlearn.console")

PROMPT = "> "
CONTINUATION_PROMPT = "… "


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
    """The console loop. The local user owns this database, so admin commands are allowed."""
    services = await open_services(settings)
    try:
        console = Console(
            ChatApp(services, AdminPolicy(allow_everyone=True), speech_available=False),
            Identity(user),
            FileSink(files_dir),
            ButtonMemory(files_dir / f".buttons-{_memory_key(settings.DATABASE_URL, user)}.json"),
            sink,
        )
        sink.write(_banner(user, display_url(settings.DATABASE_URL)))
        await _start_warming_up(services, user)
        return await console.run(LineReader(source, sink))
    finally:
        await services.aclose()


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
