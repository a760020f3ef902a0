"""Speech: text read aloud, cached by (text, language, voice, model), delivered as a voice message.

A cache hit makes no provider call and costs no quota; on platforms that return an id for an
upload (Telegram's file_id) the id is remembered and sent instead of the audio. An id the platform
no longer knows (StalePlatformFile) is forgotten and the audio uploaded again once; the new id
replaces the old one. Only real
syntheses a learner asked for count toward DAILY_SPEECH_QUOTA (article narration is covered by
the article quota). A request is also refused when the syntheses of today plus the learner's
SPEECH jobs still queued or running reach the quota, so nobody can queue unlimited syntheses;
the count errs on the strict side (a pending job for a text cached meanwhile, or one that has just
synthesised, counts too). Two requests at the same instant may both pass: the quota is checked
again when the synthesis happens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from core.domain.errors import InvalidInput, NotFound, ProviderNotConfigured, StalePlatformFile
from core.domain.models import (
    DeliveryAddress,
    JobKind,
    OutgoingMessage,
    SentMessage,
    SpeechClip,
    SpeechResult,
)
from core.domain.ports import Clock, MediaStore, Messenger, SpeechSynthesizer, UnitOfWork, UnitOfWorkFactory
from core.domain.services._quotas import check_daily_quota, learner_day_start
from core.domain.services._rules import language_code, load_active_pair
from core.domain.services.jobs import JobRun

LISTEN_MAX_CHARS = 300
LISTEN_EXAMPLE = "/listen ¿Dónde está la estación?"
AUDIO_TYPE = "audio/ogg"


def normalise_text(text: str) -> str:
    """The text as it is read and cached: whitespace runs become one space."""
    return " ".join(text.split())


class SpeechService:
    """Speech clips for texts, and the SPEECH job kind (/listen, the Listen button on cards)."""

    kind = JobKind.SPEECH
    label = "voice message"

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        synthesizer: SpeechSynthesizer | None,
        media: MediaStore | None,
        clock: Clock,
        daily_quota: int,
    ) -> None:
        self._uow = uow
        self._synthesizer = synthesizer
        self._media = media
        self._clock = clock
        self._daily_quota = daily_quota

    @property
    def configured(self) -> bool:
        return self._synthesizer is not None and self._media is not None

    def cache_key(self, text: str, language: str) -> str:
        """sha256 of the JSON list [text, language, voice, model] (unambiguous whatever the text holds)."""
        synthesizer = self._require()[0]
        identity = [normalise_text(text), language, synthesizer.voice_for(language), synthesizer.model]
        return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()

    async def cached(self, text: str, language: str) -> SpeechClip | None:
        """The cached clip of the text, None when it was never synthesised (no provider call)."""
        key = self.cache_key(text, language)
        async with self._uow(read_only=True) as uow:
            return await uow.speech_cache.get(key)

    async def clip_for(self, learner_id: str, text: str, language: str, *, counted: bool = True) -> SpeechResult:
        """The clip of `text`: from the cache, else synthesised (QuotaExceeded first when `counted`).

        The provider is called outside any transaction; a concurrent synthesis of the same text
        stores one clip (the first), both callers get it.
        """
        synthesizer, media = self._require()
        text = normalise_text(text)
        key = self.cache_key(text, language)
        async with self._uow() as uow:
            clip = await uow.speech_cache.get(key)
            if clip is not None:
                return SpeechResult(clip=clip, audio=None, synthesized=False)
            if counted:
                await self._check_quota(uow, learner_id, self._clock())
        speech = await synthesizer.synthesize(text, language, synthesizer.voice_for(language))
        media_key = f"speech/{key[:2]}/{key}.ogg"
        await media.put(media_key, speech.audio, speech.mime_type or AUDIO_TYPE)
        clip = SpeechClip(
            cache_key=key,
            media_key=media_key,
            language=language,
            voice=speech.voice,
            model=speech.model,
            duration_s=speech.duration_s,
            platform_refs={},
            requested_by=learner_id if counted else None,
            created_at=self._clock(),
        )
        async with self._uow() as uow:
            if not await uow.speech_cache.add(clip):
                clip = await uow.speech_cache.get(key) or clip
            await uow.commit()
        return SpeechResult(clip=clip, audio=speech.audio, synthesized=True)

    async def voice_message(
        self, clip: SpeechClip, platform: str, audio: bytes | None = None, *, source_text: str | None = None
    ) -> OutgoingMessage:
        """The voice message of `clip` on `platform`: its upload id when known, else the audio bytes.

        Audio gone from the media store is synthesised again from `source_text` (uncounted);
        without it, NotFound.
        """
        if platform in clip.platform_refs:
            return OutgoingMessage(voice=clip)
        synthesizer, media = self._require()
        if audio is None:
            audio = await media.get(clip.media_key)
        if audio is None:
            if source_text is None:
                raise NotFound("the audio of this voice message")
            speech = await synthesizer.synthesize(normalise_text(source_text), clip.language, clip.voice)
            await media.put(clip.media_key, speech.audio, speech.mime_type or AUDIO_TYPE)
            audio = speech.audio
        return OutgoingMessage(voice=clip, voice_audio=audio)

    async def remember_upload(self, clip: SpeechClip, platform: str, sent: Sequence[SentMessage]) -> None:
        """Store the platform's id of the audio just uploaded (replacing a stale one), so the next send reuses it."""
        file_id = _new_upload_id(clip, platform, sent)
        if file_id is None:
            return
        async with self._uow() as uow:
            await uow.speech_cache.set_platform_ref(clip.cache_key, platform, file_id)
            await uow.commit()
        clip.platform_refs[platform] = file_id

    async def send_voice(
        self,
        messenger: Messenger,
        address: DeliveryAddress,
        clip: SpeechClip,
        audio: bytes | None = None,
        *,
        source_text: str | None = None,
    ) -> list[SentMessage]:
        """Send `clip` as a voice message (its upload id when known, else the audio) and remember the upload.

        An upload id the platform no longer knows is forgotten and the audio sent once more.
        """
        platform = messenger.platform
        message = await self.voice_message(clip, platform, audio, source_text=source_text)
        try:
            sent = await messenger.send(address, message)
        except StalePlatformFile:
            clip.platform_refs.pop(platform, None)
            message = await self.voice_message(clip, platform, audio, source_text=source_text)
            sent = await messenger.send(address, message)
        await self.remember_upload(clip, platform, sent)
        return sent

    async def deliver_voice(self, run: JobRun, clip: SpeechClip, audio: bytes | None, source_text: str) -> None:
        """Part "voice" of a job: `clip` sent once, as `send_voice` does (a forgotten upload id is replaced)."""
        platform = run.address.platform

        async def voice() -> OutgoingMessage:
            return await self.voice_message(clip, platform, audio, source_text=source_text)

        async def remember(uow: UnitOfWork, sent: list[SentMessage]) -> None:  # stored with the delivery
            file_id = _new_upload_id(clip, platform, sent)
            if file_id is not None:
                await uow.speech_cache.set_platform_ref(clip.cache_key, platform, file_id)

        try:
            sent = await run.deliver("voice", voice, also=remember)
        except StalePlatformFile:
            clip.platform_refs.pop(platform, None)  # the next build carries the audio; its new id replaces this one
            sent = await run.deliver("voice", voice, also=remember)
        file_id = None if sent is None else _new_upload_id(clip, platform, sent)
        if file_id is not None:
            clip.platform_refs[platform] = file_id

    # --- the SPEECH job -----------------------------------------------------------------------

    async def prepare(
        self, uow: UnitOfWork, learner_id: str, params: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        """Params {"text", "language"?}: 1–300 characters; the active pair's language by default.

        The quota is checked now too (unless the text is cached), counting the learner's SPEECH
        jobs not finished yet, so a learner over it is told at once.
        """
        self._require()
        text = normalise_text(str(params.get("text") or ""))
        if not text:
            raise InvalidInput("Send the text to read aloud after the command.", example=LISTEN_EXAMPLE)
        if len(text) > LISTEN_MAX_CHARS:
            raise InvalidInput(
                f"That is {len(text)} characters; /listen reads up to {LISTEN_MAX_CHARS}.", example=LISTEN_EXAMPLE
            )
        requested = params.get("language")
        language = language_code(str(requested)) if requested else (await load_active_pair(uow, learner_id)).target
        if await uow.speech_cache.get(self.cache_key(text, language)) is None:
            await self._check_quota(uow, learner_id, now, count_pending=True)
        return {"text": text, "language": language}

    async def execute(self, run: JobRun) -> None:
        """Step "record" (the clip's cache key), then part "voice"."""
        text, language = run.job.params["text"], run.job.params["language"]
        fresh: list[SpeechResult] = []  # the clip when this run recorded it (else it is read back)

        async def record() -> dict[str, Any]:
            result = await self.clip_for(run.job.learner_id, text, language)
            fresh.append(result)
            return {"cache_key": result.clip.cache_key, "synthesized": result.synthesized}

        recorded = await run.step("record", record)
        if fresh:
            clip, audio = fresh[0].clip, fresh[0].audio
        else:
            clip, audio = await self._stored_clip(run.job.learner_id, recorded["cache_key"], text, language), None
        await self.deliver_voice(run, clip, audio, text)

    async def _stored_clip(self, learner_id: str, cache_key: str, text: str, language: str) -> SpeechClip:
        async with self._uow(read_only=True) as uow:
            clip = await uow.speech_cache.get(cache_key)
        if clip is None:  # the cache row went away since the step ran: make it again, uncounted
            clip = (await self.clip_for(learner_id, text, language, counted=False)).clip
        return clip

    async def _check_quota(
        self, uow: UnitOfWork, learner_id: str, now: datetime, *, count_pending: bool = False
    ) -> None:
        """QuotaExceeded when today's syntheses (plus, at request, the pending SPEECH jobs) reach the quota."""
        since, zone = await learner_day_start(uow, learner_id, now)
        used = await uow.speech_cache.count_requested_since(learner_id, since)
        if count_pending:
            used += await uow.jobs.count_since(learner_id, JobKind.SPEECH, since, pending_only=True)
        check_daily_quota(used, self._daily_quota, "voice messages", now, zone)

    def _require(self) -> tuple[SpeechSynthesizer, MediaStore]:
        if self._synthesizer is None or self._media is None:
            raise ProviderNotConfigured("Speech", "GEMINI_API_KEY")
        return self._synthesizer, self._media


def _new_upload_id(clip: SpeechClip, platform: str, sent: Sequence[SentMessage]) -> str | None:
    """The platform's id of the audio in `sent` when it is one `clip` does not have yet."""
    file_id = next((item.platform_file_id for item in sent if item.platform_file_id), None)
    return None if file_id is None or clip.platform_refs.get(platform) == file_id else file_id
