"""DeepLTranslator through the real `deepl` SDK against the local DeepL server."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import deepl
import pytest
import pytest_asyncio

from core.bootstrap import bootstrap
from core.config import Settings
from core.domain.errors import ProviderRefused, ProviderUnavailable
from core.outbound.deepl import DeepLTranslator, deepl_source_code, deepl_target_code
from tests.servers.deepl_server import DeepLServer

KEY = "sEcReT-deepl-key-4f2a:fx"


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[DeepLServer]:
    server = DeepLServer(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def deepl_server(server: DeepLServer) -> DeepLServer:
    server.reset()
    return server


@pytest.fixture
def translator(deepl_server: DeepLServer) -> DeepLTranslator:
    return DeepLTranslator(KEY, deepl_server.url, max_retries=0)


async def test_translates_a_batch_in_order(translator: DeepLTranslator, deepl_server: DeepLServer) -> None:
    result = await translator.translate(["casa", "perro", "mesa"], "es", "en")

    assert result == ["house", "dog", "mesa [EN-US]"]
    [call] = deepl_server.calls
    assert call.texts == ["casa", "perro", "mesa"]
    assert (call.source_lang, call.target_lang) == ("ES", "EN-US")
    assert call.content_type == "application/json"
    assert call.headers["Authorization"] == f"DeepL-Auth-Key {KEY}"


async def test_portuguese_target_is_european_and_source_drops_region(
    translator: DeepLTranslator, deepl_server: DeepLServer
) -> None:
    assert await translator.translate(["house"], "en-GB", "pt") == ["casa"]
    [call] = deepl_server.calls
    assert (call.source_lang, call.target_lang) == ("EN", "PT-PT")


async def test_no_texts_makes_no_request(translator: DeepLTranslator, deepl_server: DeepLServer) -> None:
    assert await translator.translate([], "es", "en") == []
    assert deepl_server.attempts == 0


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "too many requests"),
        (503, "server error (HTTP 503)"),
        (500, "server error (HTTP 500)"),
        (400, "request rejected (HTTP 400)"),
    ],
)
async def test_provider_failures_become_provider_unavailable_without_the_key(
    translator: DeepLTranslator, deepl_server: DeepLServer, caplog: pytest.LogCaptureFixture, status: int, reason: str
) -> None:
    deepl_server.fail_with = status

    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderUnavailable) as caught:
        await translator.translate(["casa"], "es", "en")

    assert caught.value.provider == "DeepL"
    assert reason in str(caught.value)
    assert caught.value.__cause__ is None
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("core.")]
    assert ours and not any("sEcReT" in message for message in ours)
    assert deepl_server.attempts == 1  # retries are off in tests


async def test_rejected_key_is_refused_without_echoing_it(
    deepl_server: DeepLServer, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-key-9d1e:fx"
    translator = DeepLTranslator(wrong, deepl_server.url, max_retries=3)
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
            await translator.translate(["casa"], "es", "en")
    finally:
        DeepLTranslator(KEY, deepl_server.url, max_retries=0)  # the SDK setting is process-wide

    refusal = caught.value
    assert refusal.provider == "DeepL" and refusal.__cause__ is None
    assert str(refusal) == (
        "Translation is unavailable right now: the service refused our account. The operator has been told."
    )
    assert "DEEPL_API_KEY" in refusal.operator_hint
    assert wrong not in repr(refusal) and wrong not in refusal.operator_hint
    assert deepl_server.attempts == 1  # the SDK does not retry a 403 either
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("core.")]
    assert any("DEEPL_API_KEY" in message for message in ours) and not any(wrong in message for message in ours)


async def test_used_up_quota_is_refused_after_one_call(deepl_server: DeepLServer) -> None:
    deepl_server.fail_with = 456
    translator = DeepLTranslator(KEY, deepl_server.url, max_retries=3)
    try:
        with pytest.raises(ProviderRefused) as caught:
            await translator.translate(["casa"], "es", "en")
    finally:
        DeepLTranslator(KEY, deepl_server.url, max_retries=0)  # the SDK setting is process-wide

    assert "quota is used up" in caught.value.user_text
    assert "HTTP 456" in caught.value.operator_hint
    assert KEY not in repr(caught.value)
    assert deepl_server.attempts == 1


async def test_malformed_answer_is_provider_unavailable(translator: DeepLTranslator, deepl_server: DeepLServer) -> None:
    deepl_server.malformed = True
    with pytest.raises(ProviderUnavailable, match="unexpected answer"):
        await translator.translate(["casa"], "es", "en")


async def test_unreachable_server_is_provider_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    translator = DeepLTranslator(KEY, f"http://127.0.0.1:{port}", max_retries=0)

    with pytest.raises(ProviderUnavailable, match="could not connect"):
        await translator.translate(["casa"], "es", "en")


async def test_sdk_retries_a_transient_503_when_retries_are_on(deepl_server: DeepLServer) -> None:
    deepl_server.fail_next = [503]
    translator = DeepLTranslator(KEY, deepl_server.url, max_retries=1)
    try:
        assert await translator.translate(["gato"], "es", "en") == ["cat"]
    finally:
        DeepLTranslator(KEY, deepl_server.url, max_retries=0)  # the SDK setting is process-wide
    assert deepl_server.attempts == 2


async def test_server_accepts_form_bodies_with_repeated_text(deepl_server: DeepLServer) -> None:
    form = aiohttp.FormData([("text", "casa"), ("text", "gato"), ("target_lang", "EN-GB")])
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{deepl_server.url}/v2/translate", data=form, headers={"Authorization": f"DeepL-Auth-Key {KEY}"}
        ) as response,
    ):
        body = await response.json()

    assert response.status == 200
    assert [t["text"] for t in body["translations"]] == ["house", "cat"]
    assert all("billed_characters" in t for t in body["translations"])


@pytest.mark.parametrize(
    ("ours", "source", "target"),
    [
        ("en", "EN", "EN-US"),
        ("pt", "PT", "PT-PT"),
        ("en-gb", "EN", "EN-GB"),
        ("pt-BR", "PT", "PT-BR"),
        ("de", "DE", "DE"),
    ],
)
def test_language_code_mapping(ours: str, source: str, target: str) -> None:
    assert deepl_source_code(ours) == source
    assert deepl_target_code(ours) == target


def test_server_also_runs_in_a_thread_for_sync_callers() -> None:
    import deepl

    server = DeepLServer(api_key=KEY)
    url = server.start_in_thread()
    try:
        client = deepl.Translator(KEY, server_url=url)
        assert client.translate_text("perro", source_lang="ES", target_lang="EN-GB").text == "dog"
    finally:
        server.stop_thread()
    assert server.calls[0].target_lang == "EN-GB"


async def test_the_translator_wired_for_learners_gives_up_after_one_retry(
    deepl_server: DeepLServer, tmp_path: Path
) -> None:
    """A learner waits on /add: bootstrap configures one retry and a short timeout, not the SDK's 5 × 10 s."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        DEEPL_API_KEY=KEY,
        DEEPL_SERVER_URL=deepl_server.url,
    )
    services = await bootstrap(settings)
    deepl_server.fail_with = 503
    try:
        assert services.translator is not None
        with pytest.raises(ProviderUnavailable):
            await services.translator.translate(["gato"], "es", "en")
        assert deepl_server.attempts == 2
        assert deepl.http_client.min_connection_timeout == 4.0
    finally:
        await services.aclose()
        DeepLTranslator(KEY, deepl_server.url, max_retries=0, timeout_s=10.0)  # process-wide SDK settings
