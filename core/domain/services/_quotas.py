"""Daily quotas counted from the start of the learner's own day (articles, voice messages)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain.errors import QuotaExceeded
from core.domain.ports import UnitOfWork
from core.domain.services._rules import day_start, learner_zone, load_learner, local_day, next_day


async def learner_day_start(uow: UnitOfWork, learner_id: str, now: datetime) -> tuple[datetime, ZoneInfo]:
    """When the learner's current day began (UTC), and their zone: daily quotas count from there."""
    learner = await load_learner(uow, learner_id)
    zone = learner_zone(learner.settings)
    return day_start(local_day(now, zone), zone), zone


def check_daily_quota(used: int, quota: int, what: str, now: datetime, zone: ZoneInfo) -> None:
    """QuotaExceeded when `used` reached `quota`, saying when the learner's next day starts."""
    if used < quota:
        return
    if quota <= 0:
        raise QuotaExceeded(f"{what.capitalize()} are turned off here.")
    reset = day_start(next_day(local_day(now, zone)), zone)
    raise QuotaExceeded(
        f"You have used today's {quota} {what}. More from midnight ({zone.key} time), in {_duration(reset - now)}."
    )


def _duration(delta: timedelta) -> str:
    minutes = max(1, (int(delta.total_seconds()) + 59) // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
