"""The fakes keep the promises of the ports: transactions, copies, conflicts, the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import Conflict, ProviderUnavailable
from core.domain.models import ChatIdentity, ConversationState, Learner, LearnerSettings
from tests.fakes import FakeLemmatizer, FakeTranslator, FakeUnitOfWorkFactory, FixedClock

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def learner(learner_id: str = "l1") -> Learner:
    return Learner(learner_id, "Ana", LearnerSettings(), 0.9, (0.1,) * 21, NOW)


async def test_committed_changes_are_seen_by_the_next_unit_of_work() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.learners.add(learner(), ChatIdentity("console", "ana", "l1"))
        await uow.commit()
    async with factory() as uow:
        assert (await uow.learners.get_by_identity("console", "ana")) is not None
    assert factory.commits == 1 and factory.entered == 2


async def test_leaving_without_commit_discards_everything() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.learners.add(learner(), ChatIdentity("console", "ana", "l1"))
    assert factory.store.learners == {}


async def test_an_exception_inside_discards_the_work() -> None:
    factory = FakeUnitOfWorkFactory()
    with pytest.raises(RuntimeError):
        async with factory() as uow:
            await uow.learners.add(learner(), ChatIdentity("console", "ana", "l1"))
            raise RuntimeError("boom")
    assert factory.store.learners == {}


async def test_rollback_drops_work_since_the_last_commit() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.learners.add(learner("l1"), ChatIdentity("console", "ana", "l1"))
        await uow.commit()
        await uow.learners.add(learner("l2"), ChatIdentity("console", "bob", "l2"))
        await uow.rollback()
        await uow.commit()
    assert set(factory.store.learners) == {"l1"}


async def test_returned_objects_are_copies() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.learners.add(learner(), ChatIdentity("console", "ana", "l1"))
        await uow.commit()
    async with factory() as uow:
        loaded = await uow.learners.get("l1")
        assert loaded is not None
        loaded.display_name = "changed"
        await uow.commit()
    assert factory.store.learners["l1"].display_name == "Ana"


async def test_a_taken_identity_is_a_conflict() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        await uow.learners.add(learner("l1"), ChatIdentity("console", "ana", "l1"))
        with pytest.raises(Conflict):
            await uow.learners.add(learner("l2"), ChatIdentity("console", "ana", "l2"))


async def test_conversation_defaults_to_no_flow_and_updates_deduplicate() -> None:
    factory = FakeUnitOfWorkFactory()
    async with factory() as uow:
        assert await uow.conversations.get("l1") == ConversationState("l1", None, {})
        assert await uow.updates.mark_processed("telegram", "1") is True
        assert await uow.updates.mark_processed("telegram", "1") is False
        assert await uow.updates.mark_processed("discord", "1") is True


async def test_a_simulated_outage_fails_once() -> None:
    factory = FakeUnitOfWorkFactory()
    factory.fail_next_enter = ConnectionError("db down")
    with pytest.raises(ConnectionError):
        async with factory():
            pass
    async with factory():
        pass


def test_fixed_clock_is_settable_and_advances() -> None:
    clock = FixedClock(NOW)
    assert clock() == NOW
    assert clock.advance(days=1, hours=2) == NOW + timedelta(days=1, hours=2)
    clock.advance(timedelta(minutes=5))
    assert clock() == NOW + timedelta(days=1, hours=2, minutes=5)
    clock.set(datetime(2030, 1, 1))
    assert clock() == datetime(2030, 1, 1, tzinfo=UTC)


def test_fake_lemmatizer_reduces_known_words_only() -> None:
    lemmatizer = FakeLemmatizer()
    assert lemmatizer.lemmatize("comían", "es") == "comer"
    assert lemmatizer.lemmatize("casas", "es") == "casa"
    assert lemmatizer.lemmatize("zumo", "es") == "zumo"
    assert lemmatizer.lemmatize("comían mucho", "es") == "comían mucho"


async def test_fake_translator_translates_records_and_fails_on_demand() -> None:
    translator = FakeTranslator({"casa": "house"})
    assert await translator.translate(["casa", "mesa"], "es", "en") == ["house", "mesa (en)"]
    assert translator.calls == [(["casa", "mesa"], "es", "en")]
    translator.fail = True
    with pytest.raises(ProviderUnavailable):
        await translator.translate(["casa"], "es", "en")
