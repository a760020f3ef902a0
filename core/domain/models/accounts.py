"""Accounts: a learner, the chat identities that reach them, and who may administer packs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class LearnerSettings:
    """What a learner tunes with /settings."""

    timezone: str = "UTC"
    reminder_time: str | None = None  # "HH:MM" in the learner's timezone, None = off
    new_cards_per_day: int = 20
    directions: str = "recognition"  # "recognition" | "production" | "both"
    audio_on_cards: bool = False


@dataclass
class Learner:
    id: str
    display_name: str
    settings: LearnerSettings
    desired_retention: float
    fsrs_parameters: tuple[float, ...]  # the FSRS weights used for this learner (optimisable later)
    created_at: datetime


@dataclass(frozen=True)
class ChatIdentity:
    platform: str  # "telegram" | "discord" | "console"
    platform_user_id: str
    learner_id: str


@dataclass(frozen=True)
class AdminPolicy:
    """Who may run admin commands, and where: both the user and the channel must be listed."""

    admin_users: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    admin_channels: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    allow_everyone: bool = False  # the console: the local user owns the database

    def is_admin_user(self, platform: str, user_id: str) -> bool:
        return self.allow_everyone or (platform, user_id) in self.admin_users

    def is_admin_channel(self, platform: str, chat_id: str) -> bool:
        return self.allow_everyone or (platform, chat_id) in self.admin_channels
