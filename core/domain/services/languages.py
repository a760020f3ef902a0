"""Language pairs: several per learner, one active."""

from __future__ import annotations

import dataclasses

from core.domain.errors import NotFound
from core.domain.models import LanguagePair
from core.domain.ports import Clock, UnitOfWorkFactory
from core.domain.services._rules import cefr_level, is_id, language_pair_codes, load_active_pair, new_id

DEFAULT_LEVEL = "A1"


class LanguageService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def set_pair(self, learner_id: str, target: str, native: str, level: str | None = None) -> LanguagePair:
        """Create the pair (level defaults to A1) or switch to it, make it active, update its level if given.

        Codes are lower-cased and checked against SUPPORTED_LANGUAGES (UnsupportedLanguage),
        the level against CEFR_LEVELS (InvalidLevel, case-insensitive); target == native is InvalidInput.
        """
        target_code, native_code = language_pair_codes(target, native)
        checked_level = cefr_level(level) if level is not None else None
        async with self._uow() as uow:
            pair = await uow.pairs.find(learner_id, target_code, native_code)
            if pair is None:
                pair = LanguagePair(
                    id=new_id(),
                    learner_id=learner_id,
                    target=target_code,
                    native=native_code,
                    level=checked_level or DEFAULT_LEVEL,
                    is_active=False,
                    created_at=self._clock(),
                )
                await uow.pairs.add(pair)
            elif checked_level is not None and checked_level != pair.level:
                await uow.pairs.update_level(pair.id, checked_level)
            await uow.pairs.set_active(learner_id, pair.id)
            await uow.commit()
        return dataclasses.replace(pair, level=checked_level or pair.level, is_active=True)

    async def list_pairs(self, learner_id: str) -> list[LanguagePair]:
        """Oldest first."""
        async with self._uow() as uow:
            pairs = await uow.pairs.list_for_learner(learner_id)
        return sorted(pairs, key=lambda pair: pair.created_at)

    async def switch_pair(self, learner_id: str, pair_id: str) -> LanguagePair:
        """Raises NotFound when the pair is not the learner's."""
        async with self._uow() as uow:
            pair = await uow.pairs.get(pair_id) if is_id(pair_id) else None
            if pair is None or pair.learner_id != learner_id:
                raise NotFound("language pair")
            await uow.pairs.set_active(learner_id, pair.id)
            await uow.commit()
        return dataclasses.replace(pair, is_active=True)

    async def active_pair(self, learner_id: str) -> LanguagePair:
        """Raises NoActivePair."""
        async with self._uow() as uow:
            return await load_active_pair(uow, learner_id)

    async def languages_in_use(self) -> list[str]:
        """The target languages learners study (sorted): what a bot warms up at start."""
        async with self._uow(read_only=True) as uow:
            return await uow.pairs.targets_in_use()

    async def find_active_pair(self, learner_id: str) -> LanguagePair | None:
        async with self._uow() as uow:
            return await uow.pairs.get_active(learner_id)
