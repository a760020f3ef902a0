"""What every handler gets: the event, the learner behind it, their flow state and the services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bots.chat.events import Event
from bots.chat.payloads import Payload
from core.bootstrap import Services
from core.domain.models import AdminPolicy, ConversationState, Learner

OFFERS = "offers"  # conversation data key: offered terms by offer id


@dataclass
class Turn:
    """One incoming event being answered (typed access instead of string-keyed context)."""

    event: Event
    learner: Learner
    state: ConversationState
    services: Services
    admins: AdminPolicy
    speech_available: bool
    clock: Callable[[], datetime]
    payload: Payload | None = None  # decoded button data, for button events

    @property
    def learner_id(self) -> str:
        return self.learner.id

    @property
    def flow(self) -> str | None:
        return self.state.flow

    async def set_flow(self, flow: str | None, data: dict[str, Any]) -> None:
        """Store the learner's flow (and its data) so a restart continues where they were.

        Terms offered with an `Add “<term>”` button survive flow changes, so that button keeps
        working (once) whatever the learner did in between.
        """
        await self.services.conversation.save(self.stage_flow(flow, data))

    def stage_flow(self, flow: str | None, data: dict[str, Any]) -> ConversationState:
        """The state `set_flow` would store, without storing it.

        For saving inside a service's own transaction (a review saves the session with the rating:
        one commit for both).
        """
        offers = self.state.data.get(OFFERS)
        self.state.flow = flow
        self.state.data = {OFFERS: offers, **data} if offers and OFFERS not in data else data
        return self.state

    async def end_flow(self) -> None:
        """Leave any flow."""
        await self.set_flow(None, {})
