"""Background work through Telegram: the messenger on the local Bot API server, then /article, /listen,
/jobs and the buttons of delivered messages through the real bot, the in-process queue (no REDIS_URL),
Postgres and the local Anthropic, Gemini and DeepL servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bots.chat import payloads
from bots.telegram.messenger import TelegramMessenger, build_telegram_messenger
from core.domain.errors import ProviderUnavailable, RecipientUnavailable
from core.domain.models import ActionButton, DeliveryAddress, OutgoingMessage, SpeechClip
from tests.e2e.telegram.harness import ANA, settings_for
from tests.servers.telegram_server import TOKEN, BotApiServer

OGG = b"OggS\x00\x02" + bytes(200)


def address(user: int = ANA) -> DeliveryAddress:
    return DeliveryAddress(platform="telegram", chat_id=str(user), user_id=str(user))


def clip(**refs: str) -> SpeechClip:
    return SpeechClip(
        cache_key="ab" * 32, media_key="speech/ab/x.ogg", language="es", voice="Kore", model="tts", duration_s=1.0,
        platform_refs=dict(refs),
    )


# --- the messenger alone ----------------------------------------------------------------------


@pytest.fixture
async def messenger_server() -> AsyncIterator[tuple[BotApiServer, TelegramMessenger]]:
    """A Bot API server with Ana's private chat open, and the worker's messenger on it."""
    server = BotApiServer()
    await server.start()
    server.started_users.add(ANA)
    messenger, close = build_telegram_messenger(settings_for("sqlite+aiosqlite:///:memory:", server.url))
    try:
        yield server, messenger
    finally:
        await close()
        await server.stop()


async def test_text_with_hidden_translation_and_a_button(
    messenger_server: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = messenger_server
    button = ActionButton(label="Add all words", action="add_words", ref="0c8f7f7e-3a51-4a5e-9a0e-8d1f2f3b4c5d")
    message = OutgoingMessage(text="Translation", spoiler="The <cat> & the dog", buttons=[[button]])
    [sent] = await messenger.send(address(), message)
    [shown] = server.messages(ANA)
    assert sent.message_id == str(shown.message_id) and sent.platform_file_id is None
    assert shown.text == "Translation\n\nThe <cat> & the dog"
    assert "<tg-spoiler>The &lt;cat&gt; &amp; the dog</tg-spoiler>" in shown.html
    [[added]] = shown.buttons
    assert added.label == "Add all words"
    decoded = payloads.decode(added.callback_data)
    assert decoded == payloads.Payload("jb.w", payloads.PUBLIC, (button.ref,))


async def test_long_text_is_split_and_edits_change_the_status_line(
    messenger_server: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = messenger_server
    paragraphs = "\n\n".join(f"Párrafo {n}. " + "palabra " * 120 for n in range(8))
    sent = await messenger.send(address(), OutgoingMessage(text=paragraphs))
    assert len(sent) == len(server.messages(ANA)) >= 2
    assert all(len(m.text) <= 4096 for m in server.messages(ANA))
    [status] = await messenger.send(address(), OutgoingMessage(text="⏳ Your article is queued."))
    await messenger.edit_text(address(), status.message_id, "✍️ Writing <your> article…")
    await messenger.edit_text(address(), status.message_id, "✍️ Writing <your> article…")  # unchanged: no error
    edited = server.messages(ANA)[-1]
    assert (edited.text, edited.edits) == ("✍️ Writing <your> article…", 1)


async def test_voice_is_uploaded_once_then_sent_by_file_id(
    messenger_server: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = messenger_server
    [uploaded] = await messenger.send(address(), OutgoingMessage(voice=clip(), voice_audio=OGG))
    assert uploaded.platform_file_id
    [first_call] = server.calls_of("sendVoice")
    assert first_call.files["voice"] == OGG
    [again] = await messenger.send(address(), OutgoingMessage(voice=clip(telegram=uploaded.platform_file_id)))
    second_call = server.calls_of("sendVoice")[-1]
    assert second_call.files == {} and second_call.params["voice"] == uploaded.platform_file_id
    assert [m.kind for m in server.messages(ANA)] == ["voice", "voice"]
    assert server.messages(ANA)[-1].content == OGG
    assert again.platform_file_id == uploaded.platform_file_id


async def test_blocked_chat_and_outage_are_the_ports_errors(
    messenger_server: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = messenger_server
    server.blocked_users.add(ANA)
    with pytest.raises(RecipientUnavailable):
        await messenger.send(address(), OutgoingMessage(text="⏰ 3 cards are due for review."))
    server.blocked_users.clear()
    server.fail_next.append(("sendMessage", 400, "Bad Request: can't parse entities"))
    with pytest.raises(ProviderUnavailable) as raised:
        await messenger.send(address(), OutgoingMessage(text="hola"))
    assert "Telegram" in str(raised.value) and TOKEN not in str(raised.value)
