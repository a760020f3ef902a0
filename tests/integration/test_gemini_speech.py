"""GeminiSpeech through the real `google-genai` SDK against the local Gemini server, and the OGG/Opus it makes.

The audio checks need no ffprobe: soundfile (libsndfile) reads our OGG/Opus back, and the test
compares sample rate, channels, duration and pitch with the PCM the server sent.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest
import pytest_asyncio
import soundfile

from core.bootstrap import bootstrap
from core.config import Settings
from core.domain.errors import InvalidInput, ProviderNotConfigured, ProviderRefused, ProviderUnavailable
from core.outbound._retry import RetryPolicy
from core.outbound.gemini import LANGUAGE_VOICES, GeminiSpeech
from core.outbound.gemini.audio import PcmFormat, parse_pcm_mime, pcm_to_ogg_opus
from tests.servers.gemini_server import QUOTA_MESSAGE, GeminiServer, quota_failure, tone

KEY = "gemini-sEcReT-key-91b2"
MODEL = "gemini-tts-test"


class Sleeps(list[float]):
    """The waits the retry helper asked for, instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[GeminiServer]:
    server = GeminiServer(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def gemini_server(server: GeminiServer) -> GeminiServer:
    server.reset()
    return server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest_asyncio.fixture
async def speech(gemini_server: GeminiServer, sleeps: Sleeps) -> AsyncIterator[GeminiSpeech]:
    client = GeminiSpeech(KEY, MODEL, gemini_server.url, retry=RetryPolicy(sleep=sleeps))
    yield client
    await client.aclose()


def decode(ogg: bytes) -> tuple[np.ndarray, int]:
    """Our OGG/Opus read back as int16 samples (mono) and the sample rate."""
    samples, rate = soundfile.read(io.BytesIO(ogg), dtype="int16")
    return samples, rate


def pitch(samples: np.ndarray, rate: int) -> float:
    """The strongest frequency in the signal."""
    spectrum = np.abs(np.fft.rfft(samples.astype(float)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def assert_no_secret(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert KEY not in str(error) and KEY not in repr(error)
    assert error.__cause__ is None
    logged = [record.getMessage() for record in caplog.records]
    logged += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert logged, "the failure should be logged for the operator"
    assert not any("sEcReT" in line for line in logged)


async def test_speech_is_ogg_opus_that_decodes_back_to_the_servers_audio(
    speech: GeminiSpeech, gemini_server: GeminiServer
) -> None:
    gemini_server.audio_seconds = 1.2

    result = await speech.synthesize("El perro come en la casa.", "es")

    assert result.mime_type == "audio/ogg"
    assert result.audio[:4] == b"OggS" and b"OpusHead" in result.audio[:100]
    assert (result.voice, result.model) == ("Kore", MODEL)
    assert result.duration_s == pytest.approx(1.2)
    info = soundfile.info(io.BytesIO(result.audio))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("OGG", "OPUS", 24000, 1)
    assert info.duration == pytest.approx(1.2, abs=0.001)
    samples, rate = decode(result.audio)
    assert rate == 24000 and len(samples) == 28800
    assert pitch(samples, rate) == pytest.approx(440, abs=2)
    sent = np.frombuffer(gemini_server.expected_pcm(), dtype="<i2").astype(float)
    assert np.sqrt(np.mean(samples.astype(float) ** 2)) == pytest.approx(np.sqrt(np.mean(sent**2)), rel=0.1)
    assert len(result.audio) < len(gemini_server.expected_pcm()) / 4  # compressed, not PCM in a wrapper


async def test_the_real_sdk_sends_model_key_text_and_voice(speech: GeminiSpeech, gemini_server: GeminiServer) -> None:
    await speech.synthesize("Bonjour tout le monde", "fr")

    [call] = gemini_server.calls
    assert call.model == MODEL and call.version in ("v1", "v1beta")
    assert call.headers["x-goog-api-key"] == KEY
    assert call.text == "Bonjour tout le monde"
    config = call.body["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    assert call.voice == LANGUAGE_VOICES["fr"] == speech.voice_for("fr")


async def test_a_voice_asked_for_is_used(speech: GeminiSpeech, gemini_server: GeminiServer) -> None:
    result = await speech.synthesize("Hallo", "de", voice="Puck")
    again = await speech.synthesize("Hallo", "de")

    assert (result.voice, again.voice) == ("Puck", LANGUAGE_VOICES["de"])
    assert [call.voice for call in gemini_server.calls] == ["Puck", LANGUAGE_VOICES["de"]]


async def test_a_synthesis_logs_nothing_at_info(
    speech: GeminiSpeech, gemini_server: GeminiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """One line per call would flood a worker's log (the SDK logs one while function calling is on)."""
    with caplog.at_level(logging.INFO):
        await speech.synthesize("Hola", "es")
        await speech.synthesize("Hola", "es")
    assert [record.getMessage() for record in caplog.records] == []


def test_a_voice_per_language() -> None:
    speech = GeminiSpeech(KEY, MODEL, "http://127.0.0.1:9", voices={"es": "Leda"})
    assert speech.voice_for("es") == "Leda"  # the override
    assert speech.voice_for("pt-BR") == speech.voice_for("pt_PT") == speech.voice_for("pt") == LANGUAGE_VOICES["pt"]
    assert speech.voice_for("xx") == "Kore"
    assert speech.model == MODEL


async def test_429_529_500_then_success_takes_four_calls(
    speech: GeminiSpeech, gemini_server: GeminiServer, sleeps: Sleeps
) -> None:
    gemini_server.fail_next = [429, 529, 500]

    result = await speech.synthesize("Hola", "es")

    assert result.duration_s == pytest.approx(0.5)
    assert len(gemini_server.attempts) == 4 and len(gemini_server.calls) == 1
    assert len(sleeps) == 3


async def test_retry_after_header_is_honoured(
    speech: GeminiSpeech, gemini_server: GeminiServer, sleeps: Sleeps
) -> None:
    gemini_server.fail_next = [429]
    gemini_server.retry_after = "4"

    await speech.synthesize("Hola", "es")

    assert sleeps == [4.0]


async def test_lasting_server_errors_end_in_provider_unavailable(
    speech: GeminiSpeech, gemini_server: GeminiServer, caplog: pytest.LogCaptureFixture
) -> None:
    gemini_server.fail_with = 503

    with caplog.at_level(logging.INFO), pytest.raises(ProviderUnavailable) as caught:
        await speech.synthesize("Hola", "es")

    assert str(caught.value) == "Gemini is unavailable right now: server error (HTTP 503)."
    assert len(gemini_server.attempts) == 4
    assert_no_secret(caught.value, caplog)


@pytest.mark.parametrize(
    "details",
    [
        quota_failure("GenerateRequestsPerDayPerProjectPerModel-FreeTier", retry_delay="40s"),  # today's is used up
        quota_failure("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", quota_value="0"),  # none at all
        None,  # only Google's message says so
    ],
)
async def test_a_used_up_quota_is_refused_after_one_call_and_tells_the_operator_where_to_look(
    speech: GeminiSpeech,
    gemini_server: GeminiServer,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
    details: list[dict[str, Any]] | None,
) -> None:
    gemini_server.fail_with = 429
    gemini_server.error_message = QUOTA_MESSAGE
    gemini_server.error_details = details

    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
        await speech.synthesize("Hola", "es")

    assert len(gemini_server.attempts) == 1 and sleeps == []
    refusal = caught.value
    assert refusal.user_text == (
        "Speech is unavailable for now: our speech quota is used up. The operator has been told."
    )
    assert "the Gemini quota is used up" in refusal.operator_hint
    assert "check the plan / GEMINI_API_KEY's project" in refusal.operator_hint
    assert_no_secret(refusal, caplog)


async def test_a_per_minute_quota_is_a_rate_limit_retried_after_the_delay_google_asks(
    speech: GeminiSpeech, gemini_server: GeminiServer, sleeps: Sleeps
) -> None:
    gemini_server.fail_next = [429]
    gemini_server.error_message = QUOTA_MESSAGE  # Google says "quota" for a rate limit too
    per_minute = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    gemini_server.error_details = quota_failure(per_minute, retry_delay="3s")

    result = await speech.synthesize("Hola", "es")

    assert result.duration_s == pytest.approx(0.5)
    assert len(gemini_server.attempts) == 2 and sleeps == [3.0]


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_key_fails_after_exactly_one_call(
    speech: GeminiSpeech, gemini_server: GeminiServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    gemini_server.fail_with = status

    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
        await speech.synthesize("Hola", "es")

    assert len(gemini_server.attempts) == 1 and sleeps == []
    refusal = caught.value
    assert str(refusal) == (
        "Speech is unavailable right now: the service refused our account. The operator has been told."
    )
    assert "GEMINI_API_KEY" in refusal.operator_hint
    assert_no_secret(refusal, caplog)


async def test_an_invalid_key_answered_as_400_is_refused_too(
    gemini_server: GeminiServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "gemini-sEcReT-wrong"
    speech = GeminiSpeech(wrong, MODEL, gemini_server.url, retry=RetryPolicy(sleep=sleeps))
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
            await speech.synthesize("Hola", "es")
    finally:
        await speech.aclose()

    assert len(gemini_server.attempts) == 1
    assert "GEMINI_API_KEY" in caught.value.operator_hint
    assert wrong not in repr(caught.value)
    assert_no_secret(caught.value, caplog)


async def test_unknown_model_is_refused_and_names_the_setting(
    speech: GeminiSpeech, gemini_server: GeminiServer
) -> None:
    gemini_server.fail_with = 404

    with pytest.raises(ProviderRefused) as caught:
        await speech.synthesize("Hola", "es")

    assert "set-up problem" in caught.value.user_text
    assert "GEMINI_TTS_MODEL" in caught.value.operator_hint
    assert len(gemini_server.attempts) == 1


async def test_declined_text_is_refused_without_retry(speech: GeminiSpeech, gemini_server: GeminiServer) -> None:
    gemini_server.finish_reason = "PROHIBITED_CONTENT"

    with pytest.raises(ProviderRefused, match="can't be read aloud"):
        await speech.synthesize("…", "es")

    assert len(gemini_server.attempts) == 1


async def test_an_answer_without_audio_is_retried_then_unavailable(
    speech: GeminiSpeech, gemini_server: GeminiServer, sleeps: Sleeps
) -> None:
    gemini_server.no_audio = True

    with pytest.raises(ProviderUnavailable, match="no audio in the answer"):
        await speech.synthesize("Hola", "es")

    assert len(gemini_server.attempts) == 4 and len(sleeps) == 3


async def test_unreachable_server_is_retried_then_unavailable(sleeps: Sleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    speech = GeminiSpeech(KEY, MODEL, f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=2, sleep=sleeps))
    try:
        with pytest.raises(ProviderUnavailable, match="could not connect"):
            await speech.synthesize("Hola", "es")
    finally:
        await speech.aclose()
    assert len(sleeps) == 1  # the SDK did not sleep and retry on its own


async def test_slow_answer_times_out(gemini_server: GeminiServer, sleeps: Sleeps) -> None:
    gemini_server.delay = 0.6
    speech = GeminiSpeech(KEY, MODEL, gemini_server.url, retry=RetryPolicy(attempts=1, sleep=sleeps), timeout_s=0.1)
    try:
        with pytest.raises(ProviderUnavailable, match="timed out"):
            await speech.synthesize("Hola", "es")
    finally:
        await speech.aclose()


async def test_the_sdks_httpx2_transport_works_the_same(gemini_server: GeminiServer, sleeps: Sleeps) -> None:
    """Without aiohttp installed the SDK speaks httpx2: same audio, same refusals, same connection errors."""
    async with httpx2.AsyncClient() as http_client:
        speech = GeminiSpeech(KEY, MODEL, gemini_server.url, retry=RetryPolicy(sleep=sleeps), http_client=http_client)
        result = await speech.synthesize("Hola", "es")
        assert soundfile.info(io.BytesIO(result.audio)).samplerate == 24000
        assert gemini_server.calls[0].headers["x-goog-api-key"] == KEY

        gemini_server.fail_with = 401
        with pytest.raises(ProviderRefused):
            await speech.synthesize("Hola", "es")
        gemini_server.fail_with = 429
        with pytest.raises(ProviderUnavailable, match="rate-limited"):
            await speech.synthesize("Hola", "es")
    assert len(gemini_server.attempts) == 1 + 1 + 4


async def test_empty_text_makes_no_call(speech: GeminiSpeech, gemini_server: GeminiServer) -> None:
    with pytest.raises(InvalidInput):
        await speech.synthesize("   ", "es")
    assert gemini_server.attempts == []


def test_an_empty_key_is_not_configured() -> None:
    with pytest.raises(ProviderNotConfigured, match="GEMINI_API_KEY"):
        GeminiSpeech("", MODEL)


# --- the encoder on its own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mime", "expected"),
    [
        ("audio/L16;codec=pcm;rate=24000", PcmFormat(24000, 1)),
        ("audio/L16; rate=16000; channels=2", PcmFormat(16000, 2)),
        ("audio/pcm", PcmFormat(24000, 1)),
        ("audio/wav", None),
        ("audio/mpeg", None),
    ],
)
def test_pcm_mime_types(mime: str, expected: PcmFormat | None) -> None:
    assert parse_pcm_mime(mime) == expected


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
def test_opus_rates_are_encoded_as_they_are(rate: int) -> None:
    encoded = pcm_to_ogg_opus(tone(0.4, rate), PcmFormat(rate))

    samples, decoded_rate = decode(encoded.data)
    assert decoded_rate == rate == encoded.sample_rate
    assert len(samples) == round(0.4 * rate)
    assert pitch(samples, rate) == pytest.approx(440, abs=3)


def test_other_rates_are_resampled_to_48_khz_keeping_duration_and_pitch() -> None:
    encoded = pcm_to_ogg_opus(tone(0.5, 22050), PcmFormat(22050))

    samples, rate = decode(encoded.data)
    assert rate == 48000 and encoded.duration_s == pytest.approx(0.5)
    assert len(samples) / rate == pytest.approx(0.5, abs=0.001)
    assert pitch(samples, rate) == pytest.approx(440, abs=3)


def speech_like(seconds: float, rate: int = 24000) -> bytes:
    """Voiced sound with a moving pitch, syllable-rate loudness and some breath noise (s16le mono)."""
    t = np.arange(round(seconds * rate)) / rate
    pitch_hz = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch_hz) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    loudness = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    noise = np.random.default_rng(7).standard_normal(len(t)) * 0.05
    return (np.clip((voiced * 0.2 * loudness + noise) * 16000, -32768, 32767)).astype("<i2").tobytes()


def opus_modes(ogg: bytes) -> set[str]:
    """The coding modes of an OGG/Opus file's audio packets, from each packet's TOC byte (RFC 6716 §3.1)."""
    packets: list[bytes] = []
    partial, offset = b"", 0
    while offset < len(ogg):
        assert ogg[offset : offset + 4] == b"OggS"
        count = ogg[offset + 26]
        lacing = ogg[offset + 27 : offset + 27 + count]
        offset += 27 + count
        for size in lacing:
            partial += ogg[offset : offset + size]
            offset += size
            if size < 255:
                packets.append(partial)
                partial = b""
    audio = [packet for packet in packets if not packet.startswith((b"OpusHead", b"OpusTags"))]
    return {"silk" if packet[0] >> 3 < 12 else "hybrid" if packet[0] >> 3 < 16 else "celt" for packet in audio}


def test_speech_is_encoded_by_opus_celt_at_about_60_kbps() -> None:
    """The bitrate chosen (OPUS_COMPRESSION_LEVEL) keeps libopus out of its costlier hybrid mode."""
    encoded = pcm_to_ogg_opus(speech_like(3.0), PcmFormat(24000))

    kbps = len(encoded.data) * 8 / encoded.duration_s / 1000
    assert 45 <= kbps <= 80
    assert opus_modes(encoded.data) == {"celt"}
    samples, rate = decode(encoded.data)
    assert rate == 24000 and len(samples) == 72000


def test_a_trailing_odd_byte_is_dropped_and_no_audio_is_an_error() -> None:
    encoded = pcm_to_ogg_opus(tone(0.1) + b"\x01", PcmFormat(24000))
    assert len(decode(encoded.data)[0]) == 2400
    with pytest.raises(ValueError, match="no audio"):
        pcm_to_ogg_opus(b"\x01", PcmFormat(24000))


async def test_bootstrap_wires_the_tts_model_named_by_settings(gemini_server: GeminiServer, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        GEMINI_API_KEY=KEY,
        GEMINI_BASE_URL=gemini_server.url,
        GEMINI_TTS_MODEL="gemini-tts-from-settings",
    )
    services = await bootstrap(settings, migrate_sqlite=False)
    try:
        assert services.speech is not None and services.language_model is None
        result = await services.speech.synthesize("Ciao", "it")
    finally:
        await services.aclose()

    assert result.model == "gemini-tts-from-settings" and result.voice == LANGUAGE_VOICES["it"]
    [call] = gemini_server.calls
    assert call.model == "gemini-tts-from-settings" and call.voice == LANGUAGE_VOICES["it"]
