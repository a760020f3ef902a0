"""Two processes rating the same showing of a card on Postgres: exactly one review is stored.

Each "process" is its own engine and its own services (no shared ChatApp lock), as when two bot
workers receive the same button press.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.errors import AlreadyReviewed
from core.domain.models import Rating, ReviewMode
from core.outbound.postgres.database import Database
from tests.fakes import FixedClock
from tests.integration.test_chat_flows import services_on
from tests.unit.chat.harness import Chat


async def _count(db: Database, sql: str) -> int:
    async with db.session() as session:
        return int((await session.execute(sa.text(sql))).scalar_one())


async def _ready_card(db: Database, clock: FixedClock) -> tuple[str, str]:
    """A learner with one card on screen (as /review showed it): (learner id, card id)."""
    chat = Chat.build(services_on(db, clock), clock)
    await chat.onboard()
    await chat.send("/add comer = to eat\ncasa = house")
    card = await chat.services.reviews.next_card(await chat.learner_id())
    assert card is not None
    return card.card.learner_id, card.card.id


async def test_two_services_rating_one_showing_store_one_review(pg_db: Database) -> None:
    clock = FixedClock()
    learner_id, card_id = await _ready_card(pg_db, clock)
    other = Database(pg_db.url)
    try:
        first, second = services_on(pg_db, clock), services_on(other, clock)
        shown = await first.reviews.get_card(learner_id, card_id)
        results = await asyncio.gather(
            *(
                services.reviews.review(learner_id, card_id, Rating.GOOD, ReviewMode.BUTTON, shown_due=shown.card.due)
                for services in (first, second)
            ),
            return_exceptions=True,
        )
    finally:
        await other.dispose()
    assert sum(isinstance(result, AlreadyReviewed) for result in results) == 1
    assert sum(isinstance(result, tuple) for result in results) == 1
    assert await _count(pg_db, "SELECT count(*) FROM review_event") == 1


async def test_a_schedule_over_a_changed_card_is_refused(pg_db: Database) -> None:
    """Both transactions read the card before either writes: the second write finds it changed."""
    clock = FixedClock()
    _learner_id, card_id = await _ready_card(pg_db, clock)
    async with pg_db.unit_of_work() as first, pg_db.unit_of_work() as second:
        card_a, card_b = await first.cards.get(card_id), await second.cards.get(card_id)
        assert card_a is not None and card_b is not None
        await first.cards.save_schedule(replace(card_a, due=clock() + timedelta(days=1), last_review=clock()))
        await first.commit()
        with pytest.raises(AlreadyReviewed):
            await second.cards.save_schedule(replace(card_b, due=clock() + timedelta(days=2), last_review=clock()))
    assert await _count(pg_db, "SELECT count(*) FROM flashcard WHERE last_review IS NOT NULL") == 1
