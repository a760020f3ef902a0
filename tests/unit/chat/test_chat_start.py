"""Getting started: /start onboarding with buttons or typed codes, /language, /help."""

from __future__ import annotations

from bots.chat.commands import COMMANDS
from tests.unit.chat.conftest import ChatWorld
from tests.unit.chat.harness import Chat, labels, texts

LANGUAGE_BUTTONS = ["Spanish", "French", "German", "Italian", "Portuguese", "Japanese", "English", "Type a code"]


async def test_start_walks_through_target_native_and_level_with_buttons(cw: ChatWorld) -> None:
    chat = cw.chat
    first = await chat.send("/start")
    assert texts(first) == ["Welcome to langlearn! Which language do you want to learn?"]
    assert labels(first) == LANGUAGE_BUTTONS

    native = await chat.press("Spanish")
    assert texts(native) == ["Learning Spanish. Which language do you speak?"]
    assert labels(native) == ["English", "French", "German", "Italian", "Portuguese", "Japanese", "Type a code"]

    level = await chat.press("English")
    assert texts(level) == ["Your level in Spanish?"]
    assert labels(level) == ["A1", "A2", "B1", "B2", "C1", "C2"]

    done = await chat.press("B1")
    assert texts(done) == [
        "All set: you're learning Spanish (B1) from English.\n"
        "Add words with /add comer = to eat, browse /packs, then /review."
    ]
    [pair] = cw.store.pairs.values()
    assert (pair.target, pair.native, pair.level, pair.is_active) == ("es", "en", "B1", True)
    assert cw.store.conversations[pair.learner_id].flow is None


async def test_typed_codes_and_names_are_accepted_during_onboarding(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.send("/start")
    typed = await chat.press("Type a code")
    assert texts(typed)[0].startswith("Type the language code, e.g. ko for Korean. Supported: ca (Catalan), cs (Czech)")
    assert texts(await chat.send("ko")) == ["Learning Korean. Which language do you speak?"]
    assert texts(await chat.send("German")) == ["Your level in Korean?"]
    assert texts(await chat.send("a2"))[0].startswith("All set: you're learning Korean (A2) from German.")
    [pair] = cw.store.pairs.values()
    assert (pair.target, pair.native, pair.level) == ("ko", "de", "A2")


async def test_an_unknown_typed_code_lists_the_supported_ones_and_keeps_the_step(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.send("/start")
    [answer] = texts(await chat.send("xx"))
    assert answer.startswith("“xx” is not a supported language code. Supported: ca, cs, da, de,")
    assert answer.endswith("\nExample: /language es en A2")
    assert texts(await chat.send("es")) == ["Learning Spanish. Which language do you speak?"]


async def test_a_late_onboarding_button_changes_nothing(chat: Chat) -> None:
    await chat.onboard()
    replies = await chat.tap(chat.button("A1").payload)
    assert texts(replies) == ["Your languages are already set — use /language to change them."]
    assert replies[0].notice == replies[0].text


async def test_start_again_welcomes_back(chat: Chat) -> None:
    await chat.onboard()
    assert texts(await chat.send("/start")) == [
        "Welcome back! You're learning Spanish (A2) from English.\n"
        "/review to study, /add to capture words, /help for everything."
    ]


async def test_start_with_a_pack_deep_link_offers_the_pack(chat: Chat) -> None:
    await chat.admin("/pack_new es-basics es en A1 Spanish basics")
    await chat.admin("/pack_add es-basics\nagua = water")
    await chat.admin("/pack_publish es-basics")
    replies = await chat.send("/start pack-es-basics")
    assert texts(replies) == [
        "Welcome to langlearn! Which language do you want to learn?",
        "Spanish basics (es-basics)\nSpanish → English · A1 · 1 word\n\nagua — water",
    ]
    assert labels(replies)[-1] == "Add to my words"
    missing = await chat.send("/start pack-nope", user="bob")
    assert texts(missing)[1] == "Not found: pack “nope”."


async def test_language_sets_directly_and_switches_with_buttons(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    assert texts(await chat.send("/language fr en B2")) == [
        "All set: you're learning French (B2) from English.\n"
        "Add words with /add comer = to eat, browse /packs, then /review."
    ]
    shown = await chat.send("/language")
    assert texts(shown) == [
        "Your languages (✓ = active):\n· Spanish → English (A2)\n✓ French → English (B2)\n"
        "Set one directly: /language es en A2"
    ]
    assert labels(shown) == ["Switch to Spanish → English", "Add language"]
    switched = await chat.press("Switch to Spanish → English")
    assert texts(switched) == ["Now learning Spanish → English (A2)."]
    active = [p for p in cw.store.pairs.values() if p.is_active]
    assert [(p.target, p.native) for p in active] == [("es", "en")]


async def test_add_language_starts_onboarding_for_another_pair(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/language")
    assert texts(await chat.press("Add language")) == ["Which language do you want to learn?"]
    await chat.press("German")
    await chat.press("English")
    await chat.press("A1")
    assert sorted((p.target, p.is_active) for p in cw.store.pairs.values()) == [("de", True), ("es", False)]


async def test_language_with_bad_arguments_says_what_is_wrong_with_an_example(chat: Chat) -> None:
    assert texts(await chat.send("/language es")) == [
        "Give the code of the language you learn, your own language's code and optionally your level.\n"
        "Example: /language es en A2"
    ]
    assert texts(await chat.send("/language es en Z9")) == [
        "“Z9” is not a CEFR level. Use one of A1, A2, B1, B2, C1, C2.\nExample: /language es en A2"
    ]
    assert texts(await chat.send("/language es es")) == [
        "The language you learn and your own language must differ.\nExample: /language es en A2"
    ]


async def test_help_lists_every_command_one_line_each(chat: Chat) -> None:
    [text] = texts(await chat.send("/help"))
    lines = text.splitlines()
    assert lines[0] == "Commands:"
    assert [line.split()[0] for line in lines[1:]] == [f"/{command.name}" for command in COMMANDS]
    for name in (
        "start",
        "language",
        "add",
        "words",
        "remove",
        "review",
        "packs",
        "pack",
        "stats",
        "settings",
        "export",
        "delete_me",
        "pack_new",
        "pack_add",
        "pack_import",
        "pack_show",
        "pack_list",
        "pack_publish",
        "pack_unpublish",
        "pack_export",
        "pack_delete",
        "listen",
        "article",
        "adventure",
        "adventure_end",
        "jobs",
    ):
        assert any(
            line.startswith(f"/{name} ") or line == f"/{name}" or line.startswith(f"/{name} —") for line in lines
        ), name
