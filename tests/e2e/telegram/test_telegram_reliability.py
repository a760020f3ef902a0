"""What users type, however odd, and what Telegram does twice: escaped text, long answers, redelivery,
double and foreign presses."""

from __future__ import annotations

import re

import pytest

from bots.chat.events import Event
from bots.chat.replies import Reply
from tests.e2e.telegram.harness import ANA, BEN, FRONT_HINT, Telegram, texts


async def test_html_special_text_is_escaped_and_round_trips_exactly(tg: Telegram) -> None:
    await tg.onboard()
    [added] = await tg.send(ANA, "/add <b>& = &lt;i&gt; & <u>")
    assert added.text == "Added 1:\n<b>& — &lt;i&gt; & <u>"  # what Ana reads, after Telegram parsed the HTML
    assert "&lt;b&gt;&amp;" in added.html and "&amp;lt;i&amp;gt;" in added.html
    assert await tg.rows("SELECT term, translation FROM word_bank_entry") == [("<b>&", "&lt;i&gt; & <u>")]
    [words] = await tg.send(ANA, "/words")
    assert "<b>& — &lt;i&gt; & <u>" in words.text

    [offer] = await tg.send(ANA, "a<b>c&d")
    assert offer.labels == ["Add “a<b>c&d”"]
    await tg.press(ANA, offer, "Add")
    assert sorted(await tg.rows("SELECT term FROM word_bank_entry")) == [("<b>&",), ("a<b>c&d",)]


async def test_an_answer_over_4096_characters_is_split_at_line_breaks(tg: Telegram) -> None:
    await tg.onboard()
    terms = [f"palabra{n:02d}" + "a" * 71 for n in range(40)]  # 80 characters each, 3,284 in the message
    sent = await tg.send(ANA, "/add " + "\n".join(terms))  # the report lists all 40: over 4,096
    assert all(len(message.text) <= 4096 for message in sent)
    report = [message for message in sent if not message.text.startswith("What does")]
    assert len(report) >= 2, [len(message.text) for message in sent]
    assert report[0].text.startswith("Added 40:\n")
    lines = "\n".join(message.text for message in report).splitlines()[1:]
    stored = sorted(term for (term,) in await tg.rows("SELECT term FROM word_bank_entry"))
    assert stored == sorted(terms)
    assert sorted(lines) == sorted(f"{term} — (needs a translation)" for term in stored)  # no line cut in two


async def test_an_update_delivered_twice_is_handled_once(tg: Telegram) -> None:
    await tg.onboard()
    update_id = tg.server.send_text(ANA, "/add comer = to eat")
    first = await tg.deliver(update_id)
    assert texts(first) == ["Added 1:\ncomer — to eat"]
    # the process dies before its next getUpdates could confirm: Telegram sends the update again
    await tg.restart()
    tg.server.redeliver(update_id)
    assert await tg.deliver(update_id) == []
    # and twice in one batch
    twice = tg.server.send_text(ANA, "/add casa = house")
    tg.server.redeliver(twice)
    assert texts(await tg.deliver(twice)) == ["Added 1:\ncasa — house"]
    assert sorted(await tg.rows("SELECT term FROM word_bank_entry")) == [("casa",), ("comer",)]
    assert tg.server.texts(ANA).count("Added 1:\ncomer — to eat") == 1


async def _rating_card(tg: Telegram) -> tuple[str, int]:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat\ncasa = house")
    [card] = await tg.send(ANA, "/review")
    await tg.press(ANA, card, "Show answer")
    good = card.button("Good").callback_data
    assert good is not None
    return good, card.message_id


async def test_a_button_pressed_twice_applies_once(tg: Telegram) -> None:
    good, card_id = await _rating_card(tg)
    card = next(message for message in tg.server.messages(ANA) if message.message_id == card_id)
    first = tg.server.press_data(ANA, card, good)
    second = tg.server.press_data(ANA, card, good)  # a double tap: both before the bot answers
    await tg.server.wait_confirmed(first)
    await tg.server.wait_confirmed(second)
    assert await tg.rows("SELECT rating, mode FROM review_event") == [(3, "button")]
    # the next card shown once: on the pressed card, edited by the first press only
    assert card.text.startswith("comer → to eat\nGood · next in ") and card.text.endswith(f"\n\ncasa\n\n{FRONT_HINT}")
    assert card.edits == 2  # Show answer, then the rating; the second tap edits nothing
    assert tg.server.messages(ANA)[-1] is card  # and no new message
    answers = [answer.get("text") for answer in tg.server.callback_answers[-2:]]
    assert answers[0] is None and answers[1] == "This card was already reviewed."


async def test_a_foreign_button_press_changes_nothing(tg: Telegram) -> None:
    good, card_id = await _rating_card(tg)
    await tg.onboard(BEN)
    card = next(message for message in tg.server.messages(ANA) if message.message_id == card_id)
    shown, edits = card.text, card.edits
    sent = await tg.press_data(BEN, card, good)
    assert sent == []
    assert (card.text, card.edits) == (shown, edits)
    assert tg.server.callback_answers[-1].get("text")  # Ben is told, by the toast
    assert await tg.count("review_event") == 0
    # and a forged payload is an expired button, nothing more
    assert await tg.press_data(ANA, card, "x" * 40) == []
    assert re.search("expired", tg.server.callback_answers[-1].get("text", ""))
    assert await tg.count("review_event") == 0


async def test_a_pack_deep_link_offers_the_pack(tg: Telegram) -> None:
    await tg.publish_pack()
    sent = await tg.send(ANA, "/start pack-es-basics")
    assert texts(sent) == [
        "Welcome to langlearn! Which language do you want to learn?",
        "Spanish basics (es-basics)\nSpanish → English · A1 · 3 words\n\nagua — water\nsol — sun\ncasa — house",
    ]
    assert "Add to my words" in sent[-1].labels


async def test_a_voice_note_is_answered_without_downloading_it(tg: Telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat layer gets the note described (size, duration, type) with a fetch for its bytes: one it
    only answers is never downloaded; reading it downloads exactly the bytes the learner sent."""
    await tg.onboard()
    seen: list[Event] = []
    handle = tg.bot._chat.handle

    async def recording(event: Event) -> list[Reply]:
        seen.append(event)
        return await handle(event)

    monkeypatch.setattr(tg.bot._chat, "handle", recording)
    audio = b"OggS\x00\x02" + bytes(range(200))
    before = tg.server.counts["getFile"], tg.server.counts["download"]
    sent = await tg.deliver(tg.server.send_voice(ANA, audio, duration=3))
    assert texts(sent) == [
        "Voice answers are not configured: set DEEPGRAM_API_KEY to enable them. Type your answer instead."
    ]
    assert (tg.server.counts["getFile"], tg.server.counts["download"]) == before
    [event] = seen
    assert event.attachment is not None
    assert (event.attachment.size, event.attachment.duration_s, event.attachment.mime_type) == (206, 3, "audio/ogg")
    assert await event.attachment.read() == audio
    assert tg.server.counts["getFile"] == before[0] + 1
    assert (await tg.deliver(tg.server.send_voice(ANA, b"OggS" + b"\x00" * 10, duration=75)))[0].text == (
        "That voice note is too long: voice answers are at most 60 seconds."
    )


async def test_a_429_from_telegram_is_waited_out_and_the_learner_still_gets_the_answer(tg: Telegram) -> None:
    await tg.onboard()
    tg.server.fail_next.append(("sendMessage", 429, "Too Many Requests: retry after 1"))
    assert texts(await tg.send(ANA, "/add comer = to eat")) == ["Added 1:\ncomer — to eat"]
    assert tg.server.errors[429] == 1


async def test_a_learner_who_blocked_the_bot_costs_nothing_and_the_bot_goes_on(tg: Telegram) -> None:
    await tg.onboard()
    tg.server.blocked_users.add(ANA)
    assert await tg.send(ANA, "/add comer = to eat") == []
    assert tg.server.errors[403] == 1
    assert await tg.rows("SELECT term FROM word_bank_entry") == [("comer",)]  # the work itself was done
    tg.server.blocked_users.clear()  # unblocked
    assert texts(await tg.send(ANA, "/add casa = house")) == ["Added 1:\ncasa — house"]
