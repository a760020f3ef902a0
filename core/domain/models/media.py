"""Media produced by providers: synthesised speech."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Speech:
    """Audio of a text read aloud, ready to send as a voice message.

    `audio` is an OGG/Opus file (`mime_type` "audio/ogg"); `voice` and `model` are what made it, so
    a cache keyed by (text, language, voice, model) can tell two recordings apart.
    """

    audio: bytes
    mime_type: str
    duration_s: float
    voice: str
    model: str
