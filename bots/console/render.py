"""Reply objects -> terminal text; images, files and audio -> files on disk, paths printed.

Buttons of one batch of replies are numbered on from 1 across replies so every number printed
is pressable. The last set of buttons is remembered on disk so a button shown before a restart
can still be pressed after it (as on Telegram, where old keyboards stay in the chat).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path

from bots.chat.replies import Button, FileOut, Reply

_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


class FileSink:
    """Writes reply media under one folder with timestamped, never-overwritten names."""

    def __init__(self, directory: Path, clock: type[datetime] = datetime) -> None:
        self._directory = directory
        self._clock = clock

    def save(self, media: FileOut) -> Path:
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._free_path(_safe_filename(media.filename))
        path.write_bytes(media.content)
        return path

    def _free_path(self, filename: str) -> Path:
        stem, suffix = os.path.splitext(filename)
        stamp = self._clock.now().strftime("%Y%m%d-%H%M%S")
        candidate = self._directory / f"{stem}-{stamp}{suffix}"
        counter = 2
        while candidate.exists():
            candidate = self._directory / f"{stem}-{stamp}-{counter}{suffix}"
            counter += 1
        return candidate


def _safe_filename(name: str) -> str:
    """Only the last path component, with anything odd replaced: a reply can't write elsewhere."""
    cleaned = _UNSAFE_FILENAME_CHARS.sub("_", Path(name).name).strip("._")
    return cleaned or "file"


def _shown(path: Path) -> str:
    """Relative to the working directory when inside it (shorter, and what the user expects)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def render(replies: list[Reply], sink: FileSink) -> tuple[str, list[Button]]:
    """The text to print for a batch of replies, and its buttons in the order they are numbered."""
    blocks: list[str] = []
    buttons: list[Button] = []
    for reply in replies:
        lines = _render_one(reply, sink, buttons)
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks), buttons


def _render_one(reply: Reply, sink: FileSink, numbered: list[Button]) -> list[str]:
    lines: list[str] = []
    if reply.notice:
        lines.append(f"· {reply.notice}")
    if reply.text:
        lines.append(reply.text)
    if reply.spoiler:
        lines.append(f"(hidden) {reply.spoiler}")
    for row in reply.buttons:
        cells = []
        for button in row:
            numbered.append(button)
            cells.append(f"[{len(numbered)}] {button.label}")
        lines.append("   ".join(cells))
    if reply.image is not None:
        lines.append(f"[image] {_shown(sink.save(reply.image))}")
    if reply.audio is not None:
        lines.append(f"[audio] {_shown(sink.save(reply.audio))}")
    lines.extend(f"[file] {_shown(sink.save(file))}" for file in reply.files)
    return lines


class ButtonMemory:
    """The buttons a bare number presses, kept in a small JSON file across restarts."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self.buttons: list[Button] = self._load()

    def remember(self, buttons: list[Button]) -> None:
        """Replace the pressable buttons; a batch without buttons keeps the previous ones."""
        if not buttons:
            return
        self.buttons = list(buttons)
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            data = [{"label": b.label, "payload": b.payload} for b in self.buttons]
            self._path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def _load(self) -> list[Button]:
        if self._path is None:
            return []
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            return [Button(label=str(item["label"]), payload=str(item["payload"])) for item in data]
        except (OSError, ValueError, TypeError, KeyError):
            return []  # missing or unreadable: nothing to press yet, which is safe
