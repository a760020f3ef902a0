"""Packs: admin curation, CSV/TSV import and export, and learner subscription."""

from __future__ import annotations

import pytest

from core.domain.errors import Conflict, InvalidInput, InvalidLevel, NoActivePair, NotFound, UnsupportedLanguage
from core.domain.models import CardDirection, CardState
from core.domain.services.packs import MAX_IMPORT_ROWS
from tests.unit.conftest import World


async def new_pack(world: World, slug: str = "spanish-a1", *lines: str, publish: bool = False) -> None:
    await world.services.packs.create_pack(slug, "es", "en", "A1", "Spanish basics")
    if lines:
        await world.services.packs.add_entries(slug, list(lines))
    if publish:
        await world.services.packs.publish(slug)


# --- creating -----------------------------------------------------------------------------------


async def test_create_pack_is_a_draft_with_normalised_fields(world: World) -> None:
    pack = await world.services.packs.create_pack(" Spanish-A1 ", "ES", "en", "a1", "  Spanish   basics ")
    assert (pack.slug, pack.target, pack.native, pack.level, pack.title) == (
        "spanish-a1",
        "es",
        "en",
        "A1",
        "Spanish basics",
    )
    assert (pack.published, pack.entry_count) == (False, 0)
    assert [p.slug for p in await world.services.packs.list_all()] == ["spanish-a1"]


@pytest.mark.parametrize("slug", ["a", "x" * 41, "with space", "ñandú", "under_score", "dot.slug", ""])
async def test_slug_rules(world: World, slug: str) -> None:
    with pytest.raises(InvalidInput, match="slug") as caught:
        await world.services.packs.create_pack(slug, "es", "en", "A1", "T")
    assert caught.value.example is not None
    assert world.uow.store.packs == {}


@pytest.mark.parametrize("slug", ["ab", "x" * 40, "es-en-a1", "2024-top-100"])
async def test_valid_slugs(world: World, slug: str) -> None:
    assert (await world.services.packs.create_pack(slug, "es", "en", "A1", "T")).slug == slug


async def test_a_taken_slug_is_a_conflict(world: World) -> None:
    await new_pack(world)
    with pytest.raises(Conflict):
        await world.services.packs.create_pack("spanish-a1", "fr", "en", "A2", "Other")


async def test_pack_languages_level_and_title_are_checked(world: World) -> None:
    with pytest.raises(UnsupportedLanguage):
        await world.services.packs.create_pack("p1", "xx", "en", "A1", "T")
    with pytest.raises(InvalidLevel):
        await world.services.packs.create_pack("p1", "es", "en", "Z9", "T")
    with pytest.raises(InvalidInput):
        await world.services.packs.create_pack("p1", "es", "es", "A1", "T")
    with pytest.raises(InvalidInput, match="title"):
        await world.services.packs.create_pack("p1", "es", "en", "A1", "   ")


# --- adding lines -------------------------------------------------------------------------------


async def test_add_entries_counts_added_skipped_and_rejected(world: World) -> None:
    await new_pack(world)
    await world.services.packs.add_entries("spanish-a1", ["comer = to eat"])
    report = await world.services.packs.add_entries(
        "spanish-a1",
        ["Comer = to eat", "casa = house = La casa es grande.", "", "perro", "= dog", "gato = cat", "casa = home"],
    )
    assert (report.added, report.skipped, report.rejected) == (2, 2, 2)
    assert [(r.line_no, r.text, r.reason) for r in report.first_rejected] == [
        (4, "perro", "empty translation"),
        (5, "= dog", "empty term"),
    ]
    pack, entries = await world.services.packs.show("spanish-a1")
    assert pack.entry_count == 3
    assert [(e.term, e.translation, e.example, e.position) for e in entries] == [
        ("comer", "to eat", None, 0),
        ("casa", "house", "La casa es grande.", 1),
        ("gato", "cat", None, 2),
    ]


async def test_pack_entries_store_their_lemma(world: World) -> None:
    await new_pack(world, "spanish-a1", "casas = houses", "Hablamos = we speak", "por favor = please")
    _, entries = await world.services.packs.show("spanish-a1")
    assert [(e.term, e.lemma) for e in entries] == [
        ("casas", "casa"),
        ("Hablamos", "hablar"),
        ("por favor", "por favor"),
    ]


async def test_add_entries_needs_lines_and_a_pack(world: World) -> None:
    await new_pack(world)
    with pytest.raises(InvalidInput):
        await world.services.packs.add_entries("spanish-a1", ["", " "])
    with pytest.raises(NotFound):
        await world.services.packs.add_entries("nope", ["a = b"])


# --- importing files ----------------------------------------------------------------------------


async def test_import_csv_with_header(world: World) -> None:
    await new_pack(world)
    data = b"term,translation,example\ncomer,to eat,Vamos a comer.\ncasa,house,\n"
    report = await world.services.packs.import_file("spanish-a1", data, "words.csv")
    assert (report.added, report.skipped, report.rejected) == (2, 0, 0)
    _, entries = await world.services.packs.show("spanish-a1")
    assert [(e.term, e.translation, e.example) for e in entries] == [
        ("comer", "to eat", "Vamos a comer."),
        ("casa", "house", None),
    ]


async def test_import_csv_without_header(world: World) -> None:
    await new_pack(world)
    report = await world.services.packs.import_file("spanish-a1", b"comer,to eat\ncasa,house\n")
    assert report.added == 2


async def test_a_word_called_word_is_not_a_header(world: World) -> None:
    await new_pack(world, "english-a1")
    report = await world.services.packs.import_file("english-a1", b"word,palabra\nhouse,casa\n")
    assert report.added == 2


async def test_import_tsv_tab_wins_over_commas(world: World) -> None:
    await new_pack(world)
    data = b"Word\tMeaning\nhola\thello, hi\ncomer\tto eat, to dine\n"
    report = await world.services.packs.import_file("spanish-a1", data, "list.txt")
    assert report.added == 2
    _, entries = await world.services.packs.show("spanish-a1")
    assert [e.translation for e in entries] == ["hello, hi", "to eat, to dine"]


async def test_import_semicolon_csv(world: World) -> None:
    await new_pack(world)
    report = await world.services.packs.import_file("spanish-a1", b"comer;to eat\ncasa;house\nperro;dog\n")
    assert report.added == 3


async def test_import_quoted_fields_and_crlf(world: World) -> None:
    await new_pack(world)
    data = b'term,translation\r\n"hola, amigo","hello, friend"\r\n"dijo ""no""",said "no"\r\n'
    report = await world.services.packs.import_file("spanish-a1", data)
    assert report.added == 2
    _, entries = await world.services.packs.show("spanish-a1")
    assert [(e.term, e.translation) for e in entries] == [("hola, amigo", "hello, friend"), ('dijo "no"', 'said "no"')]


async def test_import_utf8_bom_is_accepted(world: World) -> None:
    await new_pack(world)
    data = "\ufeffterm,translation\nniño,child\n".encode()
    report = await world.services.packs.import_file("spanish-a1", data)
    assert report.added == 1
    _, entries = await world.services.packs.show("spanish-a1")
    assert entries[0].term == "niño"


async def test_import_non_utf8_is_refused(world: World) -> None:
    await new_pack(world)
    with pytest.raises(InvalidInput, match="UTF-8"):
        await world.services.packs.import_file("spanish-a1", "niño,child\n".encode("latin-1"))
    assert (await world.services.packs.show("spanish-a1"))[0].entry_count == 0


@pytest.mark.parametrize("data", [b"", b"  \n\n", b"term,translation\n", b"\x00\x01\x02binary"])
async def test_import_empty_or_binary_is_refused(world: World, data: bytes) -> None:
    await new_pack(world)
    with pytest.raises(InvalidInput):
        await world.services.packs.import_file("spanish-a1", data)


async def test_import_rejects_rows_with_reasons_and_line_numbers(world: World) -> None:
    await new_pack(world)
    long_term = "t" * 101
    data = "\n".join(
        [
            "term,translation",
            "comer,to eat",
            ",nothing",
            "casa,",
            "",
            f"{long_term},x",
            "perro,dog,example,extra",
            "COMER,to eat again",
            "gato,cat",
        ]
    ).encode()
    report = await world.services.packs.import_file("spanish-a1", data)
    assert (report.added, report.skipped, report.rejected) == (2, 1, 4)
    assert [(r.line_no, r.reason) for r in report.first_rejected] == [
        (3, "empty term"),
        (4, "empty translation"),
        (6, "term longer than 100 characters"),
        (7, "more than 3 columns (term, translation, example)"),
    ]
    assert report.first_rejected[1].text == "casa,"


async def test_multi_line_fields_keep_line_numbers_right(world: World) -> None:
    await new_pack(world)
    data = b'comer,"to eat\nto dine"\n,orphan\n'
    report = await world.services.packs.import_file("spanish-a1", data)
    assert report.added == 1
    assert [(r.line_no, r.reason) for r in report.first_rejected] == [(3, "empty term")]


async def test_only_the_first_ten_rejections_are_listed(world: World) -> None:
    await new_pack(world)
    data = "\n".join(f",orphan{i}" for i in range(25)).encode()
    report = await world.services.packs.import_file("spanish-a1", data)
    assert report.rejected == 25
    assert len(report.first_rejected) == 10


async def test_importing_twice_skips_everything(world: World) -> None:
    await new_pack(world)
    data = b"comer,to eat\ncasa,house\n"
    await world.services.packs.import_file("spanish-a1", data)
    report = await world.services.packs.import_file("spanish-a1", data)
    assert (report.added, report.skipped) == (0, 2)
    assert (await world.services.packs.show("spanish-a1"))[0].entry_count == 2


async def test_more_than_the_row_limit_adds_nothing(world: World) -> None:
    await new_pack(world)
    rows = "term,translation\n" + "".join(f"w{i},t{i}\n" for i in range(MAX_IMPORT_ROWS + 1))
    with pytest.raises(InvalidInput, match="50,000"):
        await world.services.packs.import_file("spanish-a1", rows.encode())
    assert world.uow.store.pack_entries[(await world.services.packs.show("spanish-a1"))[0].id] == []


async def test_import_into_a_missing_pack_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.services.packs.import_file("nope", b"a,b\n")


# --- export, publish, delete --------------------------------------------------------------------


async def test_export_round_trips_through_import(world: World) -> None:
    await new_pack(world)
    source = (
        'term,translation,example\ncomer,to eat,"Vamos a comer, ¿no?"\nhola,"hello, hi",\n"dijo ""sí""",said yes,\n'
    )
    await world.services.packs.import_file("spanish-a1", source.encode())
    exported = await world.services.packs.export_csv("spanish-a1")
    assert exported.decode().splitlines()[0] == "term,translation,example"
    await world.services.packs.create_pack("copy", "es", "en", "A1", "Copy")
    report = await world.services.packs.import_file("copy", exported, "spanish-a1.csv")
    assert (report.added, report.skipped, report.rejected) == (3, 0, 0)
    original = [(e.term, e.translation, e.example) for e in (await world.services.packs.show("spanish-a1", 50))[1]]
    copied = [(e.term, e.translation, e.example) for e in (await world.services.packs.show("copy", 50))[1]]
    assert copied == original
    assert await world.services.packs.export_csv("copy") == exported


async def test_an_empty_pack_cannot_be_published(world: World) -> None:
    await new_pack(world)
    with pytest.raises(InvalidInput, match="no entries"):
        await world.services.packs.publish("spanish-a1")
    assert not (await world.services.packs.show("spanish-a1"))[0].published


async def test_publish_and_unpublish(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat")
    assert (await world.services.packs.publish("spanish-a1")).published
    assert (await world.services.packs.show("spanish-a1"))[0].published
    assert not (await world.services.packs.unpublish("spanish-a1")).published
    assert not (await world.services.packs.show("spanish-a1"))[0].published


async def test_delete_pack_keeps_subscribers_words(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", publish=True)
    learner = await world.learner()
    await world.services.packs.subscribe(learner.id, "spanish-a1")
    deleted = await world.services.packs.delete_pack("spanish-a1")
    assert deleted.slug == "spanish-a1"
    assert world.uow.store.packs == {}
    assert [w.term for w in world.uow.store.words.values()] == ["comer"]
    with pytest.raises(NotFound):
        await world.services.packs.delete_pack("spanish-a1")


# --- learners -----------------------------------------------------------------------------------


async def test_learners_see_published_packs_of_their_pair_only(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", publish=True)
    await new_pack(world, "spanish-draft", "casa = house")
    await world.services.packs.create_pack("french-a1", "fr", "en", "A1", "French")
    await world.services.packs.add_entries("french-a1", ["manger = to eat"])
    await world.services.packs.publish("french-a1")
    learner = await world.learner()
    packs = await world.services.packs.list_published(learner.id)
    assert [(p.slug, p.entry_count) for p in packs] == [("spanish-a1", 1)]
    assert len(await world.services.packs.list_all()) == 3


async def test_list_published_needs_a_pair(world: World) -> None:
    learner = await world.learner(pair=None)
    with pytest.raises(NoActivePair):
        await world.services.packs.list_published(learner.id)


async def test_preview_shows_published_packs_only(world: World) -> None:
    await new_pack(world, "spanish-a1", *[f"w{i} = t{i}" for i in range(15)], publish=True)
    await new_pack(world, "draft", "casa = house")
    pack, entries = await world.services.packs.preview("spanish-a1")
    assert pack.entry_count == 15 and [e.term for e in entries] == [f"w{i}" for i in range(10)]
    assert len((await world.services.packs.preview("spanish-a1", limit=3))[1]) == 3
    with pytest.raises(NotFound):
        await world.services.packs.preview("draft")
    assert (await world.services.packs.show("draft"))[0].slug == "draft"


async def test_subscribe_adds_words_and_cards_in_pack_order(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat = Vamos a comer.", "casa = house", "perro = dog", publish=True)
    learner = await world.learner()
    result = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (result.pack.slug, result.added, result.skipped) == ("spanish-a1", 3, 0)
    words = sorted(world.uow.store.words.values(), key=lambda w: w.created_at)
    assert [(w.term, w.translation, w.example, w.source) for w in words] == [
        ("comer", "to eat", "Vamos a comer.", "pack:spanish-a1"),
        ("casa", "house", None, "pack:spanish-a1"),
        ("perro", "dog", None, "pack:spanish-a1"),
    ]
    assert {c.state for c in world.uow.store.cards.values()} == {CardState.NEW}
    assert len(world.uow.store.cards) == 3
    first = await world.services.reviews.next_card(learner.id)
    assert first is not None and first.front == "comer"


async def test_subscribing_twice_adds_nothing(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", "casa = house", publish=True)
    learner = await world.learner()
    await world.services.packs.subscribe(learner.id, "spanish-a1")
    again = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (again.added, again.skipped) == (0, 2)
    assert len(world.uow.store.words) == 2 and len(world.uow.store.cards) == 2


async def test_subscribe_skips_words_the_learner_already_has_by_lemma(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", "casas = houses", "perro = dog", publish=True)
    learner = await world.learner()
    await world.services.vocabulary.add_words(learner.id, ["comían = they ate", "casa = house"])
    result = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (result.added, result.skipped) == (1, 2)
    assert sorted(w.term for w in world.uow.store.words.values()) == ["casa", "comían", "perro"]


async def test_subscribe_creates_the_pairs_pair_without_switching(world: World) -> None:
    await world.services.packs.create_pack("french-a2", "fr", "en", "A2", "French")
    await world.services.packs.add_entries("french-a2", ["manger = to eat"])
    await world.services.packs.publish("french-a2")
    learner = await world.learner()  # es-en active
    await world.services.packs.subscribe(learner.id, "french-a2")
    pairs = {p.target: p for p in await world.services.languages.list_pairs(learner.id)}
    assert pairs["fr"].level == "A2" and not pairs["fr"].is_active
    assert (await world.services.languages.active_pair(learner.id)).target == "es"


async def test_subscribe_without_any_pair_makes_the_new_pair_active(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", publish=True)
    learner = await world.learner(pair=None)
    await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (await world.services.languages.active_pair(learner.id)).target == "es"
    assert await world.services.reviews.next_card(learner.id) is not None


async def test_subscribe_follows_card_directions(world: World) -> None:
    await new_pack(world, "spanish-a1", "comer = to eat", publish=True)
    learner = await world.learner()
    await world.services.learner_settings.set_directions(learner.id, "both")
    await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert sorted(c.direction for c in world.uow.store.cards.values()) == [
        CardDirection.PRODUCTION,
        CardDirection.RECOGNITION,
    ]


async def test_drafts_and_missing_packs_cannot_be_subscribed(world: World) -> None:
    await new_pack(world, "draft", "comer = to eat")
    learner = await world.learner()
    with pytest.raises(NotFound):
        await world.services.packs.subscribe(learner.id, "draft")
    with pytest.raises(NotFound):
        await world.services.packs.subscribe(learner.id, "nope")
    assert world.uow.store.words == {}


async def test_subscribe_to_a_large_pack_is_one_bulk_transaction(world: World) -> None:
    await new_pack(world)
    data = "".join(f"palabra{i},word {i}\n" for i in range(1000)).encode()
    assert (await world.services.packs.import_file("spanish-a1", data)).added == 1000
    await world.services.packs.publish("spanish-a1")
    learner = await world.learner()
    commits = world.uow.commits
    result = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert result.added == 1000
    assert world.uow.commits - commits == 1
    assert len(world.uow.store.cards) == 1000


async def test_a_concurrent_subscription_conflict_is_retried_and_adds_nothing_twice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import FakeWordBankRepository

    await new_pack(world, "spanish-a1", "comer = to eat", "casa = house", publish=True)
    learner = await world.learner()
    await world.services.packs.subscribe(learner.id, "spanish-a1")
    original = FakeWordBankRepository.all_lemmas
    blind = {"calls": 0}

    async def blind_once(self: FakeWordBankRepository, pair_id: str) -> set[str]:
        blind["calls"] += 1
        return set() if blind["calls"] == 1 else await original(self, pair_id)

    monkeypatch.setattr(FakeWordBankRepository, "all_lemmas", blind_once)
    again = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (again.added, again.skipped) == (0, 2)
    assert len(world.uow.store.words) == 2 and len(world.uow.store.cards) == 2


async def test_a_header_half_in_another_language_is_still_a_header(world: World) -> None:
    await new_pack(world)
    for data in (b"palabra\ttranslation\nhola\thello\n", b"mot;traduction\nhola;hello\n", b"Term,Ejemplo\nhola,hi\n"):
        report = await world.services.packs.import_file("spanish-a1", data)
        assert report.rejected == 0
    entries = await world.services.packs.show("spanish-a1")
    assert [(e.term, e.translation) for e in entries[1]] == [("hola", "hello")]


async def test_subscribe_skips_a_word_the_learner_has_under_an_older_lemma_key(world: World) -> None:
    learner = await world.learner()
    world.lemmatizer.lemmas["es"]["casa"] = "casar"  # an older lemmatizer's guess, stored with the entry
    await world.services.vocabulary.add_words(learner.id, ["casa"])
    del world.lemmatizer.lemmas["es"]["casa"]  # the upgrade: the pack's "casa" is keyed "casa"
    await new_pack(world, "spanish-a1", "casa = house", "perro = dog", publish=True)
    result = await world.services.packs.subscribe(learner.id, "spanish-a1")
    assert (result.added, result.skipped) == (1, 1)
    assert sorted(w.term for w in world.uow.store.words.values()) == ["casar", "perro"]
