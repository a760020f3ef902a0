"""The chat layer's entry point: one Event in, Reply objects out. Every flow is written here once."""

from __future__ import annotations

from core.bootstrap import Services
from core.domain.models import AdminPolicy

from bots.chat.events import Event
from bots.chat.replies import Reply


class ChatApp:
    """Platform-neutral conversation layer used by Telegram, Discord and the console."""

    def __init__(self, services: Services, admin_policy: AdminPolicy, *, speech_available: bool = False) -> None:
        self._services = services
        self._admins = admin_policy
        self._speech_available = speech_available

    async def handle(self, event: Event) -> list[Reply]:
        """Answer one incoming event; [] only for a deliberate silence."""
        raise NotImplementedError
