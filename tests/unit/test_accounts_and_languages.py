"""Accounts (learners by chat identity), language pairs and conversation state."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput, InvalidLevel, NoActivePair, NotFound, UnsupportedLanguage
from core.domain.models import ConversationState, LearnerSettings
from tests.fakes import DEFAULT_NOW
from tests.unit.conftest import World


async def test_first_contact_creates_a_learner_with_defaults(world: World) -> None:
    learner, created = await world.services.accounts.ensure_learner("telegram", "42", "Ana")
    assert created is True
    assert learner.display_name == "Ana"
    assert learner.settings == LearnerSettings()
    assert learner.desired_retention == 0.9
    assert len(learner.fsrs_parameters) == 21
    assert learner.created_at == DEFAULT_NOW
    assert [i.platform_user_id for i in world.uow.store.identities.values()] == ["42"]


async def test_later_contact_finds_the_same_learner(world: World) -> None:
    first, _ = await world.services.accounts.ensure_learner("telegram", "42", "Ana")
    again, created = await world.services.accounts.ensure_learner("telegram", "42", "Ana B.")
    assert created is False
    assert again.id == first.id
    assert len(world.uow.store.learners) == 1


async def test_same_user_id_on_another_platform_is_another_learner(world: World) -> None:
    telegram, _ = await world.services.accounts.ensure_learner("telegram", "42", "Ana")
    discord, _ = await world.services.accounts.ensure_learner("discord", "42", "Ana")
    assert telegram.id != discord.id


async def test_losing_the_creation_race_returns_the_winner(world: World) -> None:
    accounts = world.services.accounts
    winner, _ = await accounts.ensure_learner("telegram", "42", "Ana")

    async def nobody(platform: str, user_id: str) -> None:  # the loser's first read saw no one
        accounts.find_learner = original  # type: ignore[method-assign]
        return None

    original = accounts.find_learner
    accounts.find_learner = nobody  # type: ignore[method-assign]
    learner, created = await accounts.ensure_learner("telegram", "42", "Ana")
    assert (learner.id, created) == (winner.id, False)
    assert len(world.uow.store.learners) == 1


async def test_get_learner(world: World) -> None:
    learner = await world.learner()
    assert (await world.services.accounts.get_learner(learner.id)).id == learner.id
    with pytest.raises(NotFound):
        await world.services.accounts.get_learner("00000000-0000-0000-0000-000000000000")


async def test_set_pair_creates_an_active_pair_with_a1_default(world: World) -> None:
    learner = await world.learner(pair=None)
    pair = await world.services.languages.set_pair(learner.id, "ES", " en ")
    assert (pair.target, pair.native, pair.level, pair.is_active) == ("es", "en", "A1", True)
    assert (await world.services.languages.active_pair(learner.id)).id == pair.id


async def test_set_pair_again_switches_and_updates_the_level(world: World) -> None:
    learner = await world.learner(pair=None)
    spanish = await world.services.languages.set_pair(learner.id, "es", "en", "a2")
    world.clock.advance(minutes=1)
    french = await world.services.languages.set_pair(learner.id, "fr", "en")
    assert (await world.services.languages.active_pair(learner.id)).id == french.id
    back = await world.services.languages.set_pair(learner.id, "es", "en", "B1")
    assert back.id == spanish.id and back.level == "B1" and back.is_active
    pairs = await world.services.languages.list_pairs(learner.id)
    assert [(p.target, p.level, p.is_active) for p in pairs] == [("es", "B1", True), ("fr", "A1", False)]


async def test_set_pair_keeps_the_level_when_none_is_given(world: World) -> None:
    learner = await world.learner(pair=None)
    await world.services.languages.set_pair(learner.id, "es", "en", "C1")
    assert (await world.services.languages.set_pair(learner.id, "es", "en")).level == "C1"


async def test_unsupported_language_lists_the_codes(world: World) -> None:
    learner = await world.learner(pair=None)
    with pytest.raises(UnsupportedLanguage) as caught:
        await world.services.languages.set_pair(learner.id, "xx", "en")
    assert "xx" in caught.value.message and "es" in caught.value.message and "ja" in caught.value.message
    assert caught.value.example == "/language es en A2"


async def test_bad_level_and_same_languages_are_refused(world: World) -> None:
    learner = await world.learner(pair=None)
    with pytest.raises(InvalidLevel, match="A1, A2, B1, B2, C1, C2"):
        await world.services.languages.set_pair(learner.id, "es", "en", "D4")
    with pytest.raises(InvalidInput, match="must differ"):
        await world.services.languages.set_pair(learner.id, "es", "ES")
    assert world.uow.store.pairs == {}


async def test_switch_pair_checks_ownership(world: World) -> None:
    ana = await world.learner("ana")
    bob = await world.learner("bob")
    bob_pair = await world.services.languages.active_pair(bob.id)
    with pytest.raises(NotFound):
        await world.services.languages.switch_pair(ana.id, bob_pair.id)
    with pytest.raises(NotFound):
        await world.services.languages.switch_pair(ana.id, "not-a-uuid")
    french = await world.services.languages.set_pair(ana.id, "fr", "en")
    spanish = next(p for p in await world.services.languages.list_pairs(ana.id) if p.target == "es")
    switched = await world.services.languages.switch_pair(ana.id, spanish.id)
    assert switched.is_active and (await world.services.languages.active_pair(ana.id)).id == spanish.id
    assert not world.uow.store.pairs[french.id].is_active


async def test_no_active_pair(world: World) -> None:
    learner = await world.learner(pair=None)
    assert await world.services.languages.find_active_pair(learner.id) is None
    with pytest.raises(NoActivePair):
        await world.services.languages.active_pair(learner.id)


async def test_conversation_state_round_trip_and_clear(world: World) -> None:
    learner = await world.learner()
    conversation = world.services.conversation
    assert (await conversation.load(learner.id)).flow is None
    await conversation.save(ConversationState(learner.id, "review", {"card_id": "c1", "reviewed": 3}))
    loaded = await conversation.load(learner.id)
    assert (loaded.flow, loaded.data, loaded.updated_at) == ("review", {"card_id": "c1", "reviewed": 3}, DEFAULT_NOW)
    await conversation.clear(learner.id)
    assert (await conversation.load(learner.id)).flow is None


async def test_an_update_begins_a_turn_once_until_forgotten(world: World) -> None:
    conversation = world.services.conversation
    first = await conversation.begin_turn("telegram", "42", "Ann", "update-1", create=True)
    assert first.learner is not None and first.state is not None and not first.duplicate
    assert (await conversation.begin_turn("telegram", "42", "Ann", "update-1", create=True)).duplicate
    await conversation.forget_delivery("telegram", "update-1")
    again = await conversation.begin_turn("telegram", "42", "Ann", "update-1", create=True)
    assert not again.duplicate and again.learner is not None and again.learner.id == first.learner.id
