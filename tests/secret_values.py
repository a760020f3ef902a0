"""One realistic value per secret setting, for tests that prove no secret is ever shown."""

from __future__ import annotations

SECRETS = {
    "TELEGRAM_BOT_TOKEN": "123456789:AAH-telegram-secret-token",
    "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-value",
    "DISCORD_BOT_TOKEN": "discord.secret.token-xyz",
    "ANTHROPIC_API_KEY": "sk-ant-secret-anthropic",
    "GEMINI_API_KEY": "gemini-secret-key-123",
    "DEEPL_API_KEY": "deepl-secret-key:fx",
    "DEEPGRAM_API_KEY": "deepgram-secret-key-456",
    "STORAGE_ACCESS_KEY": "storage-access-secret",
    "STORAGE_SECRET_KEY": "storage-secret-secret",
}
