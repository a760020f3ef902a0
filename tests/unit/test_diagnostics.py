"""`langlearn doctor`'s report: what is on, what is missing and which setting enables it; no secret shown."""

from __future__ import annotations

from pathlib import Path

from core.config import Settings
from core.diagnostics import DoctorLine, doctor_report, mask_url, render_doctor
from tests.secret_values import SECRETS


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def by_name(lines: list[DoctorLine]) -> dict[str, DoctorLine]:
    return {line.name: line for line in lines}


def test_nothing_configured_names_the_setting_for_each_feature() -> None:
    lines = by_name(doctor_report(settings()))

    expected = {
        "Telegram": ("missing", "TELEGRAM_BOT_TOKEN"),
        "Discord": ("missing", "DISCORD_BOT_TOKEN"),
        "Articles and adventures": ("missing", "ANTHROPIC_API_KEY"),
        "Speech": ("missing", "GEMINI_API_KEY"),
        "Translation": ("missing", "DEEPL_API_KEY"),
        "Voice answers": ("missing", "DEEPGRAM_API_KEY"),
        "Admins": ("missing", "ADMIN_USER_IDS"),
        "Background jobs": ("default", "REDIS_URL"),
        "Media storage": ("default", "STORAGE_ENDPOINT_URL"),
        "Database": ("default", "DATABASE_URL"),
        "spaCy pipelines": ("default", "SPACY_MODELS"),
    }
    assert set(lines) == set(expected)
    for name, (status, setting) in expected.items():
        assert lines[name].status == status, name
        assert setting in lines[name].detail, name
    assert "SQLite" in lines["Database"].detail
    assert "in-process" in lines["Background jobs"].detail
    assert "./data/media" in lines["Media storage"].detail


def test_everything_configured_and_no_secret_is_shown() -> None:
    config = settings(
        **SECRETS,
        DATABASE_URL="postgresql+asyncpg://langlearn:db-password-789@postgres:5432/langlearn",
        REDIS_URL="redis://:redis-password-321@redis:6379/0",
        STORAGE_ENDPOINT_URL="http://minio:9000",
        TELEGRAM_WEBHOOK_URL=f"https://bot.example.org/hook/{SECRETS['TELEGRAM_BOT_TOKEN']}",
        ANTHROPIC_BASE_URL="https://proxy.example.org",
        ADMIN_USER_IDS="telegram:42,discord:7",
        TELEGRAM_ADMIN_CHAT_IDS="-100123",
    )
    lines = doctor_report(config)
    output = render_doctor(lines)

    for value in [*SECRETS.values(), "db-password-789", "redis-password-321"]:
        assert value not in output
    statuses = {line.name: line.status for line in lines}
    assert [name for name, status in statuses.items() if status != "configured"] == ["spaCy pipelines"]
    details = by_name(lines)
    assert details["Database"].detail == "PostgreSQL: postgresql+asyncpg://langlearn:***@postgres:5432/langlearn"
    assert details["Background jobs"].detail == "arq on Redis: redis://:***@redis:6379/0"
    assert "webhook https://bot.example.org/hook/***" in details["Telegram"].detail
    assert "secret set" in details["Telegram"].detail
    assert "proxy.example.org" in details["Articles and adventures"].detail
    assert "claude-sonnet-4-6" in details["Articles and adventures"].detail
    assert "telegram:42, discord:7" in details["Admins"].detail


def test_webhook_without_secret_is_flagged() -> None:
    line = by_name(doctor_report(settings(TELEGRAM_BOT_TOKEN="t0ken-value", TELEGRAM_WEBHOOK_URL="https://x.org/h")))
    assert "MISSING: set TELEGRAM_WEBHOOK_SECRET" in line["Telegram"].detail


def test_spacy_models_installed_or_falling_back(tmp_path: Path) -> None:
    (tmp_path / "es_pipeline").mkdir()
    line = by_name(doctor_report(settings(SPACY_MODELS=f"es={tmp_path / 'es_pipeline'}")))["spaCy pipelines"]
    assert line.status == "configured"
    assert "(installed)" in line.detail

    line = by_name(doctor_report(settings(SPACY_MODELS="fr=fr_core_news_sm")))["spaCy pipelines"]
    assert line.status == "default"
    assert "fr=fr_core_news_sm (not installed: blank fallback)" in line.detail
    assert "lookup lemmas (spacy-lookups-data)" in line.detail


def test_render_is_one_row_per_line_and_a_summary() -> None:
    lines = doctor_report(settings(DEEPL_API_KEY="some-deepl-key"))
    text = render_doctor(lines).splitlines()
    assert text[0] == "langlearn doctor"
    assert len(text) == len(lines) + 2
    assert text[-1] == f"1 of {len(lines)} configured."
    assert any(row.strip().startswith("Translation") and " ok " in row for row in text)


def test_mask_url() -> None:
    assert mask_url("postgresql://u:p%40ss@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert mask_url("sqlite+aiosqlite:///./data/x.db") == "sqlite+aiosqlite:///./data/x.db"
