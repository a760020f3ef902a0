"""Learner flows through the real Telegram adapter: what the learner sees, what the database holds."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter

from tests.e2e.telegram.harness import ANA, BOT_USERNAME, FRONT_HINT, LANGUAGE_BUTTONS, Telegram, texts
from tests.servers.telegram_server import SentMessage

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_onboarding_with_buttons_and_the_command_menu(tg: Telegram) -> None:
    assert tg.bot.username == BOT_USERNAME
    assert {"start", "review", "add", "packs", "pack_import", "delete_me"} <= {c["command"] for c in tg.server.commands}
    assert tg.server.webhook is None and tg.server.counts["deleteWebhook"] == 1

    [welcome] = await tg.send(ANA, "/start")
    assert welcome.text == "Welcome to langlearn! Which language do you want to learn?"
    assert welcome.labels == LANGUAGE_BUTTONS
    [native] = await tg.press(ANA, welcome, "Spanish")
    assert native.text == "Learning Spanish. Which language do you speak?"
    assert native.labels == ["English", "French", "German", "Italian", "Portuguese", "Japanese", "Type a code"]
    [level] = await tg.press(ANA, native, "English")
    assert (level.text, level.labels) == ("Your level in Spanish?", ["A1", "A2", "B1", "B2", "C1", "C2"])
    [done] = await tg.press(ANA, level, "B1")
    assert done.text == (
        "All set: you're learning Spanish (B1) from English.\n"
        "Add words with /add comer = to eat, browse /packs, then /review."
    )
    assert len(tg.server.callback_answers) == 3  # every press stops its spinner
    assert await tg.rows("SELECT target, native, level, is_active FROM language_pair") == [("es", "en", "B1", True)]
    assert await tg.rows("SELECT platform, platform_user_id FROM chat_identity") == [("telegram", str(ANA))]
    assert await tg.rows("SELECT display_name FROM learner") == [("Ana",)]


async def test_adding_one_many_inflected_and_duplicate_words(tg: Telegram) -> None:
    await tg.onboard()
    assert texts(await tg.send(ANA, "/add comer = to eat")) == ["Added 1:\ncomer — to eat"]
    assert texts(await tg.send(ANA, "/add casa = house\nperro = dog")) == ["Added 2:\ncasa — house\nperro — dog"]
    inflected = await tg.send(ANA, "/add hablaban")
    assert texts(inflected) == [
        "Added 1:\nhablar (hablaban) — (needs a translation)",
        "What does “hablar” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await tg.send(ANA, "to speak")) == ["Saved: hablar — to speak. It's ready for /review."]
    assert texts(await tg.send(ANA, "/add comer = to eat")) == ["Already in your words: comer"]
    assert sorted(await tg.rows("SELECT term, translation, context FROM word_bank_entry")) == [
        ("casa", "house", None),
        ("comer", "to eat", None),
        ("hablar", "to speak", "hablaban"),
        ("perro", "dog", None),
    ]
    assert await tg.count("flashcard") == 4


async def test_a_plain_short_term_is_offered_as_a_word(tg: Telegram) -> None:
    await tg.onboard()
    [offer] = await tg.send(ANA, "gato")
    assert offer.labels == ["Add “gato”"]
    await tg.press(ANA, offer, "Add “gato”")
    assert await tg.rows("SELECT term FROM word_bank_entry") == [("gato",)]


class ApiCalls:
    """The Bot API calls the bot made since the last look (the poller's getUpdates left out)."""

    def __init__(self, tg: Telegram) -> None:
        self._tg = tg
        self._seen = Counter(tg.server.counts)

    def since(self) -> dict[str, int]:
        now = Counter(self._tg.server.counts)
        made = now - self._seen
        self._seen = now
        return {method: n for method, n in made.items() if method != "getUpdates"}


def rated(card: SentMessage, label: str) -> str:
    """The outcome line of pressing `label` ("Good") on the card's back, from its button ("Good · 10m")."""
    [button] = [b for b in card.labels if b.startswith(f"{label} · ")]
    return f"{label} · next in {button.split(' · ')[1]}"


async def test_a_review_session_by_buttons_is_one_message_edited_as_it_moves_on(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house\nperro = dog")
    [card] = await tg.send(ANA, "/review")
    assert (card.text, card.labels) == (f"comer\n\n{FRONT_HINT}", ["Show answer"])
    calls = ApiCalls(tg)
    one_edit = {"answerCallbackQuery": 1, "editMessageText": 1}  # per press: the spinner stopped, the card edited

    assert await tg.press(ANA, card, "Show answer") == []  # the card itself turns over
    assert card.text == "comer → to eat\nHow well did you know it?"
    assert [label.split(" · ")[0] for label in card.labels] == ["Again", "Hard", "Good", "Easy"]
    assert calls.since() == one_edit

    outcome = rated(card, "Good")
    assert await tg.press(ANA, card, "Good") == []  # no new message: the outcome, then the next card
    assert card.text == f"comer → to eat\n{outcome}\n\ncasa\n\n{FRONT_HINT}"
    assert card.labels == ["Show answer"]
    assert calls.since() == one_edit

    assert await tg.press(ANA, card, "Show answer") == []
    assert card.text == "casa → house\nHow well did you know it?"
    assert calls.since() == one_edit
    outcome = rated(card, "Easy")
    assert await tg.press(ANA, card, "Easy") == []
    assert card.text == f"casa → house\n{outcome}\n\nperro\n\n{FRONT_HINT}"
    assert calls.since() == one_edit

    assert await tg.press(ANA, card, "Show answer") == []
    assert card.text == "perro → dog\nHow well did you know it?"
    assert calls.since() == one_edit
    outcome = rated(card, "Again")
    assert await tg.press(ANA, card, "Again") == []
    assert card.text.startswith(f"perro → dog\n{outcome}\n\nSession over: 3 reviewed, 2 correct. Next card due in ")
    assert card.labels == []
    assert calls.since() == one_edit
    assert card.edits == 6
    assert [m for m in tg.server.messages(ANA) if m.message_id >= card.message_id] == [card]  # the session: one message
    assert sorted(await tg.rows("SELECT rating, mode FROM review_event")) == [
        (1, "button"),
        (3, "button"),
        (4, "button"),
    ]


async def test_each_typed_answer_is_one_message_with_the_next_card(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house\nperro = dog")
    [card] = await tg.send(ANA, "/review")
    calls = ApiCalls(tg)

    [exact] = await tg.send(ANA, "to eat")
    assert re.fullmatch(rf"✓ Correct: to eat · next in \w+\n\ncasa\n\n{re.escape(FRONT_HINT)}", exact.text)
    assert exact.labels == ["Show answer"]
    assert calls.since() == {"sendMessage": 1}
    [near] = await tg.send(ANA, "huose")
    assert re.fullmatch(
        rf"≈ Almost — the correct form is: house · next in \w+\n\nperro\n\n{re.escape(FRONT_HINT)}", near.text
    )
    assert calls.since() == {"sendMessage": 1}
    [wrong] = await tg.send(ANA, "cat")
    assert re.fullmatch(
        r"✗ The answer is: dog · next in \w+\n\nSession over: 3 reviewed, 2 correct\. Next card due in \S+\.",
        wrong.text,
    )
    assert wrong.labels == []
    assert calls.since() == {"sendMessage": 1}
    assert (card.text, card.edits) == (f"comer\n\n{FRONT_HINT}", 0)  # a typed answer edits nothing
    assert sorted(await tg.rows("SELECT rating, mode, answer_text FROM review_event")) == [
        (1, "typed", "cat"),
        (2, "typed", "huose"),
        (3, "typed", "to eat"),
    ]


async def test_a_card_that_cannot_be_edited_any_more_is_sent_as_a_new_message(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat")
    [card] = await tg.send(ANA, "/review")
    tg.server.fail_next.append(("editMessageText", 400, "Bad Request: message can't be edited"))
    [back] = await tg.press(ANA, card, "Show answer")
    assert back.text == "comer → to eat\nHow well did you know it?"
    assert [label.split(" · ")[0] for label in back.labels] == ["Again", "Hard", "Good", "Easy"]
    assert (card.text, card.edits) == (f"comer\n\n{FRONT_HINT}", 0)


async def test_packs_browse_preview_and_subscribe_once(tg: Telegram) -> None:
    await tg.publish_pack()
    await tg.onboard()
    await tg.send(ANA, "/add casa = house")
    listed = await tg.send(ANA, "/packs")
    assert texts(listed) == ["Packs for Spanish → English (1):", "Spanish basics (es-basics) · A1 · 3 words"]
    pack = listed[-1]
    assert pack.labels == ["Preview", "Add to my words"]
    preview = await tg.press(ANA, pack, "Preview")
    assert texts(preview) == [
        "Spanish basics (es-basics)\nSpanish → English · A1 · 3 words\n\nagua — water\nsol — sun\ncasa — house"
    ]
    added = await tg.press(ANA, pack, "Add to my words")
    assert texts(added) == ["Added 2 words from “Spanish basics” (1 you already had). They're ready for /review."]
    assert await tg.press(ANA, pack, "Add to my words") == []  # nothing new: said by the toast alone
    assert tg.server.callback_answers[-1]["text"] == "Nothing new: you already have all 3 words of “Spanish basics”."

    assert sorted(await tg.rows("SELECT term, source FROM word_bank_entry")) == [
        ("agua", "pack:es-basics"),
        ("casa", "manual"),
        ("sol", "pack:es-basics"),
    ]


async def test_stats_sends_its_chart_as_a_photo(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house")
    await tg.send(ANA, "/review")
    await tg.send(ANA, "to eat")
    sent = await tg.send(ANA, "/stats")
    [photo] = [message for message in sent if message.kind == "photo"]
    assert photo.content is not None and photo.content.startswith(PNG_MAGIC) and len(photo.content) > 5_000
    shown = "\n".join(message.text for message in sent)
    assert "Streak: 1 day\nReviews today: 1\n" in shown and "Words: 2" in shown
    assert (ANA, "upload_photo") in tg.server.chat_actions


async def test_export_sends_json_and_an_anki_csv(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house")
    sent = await tg.send(ANA, "/export")
    assert sent[0].text.startswith("Your data: everything as JSON, and your words as a CSV for Anki")
    documents = {message.file_name: message.content for message in sent if message.kind == "document"}
    assert set(documents) == {"langlearn-export.json", "langlearn-anki.csv"}
    exported = json.loads(documents["langlearn-export.json"] or b"")
    assert "comer" in json.dumps(exported, ensure_ascii=False)
    rows = list(csv.reader(io.StringIO((documents["langlearn-anki.csv"] or b"").decode())))
    assert {(row[0], row[1]) for row in rows if len(row) >= 2} >= {("comer", "to eat"), ("casa", "house")}
    assert (ANA, "upload_document") in tg.server.chat_actions


async def test_delete_me_asks_then_removes_the_learner(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat")
    [asked] = await tg.send(ANA, "/delete_me")
    assert asked.text.startswith("Delete everything about you — words, cards, review history, settings?")
    assert asked.labels == ["Yes, delete everything", "Cancel"]
    done = await tg.press(ANA, asked, "Yes, delete everything")
    shown = texts(done) or [asked.text]
    assert shown == ["Done: everything about you is deleted. Send /start to begin again."]
    for table in ("learner", "chat_identity", "language_pair", "word_bank_entry", "flashcard"):
        assert await tg.count(table) == 0, table


async def test_stop_lets_the_update_in_flight_finish_and_confirms_it(tg: Telegram) -> None:
    await tg.onboard()
    tg.server.method_delay["sendMessage"] = 0.5  # the answer is on its way when the stop comes
    sending = tg.server.counts["sendMessage"] + 1
    update_id = tg.server.send_text(ANA, "/add comer = to eat")
    await tg.server.wait_until(lambda: tg.server.counts["sendMessage"] == sending, what="the answer to be sending")
    assert not tg.server.is_confirmed(update_id)
    await tg.bot.stop()
    assert tg.server.is_confirmed(update_id)
    assert tg.server.last(ANA).text == "Added 1:\ncomer — to eat"
    later = tg.server.send_text(ANA, "/add casa = house")  # after the stop: nobody handles it, nobody confirms it
    assert not tg.server.is_confirmed(later)
    assert await tg.rows("SELECT term FROM word_bank_entry") == [("comer",)]
