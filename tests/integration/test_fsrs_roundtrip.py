"""FSRS state survives our services and storage exactly.

The 13-rating sequence from py-fsrs's own tests (Good×6, Again×2, Good×5), each review at the
previous due date, must give the intervals [0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21] days
when it goes through ReviewService and the real database, and every stored card must equal what
`fsrs` computes in memory (state, step, stability, difficulty, due, last review — no rounding).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fsrs import Card, Scheduler
from fsrs import Rating as FsrsRating

from core.domain.models import CardState, Rating, ReviewMode
from core.outbound.fsrs import FsrsScheduler
from core.outbound.postgres.database import Database
from tests.fakes import FixedClock, make_services

START = datetime(2022, 11, 29, 12, 30, tzinfo=UTC)
SEQUENCE = [Rating.GOOD] * 6 + [Rating.AGAIN] * 2 + [Rating.GOOD] * 5
EXPECTED_INTERVALS = [0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21]


async def run_sequence(database: Database) -> None:
    clock = FixedClock(START)
    services = make_services(clock=clock, uow=database.unit_of_work, scheduler=FsrsScheduler(enable_fuzzing=False))
    learner, _ = await services.accounts.ensure_learner("console", "fsrs", "FSRS")
    await services.languages.set_pair(learner.id, "es", "en", "A1")
    await services.vocabulary.add_words(learner.id, ["comer = to eat"])
    shown = await services.reviews.next_card(learner.id)
    assert shown is not None and shown.card.state is CardState.NEW
    card_id = shown.card.id

    in_memory = Scheduler(enable_fuzzing=False)
    expected = Card(card_id=1, due=START)
    intervals: list[int] = []
    for rating in SEQUENCE:
        await services.reviews.review(learner.id, card_id, rating, ReviewMode.BUTTON)
        expected, _ = in_memory.review_card(expected, FsrsRating(int(rating)), clock())
        async with database.unit_of_work() as uow:
            stored = await uow.cards.get(card_id)
        assert stored is not None and stored.last_review is not None
        assert (int(stored.state), stored.step, stored.stability, stored.difficulty) == (
            int(expected.state),
            expected.step,
            expected.stability,
            expected.difficulty,
        )
        assert (stored.due, stored.last_review) == (expected.due, expected.last_review)
        intervals.append((stored.due - stored.last_review).days)
        clock.set(stored.due)

    assert intervals == EXPECTED_INTERVALS
    async with database.unit_of_work() as uow:
        events = await uow.reviews.list_for_learner(learner.id)
    assert [event.rating for event in events] == SEQUENCE
    assert events[0].state_before is CardState.NEW
    assert [event.due_after for event in events[:-1]] == [event.due_before for event in events[1:]]


async def test_thirteen_ratings_through_postgres_match_fsrs_in_memory(pg_db: Database) -> None:
    await run_sequence(pg_db)


async def test_thirteen_ratings_through_sqlite_match_fsrs_in_memory(sqlite_db: Database) -> None:
    await run_sequence(sqlite_db)
