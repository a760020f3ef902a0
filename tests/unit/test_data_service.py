"""Export everything (JSON and an Anki CSV) and delete everything of a learner."""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.domain.errors import NotFound
from core.domain.models import ConversationState, Rating, ReviewMode
from tests.unit.conftest import World


async def learner_with_history(world: World) -> str:
    learner = await world.learner("ana")
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat", "niño = child, kid", "pendiente"])
    world.clock.advance(seconds=1)
    await world.services.languages.set_pair(learner.id, "fr", "en")
    await world.services.vocabulary.add_words(learner.id, ["l'été = summer"])
    await world.services.languages.set_pair(learner.id, "es", "en")
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    await world.services.reviews.answer(learner.id, card.card.id, "to eat", ReviewMode.TYPED)
    await world.services.conversation.save(ConversationState(learner.id, "review", {"n": 1}))
    return learner.id


async def test_json_export_holds_everything(world: World) -> None:
    learner_id = await learner_with_history(world)
    export = await world.services.data.export(learner_id)
    document = json.loads(export.json_bytes.decode("utf-8"))
    assert document["format"] == "langlearn-export" and document["version"] == 1
    assert document["learner"]["id"] == learner_id
    assert document["learner"]["display_name"] == "Ana"
    assert document["learner"]["created_at"] == "2025-03-10T12:00:00+00:00"
    assert len(document["learner"]["fsrs_parameters"]) == 21
    assert document["settings"]["timezone"] == "UTC"
    assert document["identities"] == [{"platform": "console", "platform_user_id": "ana", "learner_id": learner_id}]
    assert [(p["target"], p["native"]) for p in document["pairs"]] == [("es", "en"), ("fr", "en")]
    assert [w["term"] for w in document["words"]] == ["comer", "niño", "pendiente", "l'été"]
    assert document["words"][2]["translation"] is None
    assert len(document["cards"]) == 3
    [event] = document["review_events"]
    assert (event["rating"], event["mode"], event["answer_text"], event["state_before"]) == (
        "good",
        "typed",
        "to eat",
        "new",
    )
    assert event["reviewed_at"].endswith("+00:00")


async def test_json_is_indented_and_keeps_non_ascii(world: World) -> None:
    learner_id = await learner_with_history(world)
    text = (await world.services.data.export(learner_id)).json_bytes.decode("utf-8")
    assert "niño" in text and "\\u00f1" not in text
    assert text.startswith('{\n  "format"')


async def test_anki_csv_has_one_note_per_translated_word(world: World) -> None:
    learner_id = await learner_with_history(world)
    text = (await world.services.data.export(learner_id)).anki_csv.decode("utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header == ["#separator:comma", "#html:false", "#columns:front,back,tags", "#tags column:3"]
    rows = list(csv.reader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert rows == [
        ["comer", "to eat", "langlearn es-en"],
        ["niño", "child, kid", "langlearn es-en"],
        ["l'été", "summer", "langlearn fr-en"],
    ]


async def test_export_is_only_the_learners_own_data(world: World) -> None:
    ana_id = await learner_with_history(world)
    bob = await world.learner("bob")
    await world.services.vocabulary.add_words(bob.id, ["gato = cat"])
    document = json.loads((await world.services.data.export(bob.id)).json_bytes)
    assert [w["term"] for w in document["words"]] == ["gato"]
    assert document["review_events"] == []
    assert ana_id not in (await world.services.data.export(bob.id)).json_bytes.decode()


async def test_delete_everything_removes_every_row_of_the_learner_only(world: World) -> None:
    ana_id = await learner_with_history(world)
    bob = await world.learner("bob")
    await world.services.vocabulary.add_words(bob.id, ["gato = cat"])
    card = await world.services.reviews.next_card(bob.id)
    assert card is not None
    await world.services.reviews.review(bob.id, card.card.id, Rating.GOOD, ReviewMode.BUTTON)
    await world.services.data.delete_everything(ana_id)
    store = world.uow.store
    assert set(store.learners) == {bob.id}
    assert {i.learner_id for i in store.identities.values()} == {bob.id}
    assert {p.learner_id for p in store.pairs.values()} == {bob.id}
    assert {w.learner_id for w in store.words.values()} == {bob.id}
    assert {c.learner_id for c in store.cards.values()} == {bob.id}
    assert {e.learner_id for e in store.reviews} == {bob.id}
    assert ana_id not in store.conversations
    again, created = await world.services.accounts.ensure_learner("console", "ana", "Ana")
    assert created and again.id != ana_id


async def test_unknown_learner(world: World) -> None:
    with pytest.raises(NotFound):
        await world.services.data.export("00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFound):
        await world.services.data.delete_everything("00000000-0000-0000-0000-000000000000")
