"""The review loop: the due queue, the daily new-card limit, rating, answers and previews."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import CardDirection, CardState, Learner, Rating, ReviewMode
from tests.unit.conftest import World


async def add(world: World, learner: Learner, *lines: str) -> None:
    """Add words, one clock tick apart so their order is certain."""
    for line in lines:
        await world.services.vocabulary.add_words(learner.id, [line])
        world.clock.advance(seconds=1)


async def set_new_per_day(world: World, learner: Learner, count: int, timezone: str = "UTC") -> None:
    await world.services.learner_settings.set_new_cards_per_day(learner.id, count)
    await world.services.learner_settings.set_timezone(learner.id, timezone)


async def test_nothing_to_review_without_words_or_pair(world: World) -> None:
    learner = await world.learner()
    assert await world.services.reviews.next_card(learner.id) is None
    lonely = await world.learner("lonely", pair=None)
    assert await world.services.reviews.next_card(lonely.id) is None


async def test_new_cards_come_oldest_first_with_both_sides(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comían = they ate", "casa = house")
    due = await world.services.reviews.next_card(learner.id)
    assert due is not None
    assert (due.front, due.back, due.context) == ("comían", "they ate", None)
    assert (due.target_language, due.answer_language) == ("es", "en")
    assert due.card.state is CardState.NEW


async def test_production_cards_show_the_translation_and_expect_the_term(world: World) -> None:
    learner = await world.learner()
    await world.services.learner_settings.set_directions(learner.id, "production")
    await add(world, learner, "comer = to eat")
    due = await world.services.reviews.next_card(learner.id)
    assert due is not None
    assert (due.card.direction, due.front, due.back, due.answer_language) == (
        CardDirection.PRODUCTION,
        "to eat",
        "comer",
        "es",
    )


async def test_due_cards_come_before_new_ones_earliest_first(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat", "casa = house", "perro = dog")
    reviews = world.services.reviews
    first = await reviews.next_card(learner.id)
    assert first is not None
    await reviews.review(learner.id, first.card.id, Rating.EASY, ReviewMode.BUTTON)  # due in days
    second = await reviews.next_card(learner.id)
    assert second is not None
    await reviews.review(learner.id, second.card.id, Rating.GOOD, ReviewMode.BUTTON)  # due in 10 minutes
    world.clock.advance(days=30)
    shown = []
    for _ in range(3):
        card = await reviews.next_card(learner.id)
        assert card is not None
        shown.append((card.front, card.card.state))
        await reviews.review(learner.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    assert shown == [("casa", CardState.LEARNING), ("comer", CardState.REVIEW), ("perro", CardState.NEW)]


async def test_cards_not_yet_due_are_not_shown(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    outcome, upcoming = await world.services.reviews.review(learner.id, card.card.id, Rating.AGAIN, ReviewMode.BUTTON)
    assert upcoming is None
    assert await world.services.reviews.next_card(learner.id) is None
    world.clock.advance(outcome.interval)
    again = await world.services.reviews.next_card(learner.id)
    assert again is not None and again.card.id == card.card.id


async def test_new_cards_stop_at_the_daily_limit(world: World) -> None:
    learner = await world.learner()
    await set_new_per_day(world, learner, 2)
    await add(world, learner, "comer = to eat", "casa = house", "perro = dog")
    reviews = world.services.reviews
    for _ in range(2):
        card = await reviews.next_card(learner.id)
        assert card is not None
        await reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    assert await reviews.next_card(learner.id) is None


async def test_zero_new_cards_per_day_shows_only_due_cards(world: World) -> None:
    learner = await world.learner()
    await set_new_per_day(world, learner, 0)
    await add(world, learner, "comer = to eat")
    assert await world.services.reviews.next_card(learner.id) is None


async def test_the_daily_limit_resets_at_the_learners_midnight_not_utc(world: World) -> None:
    learner = await world.learner()
    await set_new_per_day(world, learner, 1, "America/Los_Angeles")
    # 15:00 in Los Angeles on 10 March 2025 (PDT, UTC-7) is 22:00 UTC
    world.clock.set(datetime(2025, 3, 10, 22, 0, tzinfo=UTC))
    await add(world, learner, "comer = to eat", "casa = house", "perro = dog")
    reviews = world.services.reviews
    card = await reviews.next_card(learner.id)
    assert card is not None
    await reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    assert await reviews.next_card(learner.id) is None
    world.clock.set(datetime(2025, 3, 11, 1, 0, tzinfo=UTC))  # UTC's new day, still 18:00 on the 10th in LA
    assert await reviews.next_card(learner.id) is None
    world.clock.set(datetime(2025, 3, 11, 6, 59, tzinfo=UTC))  # 23:59 in LA
    assert await reviews.next_card(learner.id) is None
    world.clock.set(datetime(2025, 3, 11, 7, 1, tzinfo=UTC))  # 00:01 on the 11th in LA
    fresh = await reviews.next_card(learner.id)
    assert fresh is not None and fresh.card.state is CardState.NEW


async def test_a_review_late_in_the_local_evening_counts_for_that_local_day(world: World) -> None:
    learner = await world.learner()
    await set_new_per_day(world, learner, 1, "America/Los_Angeles")
    world.clock.set(datetime(2025, 3, 11, 6, 30, tzinfo=UTC))  # 23:30 on the 10th in LA, the 11th in UTC
    await add(world, learner, "comer = to eat", "casa = house")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    await world.services.reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    world.clock.set(datetime(2025, 3, 11, 6, 50, tzinfo=UTC))
    assert await world.services.reviews.next_card(learner.id) is None
    world.clock.set(datetime(2025, 3, 11, 7, 5, tzinfo=UTC))  # 00:05 on the 11th in LA
    assert await world.services.reviews.next_card(learner.id) is not None


async def test_review_stores_schedule_and_event_in_one_unit_of_work(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat", "casa = house")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    entered, commits = world.uow.entered, world.uow.commits
    now = world.clock()
    outcome, upcoming = await world.services.reviews.review(learner.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    assert (world.uow.entered - entered, world.uow.commits - commits) == (1, 1)
    stored = world.uow.store.cards[card.card.id]
    assert stored.state is CardState.LEARNING and stored.last_review == now
    assert stored.due == now + timedelta(minutes=10) == outcome.card.due
    assert outcome.interval == timedelta(minutes=10)
    [event] = world.uow.store.reviews
    assert event == outcome.event
    assert (event.card_id, event.learner_id, event.rating, event.mode, event.answer_text) == (
        card.card.id,
        learner.id,
        Rating.GOOD,
        ReviewMode.BUTTON,
        None,
    )
    assert (event.state_before, event.due_before, event.due_after, event.reviewed_at) == (
        CardState.NEW,
        card.card.due,
        stored.due,
        now,
    )
    assert (event.stability_after, event.difficulty_after) == (stored.stability, stored.difficulty)
    assert upcoming is not None and upcoming.front == "casa"


async def test_review_of_someone_elses_card_is_not_found_and_changes_nothing(world: World) -> None:
    ana = await world.learner("ana")
    bob = await world.learner("bob")
    await add(world, ana, "comer = to eat")
    card = await world.services.reviews.next_card(ana.id)
    assert card is not None
    with pytest.raises(NotFound):
        await world.services.reviews.review(bob.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    with pytest.raises(NotFound):
        await world.services.reviews.answer(bob.id, card.card.id, "to eat", ReviewMode.TYPED)
    with pytest.raises(NotFound):
        await world.services.reviews.preview_intervals(bob.id, card.card.id)
    with pytest.raises(NotFound):
        await world.services.reviews.review(ana.id, "12345", Rating.GOOD, ReviewMode.BUTTON)
    assert world.uow.store.reviews == []
    assert world.uow.store.cards[card.card.id].state is CardState.NEW


async def test_review_accepts_a_plain_int_rating(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    outcome, _ = await world.services.reviews.review(learner.id, card.card.id, 4, ReviewMode.BUTTON)  # type: ignore[arg-type]
    assert outcome.event.rating is Rating.EASY


@pytest.mark.parametrize(
    ("typed", "rating", "verdict"),
    [
        ("to eat", Rating.GOOD, "exact"),
        ("eat", Rating.GOOD, "exact"),
        ("to eet", Rating.HARD, "near"),
        ("drink", Rating.AGAIN, "wrong"),
    ],
)
async def test_typed_answers_are_graded_then_reviewed(world: World, typed: str, rating: Rating, verdict: str) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    grade, outcome, _ = await world.services.reviews.answer(learner.id, card.card.id, f" {typed} ", ReviewMode.TYPED)
    assert (grade.rating, grade.verdict, grade.expected) == (rating, verdict, "to eat")
    [event] = world.uow.store.reviews
    assert (event.rating, event.mode, event.answer_text) == (rating, ReviewMode.TYPED, typed)
    assert outcome.event == event


async def test_voice_answers_are_stored_with_their_mode(world: World) -> None:
    learner = await world.learner()
    await world.services.learner_settings.set_directions(learner.id, "production")
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    grade, _, _ = await world.services.reviews.answer(learner.id, card.card.id, "Comer.", ReviewMode.VOICE)
    assert grade.rating is Rating.GOOD
    assert world.uow.store.reviews[0].mode is ReviewMode.VOICE


@pytest.mark.parametrize("text", ["", "   ", "x" * 301])
async def test_blank_or_huge_answers_are_refused_without_rating(world: World, text: str) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    with pytest.raises(InvalidInput):
        await world.services.reviews.answer(learner.id, card.card.id, text, ReviewMode.TYPED)
    assert world.uow.store.reviews == []


async def test_preview_intervals_change_nothing(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    before = dataclasses.replace(world.uow.store.cards[card.card.id])
    preview = await world.services.reviews.preview_intervals(learner.id, card.card.id)
    assert preview[Rating.AGAIN] == timedelta(minutes=1)
    assert preview[Rating.GOOD] == timedelta(minutes=10)
    assert preview[Rating.EASY] >= timedelta(days=1)
    assert world.uow.store.cards[card.card.id] == before
    assert world.uow.store.reviews == []


async def test_preview_matches_what_review_then_gives(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    await world.services.reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    world.clock.set(world.uow.store.cards[card.card.id].due)
    preview = await world.services.reviews.preview_intervals(learner.id, card.card.id)
    outcome, _ = await world.services.reviews.review(learner.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    assert outcome.interval == preview[Rating.GOOD]


async def test_the_learners_retention_drives_the_schedule(world: World) -> None:
    relaxed = await world.learner("relaxed")
    strict = await world.learner("strict")
    world.uow.store.learners[strict.id].desired_retention = 0.97
    intervals = []
    for learner in (relaxed, strict):
        await add(world, learner, "comer = to eat")
        card = await world.services.reviews.next_card(learner.id)
        assert card is not None
        outcome, _ = await world.services.reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
        intervals.append(outcome.interval)
    assert intervals[1] < intervals[0]


async def test_suspended_directions_are_not_shown(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    await world.services.learner_settings.set_directions(learner.id, "production")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None and card.card.direction is CardDirection.PRODUCTION
    await world.services.reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    assert await world.services.reviews.next_card(learner.id) is None


async def test_the_queue_only_shows_the_active_pair(world: World) -> None:
    learner = await world.learner()
    await add(world, learner, "comer = to eat")
    await world.services.languages.set_pair(learner.id, "fr", "en")
    assert await world.services.reviews.next_card(learner.id) is None
    await add(world, learner, "manger = to eat")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None and card.front == "manger"


async def test_get_card_for_reshowing(world: World) -> None:
    ana = await world.learner("ana")
    bob = await world.learner("bob")
    await add(world, ana, "comer = to eat")
    card = await world.services.reviews.next_card(ana.id)
    assert card is not None
    assert (await world.services.reviews.get_card(ana.id, card.card.id)).back == "to eat"
    with pytest.raises(NotFound):
        await world.services.reviews.get_card(bob.id, card.card.id)


async def test_next_due_at_is_the_earliest_scheduled_card_of_the_active_pair(world: World) -> None:
    learner = await world.learner()
    reviews = world.services.reviews
    assert await reviews.next_due_at(learner.id) is None
    await add(world, learner, "comer = to eat")
    assert await reviews.next_due_at(learner.id) is None  # new cards wait for the limit, not a date
    card = await reviews.next_card(learner.id)
    assert card is not None
    easy, _ = await reviews.review(learner.id, card.card.id, Rating.EASY, ReviewMode.BUTTON)
    assert await reviews.next_due_at(learner.id) == easy.card.due
    await world.services.languages.set_pair(learner.id, "fr", "en")
    assert await reviews.next_due_at(learner.id) is None  # /review serves French now: nothing scheduled there
    await add(world, learner, "manger = to eat")
    french = await reviews.next_card(learner.id)
    assert french is not None
    soon, _ = await reviews.review(learner.id, french.card.id, Rating.GOOD, ReviewMode.BUTTON)
    assert await reviews.next_due_at(learner.id) == soon.card.due < easy.card.due
    world.clock.advance(days=60)  # overdue cards still count, at their due date
    assert await reviews.next_due_at(learner.id) == soon.card.due
    await world.services.languages.set_pair(learner.id, "es", "en")
    assert await reviews.next_due_at(learner.id) == easy.card.due
