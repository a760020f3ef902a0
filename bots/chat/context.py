"""What every handler gets: the event, the learner behind it, their flow state and the services."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bots.chat.events import Event
from bots.chat.payloads import Payload
from core.bootstrap import Services
from core.domain.models import AdminPolicy, ConversationState, DeliveryAddress, Learner
from core.domain.ports import Messenger

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
    messengers: Mapping[str, Messenger] = field(default_factory=dict)  # per platform, for background results

    @property
    def learner_id(self) -> str:
        return self.learner.id

    @property
    def messenger(self) -> Messenger | None:
        """The messenger of the event's platform: background work (and a cached voice message) goes through it."""
        return self.messengers.get(self.event.platform)

    @property
    def address(self) -> DeliveryAddress:
        """Where background results for this learner go: this chat, or their private chat from a group.

        (A user's private chat id is their user id on Telegram and in the console.)
        """
        event = self.event
        chat_id = event.user_id if event.is_group else event.chat_id
        return DeliveryAddress(platform=event.platform, chat_id=chat_id, user_id=event.user_id)

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
