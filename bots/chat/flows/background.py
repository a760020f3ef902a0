"""Commands whose background work (speech, articles, adventures, jobs, group quizzes) a later issue wires."""

from __future__ import annotations

from bots.chat.context import Turn
from bots.chat.replies import Reply


async def cmd_not_available_yet(turn: Turn) -> list[Reply]:
    """Say plainly that the command exists but does not work yet, and what does."""
    name = turn.event.command or "This command"
    return [
        Reply(
            text=f"/{name} is not available yet — it arrives in a later version. "
            "Meanwhile: /review, /add, /packs, /stats."
        )
    ]
