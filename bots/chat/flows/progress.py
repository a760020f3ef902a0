"""Progress and data: /stats (with a chart), /settings, /export, /delete_me."""

from __future__ import annotations

import asyncio
from typing import Any

from bots.chat import charts, render
from bots.chat.context import Turn
from bots.chat.flows import confirm
from bots.chat.replies import FileOut, Reply
from core.domain.errors import InvalidInput
from core.domain.models import LearnerSettings


async def cmd_stats(turn: Turn) -> list[Reply]:
    """Streak, reviews, due counts, retention, words — and a chart image."""
    stats = await turn.services.stats.stats(turn.learner_id)
    png = await asyncio.to_thread(charts.progress_chart, stats.reviews_per_day, stats.due_forecast)
    return [Reply(text=render.stats_text(stats), image=FileOut("langlearn-stats.png", png, "image/png"))]


_SETTING_EXAMPLES = {
    "reminder": "/settings reminder 19:30",
    "tz": "/settings tz Europe/Madrid",
    "new": "/settings new 20",
    "directions": "/settings directions both",
    "audio": "/settings audio on",
}
_ALIASES = {"timezone": "tz", "reminders": "reminder", "direction": "directions"}


async def cmd_settings(turn: Turn) -> list[Reply]:
    """No arguments: current settings and usage; otherwise change one setting."""
    name, _, value = turn.event.args.strip().partition(" ")
    if not name:
        return [Reply(text=render.settings_text(await turn.services.learner_settings.get(turn.learner_id)))]
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _SETTING_EXAMPLES:
        raise InvalidInput(
            f"“{name[:30]}” is not a setting. Settings: reminder, tz, new, directions, audio.",
            example="/settings reminder 19:30",
        )
    value = value.strip()
    if not value:
        raise InvalidInput(f"Give a value for {key}.", example=_SETTING_EXAMPLES[key])
    updated = await _change(turn, key, value)
    return [Reply(text="Saved.\n\n" + render.settings_text(updated))]


async def _change(turn: Turn, key: str, value: str) -> LearnerSettings:
    service, learner_id = turn.services.learner_settings, turn.learner_id
    if key == "reminder":
        return await service.set_reminder(learner_id, value[:40])
    if key == "tz":
        return await service.set_timezone(learner_id, value[:80])
    if key == "new":
        if not value.isdecimal() or len(value) > 6:
            raise InvalidInput(f"“{value[:20]}” is not a number of cards.", example=_SETTING_EXAMPLES["new"])
        return await service.set_new_cards_per_day(learner_id, int(value))
    if key == "directions":
        return await service.set_directions(learner_id, value.lower()[:40])
    switch = value.lower()
    if switch not in {"on", "off"}:
        raise InvalidInput("Audio on cards is on or off.", example=_SETTING_EXAMPLES["audio"])
    return await service.set_audio(learner_id, switch == "on")


async def cmd_export(turn: Turn) -> list[Reply]:
    """Everything as JSON, and the words as a CSV Anki imports."""
    export = await turn.services.data.export(turn.learner_id)
    return [
        Reply(
            text="Your data: everything as JSON, and your words as a CSV for Anki "
            "(File → Import, note type Basic, fields separated by commas).",
            files=[
                FileOut("langlearn-export.json", export.json_bytes, "application/json"),
                FileOut("langlearn-anki.csv", export.anki_csv, "text/csv"),
            ],
        )
    ]


async def cmd_delete_me(turn: Turn) -> list[Reply]:
    """Ask before deleting every trace of the learner."""
    question = (
        "Delete everything about you — words, cards, review history, settings? This cannot be undone. "
        "(/export first if you want a copy.)"
    )
    return [await confirm.ask(turn, "delete_me", question, "Yes, delete everything")]


async def confirmed_delete_me(turn: Turn, _data: dict[str, Any]) -> list[Reply]:
    """Yes, delete everything."""
    await turn.services.data.delete_everything(turn.learner_id)
    return [Reply(text="Done: everything about you is deleted. Send /start to begin again.", edit=True)]
