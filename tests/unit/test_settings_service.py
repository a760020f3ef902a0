"""Learner settings: validation messages with examples, and card directions."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput, NotFound
from core.domain.models import CardDirection, LearnerSettings
from tests.unit.conftest import World


async def test_defaults(world: World) -> None:
    learner = await world.learner()
    assert await world.services.learner_settings.get(learner.id) == LearnerSettings()


@pytest.mark.parametrize(
    ("value", "stored"),
    [("19:30", "19:30"), ("7:05", "07:05"), ("00:00", "00:00"), ("23.59", "23:59"), ("off", None), (" OFF ", None)],
)
async def test_reminder_values(world: World, value: str, stored: str | None) -> None:
    learner = await world.learner()
    await world.services.learner_settings.set_reminder(learner.id, "08:00")
    settings = await world.services.learner_settings.set_reminder(learner.id, value)
    assert settings.reminder_time == stored
    assert world.uow.store.learners[learner.id].settings.reminder_time == stored


@pytest.mark.parametrize("value", ["24:00", "7pm", "19:60", "", "1930", "tomorrow"])
async def test_bad_reminder_says_how(world: World, value: str) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput) as caught:
        await world.services.learner_settings.set_reminder(learner.id, value)
    assert "Use HH:MM" in caught.value.message
    assert "or off" in caught.value.message
    assert caught.value.example == "/settings reminder 19:30"
    assert world.uow.store.learners[learner.id].settings.reminder_time is None


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("Europe/Madrid", "Europe/Madrid"),
        ("europe/madrid", "Europe/Madrid"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
    ],
)
async def test_timezone_values(world: World, value: str, stored: str) -> None:
    learner = await world.learner()
    assert (await world.services.learner_settings.set_timezone(learner.id, value)).timezone == stored


@pytest.mark.parametrize("value", ["Mars/Olympus", "", "../../etc/passwd", "Europe"])
async def test_bad_timezone_gives_an_example(world: World, value: str) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput) as caught:
        await world.services.learner_settings.set_timezone(learner.id, value)
    assert "Europe/Madrid" in caught.value.message
    assert caught.value.example == "/settings tz Europe/Madrid"
    assert world.uow.store.learners[learner.id].settings.timezone == "UTC"


@pytest.mark.parametrize("value", [0, 1, 500])
async def test_new_cards_per_day_range(world: World, value: int) -> None:
    learner = await world.learner()
    assert (await world.services.learner_settings.set_new_cards_per_day(learner.id, value)).new_cards_per_day == value


@pytest.mark.parametrize("value", [-1, 501, True])
async def test_new_cards_per_day_out_of_range(world: World, value: int) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput, match="0 to 500") as caught:
        await world.services.learner_settings.set_new_cards_per_day(learner.id, value)
    assert caught.value.example == "/settings new 20"


async def test_audio_on_cards(world: World) -> None:
    learner = await world.learner()
    assert (await world.services.learner_settings.set_audio(learner.id, True)).audio_on_cards is True
    assert world.uow.store.learners[learner.id].settings.audio_on_cards is True


async def test_directions_create_missing_cards_and_suspend_disabled_ones(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat", "casa = house", "pendiente"])
    await world.services.languages.set_pair(learner.id, "fr", "en")
    await world.services.vocabulary.add_words(learner.id, ["manger = to eat"])
    store = world.uow.store

    def cards() -> list[tuple[str, CardDirection, bool]]:
        return sorted((store.words[c.entry_id].term, c.direction, c.suspended) for c in store.cards.values())

    assert (await world.services.learner_settings.set_directions(learner.id, " Both ")).directions == "both"
    assert cards() == [
        ("casa", CardDirection.PRODUCTION, False),
        ("casa", CardDirection.RECOGNITION, False),
        ("comer", CardDirection.PRODUCTION, False),
        ("comer", CardDirection.RECOGNITION, False),
        ("manger", CardDirection.PRODUCTION, False),
        ("manger", CardDirection.RECOGNITION, False),
    ]
    await world.services.learner_settings.set_directions(learner.id, "production")
    assert [(t, d, s) for t, d, s in cards() if d is CardDirection.RECOGNITION] == [
        ("casa", CardDirection.RECOGNITION, True),
        ("comer", CardDirection.RECOGNITION, True),
        ("manger", CardDirection.RECOGNITION, True),
    ]
    await world.services.learner_settings.set_directions(learner.id, "recognition")
    assert len(cards()) == 6
    assert all(s == (d is CardDirection.PRODUCTION) for _, d, s in cards())


async def test_bad_directions(world: World) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput) as caught:
        await world.services.learner_settings.set_directions(learner.id, "sideways")
    assert caught.value.example == "/settings directions both"


async def test_settings_of_an_unknown_learner(world: World) -> None:
    with pytest.raises(NotFound):
        await world.services.learner_settings.set_audio("00000000-0000-0000-0000-000000000000", True)
