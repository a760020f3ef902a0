"""Where a learner is in a multi-step chat flow, kept in the database so restarts lose nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ConversationState:
    learner_id: str
    flow: str | None  # "onboarding" | "review" | "confirm" | "translate" | None
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
