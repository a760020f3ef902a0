"""Speech: cached by (text, language, voice, model); a hit calls no provider, uploads nothing on
Telegram (the file_id is reused) and costs no quota; only real syntheses count."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import Settings
from core.domain.errors import InvalidInput, ProviderNotConfigured, QuotaExceeded, UnsupportedLanguage
from core.domain.models import JobKind, JobStatus, Learner
from core.domain.services import SpeechService
from tests.fakes import FakeLanguageModel, FakeSpeechSynthesizer, JobWorld, build_job_world


def world_with(speech_quota: int = 200, **kwargs: Any) -> JobWorld:
    settings = Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:", DAILY_SPEECH_QUOTA=speech_quota)
    return build_job_world(settings=settings, **kwargs)


async def listen(world: JobWorld, learner: Learner, text: str, **params: Any) -> str:
    requested = await world.jobs.jobs.request(learner.id, JobKind.SPEECH, {"text": text, **params}, world.address())
    return requested.job.id


async def test_the_second_request_for_a_text_calls_no_provider_uploads_nothing_and_is_free() -> None:
    world = world_with(speech_quota=1)
    learner = await world.learner()
    first = await listen(world, learner, "¿Dónde está la estación?")
    await world.run_enqueued()
    assert world.synthesizer.calls == [("¿Dónde está la estación?", "es", "Kore")]
    [clip] = world.uow.store.speech_clips.values()
    assert (clip.requested_by, clip.platform_refs, clip.language, clip.voice) == (
        learner.id,
        {"telegram": "file-1"},
        "es",
        "Kore",
    )
    assert world.media.objects[clip.media_key].startswith(b"OggS")
    uploaded = world.messenger.delivered[-1].message
    assert uploaded.voice_audio is not None

    second = await listen(world, learner, "  ¿Dónde  está la estación? ")  # same text: allowed at the quota
    await world.run_enqueued()
    assert len(world.synthesizer.calls) == 1 and len(world.media.puts) == 1
    reused = world.messenger.delivered[-1].message
    assert reused.voice is not None and reused.voice.platform_refs == {"telegram": "file-1"}
    assert reused.voice_audio is None and world.messenger.uploads == 1
    assert world.stored_job(first).steps["record"]["synthesized"] is True
    assert world.stored_job(second).steps["record"]["synthesized"] is False

    with pytest.raises(QuotaExceeded) as refused:
        await listen(world, learner, "Adiós")
    assert str(refused.value) == (
        "You have used today's 1 voice messages. More from midnight (UTC time), in 12 h."
    )


async def test_queued_requests_count_toward_the_quota_so_none_can_be_queued_beyond_it() -> None:
    world = world_with(speech_quota=2)
    learner = await world.learner()
    await listen(world, learner, "uno")
    await listen(world, learner, "dos")  # nothing synthesised yet: both wait in the queue
    with pytest.raises(QuotaExceeded, match="used today's 2 voice messages"):
        await listen(world, learner, "tres")
    await world.run_enqueued()
    assert [call[0] for call in world.synthesizer.calls] == ["uno", "dos"]
    assert [job.status for job in world.uow.store.jobs.values()] == [JobStatus.DONE] * 2
    await listen(world, learner, "uno")  # cached now: free
    with pytest.raises(QuotaExceeded):  # after they ran: the two syntheses count
        await listen(world, learner, "tres")


async def test_the_quota_is_checked_again_when_the_synthesis_happens() -> None:
    world = world_with(speech_quota=1)
    learner = await world.learner()
    late = await listen(world, learner, "dos")  # accepted: nothing synthesised yet
    await world.jobs.speech.clip_for(learner.id, "uno", "es")  # meanwhile, a concurrent request's synthesis
    await world.run_enqueued()
    assert [call[0] for call in world.synthesizer.calls] == ["uno"]
    assert world.stored_job(late).status is JobStatus.FAILED
    assert world.messenger.texts()[-1].startswith(
        "Sorry, your voice message could not be made. You have used today's 1 voice messages."
    )


async def test_the_same_text_queued_twice_is_synthesised_once() -> None:
    world = world_with()
    learner, other = await world.learner(), await world.learner("2002")
    await listen(world, learner, "Buenos días")
    await world.jobs.jobs.request(other.id, JobKind.SPEECH, {"text": "Buenos días"}, world.address("2002"))
    await world.run_enqueued()
    assert len(world.synthesizer.calls) == 1
    assert [item.address.chat_id for item in world.messenger.delivered] == ["1001", "2002"]
    assert world.messenger.uploads == 1


async def test_a_listen_request_is_checked() -> None:
    world = world_with()
    learner = await world.learner()
    with pytest.raises(InvalidInput, match="after the command"):
        await listen(world, learner, "   ")
    with pytest.raises(InvalidInput, match="301 characters; /listen reads up to 300"):
        await listen(world, learner, "a" * 301)
    with pytest.raises(UnsupportedLanguage):
        await listen(world, learner, "hola", language="xx")
    job_id = await listen(world, learner, "a" * 300)
    assert world.stored_job(job_id).params == {"text": "a" * 300, "language": "es"}
    job_id = await listen(world, learner, "bonjour", language="FR")
    assert world.stored_job(job_id).params == {"text": "bonjour", "language": "fr"}

    unconfigured = world_with(speech=False)
    with pytest.raises(ProviderNotConfigured, match="GEMINI_API_KEY"):
        await listen(unconfigured, await unconfigured.learner(), "hola")


async def test_the_cache_key_names_text_language_voice_and_model() -> None:
    world = world_with()
    speech = world.jobs.speech
    assert speech.cache_key("hola", "es") == speech.cache_key(" hola ", "es")
    assert speech.cache_key("hola", "es") != speech.cache_key("hola", "fr")
    assert speech.cache_key("a|es", "es") != speech.cache_key("a", "es|es")
    other_model = SpeechService(world.uow, FakeSpeechSynthesizer(model="tts-2"), world.media, world.clock, 10)
    assert other_model.cache_key("hola", "es") != speech.cache_key("hola", "es")
    assert await speech.cached("hola", "es") is None
    learner = await world.learner()
    result = await speech.clip_for(learner.id, "hola", "es")
    assert result.synthesized and (await speech.cached("hola", "es")) == result.clip


async def test_audio_gone_from_the_store_is_made_again_for_an_upload() -> None:
    world = world_with()
    learner = await world.learner()
    speech = world.jobs.speech
    result = await speech.clip_for(learner.id, "hola", "es")
    world.media.objects.clear()
    message = await speech.voice_message(result.clip, "discord", source_text="hola")
    assert message.voice_audio is not None and message.voice_audio.startswith(b"OggS")
    assert len(world.synthesizer.calls) == 2 and result.clip.media_key in world.media.objects
    async with world.uow() as uow:
        assert await uow.speech_cache.count_requested_since(learner.id, world.clock().replace(hour=0)) == 1


async def test_article_narration_does_not_count_toward_the_speech_quota() -> None:
    model = FakeLanguageModel(
        json_answers=[{"title": "Hola", "text": "Hola, amigo.", "new_words": []}], text_answers=["Hello, friend."]
    )
    world = world_with(speech_quota=0, model=model)
    learner = await world.learner()
    with pytest.raises(QuotaExceeded, match=r"Voice messages are turned off here\."):
        await listen(world, learner, "hola")
    await world.jobs.jobs.request(learner.id, JobKind.ARTICLE, {}, world.address())
    await world.run_enqueued()
    [clip] = world.uow.store.speech_clips.values()
    assert clip.requested_by is None
    voice = world.messenger.delivered[-1].message.voice
    assert voice is not None and voice.cache_key == clip.cache_key


async def test_an_upload_id_the_platform_forgot_is_replaced_by_a_new_upload() -> None:
    model = FakeLanguageModel(
        json_answers=[{"title": "Hola", "text": "Hola, amigo.", "new_words": []}], text_answers=["Hello, friend."]
    )
    world = world_with(model=model)
    learner = await world.learner()
    await listen(world, learner, "Hola, amigo.")
    await world.run_enqueued()
    world.messenger.stale_files.add("file-1")  # Telegram no longer knows it ("wrong file identifier")

    again = await listen(world, learner, "Hola, amigo.")
    await world.run_enqueued()
    assert world.stored_job(again).status is JobStatus.DONE
    resent = world.messenger.delivered[-1].message
    assert resent.voice_audio is not None and world.messenger.uploads == 2
    [clip] = world.uow.store.speech_clips.values()
    assert clip.platform_refs == {"telegram": "file-2"}  # the new id replaces the forgotten one
    world.messenger.stale_files.add("file-2")
    await world.jobs.jobs.request(learner.id, JobKind.ARTICLE, {}, world.address())  # its narration: same text
    await world.run_enqueued()
    assert world.messenger.uploads == 3 and world.uow.store.speech_clips[clip.cache_key].platform_refs == {
        "telegram": "file-3"
    }
    assert len(world.synthesizer.calls) == 1  # the audio came from the media store each time


async def test_send_voice_replaces_a_forgotten_upload_id_for_a_cached_listen() -> None:
    world = world_with()
    learner = await world.learner()
    speech = world.jobs.speech
    clip = (await speech.clip_for(learner.id, "hola", "es")).clip
    await speech.send_voice(world.messenger, world.address(), clip, source_text="hola")
    world.messenger.stale_files.add("file-1")
    cached = await speech.cached("hola", "es")
    assert cached is not None and cached.platform_refs == {"telegram": "file-1"}
    sent = await speech.send_voice(world.messenger, world.address(), cached, source_text="hola")
    assert [item.platform_file_id for item in sent] == ["file-2"]
    assert world.uow.store.speech_clips[clip.cache_key].platform_refs == {"telegram": "file-2"}
