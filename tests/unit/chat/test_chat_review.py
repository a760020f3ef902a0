"""Review sessions: card buttons, interval labels, typed answers, /stop, stale and foreign buttons."""

from __future__ import annotations

from datetime import timedelta

from core.domain.models import ReviewMode
from tests.unit.chat.conftest import ChatWorld, build_chat_world
from tests.unit.chat.harness import Chat, labels, texts

FRONT_HINT = "In English? Type your answer, or press Show answer."
RATINGS = ["Again · 1m", "Hard · 6m", "Good · 10m", "Easy · 8d"]


async def ready(chat: Chat, user: str = "ann", words: str = "comer = to eat\ncasa = house") -> None:
    await chat.onboard(user)
    await chat.send(f"/add {words}", user)


async def test_a_card_with_show_answer_then_rating_buttons_with_intervals(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat)
    front = await chat.send("/review")
    assert texts(front) == [f"comer\n\n{FRONT_HINT}"]
    assert labels(front) == ["Show answer"]

    back = await chat.press("Show answer")
    assert texts(back) == ["comer → to eat\nHow well did you know it?"]
    assert labels(back) == RATINGS
    assert back[0].edit is True

    rated = await chat.press("Good · 10m")
    # one message, replacing the pressed card: its outcome, then the next card with its buttons
    assert texts(rated) == [f"comer → to eat\nGood · next in 10m\n\ncasa\n\n{FRONT_HINT}"]
    assert labels(rated) == ["Show answer"]
    assert rated[0].edit is True
    [event] = cw.store.reviews
    assert (event.rating, event.mode) == (3, ReviewMode.BUTTON)
    card = cw.store.cards[event.card_id]
    assert card.due == cw.clock() + timedelta(minutes=10)


async def test_listen_is_offered_when_speech_is_said_to_be_available() -> None:
    cw = build_chat_world(speech=True)  # but these services have no synthesizer: the press says which setting
    await ready(cw.chat)
    front = await cw.chat.send("/review")
    assert labels(front) == ["Show answer", "Listen"]
    assert texts(await cw.chat.press("Listen")) == ["Speech is not configured: set GEMINI_API_KEY to enable it."]
    # (tests/unit/chat/test_chat_background.py: Listen with speech configured)


async def test_typed_answers_are_graded_exact_near_and_wrong(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat, words="comer = to eat\ncasa = house\nperro = dog")
    await chat.send("/review")
    exact = await chat.send("to eat")
    # one new message per answer (nothing was pressed): the verdict, then the next card with its buttons
    assert texts(exact) == [f"✓ Correct: to eat · next in 10m\n\ncasa\n\n{FRONT_HINT}"]
    assert labels(exact) == ["Show answer"] and exact[0].edit is False
    near = await chat.send("huose")
    assert texts(near) == [f"≈ Almost — the correct form is: house · next in 6m\n\nperro\n\n{FRONT_HINT}"]
    wrong = await chat.send("cat")
    assert texts(wrong) == [
        "✗ The answer is: dog · next in 1m\n\nSession over: 3 reviewed, 2 correct. Next card due in 1m."
    ]
    assert labels(wrong) == []
    assert [(e.rating, e.mode, e.answer_text) for e in cw.store.reviews] == [
        (3, ReviewMode.TYPED, "to eat"),
        (2, ReviewMode.TYPED, "huose"),
        (1, ReviewMode.TYPED, "cat"),
    ]
    assert cw.store.conversations[await chat.learner_id()].flow is None


async def test_stop_ends_with_a_summary(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat)
    await chat.send("/review")
    await chat.send("to eat")
    assert texts(await chat.send("/stop")) == ["Session over: 1 reviewed, 1 correct. Next card due in 10m."]
    assert texts(await chat.send("/stop")) == ["Nothing to stop. Start a review with /review."]


async def test_nothing_due_says_when_the_next_card_is(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/review")) == [
        "Nothing to review right now. No cards scheduled yet: add words with /add or pick a pack with /packs."
    ]
    await chat.send("/add comer = to eat")
    await chat.send("/review")
    await chat.press("Show answer")
    await chat.press("Easy · 8d")
    assert texts(await chat.send("/review")) == ["Nothing to review right now. Next card due in 8d."]


async def test_a_button_pressed_twice_or_late_applies_nothing(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat)
    await chat.send("/review")
    await chat.press("Show answer")
    good = chat.button("Good · 10m")
    await chat.tap(good.payload)
    twice = await chat.tap(good.payload)
    assert texts(twice) == ["This card was already reviewed."]
    assert twice[0].notice == "This card was already reviewed."
    assert len(cw.store.reviews) == 1
    await chat.send("/stop")
    late = await chat.tap(chat.button("Show answer").payload)
    assert texts(late) == ["This review session is over — send /review to start a new one."]
    assert len(cw.store.reviews) == 1


async def test_show_answer_twice_is_a_notice(chat: Chat) -> None:
    await ready(chat)
    await chat.send("/review")
    show = chat.button("Show answer")
    await chat.tap(show.payload)
    again = await chat.tap(show.payload)
    assert texts(again) == ["The answer is already shown."]


async def test_someone_elses_review_button_is_refused_and_changes_nothing(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat, "ann")
    await ready(chat, "bob")
    await chat.send("/review", "ann")
    await chat.press("Show answer", "ann")
    before = dict(cw.store.cards)
    stolen = await chat.press("Good · 10m", "ann", by="bob")
    assert texts(stolen) == ["This button isn't for you."]
    assert stolen[0].notice == "This button isn't for you."
    assert cw.store.reviews == [] and cw.store.cards == before


async def test_a_stranger_pressing_a_personal_button_is_not_signed_up(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat)
    await chat.send("/review")
    replies = await chat.press("Show answer", by="stranger")
    assert texts(replies) == ["This button has expired."]
    assert ("telegram", "stranger") not in cw.store.identities


async def test_review_continues_after_another_command(chat: Chat) -> None:
    await ready(chat)
    await chat.send("/review")
    await chat.send("/words")
    assert texts(await chat.send("to eat")) == [f"✓ Correct: to eat · next in 10m\n\ncasa\n\n{FRONT_HINT}"]


async def test_a_card_whose_word_is_removed_mid_session_gives_way_to_the_next(cw: ChatWorld) -> None:
    chat = cw.chat
    await ready(chat)
    await chat.send("/review")
    assert texts(await chat.send("/remove comer")) == ["Removed “comer” and its cards."]
    gone = await chat.press("Show answer")
    assert texts(gone) == [f"That card's word was removed from your words.\n\ncasa\n\n{FRONT_HINT}"]
    assert labels(gone) == ["Show answer"] and gone[0].edit is True  # it replaces the pressed card
    assert texts(await chat.send("/remove casa")) == ["Removed “casa” and its cards."]
    replies = await chat.send("house")
    [text] = texts(replies)
    assert text.startswith("That card's word was removed from your words.\n\nSession ended: 0 reviewed, 0 correct.")
    assert replies[0].edit is False
    assert cw.store.reviews == []
