"""Fixtures for service unit tests: services over in-memory fakes of our ports."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.bootstrap import Services
from core.domain.models import Learner
from tests.fakes import FakeLemmatizer, FakeTranslator, FakeUnitOfWorkFactory, FixedClock, make_services


@dataclass
class World:
    """The services and the fakes behind them, so a test can look at what was stored."""

    services: Services
    uow: FakeUnitOfWorkFactory
    clock: FixedClock
    lemmatizer: FakeLemmatizer

    async def learner(self, user_id: str = "alice", pair: tuple[str, str] | None = ("es", "en")) -> Learner:
        """A learner (console identity) with an active pair unless `pair` is None."""
        learner, _created = await self.services.accounts.ensure_learner("console", user_id, user_id.title())
        if pair is not None:
            await self.services.languages.set_pair(learner.id, pair[0], pair[1], "A2")
        return learner


def build_world(translator: FakeTranslator | None = None) -> World:
    uow, clock, lemmatizer = FakeUnitOfWorkFactory(), FixedClock(), FakeLemmatizer()
    services = make_services(clock=clock, translator=translator, lemmatizer=lemmatizer, uow=uow)
    return World(services=services, uow=uow, clock=clock, lemmatizer=lemmatizer)


@pytest.fixture
def world() -> World:
    """No translator: learners are asked for missing translations."""
    return build_world()


@pytest.fixture
def translator() -> FakeTranslator:
    return FakeTranslator()


@pytest.fixture
def translated_world(translator: FakeTranslator) -> World:
    """A translator is configured."""
    return build_world(translator)
