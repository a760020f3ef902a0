"""Progress: streak, reviews today, due counts, retention, word count, chart series."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.models import LearnerStats
from core.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from core.domain.services._rules import day_start, learner_zone, load_learner, local_day, next_day

CHART_DAYS = 30
FORECAST_DAYS = 14
RETENTION_WINDOW = timedelta(days=30)
_STREAK_LOOKBACKS = (CHART_DAYS, 366, None)  # widen the window only while the streak fills it
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StatsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def stats(self, learner_id: str) -> LearnerStats:
        """The learner's progress figures; NotFound for an unknown learner.

        Days counted in the learner's timezone. Streak: consecutive days with a review ending
        today (or yesterday, when nothing was reviewed yet today). due_now: scheduled cards due now;
        due_tomorrow: due by the end of tomorrow. Retention over 30 days: non-Again share of reviews
        of scheduled cards.
        """
        now = self._clock()
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            zone = learner_zone(learner.settings)
            today = local_day(now, zone)
            review_days = await self._review_days(uow, learner_id, today, zone)
            day_after_tomorrow = day_start(next_day(next_day(today)), zone)
            due_now = await uow.cards.count_due(learner_id, now)
            due_tomorrow = await uow.cards.count_due(learner_id, day_after_tomorrow - timedelta(microseconds=1))
            reviewed, remembered = await uow.reviews.retention_since(learner_id, now - RETENTION_WINDOW)
            word_count = await uow.words.count_for_learner(learner_id)
            forecast_end = day_start(today + timedelta(days=FORECAST_DAYS), zone)
            due_dates = await uow.cards.due_dates_between(learner_id, _EPOCH, forecast_end)
        return LearnerStats(
            streak_days=streak(review_days, today),
            reviews_today=review_days.get(today, 0),
            due_now=due_now,
            due_tomorrow=due_tomorrow,
            retention_30d=remembered / reviewed if reviewed else None,
            word_count=word_count,
            reviews_per_day=[(day, review_days.get(day, 0)) for day in _days_back(today, CHART_DAYS)],
            due_forecast=due_forecast(due_dates, today, zone),
        )

    @staticmethod
    async def _review_days(uow: UnitOfWork, learner_id: str, today: date, zone: ZoneInfo) -> Counter[date]:
        """Reviews per local day, reaching back as far as the streak needs (usually 30 days)."""
        days: Counter[date] = Counter()
        for lookback in _STREAK_LOOKBACKS:
            since = _EPOCH if lookback is None else day_start(today - timedelta(days=lookback - 1), zone)
            days = Counter(local_day(moment, zone) for moment in await uow.reviews.reviewed_at_since(learner_id, since))
            if lookback is None or streak(days, today) < lookback - 1:
                break
        return days


def streak(review_days: Counter[date] | dict[date, int], today: date) -> int:
    """Consecutive days with a review, ending today — or yesterday while today has none yet."""
    day = today if review_days.get(today) else today - timedelta(days=1)
    count = 0
    while review_days.get(day):
        count += 1
        day -= timedelta(days=1)
    return count


def due_forecast(due_dates: Iterable[datetime], today: date, zone: ZoneInfo) -> list[tuple[date, int]]:
    """Cards due on each of the next FORECAST_DAYS local days; overdue cards count on today."""
    per_day = Counter(max(local_day(moment, zone), today) for moment in due_dates)
    return [(day, per_day.get(day, 0)) for day in (today + timedelta(days=i) for i in range(FORECAST_DAYS))]


def _days_back(today: date, count: int) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]
