"""A learner's data: export everything, delete everything."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, IntEnum
from typing import Any

from core.domain.models import LanguagePair, WordBankEntry
from core.domain.ports import Clock, UnitOfWorkFactory
from core.domain.services._rules import load_learner

EXPORT_FORMAT = "langlearn-export"
EXPORT_VERSION = 1
# Anki (2.1.55+) reads these header lines: comma-separated, plain text, field names, tags in column 3.
_ANKI_HEADER = ("#separator:comma", "#html:false", "#columns:front,back,tags", "#tags column:3")


@dataclass(frozen=True)
class LearnerExport:
    json_bytes: bytes  # learner, settings, identities, pairs, words, cards, review events
    anki_csv: bytes  # "front,back,tags" rows Anki imports (Basic note type), one per translated word


class DataService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def export(self, learner_id: str) -> LearnerExport:
        """Everything stored about the learner (NotFound for an unknown one).

        Read in one transaction so the JSON is a consistent snapshot.
        """
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            identities = await uow.learners.list_identities(learner_id)
            pairs = await uow.pairs.list_for_learner(learner_id)
            words = await uow.words.list_for_learner(learner_id)
            cards = await uow.cards.list_for_learner(learner_id)
            events = await uow.reviews.list_for_learner(learner_id)
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "exported_at": self._clock(),
            "learner": {
                "id": learner.id,
                "display_name": learner.display_name,
                "created_at": learner.created_at,
                "desired_retention": learner.desired_retention,
                "fsrs_parameters": list(learner.fsrs_parameters),
            },
            "settings": learner.settings,
            "identities": identities,
            "pairs": sorted(pairs, key=lambda pair: pair.created_at),
            "words": sorted(words, key=lambda word: word.created_at),
            "cards": sorted(cards, key=lambda card: card.created_at),
            "review_events": sorted(events, key=lambda event: event.reviewed_at),
        }
        text = json.dumps(_plain(document), indent=2, ensure_ascii=False)
        return LearnerExport(json_bytes=text.encode("utf-8"), anki_csv=anki_csv(words, pairs))

    async def delete_everything(self, learner_id: str) -> None:
        """Every row of the learner goes: identities, pairs, words, cards, events, conversation.

        NotFound when there is no such learner (nothing to delete).
        """
        async with self._uow() as uow:
            await load_learner(uow, learner_id)
            await uow.learners.delete(learner_id)
            await uow.commit()


def anki_csv(words: Iterable[WordBankEntry], pairs: Iterable[LanguagePair]) -> bytes:
    """One Basic note per translated word.

    Front the term, back the translation, tags `langlearn <target>-<native>`.
    """
    pair_tags = {pair.id: f"langlearn {pair.target}-{pair.native}" for pair in pairs}
    buffer = io.StringIO()
    buffer.write("\n".join(_ANKI_HEADER) + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    for word in sorted(words, key=lambda entry: entry.created_at):
        if word.translation:
            writer.writerow([word.term, word.translation, pair_tags.get(word.pair_id, "langlearn")])
    return buffer.getvalue().encode("utf-8")


def _plain(value: Any) -> Any:
    """Domain objects → JSON values: dataclasses as objects, enums by name/value, ISO datetimes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, IntEnum):
        return value.name.lower()  # "good", "review": readable, unlike 3 and 2
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return value
