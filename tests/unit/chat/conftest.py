"""Chat layer unit tests: the real ChatApp and services over in-memory fakes of our ports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.domain.ports import Translator
from tests.fakes import FakeUnitOfWorkFactory, FixedClock, InMemoryStore, make_services
from tests.unit.chat.harness import Chat


@dataclass
class ChatWorld:
    chat: Chat
    uow: FakeUnitOfWorkFactory
    clock: FixedClock

    @property
    def store(self) -> InMemoryStore:
        return self.uow.store


def build_chat_world(*, translator: Translator | None = None, speech: bool = False) -> ChatWorld:
    uow, clock = FakeUnitOfWorkFactory(), FixedClock()
    services = make_services(uow=uow, clock=clock, translator=translator)
    return ChatWorld(Chat.build(services, clock, speech=speech), uow, clock)


@pytest.fixture
def cw() -> ChatWorld:
    """No translator configured: learners are asked for missing translations."""
    return build_chat_world()


@pytest.fixture
def chat(cw: ChatWorld) -> Chat:
    return cw.chat
