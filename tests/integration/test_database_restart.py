"""A `Database` outlives a restart of Postgres (core/outbound/postgres/database.py).

After a restart every connection the pool holds is dead. A pooled connection the server closed is
replaced when it is checked out, so the first unit of work after the restart works, on every path:
the asyncpg hot statements, Core statements, read-only units of work and bare sessions. Runs on a
private cluster (tests/private_services.py): the machine's server is never restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from core.outbound.postgres import database as database_module
from core.outbound.postgres.database import POSTGRES_CONNECT_TIMEOUT_SECONDS, Database
from core.outbound.postgres.migrate import upgrade_to_head
from tests.private_services import PrivatePostgres

POOL_SIZE = 3


@pytest.fixture(scope="module")
async def private_pg() -> AsyncIterator[PrivatePostgres]:
    async with PrivatePostgres() as pg:
        await upgrade_to_head(pg.url)
        yield pg


@pytest.fixture
async def database(private_pg: PrivatePostgres) -> AsyncIterator[Database]:
    await private_pg.astart()
    database = Database(private_pg.url, pool_size=POOL_SIZE, max_overflow=0)
    async with database.engine.begin() as connection:
        await connection.execute(sa.text("TRUNCATE processed_update"))
    try:
        yield database
    finally:
        await database.dispose()


async def fill_the_pool(database: Database) -> set[int]:
    """Hold POOL_SIZE connections at once, so the pool keeps that many; their backend pids."""
    ready = asyncio.Barrier(POOL_SIZE)

    async def one() -> int:
        async with database.engine.connect() as connection:
            pid = await connection.scalar(sa.text("SELECT pg_backend_pid()"))
            await ready.wait()
            return int(pid)

    return set(await asyncio.gather(*(one() for _ in range(POOL_SIZE))))


async def test_the_first_units_of_work_after_a_restart_work_on_every_path(
    database: Database, private_pg: PrivatePostgres
) -> None:
    before = await fill_the_pool(database)
    assert len(before) == POOL_SIZE
    await private_pg.arestart()

    for n in range(POOL_SIZE + 1):  # each one checks out a connection the server closed (until none is left)
        async with database.unit_of_work() as uow:
            assert await uow.updates.mark_processed("telegram", f"hot-{n}")  # asyncpg by hand
            await uow.commit()
    async with database.unit_of_work() as uow:
        await uow.updates.forget("telegram", "hot-0")  # a Core statement
        await uow.commit()
    async with database.unit_of_work(read_only=True) as uow:
        assert await uow.learners.get_by_identity("telegram", "1001") is None
    async with database.session() as session:
        stored = (await session.execute(sa.text("SELECT update_key FROM processed_update"))).scalars().all()
    assert sorted(stored) == [f"hot-{n}" for n in range(1, POOL_SIZE + 1)]

    after = await fill_the_pool(database)
    assert not after & before  # every connection is new


async def test_concurrent_units_of_work_right_after_a_restart(database: Database, private_pg: PrivatePostgres) -> None:
    """None of them gets a dead connection."""
    await fill_the_pool(database)
    await private_pg.arestart()

    async def mark(n: int) -> bool:
        async with database.unit_of_work() as uow:
            marked = await uow.updates.mark_processed("telegram", f"busy-{n}")
            await uow.commit()
            return marked

    assert await asyncio.gather(*(mark(n) for n in range(POOL_SIZE))) == [True] * POOL_SIZE


async def test_an_unreachable_server_fails_the_unit_of_work_at_the_connect_timeout() -> None:
    """A server that takes the TCP connection and never answers (packets dropped further on): the
    unit of work fails once the connect timeout is over (asyncpg alone would wait 60 s), so the
    learner's update gets its apology instead of hanging; the default is 10 s."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # held open, never written to

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    database = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/langlearn", connect_timeout=0.5)

    async def read() -> None:
        async with database.unit_of_work(read_only=True) as uow:
            await uow.learners.get("00000000-0000-0000-0000-000000000001")

    attempt = asyncio.create_task(read())
    try:
        done, _ = await asyncio.wait({attempt}, timeout=15)  # far below asyncpg's own 60 s
        assert attempt in done, "the unit of work still waits on a server that never answers"
        assert isinstance(attempt.exception(), TimeoutError)
        assert accepted, "the client never reached the silent server"
    finally:
        attempt.cancel()
        await database.dispose()
        server.close()
        for writer in accepted:
            writer.close()
        await server.wait_closed()
    assert POSTGRES_CONNECT_TIMEOUT_SECONDS <= 15


async def test_sixteen_units_of_work_at_once_reuse_the_pools_connections(private_pg: PrivatePostgres) -> None:
    """The default pool keeps enough connections for a burst of 16 (a bot with 16 updates in flight):
    a second burst runs on the first one's connections instead of starting new Postgres backends."""
    await private_pg.astart()
    database = Database(private_pg.url)
    burst = asyncio.Barrier(16)

    async def one() -> int:
        async with database.engine.connect() as connection:
            pid = int(await connection.scalar(sa.text("SELECT pg_backend_pid()")))
            await burst.wait()  # all 16 hold a connection at once
            return pid

    try:
        first = set(await asyncio.gather(*(one() for _ in range(16))))
        second = set(await asyncio.gather(*(one() for _ in range(16))))
    finally:
        await database.dispose()
    assert len(first) == 16
    assert second == first


async def test_a_statement_that_never_ends_fails_at_the_command_timeout(
    private_pg: PrivatePostgres, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement held up on an open connection (here: a sleep; in life: a server gone silent) fails
    at the command timeout, and the connection's next statement works."""
    monkeypatch.setattr(database_module, "POSTGRES_COMMAND_TIMEOUT_SECONDS", 0.5)
    await private_pg.astart()
    database = Database(private_pg.url, pool_size=1, max_overflow=0)
    try:
        with pytest.raises(TimeoutError):
            async with database.engine.connect() as connection:
                await connection.execute(sa.text("SELECT pg_sleep(30)"))
        async with database.engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT 1")) == 1
    finally:
        await database.dispose()
