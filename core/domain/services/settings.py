"""Learner settings: reminder, timezone, new cards per day, card directions, audio on cards."""

from __future__ import annotations

from core.domain.models import LearnerSettings
from core.domain.ports import Clock, UnitOfWorkFactory


class SettingsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def get(self, learner_id: str) -> LearnerSettings:
        raise NotImplementedError

    async def set_reminder(self, learner_id: str, value: str) -> LearnerSettings:
        """"HH:MM" (24 h) or "off". InvalidInput with an example otherwise."""
        raise NotImplementedError

    async def set_timezone(self, learner_id: str, value: str) -> LearnerSettings:
        """An IANA name (zoneinfo), e.g. Europe/Madrid. InvalidInput otherwise."""
        raise NotImplementedError

    async def set_new_cards_per_day(self, learner_id: str, value: int) -> LearnerSettings:
        """0–500. InvalidInput otherwise."""
        raise NotImplementedError

    async def set_directions(self, learner_id: str, value: str) -> LearnerSettings:
        """recognition | production | both: creates the missing cards of enabled directions for
        every translated entry of every pair, and suspends (keeps) cards of disabled ones."""
        raise NotImplementedError

    async def set_audio(self, learner_id: str, enabled: bool) -> LearnerSettings:
        raise NotImplementedError
