"""`.env.example` lists every setting of Settings, each commented, defaults shown, secrets empty."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from core.config import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def entries() -> list[tuple[str, str, str]]:
    """(name, value, the line above) for every assignment in .env.example."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    found = []
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip(), lines[index - 1]))
    return found


def secret_fields() -> set[str]:
    return {
        name
        for name, field in Settings.model_fields.items()
        if field.annotation is not None and "SecretStr" in str(field.annotation)
    }


def test_names_are_exactly_the_settings_fields() -> None:
    names = [name for name, _, _ in entries()]
    assert len(names) == len(set(names)), "a name appears twice"
    assert set(names) == set(Settings.model_fields)


def test_every_setting_has_a_comment_line() -> None:
    assert [name for name, _, above in entries() if not above.startswith("# ")] == []


def test_secrets_are_empty() -> None:
    assert secret_fields() >= {"TELEGRAM_BOT_TOKEN", "DEEPL_API_KEY", "STORAGE_SECRET_KEY"}
    assert [name for name, value, _ in entries() if name in secret_fields() and value] == []


def test_copying_it_to_dotenv_gives_exactly_the_defaults() -> None:
    from_example = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()
    assert all(not isinstance(value, SecretStr) for value in from_example.model_dump().values())


def test_defaults_are_shown() -> None:
    values = {name: value for name, value, _ in entries()}
    assert values["DATABASE_URL"] == Settings.model_fields["DATABASE_URL"].default
    assert values["ANTHROPIC_MODEL"] == "claude-sonnet-4-6"
    assert values["DAILY_SPEECH_QUOTA"] == "200"
    assert values["LOG_FORMAT"] == "console"
