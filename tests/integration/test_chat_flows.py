"""The main chat flows on real databases (SQLite and Postgres): what the learner reads and what is stored.

The services are the real ones over `Database.unit_of_work`; the lemmatizer is our in-memory fake
(spaCy has its own tests) and the clock is fixed, so interval labels are exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from bots.chat.events import EventKind
from core.bootstrap import Services, build_services
from core.config import Settings
from core.outbound.fsrs import FsrsScheduler
from core.outbound.postgres.database import Database
from tests.fakes import FakeLemmatizer, FixedClock
from tests.unit.chat.harness import ADMIN, ADMIN_CHANNEL, Chat, labels, texts

FRONT_HINT = "In English? Type your answer, or press Show answer."


def services_on(database: Database, clock: FixedClock) -> Services:
    settings = Settings(_env_file=None, DATABASE_URL=database.url)  # type: ignore[call-arg]
    return build_services(
        settings,
        database.unit_of_work,
        scheduler=FsrsScheduler(enable_fuzzing=False),
        lemmatizer=FakeLemmatizer(),
        translator=None,
        clock=clock,
    )


@dataclass
class Setup:
    db: Database
    clock: FixedClock
    chat: Chat
    engines: list[Database] = field(default_factory=list)  # opened by restart(), disposed by the fixture

    async def rows(self, sql: str) -> list[tuple[object, ...]]:
        async with self.db.session() as session:
            return [tuple(row) for row in (await session.execute(sa.text(sql))).all()]

    async def restart(self) -> Chat:
        """A new process: a new engine and a new ChatApp on the same database; buttons shown before carry over."""
        fresh = Database(self.db.url)
        self.engines.append(fresh)
        chat = Chat.build(services_on(fresh, self.clock), self.clock)
        chat.shown = dict(self.chat.shown)
        return chat


@pytest.fixture
async def setup(db: Database) -> AsyncIterator[Setup]:
    clock = FixedClock()
    current = Setup(db, clock, Chat.build(services_on(db, clock), clock))
    yield current
    for engine in current.engines:
        await engine.dispose()


async def test_onboarding_words_and_a_pending_translation(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    assert await setup.rows("SELECT target, native, level, is_active FROM language_pair") == [("es", "en", "A2", True)]
    assert texts(await chat.send("/add comer = to eat\nperro")) == [
        "Added 2:\ncomer — to eat\nperro — (needs a translation)",
        "What does “perro” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await chat.send("/cancel"))[0] == "OK. “perro” will wait for a translation; /words shows them."
    assert texts(await chat.send("/words")) == [
        "Your words (2), page 1 of 1:\nperro — (needs a translation)\ncomer — to eat"
    ]
    await chat.press("Add missing translations")
    assert texts(await chat.send("dog")) == ["Saved: perro — dog. It's ready for /review."]
    assert sorted(await setup.rows("SELECT term, translation FROM word_bank_entry")) == [
        ("comer", "to eat"),
        ("perro", "dog"),
    ]
    assert len(await setup.rows("SELECT id FROM flashcard")) == 2


async def test_a_review_session_continues_after_a_restart(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    await chat.send("/add comer = to eat\ncasa = house\nperro = dog")
    assert texts(await chat.send("/review")) == [f"comer\n\n{FRONT_HINT}"]
    assert labels(await chat.press("Show answer")) == ["Again · 1m", "Hard · 6m", "Good · 10m", "Easy · 8d"]

    after = await setup.restart()
    good = after.button("Good · 10m").payload
    assert texts(await after.tap(good)) == [f"comer → to eat\nGood · next in 10m\n\ncasa\n\n{FRONT_HINT}"]
    assert texts(await after.tap(good)) == ["This card was already reviewed."]
    assert await setup.rows("SELECT rating, mode FROM review_event") == [(3, "button")]

    again = await setup.restart()
    assert texts(await again.send("house")) == [f"✓ Correct: house · next in 10m\n\nperro\n\n{FRONT_HINT}"]
    assert texts(await again.send("/stop")) == ["Session over: 2 reviewed, 2 correct. Next card due in 10m."]
    assert sorted(await setup.rows("SELECT rating, mode, answer_text FROM review_event")) == [
        (3, "button", None),
        (3, "typed", "house"),
    ]


async def test_two_quick_presses_of_the_same_button_rate_once(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    await chat.send("/add comer = to eat\ncasa = house")
    await chat.send("/review")
    await chat.press("Show answer")
    good = chat.button("Good · 10m").payload
    first, second = await asyncio.gather(chat.tap(good), chat.tap(good))
    assert sorted([texts(first)[0], texts(second)[0]]) == [
        "This card was already reviewed.",
        f"comer → to eat\nGood · next in 10m\n\ncasa\n\n{FRONT_HINT}",
    ]
    assert await setup.rows("SELECT rating FROM review_event") == [(3,)]


async def test_admin_pack_import_publish_and_learner_subscription(setup: Setup) -> None:
    chat = setup.chat
    await chat.admin("/pack_new es-basics es en A1 Spanish basics")
    csv = b"term,translation\nagua,water\nsol,sun\n,nothing\n"
    [report] = texts(await chat.file("/pack_import es-basics", csv, user=ADMIN, chat=ADMIN_CHANNEL, group=True))
    assert report.startswith("“es-basics”: 2 added, 0 skipped, 1 rejected.")
    await chat.admin("/pack_publish es-basics")
    refused = await chat.send("/pack_delete es-basics", "ann")
    assert texts(refused) == ["/pack_delete is for pack admins only, and you are not one. Nothing was changed."]

    await chat.onboard()
    await chat.send("/packs")
    assert texts(await chat.press("Add to my words")) == [
        "Added 2 words from “Spanish basics”. They're ready for /review."
    ]
    assert texts(await chat.press("Add to my words"))[0].startswith("Nothing new")
    assert sorted(await setup.rows("SELECT term FROM word_bank_entry")) == [("agua",), ("sol",)]

    [exported] = await chat.admin("/pack_export es-basics")
    assert exported.files[0].content.decode().splitlines() == ["term,translation,example", "agua,water,", "sol,sun,"]
    await chat.admin("/pack_delete es-basics")
    yes = chat.button("Delete “es-basics”", ADMIN).payload
    assert texts(await chat.tap(yes, ADMIN, chat=ADMIN_CHANNEL, group=True)) == ["Deleted pack “es-basics”."]
    assert await setup.rows("SELECT slug FROM pack") == []
    assert len(await setup.rows("SELECT term FROM word_bank_entry")) == 2


async def test_duplicate_delivery_stats_export_and_delete_me(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    event = chat.event(
        "ann", EventKind.COMMAND, text="/add comer = to eat", command="add", args="comer = to eat", update_id="991"
    )
    assert texts(await chat.handle(event)) == ["Added 1:\ncomer — to eat"]
    assert await chat.handle(event) == []
    assert len(await setup.rows("SELECT id FROM word_bank_entry")) == 1

    [stats] = await chat.send("/stats")
    assert stats.text.endswith("Words: 1") and stats.image is not None
    [export] = await chat.send("/export")
    assert [f.filename for f in export.files] == ["langlearn-export.json", "langlearn-anki.csv"]

    await chat.send("/delete_me")
    assert texts(await chat.press("Yes, delete everything")) == [
        "Done: everything about you is deleted. Send /start to begin again."
    ]
    for table in ("learner", "chat_identity", "language_pair", "word_bank_entry", "flashcard"):
        assert await setup.rows(f"SELECT * FROM {table}") == [], table


async def test_settings_and_language_switch_are_stored(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    await chat.send("/settings tz Europe/Madrid")
    await chat.send("/language fr en B1")
    await chat.send("/language")
    await chat.press("Switch to Spanish → English")
    assert sorted(await setup.rows("SELECT target, is_active FROM language_pair")) == [("es", True), ("fr", False)]
    [reply] = await chat.send("/settings")
    assert "Timezone: Europe/Madrid" in reply.text


NASTY_TEXTS = (
    "\x00",
    "a\x00b",
    "/add ca\x00sa = ho\x00use",
    "/pack hola\x00",
    "\u202eesrever\u202c",  # right-to-left override
    "\ud7ff\ue000\U0010ffff",  # edges of the valid code point ranges
    "👩‍👩‍👧‍👦 = family",
    "\u2028line\u2029separators",
    "/settings tz \x1b[31mRed",  # an escape sequence: not a time zone, said so
    "/settings tz Europe/Ma\x00drid",
    "/add " + "ñ" * 3_990,
)


async def test_nasty_text_gets_an_answer_and_control_characters_never_reach_the_database(setup: Setup) -> None:
    chat = setup.chat
    await chat.onboard()
    for text in NASTY_TEXTS:
        replies = await chat.send(text)
        assert replies and all(reply.text for reply in replies), repr(text)
        assert "Something went wrong" not in " ".join(texts(replies)), repr(text)
    assert ("casa", "house") in await setup.rows("SELECT term, translation FROM word_bank_entry")
    assert await setup.rows("SELECT timezone FROM learner") == [("Europe/Madrid",)]
