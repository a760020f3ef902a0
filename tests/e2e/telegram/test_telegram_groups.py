"""Group behaviour through the real Telegram adapter: silence unless addressed, personal answers in private."""

from __future__ import annotations

from tests.e2e.telegram.harness import ANA, BEN, BOT_USERNAME, FRONT_HINT, GROUP, Telegram


async def test_group_messages_not_addressed_to_the_bot_get_no_reply_at_all(tg: Telegram) -> None:
    await tg.onboard()
    before = len(tg.server.calls)
    assert await tg.send(ANA, "hola a todos", chat=GROUP) == []
    assert await tg.send(ANA, "/review@otherbot", chat=GROUP) == []
    assert await tg.send(ANA, "gato @someone_else", chat=GROUP) == []
    assert tg.server.messages(GROUP) == []
    # not a message, a chat action, a download or a callback answer: only polling
    assert {call.method for call in tg.server.calls[before:]} == {"getUpdates"}
    assert await tg.count("word_bank_entry") == 0


async def test_a_message_that_mentions_the_bot_is_answered_in_the_group(tg: Telegram) -> None:
    await tg.onboard()
    answered = await tg.send(ANA, f"@{BOT_USERNAME} gato", chat=GROUP)
    assert [message.chat_id for message in answered] == [GROUP]
    assert answered[0].text


async def test_a_personal_command_in_a_group_is_answered_in_private_with_a_button_to_it(tg: Telegram) -> None:
    await tg.onboard()
    await tg.send(ANA, "/add comer = to eat")
    sent = await tg.send(ANA, f"/review@{BOT_USERNAME}", chat=GROUP)
    private = [message for message in sent if message.chat_id == ANA]
    group = [message for message in sent if message.chat_id == GROUP]
    assert [(m.text, m.labels) for m in private] == [(f"comer\n\n{FRONT_HINT}", ["Show answer"])]
    [note] = group
    assert note.text == "Ana, I've answered you in our private chat."
    [[button]] = note.buttons
    assert (button.label, button.url, button.callback_data) == (
        "Open private chat",
        f"https://t.me/{BOT_USERNAME}",
        None,
    )
    # the card works in the private chat as any other
    await tg.press(ANA, private[0], "Show answer")
    assert private[0].text == "comer → to eat\nHow well did you know it?"


async def test_a_personal_command_from_someone_who_never_started_the_bot_links_to_start(tg: Telegram) -> None:
    sent = await tg.send(BEN, f"/stats@{BOT_USERNAME}", chat=GROUP, first_name="Ben")
    [note] = sent
    assert note.chat_id == GROUP
    assert note.text.startswith("Ben, I can't write to you privately yet: open our private chat, press Start")
    [[button]] = note.buttons
    assert button.label == "Open private chat"
    assert button.url is not None and button.url.startswith(f"https://t.me/{BOT_USERNAME}?start=")
    assert tg.server.errors[403] >= 1  # Telegram refused the private message
    assert tg.server.messages(BEN) == []


async def test_a_reply_to_the_bots_message_in_a_group_is_addressed_to_it(tg: Telegram) -> None:
    await tg.onboard()
    [note] = [m for m in await tg.send(ANA, f"/stats@{BOT_USERNAME}", chat=GROUP) if m.chat_id == GROUP]
    assert await tg.send(ANA, "gato", chat=GROUP) == []  # not addressed
    answered = await tg.send(ANA, "gato", chat=GROUP, reply_to=note.message_id)
    assert [message.chat_id for message in answered] == [GROUP]
