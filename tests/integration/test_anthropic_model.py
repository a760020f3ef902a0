"""AnthropicLanguageModel through the real `anthropic` SDK against the local Messages API server."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from core.bootstrap import bootstrap
from core.config import Settings
from core.domain.errors import ProviderNotConfigured, ProviderRefused, ProviderUnavailable
from core.outbound._retry import RetryPolicy
from core.outbound.anthropic import AnthropicLanguageModel
from tests.servers.anthropic_server import CREDIT_BALANCE_TOO_LOW, AnthropicServer

KEY = "sk-ant-sEcReT-7c1d"
MODEL = "claude-test-model"
ARTICLE_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "text": {"type": "string"},
        "new_words": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"word": {"type": "string"}, "translation": {"type": "string"}},
                "required": ["word", "translation"],
            },
        },
    },
    "required": ["title", "text", "new_words"],
}


class Sleeps(list[float]):
    """The waits the retry helper asked for, instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[AnthropicServer]:
    server = AnthropicServer(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def anthropic_server(server: AnthropicServer) -> AnthropicServer:
    server.reset()
    return server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest_asyncio.fixture
async def model(anthropic_server: AnthropicServer, sleeps: Sleeps) -> AsyncIterator[AnthropicLanguageModel]:
    client = AnthropicLanguageModel(KEY, MODEL, anthropic_server.url, retry=RetryPolicy(sleep=sleeps))
    yield client
    await client.aclose()


def assert_no_secret(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert KEY not in str(error) and KEY not in repr(error)
    assert error.__cause__ is None
    logged = [record.getMessage() for record in caplog.records]
    logged += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert logged, "the failure should be logged for the operator"
    assert not any("sEcReT" in line for line in logged)


async def test_structured_output_is_a_forced_tool_call(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer
) -> None:
    words = [{"word": "mercado", "translation": "market"}]
    article = {"title": "El mercado", "text": "Voy al mercado.", "new_words": words}
    anthropic_server.tool_input = article

    result = await model.generate_json(
        system="You write short articles.", prompt="Topic: markets", schema=ARTICLE_SCHEMA, tool_name="article",
        max_tokens=900,
    )

    assert result == article
    [call] = anthropic_server.calls
    assert call.model == MODEL
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    assert call.headers["x-stainless-retry-count"] == "0"
    assert call.body["system"] == "You write short articles."
    assert call.body["messages"] == [{"role": "user", "content": "Topic: markets"}]
    assert call.body["max_tokens"] == 900
    [tool] = call.body["tools"]
    assert tool["name"] == "article" and tool["input_schema"] == ARTICLE_SCHEMA
    assert call.body["tool_choice"] == {"type": "tool", "name": "article"}


async def test_text_answer(model: AnthropicLanguageModel, anthropic_server: AnthropicServer) -> None:
    anthropic_server.text = "¡Hola! ¿Qué tal?"

    assert await model.generate_text(system="Be brief.", prompt="Greet me") == "¡Hola! ¿Qué tal?"

    [call] = anthropic_server.calls
    assert call.prompt == "Greet me" and "tools" not in call.body and "tool_choice" not in call.body
    assert model.model == MODEL


async def test_429_529_500_then_success_takes_four_calls(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer, sleeps: Sleeps
) -> None:
    anthropic_server.fail_next = [429, 529, 500]
    anthropic_server.tool_input = {"title": "t", "text": "x", "new_words": []}

    result = await model.generate_json(system="s", prompt="p", schema=ARTICLE_SCHEMA, tool_name="article")

    assert result["title"] == "t"
    assert len(anthropic_server.attempts) == 4 and len(anthropic_server.calls) == 1
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]  # backoff grows (jitter within [½, 1))


async def test_retry_after_header_is_honoured(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer, sleeps: Sleeps
) -> None:
    anthropic_server.fail_next = [429]
    anthropic_server.retry_after = "5"

    assert await model.generate_text(system="s", prompt="p") == "Hola."

    assert sleeps == [5.0]


async def test_transient_failures_that_last_end_in_provider_unavailable(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_server.fail_with = 529

    with caplog.at_level(logging.INFO), pytest.raises(ProviderUnavailable) as caught:
        await model.generate_text(system="s", prompt="p")

    assert str(caught.value) == "Anthropic is unavailable right now: overloaded (HTTP 529)."
    assert len(anthropic_server.attempts) == 4
    assert_no_secret(caught.value, caplog)


async def test_rejected_key_is_refused_after_one_call(
    anthropic_server: AnthropicServer, caplog: pytest.LogCaptureFixture, sleeps: Sleeps
) -> None:
    wrong = "sk-ant-sEcReT-wrong"
    model = AnthropicLanguageModel(wrong, MODEL, anthropic_server.url, retry=RetryPolicy(sleep=sleeps))
    try:
        with caplog.at_level(logging.DEBUG), pytest.raises(ProviderRefused) as caught:
            await model.generate_json(system="s", prompt="p", schema=ARTICLE_SCHEMA, tool_name="article")
    finally:
        await model.aclose()

    assert len(anthropic_server.attempts) == 1 and sleeps == []
    refusal = caught.value
    assert refusal.provider == "Anthropic"
    assert str(refusal) == refusal.user_text
    assert "refused our account" in refusal.user_text and "operator" in refusal.user_text
    assert "ANTHROPIC_API_KEY" in refusal.operator_hint
    assert wrong not in repr(refusal) and wrong not in refusal.operator_hint
    assert_no_secret(refusal, caplog)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert any("ANTHROPIC_API_KEY" in message for message in errors)


async def test_credit_balance_too_low_is_refused_after_one_call(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer, caplog: pytest.LogCaptureFixture
) -> None:
    anthropic_server.fail_with = 400
    anthropic_server.fail_message = CREDIT_BALANCE_TOO_LOW + f" key={KEY}"

    with caplog.at_level(logging.INFO), pytest.raises(ProviderRefused) as caught:
        await model.generate_text(system="s", prompt="p")

    assert len(anthropic_server.attempts) == 1
    assert "spending limit" in caught.value.user_text
    assert "Plans & Billing" in caught.value.operator_hint
    assert_no_secret(caught.value, caplog)


@pytest.mark.parametrize(
    ("status", "user_words", "hint_words"),
    [
        (403, "refused our account", "ANTHROPIC_API_KEY"),
        (402, "spending limit", "Billing"),
        (404, "set-up problem", "ANTHROPIC_MODEL"),
        (413, "could not handle this request", "HTTP 413"),
    ],
)
async def test_other_permanent_failures_are_refused_after_one_call(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer, status: int, user_words: str, hint_words: str
) -> None:
    anthropic_server.fail_with = status

    with pytest.raises(ProviderRefused) as caught:
        await model.generate_text(system="s", prompt="p")

    assert len(anthropic_server.attempts) == 1
    assert user_words in caught.value.user_text
    assert hint_words in caught.value.operator_hint
    assert KEY not in repr(caught.value)


async def test_answer_without_the_forced_tool_is_unavailable_not_retried(
    model: AnthropicLanguageModel, anthropic_server: AnthropicServer
) -> None:
    anthropic_server.no_tool_use = True

    with pytest.raises(ProviderUnavailable, match="unexpected answer"):
        await model.generate_json(system="s", prompt="p", schema=ARTICLE_SCHEMA, tool_name="article")

    assert len(anthropic_server.attempts) == 1


async def test_unreachable_server_is_retried_then_unavailable(sleeps: Sleeps) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = AnthropicLanguageModel(KEY, MODEL, f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=2, sleep=sleeps))
    try:
        with pytest.raises(ProviderUnavailable, match="could not connect"):
            await model.generate_text(system="s", prompt="p")
    finally:
        await model.aclose()
    assert len(sleeps) == 1


async def test_slow_answer_times_out(anthropic_server: AnthropicServer, sleeps: Sleeps) -> None:
    anthropic_server.delay = 0.6
    model = AnthropicLanguageModel(
        KEY, MODEL, anthropic_server.url, retry=RetryPolicy(attempts=1, sleep=sleeps), timeout_s=0.1
    )
    try:
        with pytest.raises(ProviderUnavailable, match="timed out"):
            await model.generate_text(system="s", prompt="p")
    finally:
        await model.aclose()


def test_an_empty_key_is_not_configured() -> None:
    with pytest.raises(ProviderNotConfigured, match="ANTHROPIC_API_KEY"):
        AnthropicLanguageModel("", MODEL)


async def test_bootstrap_wires_the_model_named_by_settings(anthropic_server: AnthropicServer, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        ANTHROPIC_API_KEY=KEY,
        ANTHROPIC_BASE_URL=anthropic_server.url,
        ANTHROPIC_MODEL="claude-from-settings",
    )
    services = await bootstrap(settings, migrate_sqlite=False)
    try:
        assert services.language_model is not None
        assert services.language_model.model == "claude-from-settings"
        assert await services.language_model.generate_text(system="s", prompt="p") == "Hola."
    finally:
        await services.aclose()

    [call] = anthropic_server.calls
    assert call.model == "claude-from-settings"
    assert call.headers["Authorization"] == f"Bearer {KEY}"


async def test_bootstrap_without_a_key_has_no_model(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    settings = Settings(_env_file=None, DATABASE_URL=database_url)  # type: ignore[call-arg]
    services = await bootstrap(settings, migrate_sqlite=False)
    try:
        assert services.language_model is None and services.speech is None
    finally:
        await services.aclose()
