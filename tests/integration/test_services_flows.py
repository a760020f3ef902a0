"""The services over the real storage: the learner loop on SQLite and Postgres, and what only a
real database shows — concurrent first messages, double-sent words, double taps, bulk packs, and
how many statements a review costs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from core.bootstrap import Services
from core.domain.models import CardState, ConversationState, Rating, ReviewMode
from core.outbound.postgres.database import Database
from tests.fakes import FakeTranslator, FixedClock, make_services

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LEARNER_TABLES = (
    "chat_identity",
    "language_pair",
    "word_bank_entry",
    "flashcard",
    "review_event",
    "conversation_state",
)


def services_on(
    database: Database, clock: FixedClock | None = None, translator: FakeTranslator | None = None
) -> Services:
    return make_services(clock=clock or FixedClock(START), uow=database.unit_of_work, translator=translator)


async def rows_of(database: Database, table: str, learner_id: str) -> int:
    async with database.session() as session:
        result = await session.execute(
            sa.text(f'SELECT count(*) FROM "{table}" WHERE CAST(learner_id AS TEXT) = :id'),
            {"id": learner_id.replace("-", "") if database.dialect_name == "sqlite" else learner_id},
        )
        return int(result.scalar_one())


@contextmanager
def counting_statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while inside the block."""
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(database.engine.sync_engine, "before_cursor_execute", record)


async def test_the_learner_loop(db: Database) -> None:
    clock = FixedClock(START)
    services = services_on(db, clock, FakeTranslator())
    learner, created = await services.accounts.ensure_learner("console", "ana", "Ana")
    assert created
    await services.languages.set_pair(learner.id, "es", "en", "A2")
    added = await services.vocabulary.add_words(learner.id, ["comían", "casa = house", "Casas", "", "perro = dog"])
    assert [(e.term, e.translation, e.context) for e in added.added] == [
        ("comer", "to eat", "comían"),
        ("casa", "house", None),
        ("perro", "dog", None),
    ]
    assert added.duplicates == ["Casas"]

    answers = {"comer": "to eat", "casa": "hous", "perro": "cat"}
    verdicts = []
    card = await services.reviews.next_card(learner.id)
    while card is not None and card.card.state is CardState.NEW:
        grade, outcome, card = await services.reviews.answer(
            learner.id, card.card.id, answers[card.front], ReviewMode.TYPED
        )
        verdicts.append((outcome.event.answer_text, grade.verdict, grade.rating))
    assert verdicts == [("to eat", "exact", Rating.GOOD), ("hous", "near", Rating.HARD), ("cat", "wrong", Rating.AGAIN)]

    page = await services.vocabulary.list_words(learner.id)
    assert (page.total, page.pages) == (3, 1)
    removed = await services.vocabulary.remove_word(learner.id, "perros")
    assert removed.term == "perro"

    clock.advance(minutes=15)
    stats = await services.stats.stats(learner.id)
    assert (stats.reviews_today, stats.word_count, stats.streak_days) == (3, 2, 1)
    assert stats.due_now == 2

    await services.conversation.save(ConversationState(learner.id, "review", {"card": "x"}))
    export = await services.data.export(learner.id)
    document = json.loads(export.json_bytes)
    assert [w["term"] for w in document["words"]] == ["comer", "casa"]
    assert len(document["review_events"]) == 3  # the removed word's review stays until delete_me
    assert "comer,to eat,langlearn es-en" in export.anki_csv.decode()

    await services.data.delete_everything(learner.id)
    for table in LEARNER_TABLES:
        assert await rows_of(db, table, learner.id) == 0, table
    async with db.session() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM learner"))).scalar_one() == 0


async def test_pack_import_export_and_subscribe(db: Database) -> None:
    clock = FixedClock(START)
    services = services_on(db, clock)
    await services.packs.create_pack("es-basics", "es", "en", "A1", "Spanish basics")
    csv_text = "term,translation,example\n" + "".join(f"palabra{i},word {i},Ejemplo {i}.\n" for i in range(300))
    report = await services.packs.import_file("es-basics", csv_text.encode(), "basics.csv")
    assert (report.added, report.rejected) == (300, 0)
    assert (await services.packs.import_file("es-basics", csv_text.encode())).skipped == 300
    exported = await services.packs.export_csv("es-basics")
    assert exported.decode() == csv_text
    await services.packs.publish("es-basics")

    learner, _ = await services.accounts.ensure_learner("console", "bo", "Bo")
    await services.languages.set_pair(learner.id, "es", "en")
    await services.vocabulary.add_words(learner.id, ["palabra7 = word seven"])
    clock.advance(minutes=1)
    result = await services.packs.subscribe(learner.id, "es-basics")
    assert (result.added, result.skipped) == (299, 1)
    again = await services.packs.subscribe(learner.id, "es-basics")
    assert (again.added, again.skipped) == (0, 300)
    first = await services.reviews.next_card(learner.id)
    assert first is not None and first.front == "palabra7"  # added first, so introduced first
    assert await rows_of(db, "flashcard", learner.id) == 300


async def test_concurrent_first_messages_make_one_learner(pg_db: Database) -> None:
    services = services_on(pg_db)
    results = await asyncio.gather(*(services.accounts.ensure_learner("telegram", "777", "Ana") for _ in range(5)))
    assert len({learner.id for learner, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    async with pg_db.session() as session:
        assert (await session.execute(sa.text("SELECT count(*) FROM learner"))).scalar_one() == 1


async def test_a_double_sent_word_is_stored_once(pg_db: Database) -> None:
    services = services_on(pg_db)
    learner, _ = await services.accounts.ensure_learner("telegram", "1", "Ana")
    await services.languages.set_pair(learner.id, "es", "en")
    results = await asyncio.gather(*(services.vocabulary.add_words(learner.id, ["comer = to eat"]) for _ in range(3)))
    assert sum(len(result.added) for result in results) == 1
    assert sum(len(result.duplicates) for result in results) == 2
    assert await rows_of(pg_db, "word_bank_entry", learner.id) == 1
    assert await rows_of(pg_db, "flashcard", learner.id) == 1


async def test_a_double_tap_on_subscribe_adds_each_word_once(pg_db: Database) -> None:
    services = services_on(pg_db)
    await services.packs.create_pack("es-tap", "es", "en", "A1", "Tap")
    await services.packs.add_entries("es-tap", [f"w{i} = t{i}" for i in range(50)])
    await services.packs.publish("es-tap")
    learner, _ = await services.accounts.ensure_learner("telegram", "2", "Bo")
    await services.languages.set_pair(learner.id, "es", "en")
    first, second = await asyncio.gather(
        services.packs.subscribe(learner.id, "es-tap"), services.packs.subscribe(learner.id, "es-tap")
    )
    assert sorted([first.added, second.added]) == [0, 50]
    assert await rows_of(pg_db, "word_bank_entry", learner.id) == 50


async def test_subscribing_to_5000_entries_on_postgres(pg_db: Database) -> None:
    services = services_on(pg_db)
    await services.packs.create_pack("es-5k", "es", "en", "B1", "Five thousand")
    data = "".join(f"término{i},term {i}\n" for i in range(5000)).encode()
    assert (await services.packs.import_file("es-5k", data)).added == 5000
    await services.packs.publish("es-5k")
    learner, _ = await services.accounts.ensure_learner("telegram", "3", "Cy")
    await services.learner_settings.set_directions(learner.id, "both")
    result = await services.packs.subscribe(learner.id, "es-5k")
    assert result.added == 5000
    assert await rows_of(pg_db, "word_bank_entry", learner.id) == 5000
    assert await rows_of(pg_db, "flashcard", learner.id) == 10000
    pair = await services.languages.active_pair(learner.id)  # no pair before: the pack's becomes active
    assert (pair.target, pair.native, pair.level) == ("es", "en", "B1")


async def test_a_review_costs_a_handful_of_statements(pg_db: Database) -> None:
    clock = FixedClock(START)
    services = services_on(pg_db, clock)
    learner, _ = await services.accounts.ensure_learner("telegram", "4", "Di")
    await services.languages.set_pair(learner.id, "es", "en")
    await services.vocabulary.add_words(learner.id, [f"w{i} = t{i}" for i in range(5)])
    card = await services.reviews.next_card(learner.id)
    assert card is not None
    _, card = await services.reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    clock.advance(timedelta(days=30))
    assert card is not None
    with counting_statements(pg_db) as statements:
        _, upcoming = await services.reviews.review(learner.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    assert upcoming is not None
    # learner, card, save schedule, add event, next due, new-card count, next new
    assert len(statements) <= 7, statements
