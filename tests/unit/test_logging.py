"""configure_logging: level, console/json format, and secrets redacted from every line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from core.config import Settings
from core.logging import REDACTED, configure_logging, secret_values
from tests.secret_values import SECRETS

DB_PASSWORD = "pg-pass/word!"
REDIS_PASSWORD = "redis-secret-pass"


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        **SECRETS,
        "DATABASE_URL": "postgresql+asyncpg://app:pg-pass%2Fword%21@db:5432/langlearn",
        "REDIS_URL": f"redis://:{REDIS_PASSWORD}@redis:6379/0",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    filters = {h: list(h.filters) for h in handlers}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler, kept in filters.items():
        handler.filters[:] = kept
    root.setLevel(level)


def configured(**overrides: object) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(make_settings(**overrides), stream=stream)
    return stream


def all_secret_forms() -> list[str]:
    return [*SECRETS.values(), DB_PASSWORD, "pg-pass%2Fword%21", REDIS_PASSWORD]


def test_secret_values_cover_secret_settings_and_url_passwords() -> None:
    assert secret_values(make_settings()) >= {*SECRETS.values(), DB_PASSWORD, REDIS_PASSWORD}


def test_json_format_is_one_object_per_line() -> None:
    stream = configured(LOG_FORMAT="json")
    log = logging.getLogger("langlearn.test")
    log.info("first %s", "line")
    log.warning("second")

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["level"], line["logger"], line["msg"]) for line in lines] == [
        ("INFO", "langlearn.test", "first line"),
        ("WARNING", "langlearn.test", "second"),
    ]
    assert all(set(line) == {"ts", "level", "logger", "msg"} for line in lines)
    assert lines[0]["ts"].endswith("+00:00")


def test_console_format_names_level_and_logger() -> None:
    stream = configured()
    logging.getLogger("langlearn.test").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO    langlearn.test: hello")


def test_secrets_are_redacted_from_message_args_and_tracebacks() -> None:
    stream = configured(LOG_FORMAT="json")
    log = logging.getLogger("langlearn.test")
    token = SECRETS["TELEGRAM_BOT_TOKEN"]

    log.info("GET https://api.telegram.org/bot%s/getUpdates", token)
    log.info("key in message: " + SECRETS["DEEPL_API_KEY"])
    log.info("values: %r", {"key": SECRETS["ANTHROPIC_API_KEY"], "db": make_settings().DATABASE_URL})
    log.info("url-quoted token: %s", token.replace(":", "%3A"))
    try:
        raise RuntimeError(f"header was Bearer {SECRETS['GEMINI_API_KEY']} and {REDIS_PASSWORD}")
    except RuntimeError:
        log.exception("call failed with %s", SECRETS["DISCORD_BOT_TOKEN"])

    output = stream.getvalue()
    for secret in all_secret_forms():
        assert secret not in output
    assert output.count(REDACTED) >= 7
    assert "getUpdates" in output and "RuntimeError: header was Bearer ***" in output


def test_every_secret_setting_is_redacted() -> None:
    stream = configured()
    log = logging.getLogger("langlearn.test")
    for name, value in SECRETS.items():
        log.warning("%s=%s", name, value)
    output = stream.getvalue()
    assert not [name for name, value in SECRETS.items() if value in output]
    assert output.count(f"={REDACTED}") == len(SECRETS)


def test_log_level_and_quiet_libraries() -> None:
    stream = configured(LOG_LEVEL="WARNING")
    logging.getLogger("langlearn.test").info("hidden")
    logging.getLogger("langlearn.test").warning("shown")
    assert "hidden" not in stream.getvalue() and "shown" in stream.getvalue()

    stream = configured(LOG_LEVEL="debug")
    logging.getLogger("langlearn.test").debug("debug shown")
    for library in ("httpx", "httpx2"):  # httpx2: the anthropic and google-genai SDKs' client
        logging.getLogger(library).info("HTTP Request: POST https://api.telegram.org/bot.../getUpdates")
        assert logging.getLogger(library).getEffectiveLevel() == logging.WARNING
    assert "debug shown" in stream.getvalue()
    assert "HTTP Request" not in stream.getvalue()


def test_unknown_level_falls_back_to_info_and_says_so() -> None:
    stream = configured(LOG_LEVEL="LOUD")
    assert logging.getLogger().level == logging.INFO
    assert "LOG_LEVEL='LOUD' is not a level name" in stream.getvalue()


def test_configuring_twice_keeps_one_handler() -> None:
    configured()
    stream = configured()
    logging.getLogger("langlearn.test").warning("once")
    assert stream.getvalue().count("once") == 1
    assert sum(getattr(h, "_langlearn", False) for h in logging.getLogger().handlers) == 1


def test_settings_without_secrets_log_unchanged() -> None:
    stream = io.StringIO()
    configure_logging(Settings(_env_file=None), stream=stream)  # type: ignore[call-arg]
    logging.getLogger("langlearn.test").warning("plain text with the word test")
    assert "plain text with the word test" in stream.getvalue()
