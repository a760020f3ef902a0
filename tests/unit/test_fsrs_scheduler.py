"""FsrsScheduler: our Flashcard <-> fsrs.Card mapping, caching and previews."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest
from fsrs import Card, Scheduler, State
from fsrs import Rating as FsrsRating

from core.domain.errors import InvalidInput
from core.domain.models import CardDirection, CardState, Flashcard, Rating
from core.outbound.fsrs import FsrsScheduler

START = datetime(2022, 11, 29, 12, 30, tzinfo=UTC)
SEQUENCE = [Rating.GOOD] * 6 + [Rating.AGAIN] * 2 + [Rating.GOOD] * 5


def new_card(due: datetime = START) -> Flashcard:
    return Flashcard(
        id="c1",
        learner_id="l1",
        pair_id="p1",
        entry_id="e1",
        direction=CardDirection.RECOGNITION,
        state=CardState.NEW,
        step=0,
        stability=None,
        difficulty=None,
        due=due,
        last_review=None,
        created_at=due,
    )


def test_default_parameters_are_fsrs_defaults() -> None:
    parameters = FsrsScheduler().default_parameters()
    assert isinstance(parameters, tuple)
    assert parameters == Scheduler().parameters
    assert len(parameters) == 21


def test_the_package_sequence_gives_the_published_intervals() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    parameters = scheduler.default_parameters()
    card, now, intervals = new_card(), START, []
    for rating in SEQUENCE:
        card = scheduler.review(card, rating, now, parameters, 0.9)
        assert card.last_review is not None
        intervals.append((card.due - card.last_review).days)
        now = card.due
    assert intervals == [0, 2, 11, 46, 163, 498, 0, 0, 2, 4, 7, 12, 21]


def test_matches_fsrs_in_memory_field_by_field() -> None:
    ours = FsrsScheduler(enable_fuzzing=False)
    theirs = Scheduler(enable_fuzzing=False)
    card, fsrs_card, now = new_card(), Card(card_id=1, due=START), START
    for rating in SEQUENCE:
        card = ours.review(card, rating, now, ours.default_parameters(), 0.9)
        fsrs_card, _ = theirs.review_card(fsrs_card, FsrsRating(int(rating)), now)
        assert (int(card.state), card.step, card.stability, card.difficulty, card.due, card.last_review) == (
            int(fsrs_card.state),
            fsrs_card.step,
            fsrs_card.stability,
            fsrs_card.difficulty,
            fsrs_card.due,
            fsrs_card.last_review,
        )
        now = card.due


def test_a_new_card_leaves_new_after_its_first_review_and_keeps_its_identity() -> None:
    card = new_card()
    reviewed = FsrsScheduler(enable_fuzzing=False).review(
        card, Rating.GOOD, START, FsrsScheduler().default_parameters(), 0.9
    )
    assert reviewed is not card
    assert card.state is CardState.NEW  # the input is untouched
    assert reviewed.state is CardState.LEARNING and reviewed.step == 1
    assert (reviewed.id, reviewed.entry_id, reviewed.direction) == ("c1", "e1", CardDirection.RECOGNITION)
    assert reviewed.last_review == START
    assert reviewed.due == START + timedelta(minutes=10)


def test_easy_on_a_new_card_goes_straight_to_review() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    reviewed = scheduler.review(new_card(), Rating.EASY, START, scheduler.default_parameters(), 0.9)
    assert reviewed.state is CardState.REVIEW and reviewed.step is None
    assert reviewed.due - START >= timedelta(days=1)


def test_non_utc_zones_are_accepted() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    madrid = timezone(timedelta(hours=1))
    reviewed = scheduler.review(new_card(), Rating.GOOD, START.astimezone(madrid), scheduler.default_parameters(), 0.9)
    assert reviewed.last_review == START


def test_preview_gives_one_interval_per_rating_and_changes_nothing() -> None:
    scheduler = FsrsScheduler()
    card = new_card()
    preview = scheduler.preview(card, START, scheduler.default_parameters(), 0.9)
    assert list(preview) == [Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.EASY]
    assert preview[Rating.AGAIN] == timedelta(minutes=1)
    assert preview[Rating.GOOD] == timedelta(minutes=10)
    assert preview[Rating.AGAIN] <= preview[Rating.HARD] <= preview[Rating.GOOD] < preview[Rating.EASY]
    assert card.state is CardState.NEW


def test_preview_of_a_review_card_matches_unfuzzed_review() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    parameters = scheduler.default_parameters()
    card = scheduler.review(new_card(), Rating.EASY, START, parameters, 0.9)
    later = card.due
    preview = scheduler.preview(card, later, parameters, 0.9)
    for rating in Rating:
        assert preview[rating] == scheduler.review(card, rating, later, parameters, 0.9).due - later


def test_higher_retention_gives_shorter_intervals() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    parameters = scheduler.default_parameters()
    card = scheduler.review(new_card(), Rating.EASY, START, parameters, 0.9)
    relaxed = scheduler.preview(card, card.due, parameters, 0.8)[Rating.GOOD]
    strict = scheduler.preview(card, card.due, parameters, 0.97)[Rating.GOOD]
    assert strict < relaxed


def test_schedulers_are_cached_per_parameters_and_retention() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=False)
    parameters = scheduler.default_parameters()
    first = scheduler._scheduler(parameters, 0.9, False)
    assert scheduler._scheduler(list(parameters), 0.9, False) is first
    assert scheduler._scheduler(parameters, 0.85, False) is not first


def test_fuzzing_is_on_by_default_and_stays_within_fsrs_range() -> None:
    scheduler = FsrsScheduler()
    parameters = scheduler.default_parameters()
    card = new_card()
    for rating in [Rating.GOOD, Rating.GOOD, Rating.GOOD, Rating.GOOD]:
        card = scheduler.review(card, rating, card.due, parameters, 0.9)
    assert card.last_review is not None
    assert 30 <= (card.due - card.last_review).days <= 60  # unfuzzed: 46


@pytest.mark.parametrize("retention", [0.0, 1.0, 1.5])
def test_out_of_range_retention_is_invalid_input(retention: float) -> None:
    scheduler = FsrsScheduler()
    with pytest.raises(InvalidInput):
        scheduler.review(new_card(), Rating.GOOD, START, scheduler.default_parameters(), retention)


def test_wrong_parameters_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="FSRS parameters"):
        FsrsScheduler().review(new_card(), Rating.GOOD, START, (1.0, 2.0), 0.9)


def test_fsrs_state_values_match_ours() -> None:
    assert [int(state) for state in State] == [CardState.LEARNING, CardState.REVIEW, CardState.RELEARNING]
    assert [int(rating) for rating in FsrsRating] == [int(rating) for rating in Rating]


def _review_card(card_id: str) -> Flashcard:
    """A card in Review state with a long stability: its next intervals are all fuzzed."""
    scheduler = FsrsScheduler(enable_fuzzing=False)
    card = dataclasses.replace(new_card(), id=card_id)
    moment = START
    for _ in range(4):
        card = scheduler.review(card, Rating.GOOD, moment, scheduler.default_parameters(), 0.9)
        moment = card.due
    assert card.state is CardState.REVIEW
    return card


def test_with_fuzz_the_preview_is_exactly_what_each_rating_gives() -> None:
    scheduler = FsrsScheduler(enable_fuzzing=True)
    params = scheduler.default_parameters()
    for card_id in ("card-a", "card-b", "card-c"):
        card = _review_card(card_id)
        now = card.due
        preview = scheduler.preview(card, now, params, 0.9)
        for rating in Rating:
            assert scheduler.review(card, rating, now, params, 0.9).due - now == preview[rating]


def test_fuzz_stays_in_fsrs_range_and_differs_between_cards() -> None:
    plain = FsrsScheduler(enable_fuzzing=False)
    fuzzed = FsrsScheduler(enable_fuzzing=True)
    params = plain.default_parameters()
    intervals = set()
    for index in range(40):
        card = _review_card(f"card-{index}")
        now = card.due
        base = (plain.review(card, Rating.GOOD, now, params, 0.9).due - now).days
        got = (fuzzed.review(card, Rating.GOOD, now, params, 0.9).due - now).days
        delta = 1 + 0.15 * 4.5 + 0.1 * 13 + 0.05 * max(base - 20, 0)  # fsrs's FUZZ_RANGES for base > 20
        # fsrs rounds draw * (max - min + 1) + min, which can land one day past max: so can we
        assert round(base - delta) <= got <= round(base + delta) + 1
        intervals.add(got)
    assert len(intervals) > 1
