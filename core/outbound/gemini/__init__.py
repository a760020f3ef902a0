"""Gemini text-to-speech through the `google-genai` SDK, encoded as OGG/Opus with `soundfile`."""

from core.outbound.gemini.speech import LANGUAGE_VOICES, GeminiSpeech

__all__ = ["LANGUAGE_VOICES", "GeminiSpeech"]
