"""The word bank: entries per language pair, unique by lemma."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from core.domain.errors import Conflict
from core.domain.models import WordBankEntry
from core.outbound.postgres.entities import WordBankEntryEntity
from core.outbound.postgres.repositories._base import (
    SqlRepository,
    chunks,
    is_unique_violation,
    parse_id,
    table_of,
    to_uuid,
)

_entry = table_of(WordBankEntryEntity)
_INSERT = sa.insert(_entry)


class SqlWordBankRepository(SqlRepository):
    async def add_many(self, entries: Sequence[WordBankEntry]) -> None:
        """Insert entries with one executemany.

        A lemma already in the pair → Conflict; on Postgres the failed statement ends the
        transaction, so the caller abandons this unit of work (the services check first).
        """
        if not entries:
            return
        try:
            await self._execute(_INSERT, [_to_row(entry) for entry in entries])
        except IntegrityError as exc:
            if not is_unique_violation(exc):
                raise
            raise Conflict("a word with the same lemma is already in this language pair") from exc

    async def get(self, entry_id: str) -> WordBankEntry | None:
        uid = parse_id(entry_id)
        if uid is None:
            return None
        row = (await self._execute(sa.select(_entry).where(_entry.c.id == uid))).first()
        return None if row is None else _to_model(row)

    async def find_by_lemmas(self, pair_id: str, lemmas: Sequence[str]) -> dict[str, WordBankEntry]:
        uid = parse_id(pair_id)
        if uid is None or not lemmas:
            return {}
        found: dict[str, WordBankEntry] = {}
        for chunk in chunks(list(dict.fromkeys(lemmas))):
            statement = sa.select(_entry).where(_entry.c.pair_id == uid, _entry.c.lemma.in_(chunk))
            found.update((row.lemma, _to_model(row)) for row in await self._execute(statement))
        return found

    async def find_by_term(self, pair_id: str, text: str) -> WordBankEntry | None:
        """Case-insensitive on term or lemma; an entry whose lemma matches wins over a term match."""
        uid = parse_id(pair_id)
        if uid is None:
            return None
        wanted = sa.func.lower(sa.literal(text, sa.Text()))
        lemma_matches = sa.func.lower(_entry.c.lemma) == wanted
        statement = (
            sa.select(_entry)
            .where(_entry.c.pair_id == uid, sa.or_(lemma_matches, sa.func.lower(_entry.c.term) == wanted))
            .order_by(sa.case((lemma_matches, 0), else_=1), _entry.c.created_at)
            .limit(1)
        )
        row = (await self._execute(statement)).first()
        return None if row is None else _to_model(row)

    async def all_lemmas(self, pair_id: str) -> set[str]:
        uid = parse_id(pair_id)
        if uid is None:
            return set()
        return set((await self._execute(sa.select(_entry.c.lemma).where(_entry.c.pair_id == uid))).scalars())

    async def find_by_forms(self, pair_id: str, forms: Sequence[str]) -> dict[str, WordBankEntry]:
        uid = parse_id(pair_id)
        wanted = list(dict.fromkeys(form.lower() for form in forms))
        if uid is None or not wanted:
            return {}
        found: dict[str, WordBankEntry] = {}
        for chunk in chunks(wanted):
            keys = set(chunk)
            statement = (
                sa.select(_entry)
                .where(
                    _entry.c.pair_id == uid,
                    sa.or_(sa.func.lower(_entry.c.term).in_(chunk), sa.func.lower(_entry.c.context).in_(chunk)),
                )
                .order_by(_entry.c.created_at, _entry.c.id)
            )
            for row in await self._execute(statement):
                entry = _to_model(row)
                for form in (entry.term.lower(), (entry.context or "").lower()):
                    if form in keys and form not in found:
                        found[form] = entry
        return found

    async def all_forms(self, pair_id: str) -> set[str]:
        uid = parse_id(pair_id)
        if uid is None:
            return set()
        rows = await self._execute(sa.select(_entry.c.term, _entry.c.context).where(_entry.c.pair_id == uid))
        forms: set[str] = set()
        for term, context in rows:
            forms.add(term.lower())
            if context:
                forms.add(context.lower())
        return forms

    async def list_page(self, pair_id: str, offset: int, limit: int) -> tuple[list[WordBankEntry], int]:
        uid = parse_id(pair_id)
        if uid is None:
            return [], 0
        total = (
            await self._execute(sa.select(sa.func.count()).select_from(_entry).where(_entry.c.pair_id == uid))
        ).scalar_one()
        statement = (
            sa.select(_entry)
            .where(_entry.c.pair_id == uid)
            .order_by(_entry.c.created_at.desc(), _entry.c.id.desc())
            .offset(max(offset, 0))
            .limit(max(limit, 0))
        )
        return [_to_model(row) for row in await self._execute(statement)], int(total)

    async def list_needing_translation(self, pair_id: str) -> list[WordBankEntry]:
        """Oldest first: the order the learner is asked for them."""
        uid = parse_id(pair_id)
        if uid is None:
            return []
        statement = (
            sa.select(_entry)
            .where(_entry.c.pair_id == uid, _entry.c.translation.is_(None))
            .order_by(_entry.c.created_at, _entry.c.id)
        )
        return [_to_model(row) for row in await self._execute(statement)]

    async def set_translation(self, entry_id: str, translation: str) -> None:
        uid = parse_id(entry_id)
        if uid is None:
            return
        await self._execute(sa.update(_entry).where(_entry.c.id == uid).values(translation=translation))

    async def delete(self, entry_id: str) -> None:
        """Cards go with the entry (CASCADE); their review events stay with card_id NULL."""
        uid = parse_id(entry_id)
        if uid is None:
            return
        await self._execute(sa.delete(_entry).where(_entry.c.id == uid))

    async def count_for_learner(self, learner_id: str) -> int:
        uid = parse_id(learner_id)
        if uid is None:
            return 0
        statement = sa.select(sa.func.count()).select_from(_entry).where(_entry.c.learner_id == uid)
        return int((await self._execute(statement)).scalar_one())

    async def list_for_learner(self, learner_id: str) -> list[WordBankEntry]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = sa.select(_entry).where(_entry.c.learner_id == uid).order_by(_entry.c.created_at, _entry.c.id)
        return [_to_model(row) for row in await self._execute(statement)]


def _to_row(entry: WordBankEntry) -> dict[str, Any]:
    return {
        "id": to_uuid(entry.id),
        "learner_id": to_uuid(entry.learner_id),
        "pair_id": to_uuid(entry.pair_id),
        "term": entry.term,
        "lemma": entry.lemma,
        "translation": entry.translation,
        "context": entry.context,
        "example": entry.example,
        "source": entry.source,
        "created_at": entry.created_at,
    }


def _to_model(row: sa.Row[Any]) -> WordBankEntry:
    return WordBankEntry(
        id=str(row.id),
        learner_id=str(row.learner_id),
        pair_id=str(row.pair_id),
        term=row.term,
        lemma=row.lemma,
        translation=row.translation,
        context=row.context,
        example=row.example,
        source=row.source,
        created_at=row.created_at,
    )
