"""Logging set-up: level and format from Settings, and secrets redacted from every line.

`configure_logging(settings)` installs one stderr handler on the root logger. Its filter
replaces every secret value of the settings (tokens, API keys, passwords inside URLs) with
`***` in the message, its arguments and any traceback, so a library that logs a request
URL with a bot token in it, or an exception that quotes a header, shows no secret.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote, unquote, urlsplit

from pydantic import SecretStr

if TYPE_CHECKING:
    from collections.abc import Iterable

    from core.config import Settings

REDACTED = "***"
# Shorter values would redact ordinary words all over the log and protect nothing real.
_MIN_SECRET_LENGTH = 4
_URL_SETTINGS = ("DATABASE_URL", "REDIS_URL", "STORAGE_ENDPOINT_URL")
_NOISY_LIBRARIES = {
    "httpx": logging.WARNING,
    "httpx2": logging.WARNING,  # anthropic 2.x and google-genai 3.x: "HTTP Request: POST <url>" at INFO
    "anthropic": logging.WARNING,
    "google_genai": logging.WARNING,
    "httpcore": logging.WARNING,
    "urllib3": logging.WARNING,
    "deepl": logging.WARNING,
    "botocore": logging.WARNING,
    "boto3": logging.WARNING,
    "s3transfer": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncio": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "apscheduler": logging.WARNING,
    "discord.gateway": logging.WARNING,
    "discord.http": logging.WARNING,
    "spacy": logging.WARNING,  # spaCy also attaches its own handler: INFO lines would show twice
}
_CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def secret_values(settings: Settings) -> set[str]:
    """Every secret the settings hold: SecretStr values and the passwords inside URL settings."""
    values: set[str] = set()
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            values.add(value.get_secret_value())
    for name in _URL_SETTINGS:
        url = getattr(settings, name, None)
        if isinstance(url, str):
            password = _url_password(url)
            if password:
                values.update({password, unquote(password)})
    return {value for value in values if len(value) >= _MIN_SECRET_LENGTH}


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class SecretRedactingFilter(logging.Filter):
    """Replaces secret values in a record's message, arguments and traceback with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        variants = {variant for secret in secrets for variant in (secret, quote(secret, safe=""))}
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(variants, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC, ISO 8601), level, logger, msg, and exc when present."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, str] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Install the langlearn handler on the root logger (again: replaces the previous one).

    Returns the handler so a caller (or a test) can remove it.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_langlearn", False):
            root.removeHandler(handler)
    redactor = SecretRedactingFilter(secret_values(settings))
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler._langlearn = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if settings.LOG_FORMAT == "json" else logging.Formatter(_CONSOLE_FORMAT))
    handler.addFilter(redactor)
    for other in root.handlers:  # handlers a host (pytest, a platform library) installed before us
        for old in [f for f in other.filters if isinstance(f, SecretRedactingFilter)]:
            other.removeFilter(old)
        other.addFilter(redactor)
    root.addHandler(handler)
    level = logging.getLevelNamesMapping().get(settings.LOG_LEVEL.strip().upper())
    root.setLevel(level if level is not None else logging.INFO)
    for name, library_level in _NOISY_LIBRARIES.items():
        logging.getLogger(name).setLevel(library_level)
    if level is None:
        logging.getLogger(__name__).warning("LOG_LEVEL=%r is not a level name; using INFO", settings.LOG_LEVEL)
    return handler
