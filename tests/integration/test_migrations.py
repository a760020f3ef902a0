"""Alembic migrations: upgrade, downgrade and upgrade again, and they agree with the entities."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.outbound.postgres.entities import Base
from core.outbound.postgres.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    downgrade_to,
    upgrade_to_head,
)

METADATA = Base.metadata
APP_TABLES = {table.name for table in METADATA.sorted_tables}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_current_head()
    assert head is not None
    return head


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def schema_differences(url: str) -> list[Any]:
    """What `alembic revision --autogenerate` would add: the entities vs the migrated database."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), METADATA)
            )
    finally:
        await engine.dispose()


async def test_postgres_upgrade_downgrade_upgrade_and_entities_agree(pg_empty_url: str) -> None:
    await upgrade_to_head(pg_empty_url)
    assert await table_names(pg_empty_url) == APP_TABLES | {"alembic_version"}
    assert await current_revision(pg_empty_url) == head_revision()

    await downgrade_to(pg_empty_url, "base")
    assert await table_names(pg_empty_url) == {"alembic_version"}
    assert await current_revision(pg_empty_url) is None

    await upgrade_to_head(pg_empty_url)
    assert await table_names(pg_empty_url) == APP_TABLES | {"alembic_version"}
    assert await schema_differences(pg_empty_url) == []


async def test_upgrading_again_changes_nothing(pg_empty_url: str) -> None:
    await upgrade_to_head(pg_empty_url)
    await upgrade_to_head(pg_empty_url)
    assert await current_revision(pg_empty_url) == head_revision()


async def test_sqlite_file_and_folder_are_created_and_migrated(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'data' / 'langlearn.db'}"
    await upgrade_to_head(url)
    assert (tmp_path / "nested" / "data" / "langlearn.db").is_file()
    assert await table_names(url) == APP_TABLES | {"alembic_version"}
    assert await current_revision(url) == head_revision()
    assert await schema_differences(url) == []

    await downgrade_to(url, "base")
    assert await table_names(url) == {"alembic_version"}
    await upgrade_to_head(url)
    assert await table_names(url) == APP_TABLES | {"alembic_version"}


def test_migration_files_are_named_by_date_and_sequence_and_can_go_down() -> None:
    files = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))
    assert files
    for path in files:
        assert re.fullmatch(r"\d{8}_\d{4}_[a-z0-9_]+\.py", path.name), path.name
        module = ast.parse(path.read_text(encoding="utf-8"))
        functions = {node.name: node for node in module.body if isinstance(node, ast.FunctionDef)}
        assert "upgrade" in functions and "downgrade" in functions, path.name
        body = [node for node in functions["downgrade"].body if not _is_docstring(node)]
        assert body and not all(isinstance(node, ast.Pass) for node in body), f"{path.name}: empty downgrade()"


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
