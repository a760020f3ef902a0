"""Settings: every knob of langlearn, read from the environment and a `.env` file.

Names are contract (see `../shared/spec/config.md`): `.env.example`,
`docker-compose.yml` and the tests use exactly these. Secrets are `SecretStr`
so that a `repr()` or a log line never shows them.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """The one settings object; build it once in a composition root."""

    # env_ignore_empty: `NAME=` (as in .env.example and docker-compose's `${NAME:-}`) means unset.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

    # Storage and queue
    DATABASE_URL: str = "sqlite+aiosqlite:///./data/langlearn.db"
    REDIS_URL: str | None = None
    MEDIA_DIR: str = "./data/media"
    STORAGE_ENDPOINT_URL: str | None = None
    STORAGE_ACCESS_KEY: SecretStr | None = None
    STORAGE_SECRET_KEY: SecretStr | None = None
    STORAGE_BUCKET: str = "langlearn-media"
    STORAGE_REGION: str = "us-east-1"

    # Chat platforms
    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_API_BASE_URL: str = "https://api.telegram.org"
    TELEGRAM_WEBHOOK_URL: str | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None
    TELEGRAM_WEBHOOK_LISTEN: str = "0.0.0.0:8443"
    TELEGRAM_ADMIN_CHAT_IDS: Annotated[list[str], NoDecode] = []
    DISCORD_BOT_TOKEN: SecretStr | None = None
    DISCORD_API_BASE_URL: str | None = None
    DISCORD_GATEWAY_URL: str | None = None
    DISCORD_ADMIN_CHANNEL_IDS: Annotated[list[str], NoDecode] = []
    DISCORD_GUILD_IDS: Annotated[list[str], NoDecode] = []
    ADMIN_USER_IDS: Annotated[list[str], NoDecode] = []

    # Providers
    ANTHROPIC_API_KEY: SecretStr | None = None
    ANTHROPIC_BASE_URL: str | None = None
    ANTHROPIC_MODEL: str = "claude-sonnet-4-6"
    GEMINI_API_KEY: SecretStr | None = None
    GEMINI_BASE_URL: str | None = None
    GEMINI_TTS_MODEL: str = "gemini-2.5-flash-preview-tts"
    DEEPL_API_KEY: SecretStr | None = None
    DEEPL_SERVER_URL: str | None = None
    DEEPGRAM_API_KEY: SecretStr | None = None
    DEEPGRAM_BASE_URL: str | None = None
    DEEPGRAM_MODEL: str = "nova-3"
    SPACY_MODELS: Annotated[dict[str, str], NoDecode] = {}

    # Limits and behaviour
    DAILY_ARTICLE_QUOTA: int = 5
    DAILY_SPEECH_QUOTA: int = 200
    DAILY_ADVENTURE_TURNS: int = 60
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "console"

    @field_validator(
        "TELEGRAM_ADMIN_CHAT_IDS",
        "DISCORD_ADMIN_CHANNEL_IDS",
        "DISCORD_GUILD_IDS",
        "ADMIN_USER_IDS",
        mode="before",
    )
    @classmethod
    def _csv_list(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("SPACY_MODELS", mode="before")
    @classmethod
    def _language_map(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [part.split("=", 1) for part in value.split(",") if "=" in part]
            return {lang.strip(): model.strip() for lang, model in pairs}
        return value

    @field_validator("LOG_FORMAT")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in {"console", "json"}:
            raise ValueError("LOG_FORMAT must be 'console' or 'json'")
        return value

    @cached_property
    def admin_users(self) -> frozenset[tuple[str, str]]:
        """`ADMIN_USER_IDS` as (platform, user id) pairs."""
        pairs = (item.split(":", 1) for item in self.ADMIN_USER_IDS if ":" in item)
        return frozenset((platform.strip().lower(), uid.strip()) for platform, uid in pairs)

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")
