"""Packs and their entries; imports of up to 50,000 entries go through COPY on Postgres."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from core.domain.errors import Conflict
from core.domain.models import Pack, PackEntry
from core.outbound.postgres.entities import PackEntity, PackEntryEntity
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_pack = table_of(PackEntity)
_pack_entry = table_of(PackEntryEntity)

_ENTRY_COLUMNS = ("id", "pack_id", "term", "lemma", "translation", "example", "position")
_INSERT_ENTRY = sa.insert(_pack_entry)

_entry_count = (
    sa.select(sa.func.count())
    .where(_pack_entry.c.pack_id == _pack.c.id)
    .correlate(_pack)
    .scalar_subquery()
    .label("entry_count")
)
_SELECT_PACK = sa.select(_pack, _entry_count)


class SqlPackRepository(SqlRepository):
    async def add(self, pack: Pack) -> None:
        """A taken slug → Conflict (the transaction stays usable)."""
        row = {
            "id": to_uuid(pack.id),
            "slug": pack.slug,
            "title": pack.title,
            "target": pack.target,
            "native": pack.native,
            "level": pack.level,
            "published": pack.published,
            "created_at": pack.created_at,
        }
        inserted = await self._execute(self._insert_ignoring_conflicts(_pack, ["slug"]), row)
        if inserted.rowcount == 0:
            raise Conflict(f"a pack with the slug “{pack.slug}” already exists")

    async def get_by_slug(self, slug: str) -> Pack | None:
        row = (await self._execute(_SELECT_PACK.where(_pack.c.slug == slug))).first()
        return None if row is None else _to_model(row)

    async def list(self, published_only: bool, target: str | None = None, native: str | None = None) -> list[Pack]:
        statement = _SELECT_PACK.order_by(_pack.c.title, _pack.c.slug)
        if published_only:
            statement = statement.where(_pack.c.published.is_(True))
        if target is not None:
            statement = statement.where(_pack.c.target == target)
        if native is not None:
            statement = statement.where(_pack.c.native == native)
        return [_to_model(row) for row in await self._execute(statement)]

    async def set_published(self, pack_id: str, published: bool) -> None:
        uid = parse_id(pack_id)
        if uid is None:
            return
        await self._execute(sa.update(_pack).where(_pack.c.id == uid).values(published=published))

    async def delete(self, pack_id: str) -> None:
        """Entries go with the pack (CASCADE); learners keep the words they subscribed to."""
        uid = parse_id(pack_id)
        if uid is None:
            return
        await self._execute(sa.delete(_pack).where(_pack.c.id == uid))

    async def add_entries(self, pack_id: str, entries: Sequence[PackEntry]) -> None:
        """Bulk insert into `pack_id`: binary COPY on Postgres, one executemany on SQLite.

        For COPY the entry ids go to asyncpg as the strings they are: its uuid codec parses text in
        C (and refuses a malformed id), while `uuid.UUID(text)` a row cost ≈ 0.4 s for 50,000 rows.
        """
        if not entries:
            return
        pack_uid = to_uuid(pack_id)
        if self._dialect == "postgresql":
            pack_text = str(pack_uid)  # a stdlib UUID costs asyncpg a `.bytes` call a row; text does not
            await self._copy_entries(
                [(e.id, pack_text, e.term, e.lemma, e.translation, e.example, e.position) for e in entries]
            )
        else:
            records = [
                (to_uuid(e.id), pack_uid, e.term, e.lemma, e.translation, e.example, e.position) for e in entries
            ]
            await self._execute(_INSERT_ENTRY, [dict(zip(_ENTRY_COLUMNS, record, strict=True)) for record in records])

    async def existing_terms(self, pack_id: str) -> builtins.set[str]:
        """Lower-cased in Python, so non-ASCII terms compare the same on both databases."""
        uid = parse_id(pack_id)
        if uid is None:
            return set()
        terms = (await self._execute(sa.select(_pack_entry.c.term).where(_pack_entry.c.pack_id == uid))).scalars()
        return {term.lower() for term in terms}

    async def list_entries(self, pack_id: str, limit: int | None = None) -> builtins.list[PackEntry]:
        uid = parse_id(pack_id)
        if uid is None:
            return []
        statement = (
            sa.select(_pack_entry)
            .where(_pack_entry.c.pack_id == uid)
            .order_by(_pack_entry.c.position, _pack_entry.c.id)
            .limit(limit)
        )
        return [_entry_to_model(row) for row in await self._execute(statement)]

    async def _copy_entries(self, records: builtins.list[tuple[Any, ...]]) -> None:
        """COPY through the session's own asyncpg connection, inside the unit of work's transaction.

        SQLAlchemy's asyncpg adapter opens its transaction lazily on the first statement, so one
        is forced first when needed; otherwise COPY would run (and commit) on its own.
        """
        connection = await self._session.connection()
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        if driver is None:  # pragma: no cover - only a closed connection has none
            raise RuntimeError("the database connection is closed")
        if not driver.is_in_transaction():
            await self._execute(sa.select(sa.literal(1)))
        await driver.copy_records_to_table(_pack_entry.name, records=records, columns=list(_ENTRY_COLUMNS))


def _to_model(row: sa.Row[Any]) -> Pack:
    return Pack(
        id=str(row.id),
        slug=row.slug,
        title=row.title,
        target=row.target,
        native=row.native,
        level=row.level,
        published=row.published,
        entry_count=int(row.entry_count),
        created_at=row.created_at,
    )


def _entry_to_model(row: sa.Row[Any]) -> PackEntry:
    return PackEntry(
        id=str(row.id),
        pack_id=str(row.pack_id),
        term=row.term,
        lemma=row.lemma,
        translation=row.translation,
        example=row.example,
        position=row.position,
    )
