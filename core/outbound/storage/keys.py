"""Media keys: relative, slash-separated paths that mean the same in a bucket and in a directory."""

from __future__ import annotations

_FORBIDDEN_CHARACTERS = ("\\", "\x00")


def check_key(key: str) -> str:
    """`key` when it is a plain relative path ("speech/ab/abcd.ogg"); ValueError otherwise.

    Refused: empty keys, a leading "/", empty, "." or ".." segments, backslashes and NUL, so a key
    can never name a file outside the media directory and a bucket key never differs from it.
    """
    if not key or key.startswith("/") or any(character in key for character in _FORBIDDEN_CHARACTERS):
        raise ValueError(f"invalid media key {key!r}")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise ValueError(f"invalid media key {key!r}")
    return key
