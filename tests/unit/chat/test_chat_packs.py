"""Packs for learners and admin curation, including refusals that change nothing."""

from __future__ import annotations

import pytest

from tests.unit.chat.conftest import ChatWorld
from tests.unit.chat.harness import ADMIN, ADMIN_CHANNEL, Chat, labels, texts


async def published_pack(chat: Chat, slug: str = "es-basics") -> None:
    await chat.admin(f"/pack_new {slug} es en A1 Spanish basics")
    await chat.admin(f"/pack_add {slug}\nagua = water\nsol = sun\ncasa = house")
    await chat.admin(f"/pack_publish {slug}")


async def test_admin_builds_and_publishes_a_pack(cw: ChatWorld) -> None:
    chat = cw.chat
    assert texts(await chat.admin("/pack_new es-basics es en A1 Spanish basics")) == [
        "Created draft pack “es-basics”: Spanish basics (Spanish → English, A1).\n"
        "Fill it with /pack_add es-basics or /pack_import es-basics, then /pack_publish es-basics."
    ]
    assert texts(await chat.admin("/pack_add es-basics\nagua = water\nsol = sun\nagua = water\nbad line")) == [
        "“es-basics”: 2 added, 1 skipped, 1 rejected.\nRejected:\nline 4: “bad line” — empty translation"
    ]
    assert texts(await chat.admin("/pack_list")) == [
        "Packs (1):\nes-basics · es→en · A1 · 2 words · draft · Spanish basics"
    ]
    assert texts(await chat.admin("/pack_show es-basics")) == [
        "Spanish basics (es-basics)\nSpanish → English · A1 · 2 words\n\nagua — water\nsol — sun\nStatus: draft"
    ]
    assert texts(await chat.admin("/pack_publish es-basics")) == [
        "Published “es-basics”: learners of Spanish → English see it in /packs."
    ]
    [pack] = cw.store.packs.values()
    assert pack.published is True
    assert texts(await chat.admin("/pack_unpublish es-basics")) == [
        "Unpublished “es-basics”: it is a draft again; learners keep words they added."
    ]
    assert cw.store.packs[pack.id].published is False


async def test_pack_import_from_an_attached_csv_reports_counts_and_rejections(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.admin("/pack_new es-basics es en A1 Spanish basics")
    csv = b"term,translation\nagua,water\nsol,sun\n,empty\nagua,water again\n"
    [report] = texts(await chat.file("/pack_import es-basics", csv, user=ADMIN, chat=ADMIN_CHANNEL, group=True))
    assert report.startswith("“es-basics”: 2 added, 1 skipped, 1 rejected.\nRejected:\nline 4: ")
    assert sorted(e.term for e in cw.store.pack_entries[next(iter(cw.store.packs))]) == ["agua", "sol"]


async def test_pack_import_without_a_file_or_slug_says_what_is_missing(chat: Chat) -> None:
    await chat.admin("/pack_new es-basics es en A1 Spanish basics")
    assert texts(await chat.admin("/pack_import es-basics")) == [
        "Attach a CSV or TSV file (term, translation, optional example) to the command.\n"
        "Example: /pack_import spanish-basics (as the caption of words.csv)"
    ]
    assert texts(await chat.admin("/pack_import")) == [
        "Name one pack by its slug.\nExample: /pack_import spanish-basics (as the caption of words.csv)"
    ]


async def test_pack_export_returns_the_csv_file(chat: Chat) -> None:
    await published_pack(chat)
    [reply] = await chat.admin("/pack_export es-basics")
    assert reply.text == "“es-basics” as CSV."
    [file] = reply.files
    assert (file.filename, file.mime_type) == ("es-basics.csv", "text/csv")
    assert file.content.decode().splitlines() == ["term,translation,example", "agua,water,", "sol,sun,", "casa,house,"]


async def test_pack_delete_asks_first_and_applies_once(cw: ChatWorld) -> None:
    chat = cw.chat
    await published_pack(chat)
    asked = await chat.admin("/pack_delete es-basics")
    assert texts(asked) == ["Delete pack “es-basics” (3 words)? Learners keep the words they already added."]
    assert labels(asked) == ["Delete “es-basics”", "Cancel"]
    assert len(cw.store.packs) == 1
    payload = chat.button("Delete “es-basics”", ADMIN).payload
    assert texts(await chat.tap(payload, ADMIN, chat=ADMIN_CHANNEL, group=True)) == ["Deleted pack “es-basics”."]
    assert cw.store.packs == {}
    again = await chat.tap(payload, ADMIN, chat=ADMIN_CHANNEL, group=True)
    assert texts(again) == ["This question was already answered."]


async def test_pack_delete_cancel_keeps_the_pack(cw: ChatWorld) -> None:
    chat = cw.chat
    await published_pack(chat)
    await chat.admin("/pack_delete es-basics")
    cancel = chat.button("Cancel", ADMIN).payload
    assert texts(await chat.tap(cancel, ADMIN, chat=ADMIN_CHANNEL, group=True)) == ["Cancelled: nothing was changed."]
    assert len(cw.store.packs) == 1


@pytest.mark.parametrize(
    ("user", "chat_id", "why"),
    [
        ("ann", ADMIN_CHANNEL, "/pack_new is for pack admins only, and you are not one. Nothing was changed."),
        ("ann", "ann", "/pack_new is for pack admins only, and you are not one. Nothing was changed."),
        (ADMIN, ADMIN, "/pack_new works only in the admin channel. Nothing was changed."),
    ],
)
async def test_admin_commands_are_refused_saying_why(cw: ChatWorld, user: str, chat_id: str, why: str) -> None:
    replies = await cw.chat.send("/pack_new es-basics es en A1 Spanish basics", user, chat=chat_id)
    assert texts(replies) == [why]
    assert cw.store.packs == {}


async def test_every_admin_command_is_refused_for_a_learner(cw: ChatWorld) -> None:
    chat = cw.chat
    await published_pack(chat)
    for command in (
        "pack_add es-basics\nx = y",
        "pack_import es-basics",
        "pack_show es-basics",
        "pack_list",
        "pack_publish es-basics",
        "pack_unpublish es-basics",
        "pack_export es-basics",
        "pack_delete es-basics",
    ):
        name = command.split()[0]
        [reply] = await chat.send(f"/{command}", "ann")
        assert reply.text == f"/{name} is for pack admins only, and you are not one. Nothing was changed."
        assert not reply.files and not reply.buttons
    [pack] = cw.store.packs.values()
    assert (pack.published, len(cw.store.pack_entries[pack.id])) == (True, 3)


async def test_learner_lists_previews_and_subscribes_once(cw: ChatWorld) -> None:
    chat = cw.chat
    await published_pack(chat)
    await chat.onboard()
    listed = await chat.send("/packs")
    assert texts(listed) == ["Packs for Spanish → English (1):", "Spanish basics (es-basics) · A1 · 3 words"]
    assert labels(listed) == ["Preview", "Add to my words"]
    preview = await chat.press("Preview")
    assert texts(preview) == [
        "Spanish basics (es-basics)\nSpanish → English · A1 · 3 words\n\nagua — water\nsol — sun\ncasa — house"
    ]
    await chat.send("/add casa = house")
    added = await chat.press("Add to my words")
    assert texts(added) == ["Added 2 words from “Spanish basics” (1 you already had). They're ready for /review."]
    again = await chat.press("Add to my words")
    assert texts(again) == ["Nothing new: you already have all 3 words of “Spanish basics”."]
    assert sorted(e.term for e in cw.store.words.values()) == ["agua", "casa", "sol"]


async def test_pack_command_previews_and_drafts_are_not_found(chat: Chat) -> None:
    await published_pack(chat)
    await chat.admin("/pack_new draft-one es en A1 Draft")
    await chat.onboard()
    assert labels(await chat.send("/pack es-basics")) == ["Add to my words"]
    assert texts(await chat.send("/pack draft-one")) == ["Not found: pack “draft-one”."]
    assert texts(await chat.send("/pack")) == ["Name one pack by its slug (see /packs).\nExample: /pack spanish-basics"]


async def test_packs_without_a_language_pair_points_to_start(chat: Chat) -> None:
    assert texts(await chat.send("/packs")) == ["No language pair yet: send /start or /language es en A2 first."]


async def test_a_pack_for_another_pair_says_where_the_words_went(cw: ChatWorld) -> None:
    chat = cw.chat
    await published_pack(chat)
    await chat.onboard(target="French")
    await chat.send("/pack es-basics")
    assert texts(await chat.press("Add to my words")) == [
        "Added 3 words from “Spanish basics”. They're ready for /review.\n"
        "They're in your Spanish → English words: switch with /language es en."
    ]
