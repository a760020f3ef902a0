"""TelegramMessenger's voice messages against the local Bot API server: uploaded bytes, a reused
file_id, and a file_id Telegram no longer knows (400 "wrong file identifier")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bots.telegram.messenger import TelegramMessenger
from core.domain.errors import ProviderUnavailable, StalePlatformFile
from core.domain.models import DeliveryAddress, OutgoingMessage, SpeechClip
from tests.servers.telegram_server import TOKEN, BotApiServer

ANA = 1001
ADDRESS = DeliveryAddress("telegram", str(ANA), str(ANA))
AUDIO = b"OggS\x00fake opus"


@pytest.fixture
async def api() -> AsyncIterator[tuple[BotApiServer, TelegramMessenger]]:
    server = BotApiServer()
    url = await server.start()
    server.started_users.add(ANA)
    bot = Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")
    messenger = TelegramMessenger(bot, initialize=True)
    try:
        yield server, messenger
    finally:
        await messenger.close()
        await server.stop()


def clip(file_id: str | None = None) -> SpeechClip:
    refs = {"telegram": file_id} if file_id is not None else {}
    return SpeechClip("k" * 64, "speech/kk/k.ogg", "es", "Kore", "tts-test", 1.0, platform_refs=refs)


async def test_an_upload_returns_a_file_id_that_later_sends_reuse(api: tuple[BotApiServer, TelegramMessenger]) -> None:
    server, messenger = api
    [uploaded] = await messenger.send(ADDRESS, OutgoingMessage(voice=clip(), voice_audio=AUDIO))
    assert uploaded.platform_file_id is not None
    [again] = await messenger.send(ADDRESS, OutgoingMessage(voice=clip(uploaded.platform_file_id)))
    assert again.platform_file_id == uploaded.platform_file_id
    assert [(m.kind, m.content) for m in server.messages(ANA)] == [("voice", AUDIO), ("voice", AUDIO)]


async def test_a_forgotten_file_id_without_audio_asks_the_caller_to_send_the_bytes(
    api: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = api
    [uploaded] = await messenger.send(ADDRESS, OutgoingMessage(voice=clip(), voice_audio=AUDIO))
    assert uploaded.platform_file_id is not None
    server.forget_file(uploaded.platform_file_id)

    with pytest.raises(StalePlatformFile) as raised:
        await messenger.send(ADDRESS, OutgoingMessage(voice=clip(uploaded.platform_file_id)))
    assert raised.value.file_id == uploaded.platform_file_id and raised.value.platform == "telegram"
    assert not isinstance(raised.value, ProviderUnavailable)  # not retried with the same id for ever
    assert len(server.messages(ANA)) == 1  # only the first upload reached Ana


async def test_a_stale_file_id_with_the_audio_at_hand_is_replaced_by_a_new_upload(
    api: tuple[BotApiServer, TelegramMessenger],
) -> None:
    server, messenger = api
    message = OutgoingMessage(text="Escucha:", voice=clip("FILE-EXPIRED-LONG-AGO"), voice_audio=AUDIO)
    sent = await messenger.send(ADDRESS, message)
    new_id = sent[-1].platform_file_id
    assert new_id is not None and new_id != "FILE-EXPIRED-LONG-AGO"
    assert [(m.kind, m.content) for m in server.messages(ANA)] == [("text", None), ("voice", AUDIO)]
    [again] = await messenger.send(ADDRESS, OutgoingMessage(voice=clip(new_id)))  # the new id works
    assert again.platform_file_id == new_id


async def test_other_refusals_of_a_voice_by_id_stay_retryable(api: tuple[BotApiServer, TelegramMessenger]) -> None:
    server, messenger = api
    [uploaded] = await messenger.send(ADDRESS, OutgoingMessage(voice=clip(), voice_audio=AUDIO))
    assert uploaded.platform_file_id is not None
    server.fail_next.append(("sendVoice", 500, "Internal Server Error"))
    with pytest.raises(ProviderUnavailable):
        await messenger.send(ADDRESS, OutgoingMessage(voice=clip(uploaded.platform_file_id)))
