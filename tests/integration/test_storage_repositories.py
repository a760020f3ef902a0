"""The SQL repositories on SQLite and Postgres: what goes in comes back, and the database holds it.

Every test runs on both databases through the `db` fixture unless its name says Postgres.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from core.domain.errors import Conflict
from core.domain.models import (
    CardDirection,
    CardState,
    ChatIdentity,
    ConversationState,
    Flashcard,
    LanguagePair,
    Learner,
    LearnerSettings,
    Pack,
    PackEntry,
    Rating,
    ReviewEvent,
    ReviewMode,
    WordBankEntry,
)
from core.outbound.postgres.database import Database

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))
# FSRS-like weights plus floats chosen to catch any rounding on the way through the database.
WEIGHTS = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796, 1.4835, 0.0614)
AWKWARD = (0.1 + 0.2, 1 / 3, 1e-05, 123456.78901234567)

LEARNER_TABLES = (
    "chat_identity",
    "language_pair",
    "word_bank_entry",
    "flashcard",
    "review_event",
    "conversation_state",
)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Seed:
    learner: Learner
    pair: LanguagePair


def make_learner(**changes: Any) -> Learner:
    learner = Learner(
        id=new_id(),
        display_name="Alice",
        settings=LearnerSettings(timezone="Europe/Madrid", reminder_time="08:30", new_cards_per_day=15),
        desired_retention=0.9,
        fsrs_parameters=WEIGHTS + AWKWARD,
        created_at=T0,
    )
    return replace(learner, **changes)


def make_pair(learner: Learner, target: str = "es", native: str = "en", active: bool = True) -> LanguagePair:
    return LanguagePair(new_id(), learner.id, target, native, "A2", active, T0)


def make_entry(seed: Seed, lemma: str, translation: str | None = "x", **changes: Any) -> WordBankEntry:
    entry = WordBankEntry(
        id=new_id(),
        learner_id=seed.learner.id,
        pair_id=seed.pair.id,
        term=lemma,
        lemma=lemma,
        translation=translation,
        context=None,
        example=None,
        source="manual",
        created_at=T0,
    )
    return replace(entry, **changes)


def make_card(entry: WordBankEntry, **changes: Any) -> Flashcard:
    card = Flashcard(
        id=new_id(),
        learner_id=entry.learner_id,
        pair_id=entry.pair_id,
        entry_id=entry.id,
        direction=CardDirection.RECOGNITION,
        state=CardState.NEW,
        step=0,
        stability=None,
        difficulty=None,
        due=T0,
        last_review=None,
        created_at=T0,
    )
    return replace(card, **changes)


def make_event(card: Flashcard, rating: Rating = Rating.GOOD, **changes: Any) -> ReviewEvent:
    event = ReviewEvent(
        id=new_id(),
        card_id=card.id,
        learner_id=card.learner_id,
        rating=rating,
        mode=ReviewMode.TYPED,
        answer_text="comer",
        state_before=CardState.REVIEW,
        due_before=T0,
        due_after=T0 + timedelta(days=3),
        stability_after=AWKWARD[0],
        difficulty_after=AWKWARD[1],
        reviewed_at=T0,
    )
    return replace(event, **changes)


def scheduled(entry: WordBankEntry, due: datetime, **changes: Any) -> Flashcard:
    return make_card(
        entry, state=CardState.REVIEW, step=None, stability=3.5, difficulty=5.0, due=due, last_review=T0, **changes
    )


async def seed_learner(db: Database, user: str = "alice", target: str = "es", native: str = "en") -> Seed:
    learner = make_learner(display_name=user.title())
    pair = make_pair(learner, target, native)
    async with db.unit_of_work() as uow:
        await uow.learners.add(learner, ChatIdentity("telegram", user, learner.id))
        await uow.pairs.add(pair)
        await uow.commit()
    return Seed(learner, pair)


async def store(db: Database, entries: Sequence[WordBankEntry] = (), cards: Sequence[Flashcard] = ()) -> None:
    async with db.unit_of_work() as uow:
        await uow.words.add_many(entries)
        await uow.cards.add_many(cards)
        await uow.commit()


async def count_rows(db: Database, table: str, where: str = "", learner_id: str | None = None) -> int:
    """Rows in `table` (optionally matching a SQL condition, or of one learner)."""
    conditions = [where] if where else []
    if learner_id is not None:
        conditions.append("learner_id = :learner_id")
    statement = sa.text(f"SELECT count(*) FROM {table}" + (f" WHERE {' AND '.join(conditions)}" if conditions else ""))
    if learner_id is not None:
        statement = statement.bindparams(sa.bindparam("learner_id", uuid.UUID(learner_id), type_=sa.Uuid()))
    async with db.session() as session:
        return int((await session.execute(statement)).scalar_one())


def assert_utc(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.tzinfo is UTC


# --- learners ---------------------------------------------------------------------------------


async def test_learner_round_trips_exactly(db: Database) -> None:
    learner = make_learner(created_at=datetime(2026, 3, 1, 14, 0, 0, 654321, tzinfo=CEST))
    async with db.unit_of_work() as uow:
        await uow.learners.add(learner, ChatIdentity("discord", "42", learner.id))
        await uow.commit()

    async with db.unit_of_work() as uow:
        stored = await uow.learners.get(learner.id)
        by_identity = await uow.learners.get_by_identity("discord", "42")

    assert stored == learner  # same instant, settings and FSRS weights bit for bit
    assert stored.fsrs_parameters == WEIGHTS + AWKWARD
    assert stored.created_at == datetime(2026, 3, 1, 12, 0, 0, 654321, tzinfo=UTC)
    assert_utc(stored.created_at)
    assert by_identity == learner


async def test_adding_a_taken_identity_is_a_conflict_and_leaves_nothing_behind(db: Database) -> None:
    first = await seed_learner(db, "bob")
    loser = make_learner(display_name="Second Bob")

    async with db.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.learners.add(loser, ChatIdentity("telegram", "bob", loser.id))
        # the transaction is still usable: the service re-reads the winner in the same unit of work
        winner = await uow.learners.get_by_identity("telegram", "bob")
        await uow.commit()

    assert winner is not None and winner.id == first.learner.id
    assert await count_rows(db, "learner") == 1
    assert await count_rows(db, "chat_identity") == 1


async def test_concurrent_first_messages_make_one_learner(db: Database) -> None:
    winner, loser = make_learner(display_name="First"), make_learner(display_name="Second")

    async def second_message() -> None:
        async with db.unit_of_work() as uow:
            await uow.learners.add(loser, ChatIdentity("telegram", "same", loser.id))
            await uow.commit()

    async with db.unit_of_work() as first:
        await first.learners.add(winner, ChatIdentity("telegram", "same", winner.id))
        racing = asyncio.create_task(second_message())
        await asyncio.sleep(0.3)
        assert not racing.done()  # it waits for the first transaction instead of failing or duplicating
        await first.commit()
    with pytest.raises(Conflict):
        await racing

    async with db.unit_of_work() as uow:
        found = await uow.learners.get_by_identity("telegram", "same")
    assert found is not None and found.id == winner.id
    assert await count_rows(db, "learner") == 1


async def test_identities_link_list_and_conflict(db: Database) -> None:
    alice, bob = await seed_learner(db, "alice"), await seed_learner(db, "bob")
    async with db.unit_of_work() as uow:
        await uow.learners.link_identity(ChatIdentity("discord", "77", alice.learner.id))
        await uow.learners.link_identity(ChatIdentity("discord", "77", alice.learner.id))  # again: no-op
        with pytest.raises(Conflict):
            await uow.learners.link_identity(ChatIdentity("discord", "77", bob.learner.id))
        await uow.commit()

    async with db.unit_of_work() as uow:
        identities = await uow.learners.list_identities(alice.learner.id)
        reached = await uow.learners.get_by_identity("discord", "77")
    assert identities == [
        ChatIdentity("discord", "77", alice.learner.id),
        ChatIdentity("telegram", "alice", alice.learner.id),
    ]
    assert reached is not None and reached.id == alice.learner.id


async def test_update_settings_is_stored(db: Database) -> None:
    seed = await seed_learner(db)
    settings = LearnerSettings("Asia/Tokyo", None, 40, "both", True)
    async with db.unit_of_work() as uow:
        await uow.learners.update_settings(seed.learner.id, settings)
        await uow.commit()
    async with db.unit_of_work() as uow:
        stored = await uow.learners.get(seed.learner.id)
    assert stored is not None and stored.settings == settings


async def test_unknown_and_malformed_ids_read_as_missing(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.learners.get(new_id()) is None
        assert await uow.learners.get("not-a-uuid") is None
        assert await uow.cards.get_due_card("card:123") is None
        assert await uow.words.get("") is None
        assert await uow.pairs.get_active("nope") is None
        assert await uow.packs.get_by_slug("nope") is None
        assert await uow.words.find_by_lemmas("nope", ["a"]) == {}


async def test_deleting_a_learner_deletes_every_row_of_theirs_only(db: Database) -> None:
    alice, bob = await seed_learner(db, "alice"), await seed_learner(db, "bob")
    for seed in (alice, bob):
        entry = make_entry(seed, "comer")
        card = make_card(entry)
        await store(db, [entry], [card])
        async with db.unit_of_work() as uow:
            await uow.reviews.add(make_event(card))
            await uow.conversations.save(ConversationState(seed.learner.id, "review", {"card": card.id}, T0))
            await uow.learners.link_identity(ChatIdentity("console", seed.learner.display_name, seed.learner.id))
            await uow.commit()

    async with db.unit_of_work() as uow:
        await uow.learners.delete(alice.learner.id)
        await uow.commit()

    assert await count_rows(db, "learner") == 1
    for table in LEARNER_TABLES:
        assert await count_rows(db, table, learner_id=alice.learner.id) == 0, table
        assert await count_rows(db, table, learner_id=bob.learner.id) >= 1, table


# --- language pairs ---------------------------------------------------------------------------


async def test_pairs_find_list_activate_and_level(db: Database) -> None:
    seed = await seed_learner(db)
    french = make_pair(seed.learner, "fr", "en", active=False)
    french.created_at = T0 + timedelta(minutes=1)
    async with db.unit_of_work() as uow:
        await uow.pairs.add(french)
        await uow.commit()

    async with db.unit_of_work() as uow:
        assert await uow.pairs.get(french.id) == french
        assert await uow.pairs.find(seed.learner.id, "fr", "en") == french
        assert await uow.pairs.find(seed.learner.id, "fr", "de") is None
        assert await uow.pairs.get_active(seed.learner.id) == seed.pair
        await uow.pairs.set_active(seed.learner.id, french.id)
        await uow.pairs.update_level(french.id, "B1")
        await uow.commit()

    async with db.unit_of_work() as uow:
        pairs = await uow.pairs.list_for_learner(seed.learner.id)
        active = await uow.pairs.get_active(seed.learner.id)
    assert [(p.target, p.is_active, p.level) for p in pairs] == [("es", False, "A2"), ("fr", True, "B1")]
    assert active is not None and active.id == french.id


async def test_a_pair_is_unique_per_learner_and_languages(db: Database) -> None:
    seed = await seed_learner(db)
    async with db.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.pairs.add(make_pair(seed.learner, "es", "en"))
        await uow.pairs.add(make_pair(seed.learner, "es", "de", active=False))  # the unit of work goes on
        await uow.commit()
    assert await count_rows(db, "language_pair") == 2


async def test_targets_in_use_are_the_distinct_target_languages_of_every_pair(db: Database) -> None:
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.pairs.targets_in_use() == []
    first = await seed_learner(db)  # es→en
    second = await seed_learner(db, "bob", target="es")
    async with db.unit_of_work() as uow:
        await uow.pairs.add(make_pair(first.learner, "fr", "en", active=False))
        await uow.pairs.add(make_pair(second.learner, "de", "en", active=False))
        await uow.commit()
    async with db.unit_of_work(read_only=True) as uow:
        assert await uow.pairs.targets_in_use() == ["de", "es", "fr"]


async def test_foreign_keys_are_enforced_and_are_not_conflicts(db: Database) -> None:
    seed = await seed_learner(db)
    orphan = make_card(make_entry(seed, "never-stored"))
    async with db.unit_of_work() as uow:
        with pytest.raises(sa.exc.IntegrityError):
            await uow.cards.add_many([orphan])


# --- word bank --------------------------------------------------------------------------------


async def test_words_add_find_and_list(db: Database) -> None:
    seed = await seed_learner(db)
    entries = [make_entry(seed, f"word{i}", created_at=T0 + timedelta(seconds=i), example=f"ex {i}") for i in range(12)]
    pending = make_entry(seed, "pendiente", None, created_at=T0 + timedelta(minutes=5), context="pendientes")
    await store(db, [*entries, pending])

    async with db.unit_of_work() as uow:
        assert await uow.words.get(pending.id) == pending
        found = await uow.words.find_by_lemmas(seed.pair.id, ["word1", "word3", "missing", "word1"])
        page, total = await uow.words.list_page(seed.pair.id, offset=0, limit=5)
        last_page, _ = await uow.words.list_page(seed.pair.id, offset=10, limit=5)
        lemmas = await uow.words.all_lemmas(seed.pair.id)
        needing = await uow.words.list_needing_translation(seed.pair.id)
        count = await uow.words.count_for_learner(seed.learner.id)
        everything = await uow.words.list_for_learner(seed.learner.id)

    assert found == {"word1": entries[1], "word3": entries[3]}
    assert total == 13
    assert [e.lemma for e in page] == ["pendiente", "word11", "word10", "word9", "word8"]  # newest first
    assert [e.lemma for e in last_page] == ["word2", "word1", "word0"]
    assert lemmas == {e.lemma for e in entries} | {"pendiente"}
    assert needing == [pending]
    assert count == 13
    assert everything == [*entries, pending]


async def test_words_found_by_their_typed_form_whatever_their_lemma_key(db: Database) -> None:
    """An entry keyed by an older lemmatizer's guess ("casar" for the typed "casa") is found by what was typed."""
    seed = await seed_learner(db)
    old = make_entry(seed, "casar", context="casa", created_at=T0)
    later = make_entry(seed, "casa", created_at=T0 + timedelta(seconds=1))  # the same form again, newer
    other = make_entry(seed, "Perro", created_at=T0)
    await store(db, [old, later, other])
    async with db.unit_of_work() as uow:
        found = await uow.words.find_by_forms(seed.pair.id, ["CASA", "perro", "gato", "casar"])
        forms = await uow.words.all_forms(seed.pair.id)
        assert await uow.words.find_by_forms(seed.pair.id, []) == {}
    assert found == {"casa": old, "perro": other, "casar": old}  # the oldest entry wins
    assert forms == {"casar", "casa", "perro"}


async def test_set_translation_and_delete(db: Database) -> None:
    seed = await seed_learner(db)
    entry = make_entry(seed, "pendiente", None)
    await store(db, [entry])
    async with db.unit_of_work() as uow:
        await uow.words.set_translation(entry.id, "pending")
        await uow.commit()
    async with db.unit_of_work() as uow:
        stored = await uow.words.get(entry.id)
        assert stored is not None and stored.translation == "pending"
        assert await uow.words.list_needing_translation(seed.pair.id) == []
        await uow.words.delete(entry.id)
        await uow.commit()
    assert await count_rows(db, "word_bank_entry") == 0


async def test_a_lemma_is_unique_within_a_pair_only(db: Database) -> None:
    seed = await seed_learner(db)
    other_pair = make_pair(seed.learner, "fr", "en", active=False)
    async with db.unit_of_work() as uow:
        await uow.pairs.add(other_pair)
        await uow.commit()
    await store(db, [make_entry(seed, "casa")])

    async with db.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.words.add_many([make_entry(seed, "casa", "house again")])
    await store(db, [make_entry(Seed(seed.learner, other_pair), "casa", "house (fr bank)")])

    assert await count_rows(db, "word_bank_entry", "lemma = 'casa'") == 2


async def test_find_by_term_is_case_insensitive_also_beyond_ascii(db: Database) -> None:
    seed = await seed_learner(db)
    nandu = make_entry(seed, "ñandú", "rhea", term="Ñandú")
    comer = make_entry(seed, "comer", "to eat", term="Comer")
    await store(db, [nandu, comer])
    async with db.unit_of_work() as uow:
        assert await uow.words.find_by_term(seed.pair.id, "ÑANDÚ") == nandu
        assert await uow.words.find_by_term(seed.pair.id, "ñandú") == nandu
        assert await uow.words.find_by_term(seed.pair.id, "COMER") == comer
        assert await uow.words.find_by_term(seed.pair.id, "com") is None


async def test_removing_a_word_removes_its_cards_and_keeps_its_review_events(db: Database) -> None:
    seed = await seed_learner(db)
    entry = make_entry(seed, "comer")
    card = make_card(entry)
    await store(db, [entry], [card])
    async with db.unit_of_work() as uow:
        await uow.reviews.add(make_event(card))
        await uow.words.delete(entry.id)
        await uow.commit()

    async with db.unit_of_work() as uow:
        assert await uow.cards.get(card.id) is None
        events = await uow.reviews.list_for_learner(seed.learner.id)
    assert await count_rows(db, "flashcard") == 0
    assert len(events) == 1 and events[0].card_id == ""


async def test_five_thousand_words_and_cards_in_one_call(db: Database) -> None:
    seed = await seed_learner(db)
    entries = [make_entry(seed, f"lemma{i:05d}", f"t{i}") for i in range(5_000)]
    cards = [make_card(entry) for entry in entries]
    await store(db, entries, cards)

    assert await count_rows(db, "word_bank_entry") == 5_000
    assert await count_rows(db, "flashcard", "queue = 0") == 5_000
    async with db.unit_of_work() as uow:
        found = await uow.words.find_by_lemmas(seed.pair.id, [e.lemma for e in entries])
        with_cards = await uow.cards.entry_ids_with_cards(seed.pair.id, CardDirection.RECOGNITION)
    assert len(found) == 5_000
    assert with_cards == {e.id for e in entries}


# --- flashcards -------------------------------------------------------------------------------


async def test_card_round_trips_fsrs_fields_exactly(db: Database) -> None:
    seed = await seed_learner(db)
    entry = make_entry(seed, "comer")
    card = make_card(entry, due=datetime(2026, 3, 1, 14, 0, 0, 1, tzinfo=CEST))
    await store(db, [entry], [card])

    reviewed = replace(
        card,
        state=CardState.REVIEW,
        step=None,
        stability=AWKWARD[0],
        difficulty=AWKWARD[1],
        due=datetime(2026, 3, 12, 9, 30, 15, 999999, tzinfo=CEST),
        last_review=T0,
    )
    async with db.unit_of_work() as uow:
        assert await uow.cards.get(card.id) == card
        await uow.cards.save_schedule(reviewed)
        await uow.commit()

    async with db.unit_of_work() as uow:
        stored = await uow.cards.get(card.id)
        listed = await uow.cards.list_for_learner(seed.learner.id)
    assert stored == reviewed
    assert stored.stability == 0.30000000000000004 and stored.difficulty == 1 / 3
    assert stored.due == datetime(2026, 3, 12, 7, 30, 15, 999999, tzinfo=UTC)
    assert_utc(stored.due)
    assert_utc(stored.last_review)
    assert listed == [reviewed]
    assert await count_rows(db, "flashcard", "queue = 1") == 1


async def test_due_card_sides_follow_the_direction(db: Database) -> None:
    seed = await seed_learner(db, target="es", native="en")
    entry = make_entry(seed, "comer", "to eat", context="comían")
    recognition = make_card(entry)
    production = make_card(entry, direction=CardDirection.PRODUCTION)
    await store(db, [entry], [recognition, production])

    async with db.unit_of_work() as uow:
        front = await uow.cards.get_due_card(recognition.id)
        back = await uow.cards.get_due_card(production.id)
        with pytest.raises(Conflict):
            await uow.cards.add_many([make_card(entry)])  # one card per entry and direction

    assert front is not None and back is not None
    assert (front.card, front.front, front.back, front.target_language, front.answer_language, front.context) == (
        recognition,
        "comer",
        "to eat",
        "es",
        "en",
        "comían",
    )
    assert (back.card, back.front, back.back, back.target_language, back.answer_language) == (
        production,
        "to eat",
        "comer",
        "es",
        "es",
    )


async def test_next_due_and_next_new_follow_the_queues(db: Database) -> None:
    seed = await seed_learner(db)
    other = await seed_learner(db, "bob")
    now = T0 + timedelta(days=10)
    words = [make_entry(seed, f"w{i}") for i in range(7)]
    foreign = make_entry(other, "ajeno")
    cards = {
        "due_later_today": scheduled(words[0], now - timedelta(hours=1)),
        "most_overdue": scheduled(words[1], now - timedelta(days=3)),
        "not_yet_due": scheduled(words[2], now + timedelta(minutes=1)),
        "suspended_overdue": scheduled(words[3], now - timedelta(days=9), suspended=True),
        "new_older": make_card(words[4], due=T0 - timedelta(days=1), created_at=T0 - timedelta(days=1)),
        "new_newer": make_card(words[5], due=T0, created_at=T0),
        "new_suspended": make_card(words[6], due=T0 - timedelta(days=5), suspended=True),
        "other_learner": scheduled(foreign, now - timedelta(days=30)),
    }
    await store(db, [*words, foreign], list(cards.values()))

    async with db.unit_of_work() as uow:
        first_due = await uow.cards.next_due(seed.pair.id, now)
        first_new = await uow.cards.next_new(seed.pair.id)
        nothing_due_yet = await uow.cards.next_due(seed.pair.id, now - timedelta(days=5))
        # answering the most overdue card moves it out of the way
        assert first_due is not None
        await uow.cards.save_schedule(replace(first_due.card, due=now + timedelta(days=4)))
        second_due = await uow.cards.next_due(seed.pair.id, now)
        # a first answer turns a new card into a scheduled one
        assert first_new is not None
        await uow.cards.save_schedule(replace(first_new.card, state=CardState.LEARNING, due=now - timedelta(days=5)))
        after_learning = await uow.cards.next_due(seed.pair.id, now)
        next_new = await uow.cards.next_new(seed.pair.id)
        await uow.commit()

    assert first_due.card.id == cards["most_overdue"].id
    assert first_new.card.id == cards["new_older"].id
    assert nothing_due_yet is None
    assert second_due is not None and second_due.card.id == cards["due_later_today"].id
    assert after_learning is not None and after_learning.card.id == cards["new_older"].id
    assert next_new is not None and next_new.card.id == cards["new_newer"].id
    assert await count_rows(db, "flashcard", "queue = -1") == 2


async def test_next_cards_for_a_learner_come_from_their_active_pair(db: Database) -> None:
    seed = await seed_learner(db)
    other = await seed_learner(db, "bob")
    french = make_pair(seed.learner, "fr", "en", active=False)
    async with db.unit_of_work() as uow:
        await uow.pairs.add(french)
        await uow.commit()
    now = T0 + timedelta(days=10)
    spanish_word, french_word, foreign = (
        make_entry(seed, "uno"),
        make_entry(Seed(seed.learner, french), "un"),
        make_entry(other, "otro"),
    )
    spanish_new, french_new = make_entry(seed, "dos"), make_entry(Seed(seed.learner, french), "deux")
    cards = {
        "spanish_due": scheduled(spanish_word, now - timedelta(days=1)),
        "french_due": scheduled(french_word, now - timedelta(days=5)),
        "foreign_due": scheduled(foreign, now - timedelta(days=30)),
        "spanish_new": make_card(spanish_new),
        "french_new": make_card(french_new),
    }
    await store(db, [spanish_word, french_word, foreign, spanish_new, french_new], list(cards.values()))

    async with db.unit_of_work() as uow:
        spanish = (
            await uow.cards.next_due_for_learner(seed.learner.id, now),
            await uow.cards.next_new_for_learner(seed.learner.id),
            await uow.cards.next_due_for_learner(seed.learner.id, now - timedelta(days=2)),
        )
        await uow.pairs.set_active(seed.learner.id, french.id)
        french_side = (
            await uow.cards.next_due_for_learner(seed.learner.id, now),
            await uow.cards.next_new_for_learner(seed.learner.id),
        )
        nobody = (
            await uow.cards.next_due_for_learner(new_id(), now),
            await uow.cards.next_new_for_learner("not-an-id"),
        )

    assert spanish[0] is not None and spanish[0].card.id == cards["spanish_due"].id
    assert (spanish[0].front, spanish[0].back, spanish[0].target_language) == ("uno", "x", "es")
    assert spanish[1] is not None and spanish[1].card.id == cards["spanish_new"].id
    assert spanish[2] is None
    assert french_side[0] is not None and french_side[0].card.id == cards["french_due"].id
    assert french_side[0].target_language == "fr"
    assert french_side[1] is not None and french_side[1].card.id == cards["french_new"].id
    assert nobody == (None, None)


async def test_suspending_a_direction_takes_its_cards_out_of_every_queue(db: Database) -> None:
    seed = await seed_learner(db)
    now = T0 + timedelta(days=1)
    old, fresh = make_entry(seed, "viejo"), make_entry(seed, "nuevo")
    due_production = scheduled(old, T0, direction=CardDirection.PRODUCTION)
    new_production = make_card(fresh, direction=CardDirection.PRODUCTION)
    due_recognition = scheduled(old, T0 + timedelta(hours=1))
    await store(db, [old, fresh], [due_production, new_production, due_recognition])

    async with db.unit_of_work() as uow:
        await uow.cards.set_direction_suspended(seed.learner.id, CardDirection.PRODUCTION, True)
        await uow.commit()
    async with db.unit_of_work() as uow:
        while_suspended = (
            await uow.cards.next_due(seed.pair.id, now),
            await uow.cards.next_new(seed.pair.id),
            await uow.cards.count_due(seed.learner.id, now),
        )
        suspended_card = await uow.cards.get(due_production.id)
        await uow.cards.set_direction_suspended(seed.learner.id, CardDirection.PRODUCTION, False)
        await uow.commit()
    async with db.unit_of_work() as uow:
        resumed = (
            await uow.cards.next_due(seed.pair.id, now),
            await uow.cards.next_new(seed.pair.id),
            await uow.cards.count_due(seed.learner.id, now),
        )

    assert while_suspended[0] is not None and while_suspended[0].card.id == due_recognition.id
    assert while_suspended[1] is None
    assert while_suspended[2] == 1
    assert suspended_card is not None and suspended_card.suspended
    assert suspended_card.stability == due_production.stability  # the schedule is kept
    assert resumed[0] is not None and resumed[0].card.id == due_production.id
    assert resumed[1] is not None and resumed[1].card.id == new_production.id
    assert resumed[2] == 2


async def test_due_counts_and_forecast_span_all_pairs(db: Database) -> None:
    seed = await seed_learner(db)
    french = make_pair(seed.learner, "fr", "en", active=False)
    async with db.unit_of_work() as uow:
        await uow.pairs.add(french)
        await uow.commit()
    entries = [*(make_entry(seed, f"es{i}") for i in range(4)), make_entry(Seed(seed.learner, french), "fr")]
    dues = [T0 + timedelta(days=1), T0 + timedelta(days=2), T0 - timedelta(days=1), T0 + timedelta(hours=5)]
    cards = [scheduled(entry, due) for entry, due in zip(entries[1:], dues, strict=True)]
    cards.append(make_card(entries[0], due=T0))  # new cards are not "due"
    await store(db, entries, cards)

    async with db.unit_of_work() as uow:
        due_now = await uow.cards.count_due(seed.learner.id, T0 + timedelta(hours=5))
        due_tomorrow = await uow.cards.count_due(seed.learner.id, T0 + timedelta(days=1))
        forecast = await uow.cards.due_dates_between(seed.learner.id, T0 + timedelta(hours=1), T0 + timedelta(days=2))
    assert due_now == 2  # yesterday's (es) and +5h (fr)
    assert due_tomorrow == 3
    assert forecast == [T0 + timedelta(hours=5), T0 + timedelta(days=1)]  # start <= due < end
    assert all(moment.tzinfo is UTC for moment in forecast)


async def test_entry_ids_with_cards_per_direction(db: Database) -> None:
    seed = await seed_learner(db)
    a, b = make_entry(seed, "a"), make_entry(seed, "b")
    await store(db, [a, b], [make_card(a), make_card(b), make_card(a, direction=CardDirection.PRODUCTION)])
    async with db.unit_of_work() as uow:
        assert await uow.cards.entry_ids_with_cards(seed.pair.id, CardDirection.RECOGNITION) == {a.id, b.id}
        assert await uow.cards.entry_ids_with_cards(seed.pair.id, CardDirection.PRODUCTION) == {a.id}


# --- reviews ----------------------------------------------------------------------------------


async def test_review_events_round_trip_and_counts(db: Database) -> None:
    seed = await seed_learner(db)
    entry = make_entry(seed, "comer")
    card = make_card(entry)
    await store(db, [entry], [card])
    day = timedelta(days=1)
    events = [
        make_event(card, Rating.GOOD, state_before=CardState.NEW, reviewed_at=T0 - 2 * day),
        make_event(card, Rating.AGAIN, state_before=CardState.NEW, reviewed_at=T0),
        make_event(card, Rating.AGAIN, state_before=CardState.REVIEW, reviewed_at=T0 + timedelta(minutes=1)),
        make_event(card, Rating.HARD, state_before=CardState.LEARNING, reviewed_at=T0 + timedelta(minutes=2)),
        make_event(
            card,
            Rating.EASY,
            mode=ReviewMode.VOICE,
            answer_text=None,
            state_before=CardState.RELEARNING,
            stability_after=None,
            difficulty_after=None,
            reviewed_at=datetime(2026, 3, 1, 14, 3, 0, 5, tzinfo=CEST),
        ),
    ]
    async with db.unit_of_work() as uow:
        for event in events:
            await uow.reviews.add(event)
        await uow.commit()

    async with db.unit_of_work() as uow:
        listed = await uow.reviews.list_for_learner(seed.learner.id)
        since_t0 = await uow.reviews.count_since(seed.learner.id, T0)
        new_since_t0 = await uow.reviews.count_new_since(seed.learner.id, T0)
        moments = await uow.reviews.reviewed_at_since(seed.learner.id, T0 + timedelta(minutes=1))
        retention = await uow.reviews.retention_since(seed.learner.id, T0 - 3 * day)
        no_retention = await uow.reviews.retention_since(seed.learner.id, T0 + day)

    assert listed == events
    assert listed[-1].reviewed_at == datetime(2026, 3, 1, 12, 3, 0, 5, tzinfo=UTC)
    assert since_t0 == 4
    assert new_since_t0 == 1
    assert moments == [e.reviewed_at for e in events[2:]]
    assert retention == (3, 2)  # first reviews of new cards don't count
    assert no_retention == (0, 0)


# --- packs ------------------------------------------------------------------------------------


def make_pack(slug: str, published: bool = False, target: str = "es", native: str = "en") -> Pack:
    return Pack(new_id(), slug, f"Pack {slug}", target, native, "A1", published, 0, T0)


def make_pack_entries(pack: Pack, count: int, start: int = 0) -> list[PackEntry]:
    return [
        PackEntry(new_id(), pack.id, f"Término{i}", f"término{i}", f"term {i}", f"ej {i}" if i % 2 else None, i)
        for i in range(start, start + count)
    ]


async def test_packs_create_list_publish_fill_and_delete(db: Database) -> None:
    basics, travel, french = make_pack("basics"), make_pack("travel", True), make_pack("voyage", True, "fr")
    basics_entries = make_pack_entries(basics, 5)
    async with db.unit_of_work() as uow:
        for pack in (basics, travel, french):
            await uow.packs.add(pack)
        await uow.packs.add_entries(basics.id, list(reversed(basics_entries)))
        await uow.commit()

    async with db.unit_of_work() as uow:
        stored = await uow.packs.get_by_slug("basics")
        published_es = await uow.packs.list(True, "es", "en")
        everything = await uow.packs.list(False)
        entries = await uow.packs.list_entries(basics.id)
        first_two = await uow.packs.list_entries(basics.id, limit=2)
        terms = await uow.packs.existing_terms(basics.id)
        await uow.packs.set_published(basics.id, True)
        await uow.commit()

    assert stored == replace(basics, entry_count=5)
    assert [p.slug for p in published_es] == ["travel"]
    assert [(p.slug, p.entry_count) for p in everything] == [("basics", 5), ("travel", 0), ("voyage", 0)]
    assert entries == basics_entries  # in position order
    assert first_two == basics_entries[:2]
    assert terms == {f"término{i}" for i in range(5)}  # lower-cased, accents kept

    async with db.unit_of_work() as uow:
        assert [p.slug for p in await uow.packs.list(True, "es", "en")] == ["basics", "travel"]
        await uow.packs.delete(basics.id)
        await uow.commit()
    assert await count_rows(db, "pack") == 2
    assert await count_rows(db, "pack_entry") == 0


async def test_a_taken_pack_slug_is_a_conflict(db: Database) -> None:
    async with db.unit_of_work() as uow:
        await uow.packs.add(make_pack("basics"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.packs.add(make_pack("basics"))
        await uow.packs.add(make_pack("basics-2"))  # the unit of work goes on
        await uow.commit()
    assert await count_rows(db, "pack") == 2


async def test_postgres_copies_fifty_thousand_pack_entries(pg_db: Database) -> None:
    pack = make_pack("big")
    entries = make_pack_entries(pack, 50_000)
    async with pg_db.unit_of_work() as uow:
        await uow.packs.add(pack)
        await uow.packs.add_entries(pack.id, entries)
        await uow.commit()

    assert await count_rows(pg_db, "pack_entry") == 50_000
    async with pg_db.unit_of_work() as uow:
        stored = await uow.packs.get_by_slug("big")
        head = await uow.packs.list_entries(pack.id, limit=3)
        terms = await uow.packs.existing_terms(pack.id)
    assert stored is not None and stored.entry_count == 50_000
    assert head == entries[:3]
    assert len(terms) == 50_000


async def test_postgres_copy_is_part_of_the_unit_of_work(pg_db: Database) -> None:
    pack = make_pack("draft")
    async with pg_db.unit_of_work() as uow:
        await uow.packs.add(pack)
        await uow.commit()
    async with pg_db.unit_of_work() as uow:
        await uow.packs.add_entries(pack.id, make_pack_entries(pack, 100))  # COPY is the first statement
        # leaving without commit() must undo the COPY
    assert await count_rows(pg_db, "pack_entry") == 0


# --- conversation state and duplicate updates --------------------------------------------------


async def test_conversation_state_defaults_empty_and_upserts(db: Database) -> None:
    seed = await seed_learner(db)
    async with db.unit_of_work() as uow:
        empty = await uow.conversations.get(seed.learner.id)
        await uow.conversations.save(ConversationState(seed.learner.id, "review", {"card": "c1", "shown": [1, 2]}, T0))
        await uow.commit()
    later = datetime(2026, 3, 1, 15, 0, tzinfo=CEST)
    async with db.unit_of_work() as uow:
        first = await uow.conversations.get(seed.learner.id)
        await uow.conversations.save(ConversationState(seed.learner.id, None, {}, later))
        await uow.commit()
    async with db.unit_of_work() as uow:
        cleared = await uow.conversations.get(seed.learner.id)

    assert empty == ConversationState(seed.learner.id, None, {})
    assert first == ConversationState(seed.learner.id, "review", {"card": "c1", "shown": [1, 2]}, T0)
    assert cleared == ConversationState(seed.learner.id, None, {}, later)
    assert_utc(cleared.updated_at)
    assert await count_rows(db, "conversation_state") == 1


async def test_mark_processed_reports_duplicates(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "1001") is True
        assert await uow.updates.mark_processed("telegram", "1001") is False
        assert await uow.updates.mark_processed("discord", "1001") is True
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "1001") is False
    assert await count_rows(db, "processed_update") == 2


async def test_open_turn_marks_the_update_and_reads_the_learner_and_state_in_a_read_only_unit(db: Database) -> None:
    """One statement on Postgres, three in turn on SQLite: the same answers, and the mark is kept."""
    seed = await seed_learner(db)
    async with db.unit_of_work() as uow:  # alice is mid-review; bob has never saved a state
        await uow.conversations.save(ConversationState(seed.learner.id, "review", {"card": "c1"}, T0))
        await uow.commit()
    bob = await seed_learner(db, "bob")

    async with db.unit_of_work(read_only=True) as uow:
        first = await uow.conversations.open_turn("telegram", "alice", "u-1", T0)
        again = await uow.conversations.open_turn("telegram", "alice", "u-1", T0)  # a redelivery
        other_platform = await uow.conversations.open_turn("discord", "alice", "u-1", T0)  # no such identity
        no_key = await uow.conversations.open_turn("telegram", "bob", None, T0)
        no_key_again = await uow.conversations.open_turn("telegram", "bob", None, T0)

    assert first.fresh and first.learner == seed.learner
    assert first.state == ConversationState(seed.learner.id, "review", {"card": "c1"}, T0)
    assert not again.fresh and again.learner is None and again.state is None
    assert other_platform.fresh and other_platform.learner is None and other_platform.state is None
    assert no_key.fresh and no_key_again.fresh and no_key.learner == bob.learner
    assert no_key.state == ConversationState(bob.learner.id, None, {})
    # committed on their own (no commit in a read-only unit): a later transaction sees both marks
    async with db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "u-1") is False
        assert await uow.updates.mark_processed("discord", "u-1") is False
    assert await count_rows(db, "processed_update") == 2


# --- unit of work -----------------------------------------------------------------------------


async def test_unit_of_work_keeps_only_what_was_committed(db: Database) -> None:
    seed = await seed_learner(db)
    async with db.unit_of_work() as uow:
        await uow.words.add_many([make_entry(seed, "olvidado")])
    async with db.unit_of_work() as uow:
        await uow.words.add_many([make_entry(seed, "deshecho")])
        await uow.rollback()
        await uow.words.add_many([make_entry(seed, "guardado")])
        await uow.commit()
    with pytest.raises(RuntimeError, match="boom"):
        async with db.unit_of_work() as uow:
            await uow.words.add_many([make_entry(seed, "fallido")])
            raise RuntimeError("boom")

    async with db.unit_of_work() as uow:
        assert await uow.words.all_lemmas(seed.pair.id) == {"guardado"}


async def test_a_read_only_unit_of_work_reads_committed_data_and_leaves_transactions_intact(db: Database) -> None:
    """A read-only unit of work sees what others commit meanwhile and cannot commit; the pooled
    connection it used goes back to normal transactions (a later rollback still undoes writes)."""
    seed = await seed_learner(db)
    async with db.unit_of_work(read_only=True) as reader:
        before = await reader.words.all_lemmas(seed.pair.id)
        await store(db, [make_entry(seed, "visto")])
        after = await reader.words.all_lemmas(seed.pair.id)
        with pytest.raises(RuntimeError, match="read-only"):
            await reader.commit()
    for _ in range(3):  # whichever pooled connection comes next
        async with db.unit_of_work() as uow:
            await uow.words.add_many([make_entry(seed, "deshecho")])
            await uow.rollback()

    assert (before, after) == (set(), {"visto"})
    async with db.unit_of_work(read_only=True) as reader:
        assert await reader.words.all_lemmas(seed.pair.id) == {"visto"}


# --- query plan -------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["pair", "learner"])
async def test_postgres_next_due_card_is_an_index_range_scan(pg_db: Database, by: str) -> None:
    """With 20k cards over 20 pairs the next-card query reads the (pair_id, queue, due) index,
    in the plan for literal values and in the generic plan a prepared statement falls back to;
    also when the pair is the learner's active one, found inside the statement."""
    from core.outbound.postgres.repositories.cards import NEXT_CARD_IN_QUEUE, NEXT_CARD_IN_QUEUE_FOR_LEARNER

    seeds = [await seed_learner(pg_db, f"user{i}") for i in range(4)]
    pairs = [seeds[0].pair]
    async with pg_db.unit_of_work() as uow:
        for i in range(19):
            learner = seeds[i % 4].learner
            pair = make_pair(learner, target=f"t{i}", native="en", active=False)
            await uow.pairs.add(pair)
            pairs.append(pair)
        await uow.commit()
    for n, pair in enumerate(pairs):
        seed = Seed(next(s.learner for s in seeds if s.learner.id == pair.learner_id), pair)
        entries = [make_entry(seed, f"p{n}w{i}") for i in range(1_000)]
        cards = [
            scheduled(e, T0 + timedelta(minutes=i)) if i % 3 else make_card(e, suspended=i % 9 == 0)
            for i, e in enumerate(entries)
        ]
        await store(pg_db, entries, cards)
    async with pg_db.engine.begin() as connection:
        await connection.execute(sa.text("ANALYZE"))

    statement, key = (
        (NEXT_CARD_IN_QUEUE, {"pair_id": uuid.UUID(pairs[7].id)})
        if by == "pair"
        else (NEXT_CARD_IN_QUEUE_FOR_LEARNER, {"learner_id": uuid.UUID(seeds[0].learner.id)})
    )
    compiled = statement.compile(dialect=pg_db.engine.dialect)
    params = compiled.construct_params({**key, "queue": 1, "until": T0 + timedelta(days=30)})
    args = [params[name] for name in compiled.positiontup or ()]
    async with pg_db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        custom = _as_json(await raw.fetchval(f"EXPLAIN (FORMAT JSON) {compiled}", *args))
        await raw.execute("SET plan_cache_mode = force_generic_plan")
        await raw.execute(f"PREPARE next_card AS {compiled}")
        literals = ", ".join(f"'{value}'" for value in args)
        generic = _as_json(await raw.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE next_card({literals})"))
        await raw.execute("DEALLOCATE next_card; RESET plan_cache_mode")

    for plan in (custom, generic):
        nodes = list(_plan_nodes(plan[0]["Plan"]))
        flashcard_scans = [n for n in nodes if n.get("Relation Name") == "flashcard"]
        assert [n["Node Type"] for n in flashcard_scans] in (["Index Scan"], ["Index Only Scan"]), nodes
        assert flashcard_scans[0]["Index Name"] == "ix_flashcard_pair_id_queue_due"
        # language_pair is one 8 kB page here, so the planner reads that page once (Materialize)
        # instead of its primary key; what grows with the learner's cards is never scanned.
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") != "language_pair"]
        assert not [n for n in nodes if n["Node Type"] in ("Sort", "Incremental Sort")]


def _as_json(value: Any) -> Any:
    """SQLAlchemy installs a json codec on its asyncpg connections; a bare one returns text."""
    return json.loads(value) if isinstance(value, str) else value


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


async def test_a_forgotten_update_counts_as_new_again(db: Database) -> None:
    async with db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "501") is True
        await uow.commit()
    async with db.unit_of_work() as uow:
        await uow.updates.forget("telegram", "501")
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.updates.mark_processed("telegram", "501") is True
        assert await uow.updates.mark_processed("telegram", "501") is False
