"""Stats: streaks and daily counts in the learner's timezone, due counts, retention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.domain.errors import NotFound
from core.domain.models import Learner, Rating, ReviewMode
from tests.unit.conftest import World


async def review_one(world: World, learner: Learner, rating: Rating = Rating.GOOD) -> None:
    """Add a fresh word and rate its card now."""
    term = f"palabra{len(world.uow.store.words)}"
    await world.services.vocabulary.add_words(learner.id, [f"{term} = word"])
    card = next(c for c in world.uow.store.cards.values() if world.uow.store.words[c.entry_id].term == term)
    await world.services.reviews.review(learner.id, card.id, rating, ReviewMode.BUTTON)


async def test_stats_of_a_new_learner(world: World) -> None:
    learner = await world.learner()
    stats = await world.services.stats.stats(learner.id)
    assert (stats.streak_days, stats.reviews_today, stats.due_now, stats.due_tomorrow) == (0, 0, 0, 0)
    assert stats.retention_30d is None and stats.word_count == 0
    assert len(stats.reviews_per_day) == 30 and all(count == 0 for _, count in stats.reviews_per_day)
    assert stats.reviews_per_day[-1][0] == date(2025, 3, 10)
    assert [day for day, _ in stats.due_forecast][:2] == [date(2025, 3, 10), date(2025, 3, 11)]
    assert len(stats.due_forecast) == 14


async def test_streak_counts_consecutive_days_ending_today(world: World) -> None:
    learner = await world.learner()
    start = datetime(2025, 3, 1, 18, 0, tzinfo=UTC)
    for offset in [0, 2, 3, 4]:  # 1, 3, 4, 5 March
        world.clock.set(start + timedelta(days=offset))
        await review_one(world, learner)
    stats = await world.services.stats.stats(learner.id)
    assert (stats.streak_days, stats.reviews_today) == (3, 1)
    world.clock.set(datetime(2025, 3, 6, 9, 0, tzinfo=UTC))  # nothing yet on the 6th: yesterday still counts
    assert (await world.services.stats.stats(learner.id)).streak_days == 3
    world.clock.set(datetime(2025, 3, 7, 9, 0, tzinfo=UTC))  # a day missed
    assert (await world.services.stats.stats(learner.id)).streak_days == 0


async def test_streak_days_are_the_learners_days(world: World) -> None:
    learner = await world.learner()
    await world.services.learner_settings.set_timezone(learner.id, "America/Los_Angeles")
    # 10 March 20:00 and 11 March 20:00 in LA: both after UTC midnight, so UTC would call them the 11th and 12th
    world.clock.set(datetime(2025, 3, 11, 3, 0, tzinfo=UTC))
    await review_one(world, learner)
    world.clock.set(datetime(2025, 3, 12, 3, 0, tzinfo=UTC))
    await review_one(world, learner)
    stats = await world.services.stats.stats(learner.id)
    assert stats.streak_days == 2
    assert stats.reviews_per_day[-2:] == [(date(2025, 3, 10), 1), (date(2025, 3, 11), 1)]
    await world.services.learner_settings.set_timezone(learner.id, "Asia/Tokyo")  # same instants: 11th and 12th
    tokyo = await world.services.stats.stats(learner.id)
    assert tokyo.reviews_per_day[-2:] == [(date(2025, 3, 11), 1), (date(2025, 3, 12), 1)]


async def test_a_streak_longer_than_the_chart(world: World) -> None:
    learner = await world.learner()
    start = datetime(2024, 12, 1, 12, 0, tzinfo=UTC)
    for offset in range(45):
        world.clock.set(start + timedelta(days=offset))
        await review_one(world, learner)
    assert (await world.services.stats.stats(learner.id)).streak_days == 45


async def test_reviews_today_and_chart_counts(world: World) -> None:
    learner = await world.learner()
    world.clock.set(datetime(2025, 3, 10, 8, 0, tzinfo=UTC))
    for _ in range(3):
        await review_one(world, learner)
    world.clock.set(datetime(2025, 3, 11, 8, 0, tzinfo=UTC))
    await review_one(world, learner)
    stats = await world.services.stats.stats(learner.id)
    assert stats.reviews_today == 1
    assert stats.reviews_per_day[-2:] == [(date(2025, 3, 10), 3), (date(2025, 3, 11), 1)]
    assert stats.word_count == 4


async def test_due_now_tomorrow_and_forecast(world: World) -> None:
    learner = await world.learner()
    world.clock.set(datetime(2025, 3, 10, 12, 0, tzinfo=UTC))
    await review_one(world, learner, Rating.GOOD)  # learning: due in 10 minutes
    await review_one(world, learner, Rating.EASY)  # review: due in days
    await world.services.vocabulary.add_words(learner.id, ["nuevo = new"])  # new cards are not "due"
    stats = await world.services.stats.stats(learner.id)
    assert stats.due_now == 0
    assert stats.due_tomorrow == 1
    world.clock.advance(minutes=11)
    stats = await world.services.stats.stats(learner.id)
    assert stats.due_now == 1
    easy_due = max(c.due for c in world.uow.store.cards.values())
    forecast = dict(stats.due_forecast)
    assert forecast[date(2025, 3, 10)] == 1
    assert forecast.get(easy_due.date(), 0) == (1 if easy_due.date() != date(2025, 3, 10) else 2)
    assert sum(forecast.values()) == 2


async def test_overdue_cards_count_on_today_in_the_forecast(world: World) -> None:
    learner = await world.learner()
    await review_one(world, learner, Rating.GOOD)
    world.clock.advance(days=5)
    stats = await world.services.stats.stats(learner.id)
    assert stats.due_forecast[0] == (date(2025, 3, 15), 1)


async def test_retention_is_the_non_again_share_of_scheduled_reviews(world: World) -> None:
    learner = await world.learner()
    await review_one(world, learner, Rating.AGAIN)  # first reviews don't count
    assert (await world.services.stats.stats(learner.id)).retention_30d is None
    cards = list(world.uow.store.cards.values())
    for rating in (Rating.GOOD, Rating.AGAIN, Rating.HARD, Rating.EASY):
        world.clock.advance(minutes=30)
        await world.services.reviews.review(learner.id, cards[0].id, rating, ReviewMode.BUTTON)
    assert (await world.services.stats.stats(learner.id)).retention_30d == pytest.approx(0.75)
    world.clock.advance(days=31)
    assert (await world.services.stats.stats(learner.id)).retention_30d is None


async def test_stats_of_an_unknown_learner(world: World) -> None:
    with pytest.raises(NotFound):
        await world.services.stats.stats("00000000-0000-0000-0000-000000000000")
