"""Progress figures shown by /stats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class LearnerStats:
    streak_days: int
    reviews_today: int
    due_now: int
    due_tomorrow: int
    retention_30d: float | None  # share of reviews rated above Again, None without reviews
    word_count: int
    reviews_per_day: list[tuple[date, int]] = field(default_factory=list)  # last 30 days, oldest first
    due_forecast: list[tuple[date, int]] = field(default_factory=list)  # next 14 days
