"""The SpeechSynthesizer port on Gemini text-to-speech, through the `google-genai` SDK's async client.

One `generateContent` call per text with `response_modalities=["AUDIO"]` and a prebuilt voice
(a voice per language unless the caller names one). The model answers 24 kHz signed 16-bit mono
PCM, which becomes an OGG/Opus voice message (`audio.pcm_to_ogg_opus`, in a worker thread).

The SDK's own retries are off (`HttpRetryOptions(attempts=1)`; without it the SDK would also
retry connection errors on its own). `core.outbound._retry.with_retries` retries transient
failures (429, 5xx, time-outs, connection errors, an answer without audio); a rejected key, an
unknown model, a refused text or a used-up quota raise `ProviderRefused` after one call. Messages
are ours: the SDK's exception text includes the server's error body.

A 429 RESOURCE_EXHAUSTED is a rate limit (retried, after Google's RetryInfo delay when it gives
one) unless it is a quota that will not come back soon: a QuotaFailure violation of a per-day
quota or of a quota of 0, or, without QuotaFailure details, Google's "You exceeded your current
quota" message. Google words per-minute limits the same way, so the details decide when present.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from google import genai
from google.genai import errors, types

from core.domain.errors import InvalidInput, ProviderNotConfigured, ProviderRefused
from core.domain.models import Speech
from core.outbound._retry import DEFAULT_POLICY, RetryPolicy, TransientError, retry_after_seconds, with_retries
from core.outbound.gemini.audio import OggOpus, PcmFormat, parse_pcm_mime, pcm_to_ogg_opus

if TYPE_CHECKING:
    import httpx2

logger = logging.getLogger(__name__)

PROVIDER = "Gemini"
DEFAULT_VOICE = "Kore"
# Every prebuilt voice speaks every language; these are clear, even voices, one per language so
# the languages a learner studies sound apart. Unlisted languages get DEFAULT_VOICE.
LANGUAGE_VOICES: dict[str, str] = {
    "ca": "Algieba",
    "cs": "Schedar",
    "da": "Achird",
    "de": "Iapetus",
    "el": "Rasalgethi",
    "en": "Charon",
    "es": "Kore",
    "fi": "Sulafat",
    "fr": "Erinome",
    "hu": "Orus",
    "id": "Despina",
    "it": "Aoede",
    "ja": "Leda",
    "ko": "Autonoe",
    "nb": "Alnilam",
    "nl": "Schedar",
    "pl": "Achird",
    "pt": "Orus",
    "ro": "Algieba",
    "ru": "Alnilam",
    "sv": "Sulafat",
    "tr": "Iapetus",
    "uk": "Rasalgethi",
    "zh": "Despina",
}
MIME_TYPE = "audio/ogg"

_USER_ACCOUNT = "Speech is unavailable right now: the service refused our account. The operator has been told."
_USER_SETUP = "Speech is unavailable right now because of a set-up problem. The operator has been told."
_USER_REQUEST = "The speech service could not read this text aloud. The operator has been told."
_USER_CONTENT = "This text can't be read aloud: the speech service declined it."
_USER_QUOTA = "Speech is unavailable for now: our speech quota is used up. The operator has been told."
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_QUOTA_ID = re.compile(r"[A-Za-z0-9_.\-]{1,100}")
_DECLINED = frozenset({"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "MODEL_ARMOR", "JAILBREAK"})

# Transport failures of whichever HTTP client the SDK uses (aiohttp when installed, else httpx2).
_TIMEOUTS: tuple[type[BaseException], ...] = (TimeoutError,)
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError,)
try:
    import httpx2 as _httpx2

    _TIMEOUTS += (_httpx2.TimeoutException,)
    _CONNECTION_ERRORS += (_httpx2.TransportError,)
except ImportError:  # pragma: no cover - the SDK depends on httpx2
    pass
try:
    import aiohttp as _aiohttp

    _CONNECTION_ERRORS += (_aiohttp.ClientError,)
except ImportError:  # pragma: no cover - aiohttp is optional for the SDK
    pass


class GeminiSpeech:
    """Reads texts aloud with a Gemini TTS model and returns OGG/Opus voice messages."""

    def __init__(
        self,
        api_key: str,
        model: str,
        base_url: str | None = None,
        *,
        voices: Mapping[str, str] | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        timeout_s: float = 60.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        """`base_url=None` is Google's API; `timeout_s` is per attempt; `voices` overrides LANGUAGE_VOICES.

        `http_client` makes the SDK use that httpx2 client instead of aiohttp (the SDK's choice
        when aiohttp is installed).
        """
        if not api_key:
            raise ProviderNotConfigured("Speech", "GEMINI_API_KEY")
        self._model = model
        self._voices = {**LANGUAGE_VOICES, **(voices or {})}
        self._configs: dict[str, types.GenerateContentConfig] = {}
        self._retry = retry
        options = types.HttpOptions(
            base_url=base_url,
            timeout=round(timeout_s * 1000),
            retry_options=types.HttpRetryOptions(attempts=1),
            httpx_async_client=http_client,
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    @property
    def model(self) -> str:
        """The TTS model (GEMINI_TTS_MODEL)."""
        return self._model

    def voice_for(self, language: str) -> str:
        """The prebuilt voice for `language` ("pt-BR" counts as "pt")."""
        base = language.replace("_", "-").split("-")[0].lower()
        return self._voices.get(base, DEFAULT_VOICE)

    async def synthesize(self, text: str, language: str, voice: str | None = None) -> Speech:
        """`text` read aloud. ProviderUnavailable after retries, ProviderRefused at once, InvalidInput on no text."""
        if not text.strip():
            raise InvalidInput("There is no text to read aloud.")
        chosen = voice or self.voice_for(language)
        config = self._config(chosen)

        async def attempt() -> tuple[bytes, PcmFormat]:
            try:
                response = await self._client.aio.models.generate_content(
                    model=self._model, contents=text, config=config
                )
            except errors.APIError as exc:
                raise self._api_error(exc) from None
            except _TIMEOUTS:
                raise TransientError("timed out") from None
            except _CONNECTION_ERRORS:
                raise TransientError("could not connect") from None
            return _pcm_of(response)

        pcm, pcm_format = await with_retries(attempt, provider=PROVIDER, what="speech", policy=self._retry)
        encoded = await asyncio.to_thread(_encode, pcm, pcm_format)
        logger.debug("Gemini speech: %d chars -> %.2f s of audio, voice %s", len(text), encoded.duration_s, chosen)
        return Speech(
            audio=encoded.data, mime_type=MIME_TYPE, duration_s=encoded.duration_s, voice=chosen, model=self._model
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP sessions."""
        await self._client.aio.aclose()

    def _config(self, voice: str) -> types.GenerateContentConfig:
        """The request config of a voice, built once: audio out, that prebuilt voice, no function calling.

        Automatic function calling is off: there are no tools, and on it logs a line per call.
        """
        config = self._configs.get(voice)
        if config is None:
            config = types.GenerateContentConfig(
                response_modalities=["AUDIO"],
                speech_config=types.SpeechConfig(
                    voice_config=types.VoiceConfig(prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice))
                ),
                automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            )
            self._configs[voice] = config
        return config

    def _api_error(self, exc: errors.APIError) -> Exception:
        code = exc.code
        headers = getattr(exc.response, "headers", None)
        if code == 429:
            used_up = _quota_used_up(exc)
            if used_up is not None:
                return _refused(
                    _USER_QUOTA,
                    f"the Gemini quota is used up (HTTP 429 RESOURCE_EXHAUSTED{used_up}): "
                    "check the plan / GEMINI_API_KEY's project",
                )
            return TransientError("rate-limited (HTTP 429)", retry_after_seconds(headers) or _retry_delay(exc.details))
        if code >= 500 or code == 408:
            return TransientError(f"server error (HTTP {code})", retry_after_seconds(headers))
        status = str(exc.status or "")
        if code in (401, 403) or _key_invalid(exc.details):
            return _refused(_USER_ACCOUNT, f"the API key was refused (HTTP {code} {status}): check GEMINI_API_KEY")
        if code == 404:
            return _refused(_USER_SETUP, f"model {self._model!r} not found (HTTP 404): check GEMINI_TTS_MODEL")
        if status == "FAILED_PRECONDITION":
            return _refused(
                _USER_ACCOUNT,
                "the account cannot use this API (HTTP 400 FAILED_PRECONDITION: billing or region): "
                "check the Google AI Studio project of GEMINI_API_KEY",
            )
        return _refused(_USER_REQUEST, f"request rejected (HTTP {code} {status}) for model {self._model!r}")


def _encode(pcm: bytes, pcm_format: PcmFormat) -> OggOpus:
    return pcm_to_ogg_opus(pcm, pcm_format)


def _pcm_of(response: types.GenerateContentResponse) -> tuple[bytes, PcmFormat]:
    """The audio of the first candidate; refusals raise ProviderRefused, an answer without audio is transient."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        raise _refused(_USER_CONTENT, f"Gemini declined the text (block reason {_name(feedback.block_reason)})")
    candidate = response.candidates[0] if response.candidates else None
    finish = _name(candidate.finish_reason) if candidate is not None and candidate.finish_reason else ""
    if finish in _DECLINED:
        raise _refused(_USER_CONTENT, f"Gemini declined the text (finish reason {finish})")
    chunks: list[bytes] = []
    pcm_format: PcmFormat | None = None
    parts = candidate.content.parts if candidate is not None and candidate.content is not None else None
    for part in parts or []:
        blob = part.inline_data
        if blob is None or not blob.data:
            continue
        found = parse_pcm_mime(blob.mime_type or "")
        if found is None:
            logger.warning("Gemini answered audio as %s, not raw PCM", blob.mime_type)
            raise TransientError("unexpected audio format")
        if pcm_format is not None and found != pcm_format:
            raise TransientError("unexpected audio format")
        pcm_format = found
        chunks.append(blob.data)
    if pcm_format is None or not any(chunks):
        logger.warning("Gemini answered without audio (finish reason %s)", finish or "none")
        raise TransientError("no audio in the answer")
    return b"".join(chunks), pcm_format


def _google_details(details: Any) -> list[dict[str, Any]]:
    """The `details` list of Google's error body (`{"error": {..., "details": [...]}}`)."""
    error = details.get("error", details) if isinstance(details, dict) else None
    listed = error.get("details") if isinstance(error, dict) else None
    return [item for item in listed if isinstance(item, dict)] if isinstance(listed, list) else []


def _quota_used_up(exc: errors.APIError) -> str | None:
    """For a 429: None when it is a rate limit; else ", quota <id>" (or "") naming the quota used up."""
    violations = [
        violation
        for detail in _google_details(exc.details)
        if detail.get("@type") == _QUOTA_FAILURE
        for violation in detail.get("violations") or []
        if isinstance(violation, dict)
    ]
    if not violations:
        return "" if "exceeded your current quota" in str(exc.message or "").lower() else None
    for violation in violations:
        quota_id = str(violation.get("quotaId") or "")
        if "perday" in quota_id.lower() or str(violation.get("quotaValue")) == "0":
            return f", quota {quota_id}" if _QUOTA_ID.fullmatch(quota_id) else ""
    return None


def _retry_delay(details: Any) -> float | None:
    """Google's RetryInfo delay ("22s", "1.5s") in seconds, if any."""
    for detail in _google_details(details):
        delay = detail.get("retryDelay") if detail.get("@type") == _RETRY_INFO else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _key_invalid(details: Any) -> bool:
    """Whether Google's error body says the key is invalid (a 400 with reason API_KEY_INVALID)."""
    error = details.get("error", details) if isinstance(details, dict) else None
    if not isinstance(error, dict):
        return False
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason") == "API_KEY_INVALID":
            return True
    return False


def _name(value: object) -> str:
    return str(getattr(value, "value", value))


def _refused(user_text: str, operator_hint: str) -> ProviderRefused:
    logger.error("Gemini refused a request: %s", operator_hint)
    return ProviderRefused(PROVIDER, user_text, operator_hint)
