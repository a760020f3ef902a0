"""Words: /add (with and without a translator), owed translations, /words pages, /remove, offered terms."""

from __future__ import annotations

from tests.fakes import FakeTranslator
from tests.unit.chat.conftest import ChatWorld, build_chat_world
from tests.unit.chat.harness import Chat, labels, texts


def bank(cw: ChatWorld) -> dict[str, str | None]:
    return {entry.term: entry.translation for entry in cw.store.words.values()}


async def test_add_with_translations_and_duplicates(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/add comer = to eat\ncasa = house")) == ["Added 2:\ncomer — to eat\ncasa — house"]
    assert texts(await chat.send("/add casa = home")) == ["Already in your words: casa"]
    assert bank(cw) == {"comer": "to eat", "casa": "house"}
    assert len(cw.store.cards) == 2


async def test_an_inflected_word_is_reduced_to_its_lemma(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/add comían")) == [
        "Added 1:\ncomer (comían) — (needs a translation)",
        "What does “comer” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await chat.send("to eat")) == ["Saved: comer — to eat. It's ready for /review."]
    [entry] = cw.store.words.values()
    assert (entry.term, entry.context, entry.translation) == ("comer", "comían", "to eat")


async def test_a_word_with_its_own_translation_keeps_the_typed_form(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/add comían = they ate")) == ["Added 1:\ncomían — they ate"]


async def test_without_a_translator_the_bot_asks_and_the_next_text_is_the_translation(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    replies = await chat.send("/add perro\ngato")
    assert texts(replies) == [
        "Added 2:\nperro — (needs a translation)\ngato — (needs a translation)",
        "What does “perro” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert cw.store.cards == {}
    assert texts(await chat.send("dog")) == [
        "Saved: perro — dog. It's ready for /review.",
        "What does “gato” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await chat.send("cat")) == ["Saved: gato — cat. It's ready for /review."]
    assert bank(cw) == {"perro": "dog", "gato": "cat"}
    assert len(cw.store.cards) == 2
    # The flow is over: a plain word is offered again, not taken as a translation.
    assert texts(await chat.send("libro")) == ["Add “libro” to your words?"]


async def test_cancel_leaves_the_entry_pending_and_words_shows_it(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add perro")
    assert texts(await chat.send("/cancel")) == ["OK. “perro” will wait for a translation; /words shows them."]
    assert bank(cw) == {"perro": None}
    assert cw.store.cards == {}
    listed = await chat.send("/words")
    assert texts(listed) == ["Your words (1), page 1 of 1:\nperro — (needs a translation)"]
    assert labels(listed) == ["Add missing translations"]
    assert texts(await chat.press("Add missing translations")) == [
        "What does “perro” mean? Send the translation, or /cancel to leave it for later."
    ]
    await chat.send("dog")
    assert bank(cw) == {"perro": "dog"}


async def test_stop_also_leaves_the_translation_question(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add perro")
    assert texts(await chat.send("/stop")) == ["OK. “perro” will wait for a translation; /words shows them."]
    assert cw.store.conversations[await chat.learner_id()].flow is None


async def test_with_a_translator_nothing_is_asked() -> None:
    cw = build_chat_world(translator=FakeTranslator())
    await cw.chat.onboard()
    assert texts(await cw.chat.send("/add perro")) == ["Added 1:\nperro — dog"]
    assert bank(cw) == {"perro": "dog"}


async def test_add_without_arguments_or_with_too_many_lines_says_what_is_wrong(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/add")) == ["Tell me which word to add.\nExample: /add comer = to eat"]
    lines = "\n".join(f"palabra{i} = word {i}" for i in range(101))
    assert texts(await chat.send(f"/add {lines}")) == [
        "Too many lines: 101. One message adds at most 100 words.\nExample: /add comer = to eat"
    ]
    assert cw.store.words == {}


async def test_add_before_choosing_languages_points_to_start(chat: Chat) -> None:
    assert texts(await chat.send("/add perro = dog")) == [
        "No language pair yet: send /start or /language es en A2 first."
    ]


async def test_words_pages_with_previous_and_next(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add " + "\n".join(f"w{i:02d} = t{i}" for i in range(12)))
    first = await chat.send("/words")
    assert texts(first)[0].splitlines()[0] == "Your words (12), page 1 of 2:"
    assert labels(first) == ["Next"]
    second = await chat.press("Next")
    assert texts(second)[0].splitlines()[0] == "Your words (12), page 2 of 2:"
    assert len(texts(second)[0].splitlines()) == 3
    assert labels(second) == ["Previous"]
    assert second[0].edit is True
    assert texts(await chat.send("/words two")) == ["“two” is not a page number.\nExample: /words 2"]
    assert texts(await chat.send("/words 99"))[0].splitlines()[0] == "Your words (12), page 2 of 2:"


async def test_empty_word_bank(chat: Chat) -> None:
    await chat.onboard()
    assert texts(await chat.send("/words")) == [
        "Your word bank is empty. Add words with /add comer = to eat, or browse /packs."
    ]


async def test_remove(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add comer = to eat")
    assert texts(await chat.send("/remove comer")) == ["Removed “comer” and its cards."]
    assert cw.store.words == {} and cw.store.cards == {}
    assert texts(await chat.send("/remove comer")) == ["“comer” is not in your words."]
    assert texts(await chat.send("/remove")) == ["Tell me which one word to remove.\nExample: /remove comer"]


async def test_a_short_plain_term_is_offered_once(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    offered = await chat.send("el libro")
    assert texts(offered) == ["Add “el libro” to your words?"]
    assert labels(offered) == ["Add “el libro”"]
    added = await chat.press("Add “el libro”")
    assert texts(added)[0] == "Added 1:\nel libro — (needs a translation)"
    again = await chat.press("Add “el libro”")
    assert texts(again) == ["“el libro” was already added."]
    assert again[0].notice == "“el libro” was already added."
    assert list(bank(cw)) == ["el libro"]


async def test_longer_plain_text_gets_a_hint(chat: Chat) -> None:
    await chat.onboard()
    hint = "Send /help to see what I can do. To add a word: /add comer = to eat"
    assert texts(await chat.send("this is a whole sentence about nothing")) == [hint]
    assert texts(await chat.send("two\nlines")) == [hint]


async def test_a_plain_term_before_onboarding_points_to_start(chat: Chat) -> None:
    assert texts(await chat.send("perro")) == ["Pick your languages first: send /start."]


async def test_a_translator_that_is_down_is_named_and_the_learner_asked() -> None:
    cw = build_chat_world(translator=FakeTranslator(fail=True))
    await cw.chat.onboard()
    replies = await cw.chat.send("/add perro")
    assert texts(replies) == [
        "Added 1:\nperro — (needs a translation)\n\n"
        "No automatic translation: DeepL is unavailable right now: test outage. Please give the translations yourself.",
        "What does “perro” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert cw.store.cards == {}


async def test_a_word_removed_while_its_translation_is_asked_does_not_stick_the_questions(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add nadar\ncorrer")
    # removed elsewhere (the learner's Discord identity, another process): this chat's question stays open
    [learner_id] = cw.store.learners
    await chat.services.vocabulary.remove_word(learner_id, "nadar")
    assert texts(await chat.send("to swim")) == [
        "“nadar” is no longer in your words, so nothing was saved.",
        "What does “correr” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await chat.send("to run")) == ["Saved: correr — to run. It's ready for /review."]
    assert bank(cw) == {"correr": "to run"}


async def test_another_command_closes_the_translation_question(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add perro")
    await chat.send("/words")
    assert texts(await chat.send("gato")) == ["Add “gato” to your words?"]
    assert bank(cw) == {"perro": None}


async def test_a_second_add_queues_its_questions_after_the_open_ones(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add perro")
    replies = await chat.send("/add gato")
    assert texts(replies)[-1] == "What does “perro” mean? Send the translation, or /cancel to leave it for later."
    assert texts(await chat.send("dog")) == [
        "Saved: perro — dog. It's ready for /review.",
        "What does “gato” mean? Send the translation, or /cancel to leave it for later.",
    ]
    assert texts(await chat.send("cat")) == ["Saved: gato — cat. It's ready for /review."]
