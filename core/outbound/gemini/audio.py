"""Raw PCM from a TTS model -> an OGG/Opus voice message, with `soundfile` (libsndfile ships Opus).

No ffmpeg: libsndfile encodes Opus itself. Opus takes 8, 12, 16, 24 or 48 kHz, so Gemini's
24 kHz PCM goes in as it is; another rate is resampled (linearly) to 48 kHz first.

The bitrate: libsndfile maps its compression level (0–1) to the Opus bitrate. Its default (≈ 37–45
kbps for 24 kHz speech) makes libopus use its hybrid SILK + CELT mode, which costs ≈ 30 ms of CPU
per second of speech here; at level 0.8 (≈ 60 kbps) libopus uses CELT alone: ≈ 14 ms a second of
speech, and at least as clear (bench/speech_jobs.py; a voice message of 20 s is ≈ 150 kB).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import soundfile

OPUS_SAMPLE_RATES = frozenset({8000, 12000, 16000, 24000, 48000})
OPUS_COMPRESSION_LEVEL = 0.8  # ≈ 60 kbps: CELT-only, half the CPU of the default's hybrid mode
_RATE = re.compile(r"rate=(\d+)")
_CHANNELS = re.compile(r"channels=(\d+)")


@dataclass(frozen=True)
class PcmFormat:
    """What an `audio/L16` (or `audio/pcm`) MIME type says: sample rate and channels."""

    sample_rate: int
    channels: int = 1


def parse_pcm_mime(mime_type: str, default_rate: int = 24000) -> PcmFormat | None:
    """`audio/L16;codec=pcm;rate=24000` -> PcmFormat(24000, 1); None when it is not raw 16-bit PCM."""
    lowered = mime_type.lower().replace(" ", "")
    if not (lowered.startswith("audio/l16") or lowered.startswith("audio/pcm")):
        return None
    rate = _RATE.search(lowered)
    channels = _CHANNELS.search(lowered)
    return PcmFormat(int(rate.group(1)) if rate else default_rate, int(channels.group(1)) if channels else 1)


@dataclass(frozen=True)
class OggOpus:
    """An encoded voice message and how long it plays."""

    data: bytes
    duration_s: float
    sample_rate: int


def pcm_to_ogg_opus(pcm: bytes, pcm_format: PcmFormat) -> OggOpus:
    """Encode signed 16-bit little-endian PCM as OGG/Opus (blocking: run it in a thread).

    A trailing odd byte or partial frame is dropped. Raises ValueError on empty audio.
    """
    frame_bytes = 2 * pcm_format.channels
    usable = len(pcm) - len(pcm) % frame_bytes
    if usable == 0:
        raise ValueError("no audio samples")
    samples = np.frombuffer(pcm[:usable], dtype="<i2").reshape(-1, pcm_format.channels)
    rate = pcm_format.sample_rate
    duration_s = samples.shape[0] / rate
    if rate not in OPUS_SAMPLE_RATES:
        samples = _resample(samples, rate, 48000)
        rate = 48000
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="OGG", subtype="OPUS", compression_level=OPUS_COMPRESSION_LEVEL)
    return OggOpus(buffer.getvalue(), duration_s, rate)


def _resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Linear interpolation, channel by channel: enough for speech that Opus then encodes."""
    frames = samples.shape[0]
    target_frames = max(1, round(frames * target_rate / source_rate))
    source_t = np.arange(frames) / source_rate
    target_t = np.arange(target_frames) / target_rate
    channels = [np.interp(target_t, source_t, samples[:, c]) for c in range(samples.shape[1])]
    return np.stack(channels, axis=1).round().astype("<i2")
