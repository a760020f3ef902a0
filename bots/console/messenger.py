"""`ConsoleMessenger`: core's `Messenger` port for `langlearn chat` — background results printed.

Messages are printed like replies (`render.render`): the text, the hidden translation marked
"(hidden) …", buttons numbered (and pressable by their number, like any reply's), audio saved under
the files folder with its path printed ("[audio] data/console/….ogg"). The console cannot change
what it printed, so an edited status line is printed again ("· ✍️ Writing your article…").

A result that arrives while the console waits for input is printed on a line of its own and the
prompt is shown again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bots.chat.deliveries import button_payload
from bots.chat.replies import Button, FileOut, Reply
from bots.console.input import PLATFORM
from bots.console.render import ButtonMemory, FileSink, render
from core.domain.models import DeliveryAddress, OutgoingMessage, SentMessage


class ConsoleMessenger:
    """Prints background results to the terminal; saves their audio under `files_dir`."""

    def __init__(
        self,
        sink: TextIO,
        files_dir: Path,
        *,
        buttons: ButtonMemory | None = None,
        waiting_prompt: Callable[[], str | None] = lambda: None,
    ) -> None:
        """Print to `sink`, save audio under `files_dir`.

        `buttons`: where numbered buttons are remembered (the console's own memory, so a number
        presses them); `waiting_prompt`: the prompt the console is waiting at, if any (shown again).
        """
        self._sink = sink
        self._files = FileSink(files_dir)
        self._buttons = buttons
        self._waiting_prompt = waiting_prompt
        self._ids = itertools.count(1)

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send(self, address: DeliveryAddress, message: OutgoingMessage) -> list[SentMessage]:
        rows = [[Button(b.label, button_payload(b)) for b in row] for row in message.buttons if row]
        audio = None
        if message.voice_audio is not None:
            name = f"voice-{message.voice.cache_key[:12]}.ogg" if message.voice is not None else "voice.ogg"
            audio = FileOut(name, message.voice_audio, "audio/ogg")
        reply = Reply(text=message.text, spoiler=message.spoiler, buttons=rows, audio=audio)
        text, buttons = render([reply], self._files)
        if buttons and self._buttons is not None:
            self._buttons.remember(buttons)
        if text:
            self._print(text)
        return [SentMessage(message_id=str(next(self._ids)))]

    async def edit_text(self, address: DeliveryAddress, message_id: str, text: str) -> None:
        self._print(f"· {text}")

    def _print(self, text: str) -> None:
        prompt = self._waiting_prompt()
        if prompt is None:
            self._sink.write(text + "\n")
        else:  # the cursor is after the prompt: a line of its own, then the prompt again
            self._sink.write("\n" + text + "\n" + prompt)
        self._sink.flush()
