"""Language pairs: several per learner, one active."""

from __future__ import annotations

from core.domain.models import LanguagePair
from core.domain.ports import Clock, UnitOfWorkFactory


class LanguageService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def set_pair(self, learner_id: str, target: str, native: str, level: str | None = None) -> LanguagePair:
        """Create the pair (level defaults to A1) or switch to it, make it active, update its level if given.

        Codes are lower-cased and checked against SUPPORTED_LANGUAGES (UnsupportedLanguage),
        the level against CEFR_LEVELS (InvalidLevel, case-insensitive); target == native is InvalidInput.
        """
        raise NotImplementedError

    async def list_pairs(self, learner_id: str) -> list[LanguagePair]:
        raise NotImplementedError

    async def switch_pair(self, learner_id: str, pair_id: str) -> LanguagePair:
        """Raises NotFound when the pair is not the learner's."""
        raise NotImplementedError

    async def active_pair(self, learner_id: str) -> LanguagePair:
        """Raises NoActivePair."""
        raise NotImplementedError

    async def find_active_pair(self, learner_id: str) -> LanguagePair | None:
        raise NotImplementedError
