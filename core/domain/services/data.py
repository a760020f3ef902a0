"""A learner's data: export everything, delete everything."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class LearnerExport:
    json_bytes: bytes  # learner, settings, identities, pairs, words, cards, review events
    anki_csv: bytes  # "front,back,tags" rows Anki imports (Basic note type), one per translated word


class DataService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def export(self, learner_id: str) -> LearnerExport:
        raise NotImplementedError

    async def delete_everything(self, learner_id: str) -> None:
        """Every row of the learner goes: identities, pairs, words, cards, events, conversation."""
        raise NotImplementedError
