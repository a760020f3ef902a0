"""The word bank: capture with lemmas, duplicates, translations, removal, pages."""

from __future__ import annotations

import pytest

from core.domain.errors import InvalidInput, NoActivePair, NotFound
from core.domain.models import CardDirection, CardState
from tests.fakes import FakeTranslator
from tests.unit.conftest import World, build_world


async def test_term_with_translation_becomes_an_entry_and_a_recognition_card(world: World) -> None:
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    assert [(e.term, e.lemma, e.translation, e.context, e.source) for e in result.added] == [
        ("comer", "comer", "to eat", None, "manual")
    ]
    assert result.duplicates == result.rejected == result.needs_translation == []
    cards = list(world.uow.store.cards.values())
    assert [(c.entry_id, c.direction, c.state) for c in cards] == [
        (result.added[0].id, CardDirection.RECOGNITION, CardState.NEW)
    ]


async def test_a_single_inflected_word_is_reduced_to_its_lemma_with_context(world: World) -> None:
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comían"])
    entry = result.needs_translation[0]
    assert (entry.term, entry.lemma, entry.context) == ("comer", "comer", "comían")


async def test_a_word_given_with_its_translation_keeps_the_typed_form_and_dedupes_by_lemma(world: World) -> None:
    learner = await world.learner()
    entry = (await world.services.vocabulary.add_words(learner.id, ["comían = they ate"])).added[0]
    assert (entry.term, entry.lemma, entry.context, entry.translation) == ("comían", "comer", None, "they ate")
    again = await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    assert (again.added, again.duplicates) == ([], ["comer"])


async def test_a_capitalised_word_still_finds_its_lemma(world: World) -> None:
    learner = await world.learner()
    entry = (await world.services.vocabulary.add_words(learner.id, ["Casas"])).needs_translation[0]
    assert (entry.term, entry.lemma, entry.context) == ("casa", "casa", "Casas")


async def test_phrases_are_kept_as_typed_and_not_lemmatised(world: World) -> None:
    learner = await world.learner()
    world.lemmatizer.calls.clear()
    entry = (await world.services.vocabulary.add_words(learner.id, ["Comían   mucho = they ate a lot"])).added[0]
    assert (entry.term, entry.lemma, entry.context) == ("Comían mucho", "comían mucho", None)
    assert world.lemmatizer.calls == []


async def test_lemma_key_is_lower_cased_so_case_variants_are_duplicates(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["agua = water"])
    result = await world.services.vocabulary.add_words(learner.id, ["Agua = water"])
    assert result.added == [] and result.duplicates == ["Agua"]


async def test_duplicates_in_the_bank_and_in_the_message_are_reported_not_added(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    result = await world.services.vocabulary.add_words(
        learner.id, ["comían = they ate", "casa = house", "casas = houses", "perro = dog"]
    )
    assert [e.term for e in result.added] == ["casa", "perro"]
    assert sorted(result.duplicates) == ["casas", "comían"]
    assert len(world.uow.store.words) == 3
    assert len(world.uow.store.cards) == 3


async def test_the_same_lemma_in_another_pair_is_not_a_duplicate(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["casa = house"])
    await world.services.languages.set_pair(learner.id, "pt", "en")
    result = await world.services.vocabulary.add_words(learner.id, ["casa = house"])
    assert [e.term for e in result.added] == ["casa"]


async def test_blank_lines_are_ignored_and_bad_lines_rejected_with_reasons(world: World) -> None:
    learner = await world.learner()
    long_term = "x" * 101
    result = await world.services.vocabulary.add_words(
        learner.id,
        ["", "gato = cat", "   ", "= nothing", f"{long_term} = y", "libro = " + "b" * 201, "a = b = c = d"],
    )
    assert [e.term for e in result.added] == ["gato"]
    assert result.rejected == [
        ("= nothing", "empty term"),
        (f"{long_term} = y", "term longer than 100 characters"),
        ("libro = " + "b" * 201, "translation longer than 200 characters"),
        ("a = b = c = d", "too many “=”: use term = translation (= example)"),
    ]


async def test_a_third_part_is_kept_as_the_example(world: World) -> None:
    learner = await world.learner()
    entry = (await world.services.vocabulary.add_words(learner.id, ["comer = to eat = Vamos a comer."])).added[0]
    assert entry.example == "Vamos a comer."


@pytest.mark.parametrize("lines", [[], ["", "   "]])
async def test_nothing_to_add_is_invalid_input_with_an_example(world: World, lines: list[str]) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput) as caught:
        await world.services.vocabulary.add_words(learner.id, lines)
    assert caught.value.example == "/add comer = to eat"


async def test_more_than_100_lines_adds_nothing(world: World) -> None:
    learner = await world.learner()
    with pytest.raises(InvalidInput, match="101 lines"):
        await world.services.vocabulary.add_words(learner.id, [f"palabra{i} = word {i}" for i in range(101)])
    assert world.uow.store.words == {}


async def test_exactly_100_lines_are_fine_and_keep_their_order(world: World) -> None:
    learner = await world.learner()
    lines = [f"palabra{i} = word {i}" for i in range(100)] + ["", ""]
    result = await world.services.vocabulary.add_words(learner.id, lines)
    assert len(result.added) == 100
    first_page = await world.services.vocabulary.list_words(learner.id)
    assert [e.term for e in first_page.entries] == [f"palabra{i}" for i in range(99, 89, -1)]


async def test_without_a_translator_missing_translations_are_asked_for(world: World) -> None:
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comían", "casa = house"])
    assert [e.term for e in result.added] == ["casa"]
    assert [(e.term, e.translation) for e in result.needs_translation] == [("comer", None)]
    pending_entry = result.needs_translation[0]
    assert not any(c.entry_id == pending_entry.id for c in world.uow.store.cards.values())
    assert [e.id for e in await world.services.vocabulary.pending_translations(learner.id)] == [pending_entry.id]


async def test_the_translator_fills_missing_translations_in_one_batched_call(
    translated_world: World, translator: FakeTranslator
) -> None:
    world = translated_world
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comían", "perros", "mesa = table", "zumo"])
    assert [(e.term, e.translation) for e in result.added] == [
        ("comer", "to eat"),
        ("perro", "dog"),
        ("mesa", "table"),
        ("zumo", "zumo (en)"),
    ]
    assert translator.calls == [(["comer", "perro", "zumo"], "es", "en")]
    assert result.needs_translation == []
    assert len(world.uow.store.cards) == 4


async def test_the_translator_is_not_called_when_nothing_is_missing(
    translated_world: World, translator: FakeTranslator
) -> None:
    learner = await translated_world.learner()
    await translated_world.services.vocabulary.add_words(learner.id, ["mesa = table"])
    assert translator.calls == []


async def test_duplicates_are_not_sent_to_the_translator(translated_world: World, translator: FakeTranslator) -> None:
    learner = await translated_world.learner()
    await translated_world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    result = await translated_world.services.vocabulary.add_words(learner.id, ["comían", "casa"])
    assert translator.calls[-1] == (["casa"], "es", "en")
    assert result.duplicates == ["comían"]


async def test_a_failing_translator_leaves_entries_waiting_never_cards_with_empty_sides() -> None:
    world = build_world(FakeTranslator(fail=True))
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comer", "casa = house"])
    assert [e.term for e in result.added] == ["casa"]
    assert [e.term for e in result.needs_translation] == ["comer"]
    assert result.translator_problem == "DeepL is unavailable right now: test outage."
    for card in world.uow.store.cards.values():
        entry = world.uow.store.words[card.entry_id]
        assert entry.term and entry.translation


async def test_an_empty_translation_from_the_provider_counts_as_missing() -> None:
    world = build_world(FakeTranslator({"comer": "  "}))
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comer"])
    assert [e.term for e in result.needs_translation] == ["comer"]
    assert world.uow.store.cards == {}


async def test_provide_translation_creates_the_cards(world: World) -> None:
    learner = await world.learner()
    pending = (await world.services.vocabulary.add_words(learner.id, ["comer"])).needs_translation[0]
    entry = await world.services.vocabulary.provide_translation(learner.id, pending.id, "  to   eat ")
    assert entry.translation == "to eat"
    assert world.uow.store.words[pending.id].translation == "to eat"
    assert [c.entry_id for c in world.uow.store.cards.values()] == [pending.id]
    assert await world.services.vocabulary.pending_translations(learner.id) == []


async def test_provide_translation_twice_changes_the_text_but_not_the_cards(world: World) -> None:
    learner = await world.learner()
    pending = (await world.services.vocabulary.add_words(learner.id, ["comer"])).needs_translation[0]
    await world.services.vocabulary.provide_translation(learner.id, pending.id, "to eat")
    await world.services.vocabulary.provide_translation(learner.id, pending.id, "to dine")
    assert world.uow.store.words[pending.id].translation == "to dine"
    assert len(world.uow.store.cards) == 1


async def test_provide_translation_refuses_empty_long_and_foreign_entries(world: World) -> None:
    ana = await world.learner("ana")
    bob = await world.learner("bob")
    pending = (await world.services.vocabulary.add_words(ana.id, ["comer"])).needs_translation[0]
    with pytest.raises(InvalidInput):
        await world.services.vocabulary.provide_translation(ana.id, pending.id, "   ")
    with pytest.raises(InvalidInput):
        await world.services.vocabulary.provide_translation(ana.id, pending.id, "x" * 201)
    with pytest.raises(NotFound):
        await world.services.vocabulary.provide_translation(bob.id, pending.id, "to eat")
    with pytest.raises(NotFound):
        await world.services.vocabulary.provide_translation(ana.id, "garbage", "to eat")
    assert world.uow.store.cards == {}


async def test_both_directions_give_two_cards_per_entry(world: World) -> None:
    learner = await world.learner()
    await world.services.learner_settings.set_directions(learner.id, "both")
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    assert sorted(c.direction for c in world.uow.store.cards.values()) == [
        CardDirection.PRODUCTION,
        CardDirection.RECOGNITION,
    ]


async def test_remove_by_term_lemma_or_inflected_form(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat", "casa = house", "perro = dog"])
    assert (await world.services.vocabulary.remove_word(learner.id, "COMER")).term == "comer"
    assert (await world.services.vocabulary.remove_word(learner.id, "casas")).term == "casa"
    assert [e.term for e in world.uow.store.words.values()] == ["perro"]
    assert len(world.uow.store.cards) == 1


async def test_remove_keeps_review_events(world: World) -> None:
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    card = await world.services.reviews.next_card(learner.id)
    assert card is not None
    await world.services.reviews.answer(learner.id, card.card.id, "to eat", mode="typed")  # type: ignore[arg-type]
    await world.services.vocabulary.remove_word(learner.id, "comer")
    assert world.uow.store.cards == {}
    assert len(world.uow.store.reviews) == 1


async def test_remove_unknown_or_empty(world: World) -> None:
    learner = await world.learner()
    with pytest.raises(NotFound, match="zumo"):
        await world.services.vocabulary.remove_word(learner.id, "zumo")
    with pytest.raises(InvalidInput):
        await world.services.vocabulary.remove_word(learner.id, "  ")


async def test_paging_is_newest_first_and_clamped(world: World) -> None:
    learner = await world.learner()
    for i in range(23):
        await world.services.vocabulary.add_words(learner.id, [f"w{i:02d} = t{i}"])
        world.clock.advance(seconds=1)
    first = await world.services.vocabulary.list_words(learner.id)
    assert (first.page, first.pages, first.total) == (1, 3, 23)
    assert [e.term for e in first.entries][:2] == ["w22", "w21"]
    last = await world.services.vocabulary.list_words(learner.id, 3)
    assert [e.term for e in last.entries] == ["w02", "w01", "w00"]
    beyond = await world.services.vocabulary.list_words(learner.id, 99)
    assert (beyond.page, [e.term for e in beyond.entries]) == (3, ["w02", "w01", "w00"])
    below = await world.services.vocabulary.list_words(learner.id, -5)
    assert below.page == 1


async def test_empty_bank_has_one_empty_page(world: World) -> None:
    learner = await world.learner()
    page = await world.services.vocabulary.list_words(learner.id, 4)
    assert (page.entries, page.page, page.pages, page.total) == ([], 1, 1, 0)


async def test_word_commands_need_an_active_pair(world: World) -> None:
    learner = await world.learner(pair=None)
    with pytest.raises(NoActivePair):
        await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    with pytest.raises(NoActivePair):
        await world.services.vocabulary.list_words(learner.id)
    with pytest.raises(NoActivePair):
        await world.services.vocabulary.remove_word(learner.id, "comer")


async def test_a_word_added_meanwhile_is_reported_as_a_duplicate() -> None:
    """Another /add of the same word lands while the translator is working."""
    holder: dict[str, World] = {}

    class RacingTranslator(FakeTranslator):
        async def translate(self, texts: list[str], source: str, target: str) -> list[str]:  # type: ignore[override]
            world = holder["world"]
            await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
            return await super().translate(texts, source, target)

    world = build_world(RacingTranslator())
    holder["world"] = world
    learner = await world.learner()
    result = await world.services.vocabulary.add_words(learner.id, ["comían", "casa"])
    assert [e.term for e in result.added] == ["casa"]
    assert result.duplicates == ["comían"]
    assert sorted(e.term for e in world.uow.store.words.values()) == ["casa", "comer"]


async def test_an_insert_conflict_is_retried_once_and_becomes_a_duplicate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique (pair, lemma) index catches a race the duplicate check could not see."""
    from tests.fakes import FakeWordBankRepository

    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comer = to eat"])
    original = FakeWordBankRepository.find_by_lemmas
    blind = {"calls": 0}

    async def blind_twice(self: FakeWordBankRepository, pair_id: str, lemmas: list[str]) -> dict[str, object]:
        blind["calls"] += 1
        if blind["calls"] <= 2:  # the read phase and the first write attempt miss the existing word
            return {}
        return await original(self, pair_id, lemmas)  # type: ignore[return-value]

    monkeypatch.setattr(FakeWordBankRepository, "find_by_lemmas", blind_twice)
    result = await world.services.vocabulary.add_words(learner.id, ["comer = to eat", "casa = house"])
    assert [e.term for e in result.added] == ["casa"]
    assert result.duplicates == ["comer"]
    assert len(world.uow.store.words) == 2 and len(world.uow.store.cards) == 2


async def test_adding_an_owed_translation_completes_the_pending_entry(world: World) -> None:
    learner = await world.learner()
    pending = (await world.services.vocabulary.add_words(learner.id, ["perro"])).needs_translation[0]
    assert world.uow.store.cards == {}

    result = await world.services.vocabulary.add_words(learner.id, ["perro = dog"])

    assert result.duplicates == []
    assert [(entry.id, entry.term, entry.translation) for entry in result.added] == [(pending.id, "perro", "dog")]
    assert [entry.translation for entry in world.uow.store.words.values()] == ["dog"]
    assert [card.entry_id for card in world.uow.store.cards.values()] == [pending.id]
    again = await world.services.vocabulary.add_words(learner.id, ["perro = hound"])
    assert (again.added, again.duplicates) == ([], ["perro"])


async def test_a_word_stored_under_an_older_lemma_key_is_a_duplicate_when_typed_again(world: World) -> None:
    """An older lemmatizer keyed "casa" as "casar"; after an upgrade its lemma is "casa" itself: typing
    "casa" again finds the entry by what was typed, not a second "casa"."""
    learner = await world.learner()
    world.lemmatizer.lemmas["es"]["casa"] = "casar"
    [old] = (await world.services.vocabulary.add_words(learner.id, ["casa"])).needs_translation
    assert (old.term, old.lemma, old.context) == ("casar", "casar", "casa")
    del world.lemmatizer.lemmas["es"]["casa"]  # the upgrade
    again = await world.services.vocabulary.add_words(learner.id, ["casa", "Casa = house"])
    assert again.added == [] and again.needs_translation == []
    assert len(world.uow.store.words) == 1
