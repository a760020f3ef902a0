"""A small driver for the chat layer: send texts and press buttons as a learner, read the replies.

Used by the chat unit tests (services over fakes), the integration tests (real databases) and the
property test. It builds Events the way an adapter does: commands parsed with `parse_command`,
buttons carrying the payload of a button the learner was shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bots.chat.app import ChatApp
from bots.chat.events import Attachment, Event, EventKind
from bots.chat.parsing import parse_command
from bots.chat.replies import Button, Reply
from core.bootstrap import Services
from core.domain.models import AdminPolicy

PLATFORM = "telegram"
ADMIN = "admin"
ADMIN_CHANNEL = "admins"
ADMINS = AdminPolicy(
    admin_users=frozenset({(PLATFORM, ADMIN)}),
    admin_channels=frozenset({(PLATFORM, ADMIN_CHANNEL)}),
)


def texts(replies: list[Reply]) -> list[str]:
    return [reply.text for reply in replies]


def labels(replies: list[Reply]) -> list[str]:
    return [button.label for reply in replies for row in reply.buttons for button in row]


@dataclass
class Chat:
    """Drives one ChatApp; remembers every user's most recent buttons, as a chat window would."""

    app: ChatApp
    services: Services
    shown: dict[str, list[Button]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @classmethod
    def build(
        cls, services: Services, clock: Callable[[], datetime], *, speech: bool = False, admins: AdminPolicy = ADMINS
    ) -> Chat:
        return cls(ChatApp(services, admins, speech_available=speech, clock=clock), services)

    def event(
        self, user: str, kind: EventKind, *, chat: str | None = None, group: bool = False, **fields: object
    ) -> Event:
        return Event(
            platform=PLATFORM,
            user_id=user,
            chat_id=chat or user,
            display_name=user.title(),
            kind=kind,
            is_group=group,
            **fields,  # type: ignore[arg-type]
        )

    async def handle(self, event: Event) -> list[Reply]:
        replies = await self.app.handle(event)
        buttons = [button for reply in replies for row in reply.buttons for button in row]
        if buttons:
            self.shown[event.user_id] = buttons
        return replies

    async def send(self, text: str, user: str = "ann", **options: object) -> list[Reply]:
        """A typed message: a command when it parses as one, else plain text."""
        command, args = parse_command(text)
        if command is None:
            return await self.handle(self.event(user, EventKind.TEXT, text=text, **options))  # type: ignore[arg-type]
        return await self.handle(
            self.event(user, EventKind.COMMAND, text=text, command=command, args=args, **options)  # type: ignore[arg-type]
        )

    def button(self, label: str, user: str = "ann") -> Button:
        matches = [b for b in self.shown.get(user, []) if b.label == label]
        assert matches, f"no button {label!r} among {[b.label for b in self.shown.get(user, [])]}"
        return matches[0]

    async def press(self, label: str, user: str = "ann", *, by: str | None = None) -> list[Reply]:
        """Press a button `user` was shown; `by` presses it as someone else."""
        return await self.tap(self.button(label, user).payload, by or user)

    async def tap(self, payload: str, user: str = "ann", **options: object) -> list[Reply]:
        return await self.handle(self.event(user, EventKind.BUTTON, payload=payload, **options))  # type: ignore[arg-type]

    async def file(
        self, caption: str, content: bytes, filename: str = "words.csv", user: str = ADMIN, **options: object
    ) -> list[Reply]:
        command, args = parse_command(caption)
        attachment = Attachment(filename=filename, content=content, mime_type="text/csv")
        event = self.event(
            user,
            EventKind.FILE,
            text=caption,
            command=command,
            args=args,
            attachment=attachment,
            **options,  # type: ignore[arg-type]
        )
        return await self.handle(event)

    async def voice(
        self, content: bytes, duration: float | None, mime: str | None = "audio/ogg", user: str = "ann"
    ) -> list[Reply]:
        attachment = Attachment(filename="voice.ogg", content=content, mime_type=mime, duration_s=duration)
        return await self.handle(self.event(user, EventKind.VOICE, attachment=attachment))

    async def admin(self, text: str) -> list[Reply]:
        """A command from the admin user in the admin channel."""
        return await self.send(text, ADMIN, chat=ADMIN_CHANNEL, group=True)

    async def onboard(
        self, user: str = "ann", target: str = "Spanish", native: str = "English", level: str = "A2"
    ) -> None:
        await self.send("/start", user)
        await self.press(target, user)
        await self.press(native, user)
        await self.press(level, user)

    async def learner_id(self, user: str = "ann") -> str:
        learner = await self.services.accounts.find_learner(PLATFORM, user)
        assert learner is not None
        return learner.id

    def next_update_id(self) -> str:
        return f"u{next(self._ids)}"
