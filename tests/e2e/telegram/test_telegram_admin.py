"""Admin flows through the real Telegram adapter: pack import from a document, export, and refusals."""

from __future__ import annotations

from tests.e2e.telegram.harness import ADMIN, ADMIN_CHAT, ANA, GROUP, Telegram, texts

CSV = b"term,translation\nagua,water\nsol,sun\n,empty\nagua,water again\n"
NOT_AN_ADMIN = "/{name} is for pack admins only, and you are not one. Nothing was changed."
NOT_HERE = "/{name} works only in the admin channel. Nothing was changed."


async def test_admin_imports_a_csv_document_and_exports_it_back(tg: Telegram) -> None:
    [created] = await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    assert created.chat_id == ADMIN_CHAT and created.text.startswith("Created draft pack “es-basics”")
    tg.server.method_delay["getFile"] = 0.8  # a slow download: the admin sees "typing…" meanwhile

    [report] = await tg.document(ADMIN, "words.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT)
    assert report.chat_id == ADMIN_CHAT
    assert report.text.startswith("“es-basics”: 2 added, 1 skipped, 1 rejected.\nRejected:\nline 4: ")
    assert tg.server.counts["getFile"] == 1 and tg.server.counts["download"] == 1
    assert (ADMIN_CHAT, "typing") in tg.server.chat_actions
    assert await tg.rows("SELECT term, translation FROM pack_entry ORDER BY position") == [
        ("agua", "water"),
        ("sol", "sun"),
    ]

    sent = await tg.admin("/pack_export es-basics")
    [document] = [message for message in sent if message.kind == "document"]
    assert (document.chat_id, document.file_name) == (ADMIN_CHAT, "es-basics.csv")
    assert document.content is not None
    assert document.content.decode().splitlines() == ["term,translation,example", "agua,water,", "sol,sun,"]
    assert "“es-basics” as CSV." in [message.text for message in sent]


async def test_admin_commands_from_anyone_else_or_anywhere_else_change_nothing(tg: Telegram) -> None:
    await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    await tg.admin("/pack_add es-basics\nagua = water")

    # a learner, in their private chat and in the admin chat
    refused = await tg.document(ANA, "words.csv", CSV, caption="/pack_import es-basics")
    assert texts(refused) == [NOT_AN_ADMIN.format(name="pack_import")]
    refused = await tg.send(ANA, "/pack_publish es-basics", chat=ADMIN_CHAT)
    assert [(m.chat_id, m.text) for m in refused] == [(ADMIN_CHAT, NOT_AN_ADMIN.format(name="pack_publish"))]
    # the admin, in a chat that is not an admin chat: told why
    refused = await tg.document(ADMIN, "words.csv", CSV, caption="/pack_import es-basics")
    assert texts(refused) == [NOT_HERE.format(name="pack_import")]
    refused = await tg.send(ADMIN, "/pack_publish es-basics", chat=GROUP, first_name="Ada")
    assert [(m.chat_id, m.text) for m in refused] == [(GROUP, NOT_HERE.format(name="pack_publish"))]
    refused = await tg.send(ADMIN, "/pack_delete es-basics")
    assert texts(refused) == [NOT_HERE.format(name="pack_delete")]

    assert await tg.rows("SELECT slug, published FROM pack") == [("es-basics", False)]
    assert await tg.rows("SELECT term FROM pack_entry") == [("agua",)]


async def test_a_file_over_the_20_mb_download_limit_is_refused_without_a_download(tg: Telegram) -> None:
    await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    big = 21 * 1024 * 1024
    [refused] = await tg.document(
        ADMIN, "huge.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT, file_size=big
    )
    assert refused.chat_id == ADMIN_CHAT
    assert refused.text.startswith("That file is over Telegram's 20 MB download limit")
    assert tg.server.counts["getFile"] == 0 and tg.server.counts["download"] == 0
    assert await tg.count("pack_entry") == 0


async def test_pack_delete_confirmed_in_the_admin_chat_is_answered_there_in_place(tg: Telegram) -> None:
    await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    await tg.admin("/pack_add es-basics\nagua = water")
    [question] = await tg.admin("/pack_delete es-basics")
    assert question.chat_id == ADMIN_CHAT and question.text.startswith("Delete pack “es-basics”")

    delete = question.button("Delete").callback_data
    assert delete is not None
    sent = await tg.press(ADMIN, question, "Delete")
    assert sent == []  # no private note, no new message: the question itself becomes the answer
    [edited] = [m for m in tg.server.messages(ADMIN_CHAT) if m.message_id == question.message_id]
    assert edited.text == "Deleted pack “es-basics”." and edited.edits == 1
    assert edited.buttons == []
    assert tg.server.messages(ADMIN) == []  # nothing was sent to the admin's private chat
    assert await tg.count("pack") == 0

    again = await tg.press_data(ADMIN, question, delete)  # a second press: a toast, nothing else
    assert again == [] and tg.server.callback_answers[-1].get("text") == "This question was already answered."


async def test_pack_delete_cancelled_in_the_admin_chat_edits_the_question(tg: Telegram) -> None:
    await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    [question] = await tg.admin("/pack_delete es-basics")
    assert await tg.press(ADMIN, question, "Cancel") == []
    [edited] = [m for m in tg.server.messages(ADMIN_CHAT) if m.message_id == question.message_id]
    assert (edited.text, edited.buttons) == ("Cancelled: nothing was changed.", [])
    assert await tg.count("pack") == 1


async def test_files_nobody_will_read_are_never_downloaded(tg: Telegram) -> None:
    """Only /pack_import from an admin in an admin chat fetches its document; every other file
    gets the same answer as before, and the server sees no getFile."""
    await tg.admin("/pack_new es-basics es en A1 Spanish basics")
    await tg.onboard(ANA)
    # a captionless document (a video, say) in a private chat: the hint, no download
    [hint] = await tg.document(ANA, "holiday.mp4", b"x" * 4096)
    assert hint.text.startswith("Files are for admins importing word packs")
    # even over 20 MB: the same hint, not the download-limit refusal (nothing would read it)
    [hint] = await tg.document(ANA, "huge.mp4", b"x", file_size=21 * 1024 * 1024)
    assert hint.text.startswith("Files are for admins importing word packs")
    # /pack_import from a learner, anywhere, and from the admin outside the admin chat: refused
    refused = await tg.document(ANA, "words.csv", CSV, caption="/pack_import es-basics")
    assert texts(refused) == [NOT_AN_ADMIN.format(name="pack_import")]
    refused = await tg.document(ANA, "words.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT)
    assert texts(refused) == [NOT_AN_ADMIN.format(name="pack_import")]
    refused = await tg.document(ADMIN, "words.csv", CSV, caption="/pack_import es-basics")
    assert texts(refused) == [NOT_HERE.format(name="pack_import")]
    assert tg.server.counts["getFile"] == 0 and tg.server.counts["download"] == 0
    assert await tg.count("pack_entry") == 0
    # the admin in the admin chat: downloaded once and imported
    [report] = await tg.document(ADMIN, "words.csv", CSV, caption="/pack_import es-basics", chat=ADMIN_CHAT)
    assert report.text.startswith("“es-basics”: 2 added")
    assert tg.server.counts["getFile"] == 1 and tg.server.counts["download"] == 1
