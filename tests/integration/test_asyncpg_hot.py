"""The review loop's hot statements on Postgres: asyncpg by hand, the same as the Core path.

`repositories/_asyncpg_hot.py` runs eight statements straight on the unit of work's asyncpg
connection. These tests hold it to the Core path it replaces: the same SQL text, the same domain
objects from the same rows, the same rows from the same writes, the same transaction (what a
rollback undoes) and the same errors. "Core" here is the same repository forced onto SQLAlchemy.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.exc import IntegrityError

from core.domain.errors import AlreadyReviewed
from core.domain.models import (
    CardDirection,
    CardState,
    ChatIdentity,
    ConversationState,
    Flashcard,
    LanguagePair,
    Learner,
    LearnerSettings,
    Rating,
    ReviewEvent,
    ReviewMode,
    WordBankEntry,
)
from core.outbound.postgres.database import Database
from core.outbound.postgres.repositories import _asyncpg_hot as hot_sql
from core.outbound.postgres.repositories import cards, conversations, learners, reviews, updates
from core.outbound.postgres.repositories._base import SqlRepository
from core.outbound.postgres.unit_of_work import SqlUnitOfWork

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
WEIGHTS = (0.212, 1.2931, 2.3065, 0.1 + 0.2, 1 / 3, 1e-05, 123456.78901234567)


def new_id() -> str:
    return str(uuid.uuid4())


def _compiled(statement: Any, keys: list[str] | None = None) -> str:
    return str(statement.compile(dialect=asyncpg_dialect.dialect(), column_keys=keys))


def test_the_hand_written_sql_is_what_sqlalchemy_compiles() -> None:
    conversation_keys = ["learner_id", "flow", "data", "updated_at"]
    event_keys = [column.name for column in reviews._event.columns]
    mark_keys = ["platform", "update_key", "created_at"]
    assert _compiled(updates.mark_statement("postgresql"), mark_keys) == hot_sql.MARK_PROCESSED
    assert _compiled(learners.BY_IDENTITY) == hot_sql.LEARNER_BY_IDENTITY
    assert _compiled(conversations._GET) == hot_sql.CONVERSATION
    assert _compiled(conversations._upsert("postgresql"), conversation_keys) == hot_sql.SAVE_CONVERSATION
    assert _compiled(cards._CARD_BY_ID) == hot_sql.CARD_BY_ID
    assert _compiled(cards._SAVE_SCHEDULE_IF_UNCHANGED) == hot_sql.SAVE_SCHEDULE_IF_UNCHANGED
    assert _compiled(reviews._INSERT, event_keys) == hot_sql.INSERT_REVIEW_EVENT
    assert _compiled(cards.NEXT_CARD_IN_QUEUE) == hot_sql.NEXT_CARD_IN_QUEUE


# --- the two paths ----------------------------------------------------------------------------


@pytest.fixture
def core_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    """A context manager that forces every repository onto the Core path while it is open."""

    @asynccontextmanager
    async def forced() -> AsyncIterator[None]:
        async def no_hot(self: SqlRepository) -> None:
            return None

        with monkeypatch.context() as patch:
            patch.setattr(SqlRepository, "_hot", no_hot)
            yield

    return forced


async def _both[T](db: Database, core_only: Callable[[], Any], read: Callable[[SqlUnitOfWork], Any]) -> tuple[T, T]:
    """The same read through the hot path and through Core, each in its own unit of work."""
    async with db.unit_of_work() as uow:
        hot = await read(uow)
    async with core_only(), db.unit_of_work() as uow:
        core = await read(uow)
    return hot, core


async def _seed(db: Database) -> tuple[Learner, LanguagePair, list[Flashcard]]:
    """A learner with an active pair and four cards: two scheduled (one production), one new, one suspended."""
    learner = Learner(
        id=new_id(),
        display_name="Zoë",
        settings=LearnerSettings(timezone="Europe/Madrid", reminder_time="08:30", new_cards_per_day=15),
        desired_retention=0.9,
        fsrs_parameters=WEIGHTS,
        created_at=T0,
    )
    pair = LanguagePair(new_id(), learner.id, "es", "en", "A2", True, T0)
    entries = [
        WordBankEntry(new_id(), learner.id, pair.id, term, term, tr, ctx, None, "manual", T0)
        for term, tr, ctx in (("comer", "to eat", "yo como"), ("beber", "to drink", None), ("ir", "to go", None))
    ]
    scheduled = dict(state=CardState.REVIEW, step=None, stability=1 / 3, difficulty=5.123456789, last_review=T0)
    new_card = Flashcard(
        new_id(), learner.id, pair.id, entries[0].id, CardDirection.RECOGNITION, CardState.NEW, 0, None, None, T0,
        None, T0,
    )  # fmt: skip
    deck = [
        replace(new_card, id=new_id(), direction=CardDirection.PRODUCTION, due=T0 + timedelta(days=1), **scheduled),
        replace(new_card, id=new_id(), entry_id=entries[1].id, due=T0 + timedelta(days=2), **scheduled),
        new_card,
        replace(new_card, id=new_id(), entry_id=entries[2].id, suspended=True),
    ]
    async with db.unit_of_work() as uow:
        await uow.learners.add(learner, ChatIdentity("telegram", "zoe", learner.id))
        await uow.pairs.add(pair)
        await uow.words.add_many(entries)
        await uow.cards.add_many(deck)
        await uow.conversations.save(ConversationState(learner.id, "review", {"seq": 3, "front": "ñ€"}, T0))
        await uow.commit()
    return learner, pair, deck


async def test_reads_give_the_same_domain_objects_on_both_paths(pg_db: Database, core_only: Any) -> None:
    learner, pair, deck = await _seed(pg_db)
    later = T0 + timedelta(days=30)

    hot, core = await _both(pg_db, core_only, lambda uow: uow.learners.get_by_identity("telegram", "zoe"))
    assert hot == core == learner
    assert await _both(pg_db, core_only, lambda uow: uow.learners.get_by_identity("telegram", "nobody")) == (None, None)

    hot, core = await _both(pg_db, core_only, lambda uow: uow.conversations.get(learner.id))
    assert hot == core
    assert (hot.flow, hot.data, hot.updated_at) == ("review", {"seq": 3, "front": "ñ€"}, T0)

    for card in deck:
        hot, core = await _both(pg_db, core_only, lambda uow, c=card: uow.cards.get(c.id))
        assert hot == core == card
        assert hot.due.tzinfo is not None and hot.due.utcoffset() == timedelta(0)

    hot, core = await _both(pg_db, core_only, lambda uow: uow.cards.next_due(pair.id, later))
    assert hot == core
    assert hot.card == deck[0] and (hot.front, hot.back, hot.answer_language) == ("to eat", "comer", "es")
    hot, core = await _both(pg_db, core_only, lambda uow: uow.cards.next_new(pair.id))
    assert hot == core and hot.card == deck[2] and (hot.front, hot.context) == ("comer", "yo como")
    assert await _both(pg_db, core_only, lambda uow: uow.cards.next_due(pair.id, T0)) == (None, None)


async def test_an_unknown_learner_has_an_empty_conversation_on_both_paths(pg_db: Database, core_only: Any) -> None:
    learner_id = new_id()
    hot, core = await _both(pg_db, core_only, lambda uow: uow.conversations.get(learner_id))
    assert hot == core == ConversationState(learner_id, None, {})


async def test_writes_store_the_same_rows_on_both_paths(pg_db: Database, core_only: Any) -> None:
    learner, _pair, deck = await _seed(pg_db)
    card = deck[1]
    state = ConversationState(learner.id, "review", {"seq": 4, "list": [1, 2.5, None], "ü": "ß"}, T0)
    rated = replace(card, stability=2.0000000001, difficulty=7.25, due=T0 + timedelta(days=9), last_review=T0)
    event = ReviewEvent(
        new_id(), card.id, learner.id, Rating.HARD, ReviewMode.TYPED, "bebér", CardState.REVIEW, card.due,
        rated.due, rated.stability, rated.difficulty, T0,
    )  # fmt: skip

    async with pg_db.unit_of_work() as uow:  # hot
        assert await uow.updates.mark_processed("telegram", "u1") is True
        assert await uow.updates.mark_processed("telegram", "u1") is False
        await uow.conversations.save(state)
        assert await uow.cards.get(card.id) == card
        await uow.cards.save_schedule(rated)
        await uow.reviews.add(event)
        await uow.commit()

    async with core_only(), pg_db.unit_of_work() as uow:  # what Core reads back is what was written
        assert await uow.updates.mark_processed("telegram", "u1") is False
        assert await uow.conversations.get(learner.id) == state
        assert await uow.cards.get(card.id) == rated
        assert await uow.reviews.list_for_learner(learner.id) == [event]


async def test_the_conditional_update_refuses_a_card_changed_since_it_was_read(pg_db: Database) -> None:
    _learner, _pair, deck = await _seed(pg_db)
    card = deck[1]
    async with pg_db.unit_of_work() as first, pg_db.unit_of_work() as second:
        assert await first.cards.get(card.id) == card
        assert await second.cards.get(card.id) == card
        await first.cards.save_schedule(replace(card, due=T0 + timedelta(days=5), last_review=T0 + timedelta(hours=1)))
        await first.commit()
        with pytest.raises(AlreadyReviewed):
            await second.cards.save_schedule(replace(card, due=T0 + timedelta(days=6)))
    async with pg_db.unit_of_work(read_only=True) as uow:
        stored = await uow.cards.get(card.id)
    assert stored is not None and stored.due == T0 + timedelta(days=5)


async def test_hot_statements_join_the_unit_of_work_transaction(pg_db: Database) -> None:
    """A hot statement first in a unit of work is inside its transaction: rollback undoes it, commit keeps it."""
    learner, _pair, _deck = await _seed(pg_db)
    async with pg_db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "rolled-back") is True
        await uow.conversations.save(ConversationState(learner.id, "words", {"gone": True}, T0))
        await uow.rollback()
        await uow.updates.mark_processed("telegram", "kept")  # a new transaction after the rollback
        await uow.commit()
    async with pg_db.unit_of_work() as uow:  # leaving without commit rolls back too
        await uow.updates.mark_processed("telegram", "never-committed")
    async with pg_db.engine.connect() as connection:
        keys = (await connection.execute(sa.text("SELECT update_key FROM processed_update"))).scalars().all()
        flow = (await connection.execute(sa.text("SELECT flow FROM conversation_state"))).scalar_one()
    assert sorted(keys) == ["kept"]
    assert flow == "review"


async def test_read_only_units_of_work_run_hot_statements_on_their_own(pg_db: Database) -> None:
    learner, pair, deck = await _seed(pg_db)
    async with pg_db.unit_of_work(read_only=True) as uow:
        due = await uow.cards.next_due(pair.id, T0 + timedelta(days=30))
        assert due is not None and due.card == deck[0]
        assert (await uow.conversations.get(learner.id)).flow == "review"
        with pytest.raises(RuntimeError):
            await uow.commit()


async def test_a_failing_hot_statement_raises_what_sqlalchemy_raises(pg_db: Database, core_only: Any) -> None:
    """An unknown learner is a foreign-key violation: IntegrityError on both paths, values hidden."""
    event = ReviewEvent(
        new_id(), "", new_id(), Rating.GOOD, ReviewMode.BUTTON, "secret-answer", CardState.NEW, T0, T0, None, None, T0
    )
    for path in (None, core_only):
        with pytest.raises(IntegrityError) as raised:
            if path is None:
                async with pg_db.unit_of_work() as uow:
                    await uow.reviews.add(event)
            else:
                async with path(), pg_db.unit_of_work() as uow:
                    await uow.reviews.add(event)
        assert "secret-answer" not in str(raised.value)
        assert getattr(raised.value.orig, "sqlstate", None) == "23503"


async def test_connections_lost_in_a_server_restart_are_replaced_not_reused() -> None:
    """After the server drops every connection, one unit of work may fail; the next ones work."""
    from sqlalchemy.engine import make_url

    from core.outbound.postgres.migrate import upgrade_to_head
    from tests.conftest import _admin_connection, create_pg_database, drop_pg_database

    url = await create_pg_database()
    db = Database(url, pool_size=3, max_overflow=0)
    try:
        await upgrade_to_head(url)
        opened = [db.unit_of_work() for _ in range(3)]  # fill the pool with three live connections
        for uow in opened:
            await uow.__aenter__()
            await uow.updates.mark_processed("telegram", str(uuid.uuid4()))
        for uow in opened:
            await uow.__aexit__(None, None, None)
        admin = await _admin_connection()
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                make_url(url).database,
            )
        finally:
            await admin.close()

        failures = 0
        for attempt in range(8):
            try:
                async with db.unit_of_work() as uow:  # begin_turn's first statement takes the hot path
                    assert await uow.updates.mark_processed("telegram", f"after-restart-{attempt}")
                    await uow.commit()
            except sa.exc.DBAPIError as error:
                assert error.connection_invalidated
                failures += 1
        assert failures <= 1
    finally:
        await db.dispose()
        await drop_pg_database(url)
