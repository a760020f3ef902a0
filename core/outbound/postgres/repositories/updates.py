"""Incoming updates already handled: platforms deliver at least once, the bot acts once."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import sqlalchemy as sa

from core.outbound.postgres.entities import ProcessedUpdateEntity
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories._base import SqlRepository, dialect_insert, table_of

_update = table_of(ProcessedUpdateEntity)


@functools.cache
def mark_statement(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT DO NOTHING, built once per dialect (it runs on every incoming event)."""
    return dialect_insert(_update, dialect).on_conflict_do_nothing(index_elements=["platform", "update_key"])


class SqlProcessedUpdateRepository(SqlRepository):
    async def mark_processed(self, platform: str, update_key: str) -> bool:
        """Insert (platform, update_key); False when it was already there (a duplicate delivery)."""
        now = datetime.now(UTC)
        hot = await self._hot()
        if hot is not None:
            return await hot.execute(hot_sql.MARK_PROCESSED, platform, update_key, now) == 1
        values = {"platform": platform, "update_key": update_key, "created_at": now}
        result = await self._execute(mark_statement(self._dialect), values)
        return result.rowcount == 1

    async def forget(self, platform: str, update_key: str) -> None:
        """Delete the record (the rare path after a failed handling: no fast path needed)."""
        await self._execute(
            sa.delete(_update).where(_update.c.platform == platform, _update.c.update_key == update_key)
        )
