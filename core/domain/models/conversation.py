"""Where a learner is in a multi-step chat flow, kept in the database so restarts lose nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.domain.models.accounts import Learner


@dataclass
class ConversationState:
    learner_id: str
    flow: str | None  # "onboarding" | "review" | "confirm" | "translate" | None
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class OpenedTurn:
    """What an incoming update finds when it opens a turn (`ConversationRepository.open_turn`).

    `fresh` False: the update was already handled (a redelivery); nothing else is filled in.
    `learner` None: no learner has this identity yet. `state` is None exactly when `learner` is.
    """

    fresh: bool
    learner: Learner | None = None
    state: ConversationState | None = None
