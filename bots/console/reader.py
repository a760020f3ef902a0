"""Reading lines without blocking the event loop.

Each read runs in a daemon thread so the loop stays free for in-process background work, and
Ctrl-C or EOF end the program at once instead of waiting for a thread stuck in `readline()`.
Works the same on a terminal and on a pipe (no TTY needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TextIO


class LineReader:
    def __init__(self, source: TextIO, sink: TextIO) -> None:
        self._source = source
        self._sink = sink
        self.waiting_at: str | None = None  # the prompt shown while a read waits (background output reprints it)

    async def read(self, prompt: str) -> str | None:
        """Print `prompt`, flush it (tests read up to it), then wait for one line; None at EOF."""
        self._sink.write(prompt)
        self._sink.flush()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            if not future.done():
                future.set_result(line)

        def read_line() -> None:
            try:
                raw = self._source.readline()
                line = raw.rstrip("\r\n") if raw else None
            except (OSError, ValueError):  # stdin closed under us: same as EOF
                line = None
            with contextlib.suppress(RuntimeError):  # loop closed (Ctrl-C): nobody waits for this line
                loop.call_soon_threadsafe(deliver, line)

        threading.Thread(target=read_line, name="console-stdin", daemon=True).start()
        self.waiting_at = prompt
        try:
            return await future
        finally:
            self.waiting_at = None
