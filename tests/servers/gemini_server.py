"""A local Gemini API (`POST /{v1|v1beta}/models/{model}:generateContent`) speaking text-to-speech.

Point the `google-genai` SDK at it with
`genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server.url))`, or
`GEMINI_BASE_URL=server.url`. The async client speaks aiohttp, so only a real server sees it.
It checks the `x-goog-api-key` header and answers like the TTS models do: one candidate whose
single part is `inlineData` with `mimeType: "audio/L16;codec=pcm;rate=24000"` and base64 PCM
(signed 16-bit little-endian, mono).

Audio: `pcm` (bytes) when set, else a 440 Hz tone of `audio_seconds` at `sample_rate`;
`tone()` builds the same tone so a test can compare what it decoded.

Failures: `fail_with = 401 | 429 | 500 | …` fails every request with that status (Google's
error shape: `{"error": {"code", "message", "status"}}`); `fail_next = [429, 503, 500]` fails the
next requests in order, then answers; `retry_after` adds that header to failures; a wrong key
gets 400 `INVALID_ARGUMENT` with reason `API_KEY_INVALID`, as the real API answers.
`error_message` / `error_details` replace the message and add Google's `details` list to those
failures (`quota_failure(...)` builds the QuotaFailure + RetryInfo details a used-up quota gets).
`no_audio = True` answers 200 with a text part only; `finish_reason` sets the candidate's
finishReason (`"PROHIBITED_CONTENT"` … with no content). `delay` seconds are spent on every call.
Error messages echo the received key on purpose, to prove callers never pass them on.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import math
import struct
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.servers._base import LocalServer

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information on "
    "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)


def quota_failure(quota_id: str, quota_value: str = "15", retry_delay: str | None = None) -> list[dict[str, Any]]:
    """The `details` of Google's 429 for a quota (e.g. "GenerateRequestsPerDayPerProjectPerModel-FreeTier")."""
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": quota_id,
                    "quotaDimensions": {"location": "global", "model": "gemini-tts-test"},
                    "quotaValue": quota_value,
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}],
        },
    ]
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    return details


@functools.lru_cache(maxsize=32)
def tone(seconds: float, sample_rate: int = 24000, frequency: float = 440.0, amplitude: int = 12000) -> bytes:
    """`seconds` of a sine tone as s16le mono PCM (computed once: ≈ 10 ms of pure Python a second of it,
    which a busy benchmark server would otherwise spend on every call beside the code under test)."""
    frames = round(seconds * sample_rate)
    samples = (round(amplitude * math.sin(2 * math.pi * frequency * n / sample_rate)) for n in range(frames))
    return struct.pack(f"<{frames}h", *samples)


@dataclass
class GenerateCall:
    """One request as the server saw it."""

    version: str
    model: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The text of the request's contents."""
        return "".join(part.get("text", "") for content in self.body["contents"] for part in content["parts"])

    @property
    def voice(self) -> str | None:
        """The prebuilt voice asked for. Proto JSON takes lowerCamel or snake_case names (this SDK mixes them)."""
        speech = _field(self.body.get("generationConfig", {}), "speechConfig")
        return _field(_field(_field(speech, "voiceConfig"), "prebuiltVoiceConfig"), "voiceName") or None


def _field(message: Any, camel: str) -> Any:
    """`message[camel]` or `message[snake_case]`, {} when absent."""
    if not isinstance(message, dict):
        return {}
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return message.get(camel, message.get(snake, {}))


class GeminiServer(LocalServer):
    def __init__(self, api_key: str = "test-gemini-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.calls: list[GenerateCall] = []  # requests that got audio
        self.attempts: list[GenerateCall] = []  # every request
        self.pcm: bytes | None = None
        self.audio_seconds = 0.5
        self.sample_rate = 24000
        self.fail_with: int | None = None
        self.fail_next: list[int] = []
        self.retry_after: str | None = None
        self.error_message: str | None = None
        self.error_details: list[dict[str, Any]] | None = None
        self.no_audio = False
        self.finish_reason = "STOP"
        self.delay = 0.0
        self._generation = 0  # bumped by reset(): a request from before it records nothing

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/models/{model_action}", self._models)

    def reset(self) -> None:
        self._generation += 1
        self.calls.clear()
        self.attempts.clear()
        self.pcm = None
        self.audio_seconds = 0.5
        self.sample_rate = 24000
        self.fail_with = None
        self.fail_next.clear()
        self.retry_after = None
        self.error_message = None
        self.error_details = None
        self.no_audio = False
        self.finish_reason = "STOP"
        self.delay = 0.0

    def expected_pcm(self) -> bytes:
        """The PCM the next answer carries."""
        return self.pcm if self.pcm is not None else tone(self.audio_seconds, self.sample_rate)

    async def _models(self, request: web.Request) -> web.Response:
        version = request.match_info["version"]
        model, _, action = request.match_info["model_action"].partition(":")
        body = await request.json()
        call = GenerateCall(version, model, body, dict(request.headers))
        self.attempts.append(call)
        generation = self._generation
        if self.delay:
            await asyncio.sleep(self.delay)
        if generation != self._generation:  # the test that sent it is over: touch nothing of the next one
            return web.json_response({"error": "reset while in flight"}, status=503)
        if version not in ("v1", "v1beta") or action != "generateContent":
            return self._error(404, f"Method not found: {version}/{model}:{action}")
        key = request.headers.get("x-goog-api-key", "")
        if key != self.api_key:
            return self._error(400, f"API key not valid. Please pass a valid API key. ({key})", "API_KEY_INVALID")
        status = self.fail_next.pop(0) if self.fail_next else self.fail_with
        if status is not None:
            message = self.error_message or f"Failure {status} for key {key}"
            return self._error(status, message, details=self.error_details)
        if not body.get("contents"):
            return self._error(400, "contents is not specified")
        self.calls.append(call)
        return web.json_response({"candidates": [self._candidate()], "modelVersion": model})

    def _candidate(self) -> dict[str, Any]:
        if self.finish_reason not in ("STOP", "MAX_TOKENS"):
            return {"finishReason": self.finish_reason, "index": 0}
        if self.no_audio:
            parts: list[dict[str, Any]] = [{"text": "I can only read text aloud."}]
        else:
            data = base64.b64encode(self.expected_pcm()).decode()
            parts = [{"inlineData": {"mimeType": f"audio/L16;codec=pcm;rate={self.sample_rate}", "data": data}}]
        return {"content": {"role": "model", "parts": parts}, "finishReason": self.finish_reason, "index": 0}

    def _error(
        self, status: int, message: str, reason: str | None = None, details: list[dict[str, Any]] | None = None
    ) -> web.Response:
        error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
        if reason is not None:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}
            ]
        elif details is not None:
            error["details"] = details
        headers = {"retry-after": self.retry_after} if self.retry_after is not None else None
        return web.json_response({"error": error}, status=status, headers=headers)
