"""Learner settings: reminder, timezone, new cards per day, card directions, audio on cards."""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.domain.errors import InvalidInput
from core.domain.models import CardDirection, LearnerSettings
from core.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.domain.services._rules import DIRECTION_SETTINGS, cards_for, load_learner

MAX_NEW_CARDS_PER_DAY = 500
_REMINDER = re.compile(r"^([01]?\d|2[0-3])[:.hH]([0-5]\d)$")
_OFF = frozenset({"off", "none", "no", "disable", "disabled"})


class SettingsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def get(self, learner_id: str) -> LearnerSettings:
        """NotFound for an unknown learner."""
        async with self._uow() as uow:
            return (await load_learner(uow, learner_id)).settings

    async def set_reminder(self, learner_id: str, value: str) -> LearnerSettings:
        """A time as "HH:MM" (24 h) or "off". InvalidInput with an example otherwise."""
        return await self._update(learner_id, reminder_time=parse_reminder(value))

    async def set_timezone(self, learner_id: str, value: str) -> LearnerSettings:
        """An IANA name (zoneinfo), e.g. Europe/Madrid. InvalidInput otherwise."""
        return await self._update(learner_id, timezone=parse_timezone(value))

    async def set_new_cards_per_day(self, learner_id: str, value: int) -> LearnerSettings:
        """0–500. InvalidInput otherwise."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_NEW_CARDS_PER_DAY:
            raise InvalidInput(
                f"New cards per day must be a whole number from 0 to {MAX_NEW_CARDS_PER_DAY}.",
                example="/settings new 20",
            )
        return await self._update(learner_id, new_cards_per_day=value)

    async def set_directions(self, learner_id: str, value: str) -> LearnerSettings:
        """Set "recognition", "production" or "both" (InvalidInput otherwise).

        Creates the missing cards of enabled directions for every translated entry of every pair,
        and suspends (keeps) cards of disabled ones.
        """
        directions = value.strip().lower()
        if directions not in DIRECTION_SETTINGS:
            raise InvalidInput(
                "Card directions are recognition (word → meaning), production (meaning → word) or both.",
                example="/settings directions both",
            )
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            settings = dataclasses.replace(learner.settings, directions=directions)
            await uow.learners.update_settings(learner_id, settings)
            await self._sync_cards(uow, learner_id, DIRECTION_SETTINGS[directions])
            await uow.commit()
        return settings

    async def set_audio(self, learner_id: str, enabled: bool) -> LearnerSettings:
        return await self._update(learner_id, audio_on_cards=bool(enabled))

    async def _update(self, learner_id: str, **changes: Any) -> LearnerSettings:
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            settings = dataclasses.replace(learner.settings, **changes)
            await uow.learners.update_settings(learner_id, settings)
            await uow.commit()
        return settings

    async def _sync_cards(self, uow: UnitOfWork, learner_id: str, enabled: tuple[CardDirection, ...]) -> None:
        """Suspend disabled directions, resume enabled ones, and create the cards they lack."""
        for direction in CardDirection:
            await uow.cards.set_direction_suspended(learner_id, direction.value, direction not in enabled)
        entries = [entry for entry in await uow.words.list_for_learner(learner_id) if entry.translation]
        now = self._clock()
        for pair_id in {entry.pair_id for entry in entries}:
            for direction in enabled:
                covered = await uow.cards.entry_ids_with_cards(pair_id, direction.value)
                lacking = [entry for entry in entries if entry.pair_id == pair_id and entry.id not in covered]
                cards = cards_for(lacking, (direction,), now)
                if cards:
                    await uow.cards.add_many(cards)


def parse_reminder(value: str) -> str | None:
    """The reminder time: "19:30" → "19:30", "7:05" → "07:05", "off" → None; InvalidInput otherwise."""
    text = value.strip().lower()
    if text in _OFF:
        return None
    match = _REMINDER.match(text)
    if match is None:
        raise InvalidInput(
            f"“{value.strip()}” is not a time. Use HH:MM (24 h), or off to turn the reminder off.",
            example="/settings reminder 19:30",
        )
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_timezone(value: str) -> str:
    """An IANA zone name, matched case-insensitively ("europe/madrid" → "Europe/Madrid")."""
    text = value.strip().replace(" ", "_")
    if text and _zone_exists(text):
        return text
    folded = text.casefold()
    for name in available_timezones():
        if name.casefold() == folded:
            return name
    raise InvalidInput(
        f"“{value.strip()}” is not a time zone. Use a name like Europe/Madrid or America/New_York.",
        example="/settings tz Europe/Madrid",
    )


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True
