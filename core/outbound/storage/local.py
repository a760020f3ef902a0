"""The MediaStore port on a local directory (MEDIA_DIR): the embedded default."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from core.outbound.storage.keys import check_key


class LocalMediaStore:
    """Files under one directory; a key is a relative path inside it and never leaves it."""

    def __init__(self, root: str | Path) -> None:
        """`root` may be relative (to the working directory at start) and need not exist yet."""
        self._root = Path(root).expanduser().absolute()

    @property
    def root(self) -> Path:
        return self._root

    async def ensure_ready(self) -> None:
        """Create the directory when missing."""
        await asyncio.to_thread(self._root.mkdir, parents=True, exist_ok=True)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file atomically (a reader never sees half of it); the content type is not kept."""
        path = self._path(key)
        await asyncio.to_thread(_write_atomically, path, data)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, NotADirectoryError):
            return None

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    def location(self, key: str) -> str:
        """The absolute path of the file."""
        return str(self._path(key))

    def _path(self, key: str) -> Path:
        """The file of `key`; ValueError when the key, or a symbolic link on its way, leads outside the root."""
        path = self._root / check_key(key)
        root = self._root.resolve()
        if not path.resolve().is_relative_to(root):
            raise ValueError(f"media key {key!r} leads outside {root}")
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; media is not secret
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
