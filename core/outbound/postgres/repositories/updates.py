"""Incoming updates already handled: platforms deliver at least once, the bot acts once."""

from __future__ import annotations

from datetime import UTC, datetime

from core.outbound.postgres.entities import ProcessedUpdateEntity
from core.outbound.postgres.repositories._base import SqlRepository, table_of

_update = table_of(ProcessedUpdateEntity)


class SqlProcessedUpdateRepository(SqlRepository):
    async def mark_processed(self, platform: str, update_key: str) -> bool:
        """Insert (platform, update_key); False when it was already there (a duplicate delivery)."""
        statement = self._insert_ignoring_conflicts(_update, ["platform", "update_key"])
        values = {"platform": platform, "update_key": update_key, "created_at": datetime.now(UTC)}
        result = await self._execute(statement, values)
        return result.rowcount == 1
