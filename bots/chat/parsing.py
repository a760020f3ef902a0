"""Turning raw message text into a command and its arguments (shared by every adapter)."""

from __future__ import annotations

import re

_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:[ \t]+|\n|$)", re.ASCII)


def parse_command(text: str) -> tuple[str | None, str]:
    """("add", "comer = to eat") for "/add comer = to eat"; (None, text) for a plain message.

    The command is lower-cased and loses any "@botname"; arguments keep their newlines so
    multi-line commands (/add, /pack_add) work.
    """
    stripped = text.lstrip()
    match = _COMMAND.match(stripped)
    if match is None:
        return None, text
    return match.group(1).lower(), stripped[match.end() :].strip()
