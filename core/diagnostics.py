"""`langlearn doctor`: which platforms and providers are configured, and what enables the rest.

Reads Settings only: no network call, no import of a provider SDK, so it answers in a blink
and works on a machine with nothing configured. Secrets are never read into a line: a
line says "set" or names the setting, and URLs show `***` in place of their password.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from core.logging import SecretRedactingFilter, secret_values

if TYPE_CHECKING:
    from core.config import Settings

Status = Literal["configured", "missing", "default"]


@dataclass(frozen=True)
class DoctorLine:
    """One feature: whether it is on and which setting turns it on (or what runs instead)."""

    name: str
    status: Status
    detail: str


def doctor_report(settings: Settings) -> list[DoctorLine]:
    """Every platform, provider and piece of infrastructure, in the order a newcomer sets them up."""
    lines = [
        _database(settings),
        _queue(settings),
        _media(settings),
        _telegram(settings),
        _discord(settings),
        _admins(settings),
        _provider(settings, "Articles and adventures", "ANTHROPIC", settings.ANTHROPIC_MODEL),
        _provider(settings, "Speech", "GEMINI", settings.GEMINI_TTS_MODEL),
        _translation(settings),
        _provider(settings, "Voice answers", "DEEPGRAM", settings.DEEPGRAM_MODEL),
        _spacy(settings),
    ]
    # Belt and braces: a URL setting may carry a token in its path; no secret value leaves here.
    redact = SecretRedactingFilter(secret_values(settings)).redact
    return [replace(line, detail=redact(line.detail)) for line in lines]


def render_doctor(lines: list[DoctorLine]) -> str:
    """A plain-text table for the terminal: name, status, detail."""
    width = max((len(line.name) for line in lines), default=0)
    marks = {"configured": "ok     ", "missing": "missing", "default": "default"}
    rows = [f"  {line.name:<{width}}  {marks[line.status]}  {line.detail}" for line in lines]
    configured = sum(line.status == "configured" for line in lines)
    return "\n".join(["langlearn doctor", *rows, f"{configured} of {len(lines)} configured."])


def mask_url(url: str) -> str:
    """`url` with its password replaced by `***` (user, host, port and path kept)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(unparseable URL)"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _database(settings: Settings) -> DoctorLine:
    if settings.is_sqlite:
        return DoctorLine(
            "Database",
            "default",
            f"embedded SQLite ({settings.DATABASE_URL}); set DATABASE_URL=postgresql+asyncpg://… for PostgreSQL",
        )
    return DoctorLine("Database", "configured", f"PostgreSQL: {mask_url(settings.DATABASE_URL)}")


def _queue(settings: Settings) -> DoctorLine:
    if settings.REDIS_URL:
        return DoctorLine("Background jobs", "configured", f"arq on Redis: {mask_url(settings.REDIS_URL)}")
    return DoctorLine("Background jobs", "default", "in-process (jobs run in the bot); set REDIS_URL for arq workers")


def _media(settings: Settings) -> DoctorLine:
    if settings.STORAGE_ENDPOINT_URL:
        keys = "set" if settings.STORAGE_ACCESS_KEY and settings.STORAGE_SECRET_KEY else "not set"
        return DoctorLine(
            "Media storage",
            "configured",
            f"S3 at {mask_url(settings.STORAGE_ENDPOINT_URL)}, bucket {settings.STORAGE_BUCKET}, "
            f"region {settings.STORAGE_REGION}, STORAGE_ACCESS_KEY/STORAGE_SECRET_KEY {keys}",
        )
    return DoctorLine(
        "Media storage", "default", f"local directory {settings.MEDIA_DIR}; set STORAGE_ENDPOINT_URL for S3"
    )


def _telegram(settings: Settings) -> DoctorLine:
    if settings.TELEGRAM_BOT_TOKEN is None:
        return DoctorLine("Telegram", "missing", "set TELEGRAM_BOT_TOKEN to run `langlearn telegram`")
    if settings.TELEGRAM_WEBHOOK_URL:
        secret = "set" if settings.TELEGRAM_WEBHOOK_SECRET else "MISSING: set TELEGRAM_WEBHOOK_SECRET"
        url, listen = mask_url(settings.TELEGRAM_WEBHOOK_URL), settings.TELEGRAM_WEBHOOK_LISTEN
        mode = f"webhook {url} (listening on {listen}), secret {secret}"
    else:
        mode = "long polling"
    return DoctorLine("Telegram", "configured", f"TELEGRAM_BOT_TOKEN set; {mode}; API {settings.TELEGRAM_API_BASE_URL}")


def _discord(settings: Settings) -> DoctorLine:
    if settings.DISCORD_BOT_TOKEN is None:
        return DoctorLine("Discord", "missing", "set DISCORD_BOT_TOKEN to run `langlearn discord`")
    guilds = (
        f"commands synced to {len(settings.DISCORD_GUILD_IDS)} guild(s)"
        if settings.DISCORD_GUILD_IDS
        else "global command sync"
    )
    return DoctorLine("Discord", "configured", f"DISCORD_BOT_TOKEN set; {guilds}")


def _admins(settings: Settings) -> DoctorLine:
    if not settings.ADMIN_USER_IDS:
        return DoctorLine(
            "Admins",
            "missing",
            "set ADMIN_USER_IDS (telegram:123,discord:456) and TELEGRAM_ADMIN_CHAT_IDS / DISCORD_ADMIN_CHANNEL_IDS "
            "(the console's local user is always admin)",
        )
    channels = len(settings.TELEGRAM_ADMIN_CHAT_IDS) + len(settings.DISCORD_ADMIN_CHANNEL_IDS)
    where = (
        f"{channels} admin chat(s)"
        if channels
        else "no admin chat: set TELEGRAM_ADMIN_CHAT_IDS / DISCORD_ADMIN_CHANNEL_IDS"
    )
    return DoctorLine("Admins", "configured", f"users {', '.join(settings.ADMIN_USER_IDS)}; {where}")


def _provider(settings: Settings, feature: str, prefix: str, model: str) -> DoctorLine:
    """Anthropic, Gemini, Deepgram: `<PREFIX>_API_KEY` enables, `<PREFIX>_BASE_URL` overrides the server."""
    key_setting = f"{prefix}_API_KEY"
    if getattr(settings, key_setting) is None:
        return DoctorLine(feature, "missing", f"set {key_setting} to enable it")
    base_url = getattr(settings, f"{prefix}_BASE_URL")
    server = f" at {mask_url(base_url)}" if base_url else ""
    return DoctorLine(feature, "configured", f"{prefix.title()}{server}, model {model} ({key_setting} set)")


def _translation(settings: Settings) -> DoctorLine:
    if settings.DEEPL_API_KEY is None:
        return DoctorLine(
            "Translation", "missing", "learners type translations themselves; set DEEPL_API_KEY for DeepL"
        )
    server = settings.DEEPL_SERVER_URL or "the SDK's default server for the key"
    return DoctorLine("Translation", "configured", f"DeepL at {server} (DEEPL_API_KEY set)")


def _spacy(settings: Settings) -> DoctorLine:
    lookups = (
        "lookup lemmas (spacy-lookups-data)"
        if _installed("spacy-lookups-data")
        else "no lemmas: spacy-lookups-data missing"
    )
    if not settings.SPACY_MODELS:
        return DoctorLine(
            "spaCy pipelines", "default", f"blank pipelines with {lookups}; set SPACY_MODELS for trained ones"
        )
    found = {name: _installed(name) or Path(name).is_dir() for name in settings.SPACY_MODELS.values()}
    parts = [
        f"{lang}={name} ({'installed' if found[name] else 'not installed: blank fallback'})"
        for lang, name in sorted(settings.SPACY_MODELS.items())
    ]
    status: Status = "configured" if all(found.values()) else "default"
    return DoctorLine("spaCy pipelines", status, f"{', '.join(parts)}; other languages: blank pipelines with {lookups}")


def _installed(distribution: str) -> bool:
    """Whether a package is installed, without importing it (spaCy's `is_package` does the same)."""
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
