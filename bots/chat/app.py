"""The chat layer's entry point: one Event in, Reply objects out. Every flow is written here once.

Order of work for an event: deliberate silence (a group message not for the bot) → duplicate
delivery → the learner behind the identity and their flow state → the handler for the event's
kind → errors turned into text by the one table in `errors.py`. Unexpected exceptions are caught
in exactly one place (`handle`), logged with their traceback, and answered with an apology.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from bots.chat import deliveries, payloads
from bots.chat.commands import BY_NAME
from bots.chat.context import Turn
from bots.chat.errors import BUTTON_EXPIRED, NOT_YOUR_BUTTON, SOMETHING_WENT_WRONG, ChatNotice, user_message
from bots.chat.events import Event, EventKind
from bots.chat.flows import admin, confirm, packs, progress, review, start, words
from bots.chat.inputs import check_length, command_of, voice_problem, without_control_characters
from bots.chat.replies import Reply
from core.bootstrap import Services, utc_now
from core.domain.errors import DomainError
from core.domain.models import AdminPolicy
from core.domain.ports import Messenger
from core.domain.services.conversation import TurnStart

logger = logging.getLogger(__name__)

Handler = Callable[[Turn], Awaitable[list[Reply]]]
Confirmed = Callable[[Turn, dict[str, Any]], Awaitable[list[Reply]]]

MAX_DISPLAY_NAME = 64
FILE_HINT = (
    "Files are for admins importing word packs: send a CSV or TSV with the caption /pack_import <slug>. "
    "To add your own words, use /add."
)
CONFIRM_HINT = "Please answer the question above with its buttons, or send /cancel."


async def _confirmed(turn: Turn) -> list[Reply]:
    """Yes on a confirmation: run the action it was asked for (once)."""
    data = await confirm.take(turn)
    action = _CONFIRMED.get(str(data.get("action")))
    if action is None:
        raise ChatNotice(BUTTON_EXPIRED)
    return await action(turn, data)


_CONFIRMED: dict[str, Confirmed] = {
    "pack_delete": admin.confirmed_pack_delete,
    "delete_me": progress.confirmed_delete_me,
}

_BUTTONS: dict[str, Handler] = {
    "ob.t": start.button_target,
    "ob.n": start.button_native,
    "ob.l": start.button_level,
    "ob.c": start.button_type_code,
    "lg.s": start.button_switch_pair,
    "lg.a": start.button_add_language,
    "rv.s": review.button_show_answer,
    "rv.r": review.button_rate,
    "rv.l": review.button_listen,
    "wd.p": words.button_words_page,
    "tr.go": words.button_translate_pending,
    "ad": words.button_add_offered,
    "pk.v": packs.button_preview,
    "pk.a": packs.button_subscribe,
    "cf.y": _confirmed,
    "cf.n": confirm.button_cancel,
    "jb.w": deliveries.button_add_words,
    "rm.r": deliveries.button_review,
}

# Buttons answering a pending confirmation: as personal as the command that asked it.
_CONFIRMATION_ACTIONS = frozenset({"cf.y", "cf.n"})

# Commands that leave an open "What does X mean?" question open (/cancel and /stop close it themselves).
_KEEP_TRANSLATION_QUESTIONS = frozenset({"add", "help", "cancel", "stop"})

_FLOW_TEXT: dict[str, Handler] = {
    start.ONBOARDING: start.text_in_onboarding,
    review.REVIEW: review.text_in_review,
    words.TRANSLATE: words.text_in_translate,
}


class ChatApp:
    """Platform-neutral conversation layer used by Telegram, Discord and the console.

    `messengers` (per platform) send what does not fit a reply: the status line of a background
    job as it is requested, and a voice message already synthesised. `speech_available` (offer
    Listen on cards) defaults to whether speech is configured in `services`.
    """

    def __init__(
        self,
        services: Services,
        admin_policy: AdminPolicy,
        *,
        speech_available: bool | None = None,
        clock: Callable[[], datetime] = utc_now,
        messengers: Mapping[str, Messenger] | None = None,
    ) -> None:
        self._services = services
        self._admins = admin_policy
        if speech_available is None:
            speech_available = services.speech_clips is not None and services.speech_clips.configured
        self._speech_available = speech_available
        self._messengers: dict[str, Messenger] = dict(messengers or {})
        self._clock = clock  # only for "due in 3h" texts; pass the services' clock in tests
        # One event per identity at a time in this process, so two quick presses of the same
        # button (Discord runs handlers concurrently) cannot both pass the "already reviewed" check.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    async def handle(self, event: Event) -> list[Reply]:
        """Answer one incoming event; [] only for a deliberate silence or a duplicate delivery."""
        try:
            async with self._lock_for(event):
                return await self._handle(event)
        except Exception:
            # The one place unexpected errors end: logged with traceback (no message content), apology out.
            logger.exception(
                "chat event failed: platform=%s kind=%s command=%s",
                event.platform,
                event.kind,
                (event.command or "")[:40] or None,
            )
            await self._forget_delivery(event)
            return [Reply(text=SOMETHING_WENT_WRONG)]

    async def _forget_delivery(self, event: Event) -> None:
        """The update failed: a redelivery must be handled, not dropped as a duplicate."""
        if event.update_id is None:
            return
        try:
            await self._services.conversation.forget_delivery(event.platform, event.update_id)
        except Exception:  # the database may be what failed; the apology still goes out
            logger.warning("could not forget update %s/%s after a failure", event.platform, event.update_id)

    def _lock_for(self, event: Event) -> asyncio.Lock:
        key = (event.platform, event.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _handle(self, event: Event) -> list[Reply]:
        if not event.addressed_to_bot:
            return []
        event = without_control_characters(event)
        start = await self._begin(event)
        if start.duplicate:
            return []
        if start.learner is None or start.state is None:
            return [Reply(text=BUTTON_EXPIRED, notice=BUTTON_EXPIRED)]
        turn = Turn(
            event=event,
            learner=start.learner,
            state=start.state,
            services=self._services,
            admins=self._admins,
            speech_available=self._speech_available,
            clock=self._clock,
            messengers=self._messengers,
        )
        is_button = event.kind == EventKind.BUTTON
        personal = event.is_group and _is_personal(event, turn)  # before the turn changes the flow
        try:
            replies = await self._route(turn)
        except ChatNotice as refusal:
            replies = [Reply(text=refusal.text, notice=refusal.text if is_button else None)]
        except DomainError as error:
            text = user_message(error)
            replies = [Reply(text=text, notice=text[:200] if is_button else None)]
        if personal:
            for reply in replies:
                reply.private = True
        return replies

    async def _begin(self, event: Event) -> TurnStart:
        """Duplicate guard, the learner behind the identity and their flow state: one transaction.

        The learner is created on first contact, but not by a personal button: only its own
        learner has seen it, and after /delete_me a late press must not bring them back. Buttons
        on background results are PUBLIC (their sender has no owner tag) yet personal.
        """
        create = True
        if event.kind == EventKind.BUTTON:
            payload = payloads.decode(event.payload)
            create = (
                payload is not None
                and payload.owner == payloads.PUBLIC
                and payload.action not in deliveries.PERSONAL_ACTIONS
            )
        name = event.display_name.strip()[:MAX_DISPLAY_NAME] or event.user_id[:MAX_DISPLAY_NAME]
        return await self._services.conversation.begin_turn(
            event.platform, event.user_id, name, event.update_id, create
        )

    async def _route(self, turn: Turn) -> list[Reply]:
        kind = turn.event.kind
        if kind == EventKind.BUTTON:
            return await self._button(turn)
        if kind == EventKind.VOICE:
            return [Reply(text=voice_problem(turn))]
        command, args = command_of(turn.event)
        if command is not None:
            return await self._command(turn, command, args)
        if kind == EventKind.FILE:
            return [Reply(text=FILE_HINT)]
        return await self._text(turn)

    async def _command(self, turn: Turn, name: str, args: str) -> list[Reply]:
        spec = BY_NAME.get(name)
        if spec is None:
            return [Reply(text=f"Unknown command /{name[:40]} — try /help")]
        check_length(turn.event, args)
        if turn.event.command != name or turn.event.args != args:
            turn.event = replace(turn.event, command=name, args=args)
        if turn.flow == words.TRANSLATE and name not in _KEEP_TRANSLATION_QUESTIONS:
            await turn.end_flow()  # moved on: the next plain message is not a translation; /words keeps them
        return await spec.handler(turn)

    async def _button(self, turn: Turn) -> list[Reply]:
        payload = payloads.decode(turn.event.payload)
        if payload is None:
            raise ChatNotice(BUTTON_EXPIRED)
        if payload.owner not in (payloads.PUBLIC, payloads.owner_tag(turn.learner_id)):
            raise ChatNotice(NOT_YOUR_BUTTON)
        turn.payload = payload
        return await _BUTTONS[payload.action](turn)

    async def _text(self, turn: Turn) -> list[Reply]:
        check_length(turn.event, turn.event.text)
        if not turn.event.text.strip():
            return [Reply(text="That message is empty. Send a word to add it, or /help to see what I can do.")]
        if turn.event.is_group:
            return [Reply(text=words.HINT)]
        if turn.flow == confirm.CONFIRM:
            return [Reply(text=CONFIRM_HINT)]
        handler = _FLOW_TEXT.get(turn.flow or "")
        if handler is not None:
            return await handler(turn)
        return await words.plain_text(turn)


def _is_personal(event: Event, turn: Turn) -> bool:
    """Answers about the learner's own data; in a group they go to the learner privately.

    A button is personal unless it answers the confirmation of a command that is not (Delete on
    /pack_delete asked in an admin group is answered there, editing the question in place).
    """
    if event.kind == EventKind.VOICE:
        return True
    if event.kind == EventKind.BUTTON:
        payload = payloads.decode(event.payload)
        if payload is not None and payload.action in _CONFIRMATION_ACTIONS:
            data = turn.state.data
            if turn.flow != confirm.CONFIRM or data.get("token") != payload.args[0]:
                return False  # answered already or expired: a toast where it was pressed
            spec = BY_NAME.get(str(data.get("action")))
            return spec is None or spec.personal
        return True
    command, _ = command_of(event)
    if command is None:
        return event.kind == EventKind.FILE
    spec = BY_NAME.get(command)
    return spec is not None and spec.personal
