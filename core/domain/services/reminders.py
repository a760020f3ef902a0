"""Daily reminders: "N cards due" with a Review button, at the learner's reminder time, once a day.

Run every minute (an arq cron). A learner is reminded when their reminder time has come in their
timezone today (within `grace`, so a late tick still sends it and a time set for earlier in the
day waits for tomorrow), they were not reminded for that local day yet, and cards are due. The
day is recorded before the message goes out (at most once a day even with two senders); a send
that fails for a passing reason is un-recorded so the next tick tries again; a learner who
blocked the bot has reminders turned off. One learner's failure (deleted meanwhile, a bug) is
logged and the tick goes on with the others.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.errors import ProviderError, RecipientUnavailable
from core.domain.models import (
    ActionButton,
    DeliveryAddress,
    DueReminder,
    LearnerSettings,
    OutgoingMessage,
    ReminderCandidate,
    ReminderReport,
)
from core.domain.ports import Clock, Messenger, UnitOfWorkFactory
from core.domain.services._rules import learner_zone, local_day

logger = logging.getLogger(__name__)

REMINDER_PLATFORM = "telegram"
DEFAULT_GRACE = timedelta(hours=2)


def reminder_day(candidate: ReminderCandidate, now: datetime, grace: timedelta) -> date | None:
    """The learner's local day whose reminder is due at `now`, or None.

    Today's or yesterday's reminder time (a 23:30 reminder is still due at 00:10), within
    `grace` after it, for a day not reminded yet.
    """
    try:
        hours, minutes = (int(part) for part in candidate.reminder_time.split(":"))
        at_time = time(hours, minutes)
    except ValueError:
        return None
    zone: ZoneInfo = learner_zone(LearnerSettings(timezone=candidate.timezone))
    today = local_day(now, zone)
    for day in (today, today - timedelta(days=1)):
        moment = datetime.combine(day, at_time, tzinfo=zone)
        already = candidate.last_reminded_on is not None and candidate.last_reminded_on >= day
        if moment <= now < moment + grace and not already:
            return day
    return None


def reminder_message(due_count: int) -> OutgoingMessage:
    cards = "1 card is" if due_count == 1 else f"{due_count} cards are"
    return OutgoingMessage(
        text=f"⏰ {cards} due for review.",
        buttons=[[ActionButton(label="Review", action="review", ref="")]],
    )


class ReminderService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, grace: timedelta = DEFAULT_GRACE) -> None:
        self._uow = uow
        self._clock = clock
        self._grace = grace

    async def due_reminders(self, now: datetime | None = None) -> list[DueReminder]:
        """Learners to remind now, with their due counts (never 0)."""
        now = now or self._clock()
        async with self._uow(read_only=True) as uow:
            # Learners reminded on their local today are left out in SQL (the day is per timezone).
            zones = await uow.reminders.reminder_timezones()
            local_today = {zone: local_day(now, learner_zone(LearnerSettings(timezone=zone))) for zone in zones}
            candidates = await uow.reminders.list_candidates(local_today)
            due: list[DueReminder] = []
            for candidate in candidates:
                day = reminder_day(candidate, now, self._grace)
                if day is None:
                    continue
                count = await uow.cards.count_due(candidate.learner_id, now)
                if count > 0:
                    user = candidate.telegram_user_id
                    address = DeliveryAddress(platform=REMINDER_PLATFORM, chat_id=user, user_id=user)
                    due.append(DueReminder(candidate.learner_id, address, count, day))
        return due

    async def mark_reminded(self, learner_id: str, day: date) -> bool:
        """Record the day's reminder; False when already recorded (another sender has it) or the learner is gone."""
        async with self._uow() as uow:
            marked = await uow.reminders.mark_reminded(learner_id, day)
            await uow.commit()
        return marked

    async def disable_reminders(self, learner_id: str) -> None:
        """Turn the learner's reminders off (they blocked the bot)."""
        async with self._uow() as uow:
            learner = await uow.learners.get(learner_id)
            if learner is None:
                return
            await uow.learners.update_settings(learner_id, dataclasses.replace(learner.settings, reminder_time=None))
            await uow.commit()

    async def send_due(self, messengers: Mapping[str, Messenger]) -> ReminderReport:
        """Send every reminder due now (the cron task)."""
        messenger = messengers.get(REMINDER_PLATFORM)
        if messenger is None:
            return ReminderReport(sent=0, disabled=0)
        sent = disabled = 0
        for reminder in await self.due_reminders():
            try:
                outcome = await self._send(messenger, reminder)
            except Exception:  # one learner's failure must not cost the others their reminder
                logger.exception("reminder for learner %s not sent", reminder.learner_id)
                continue
            if outcome == "sent":
                sent += 1
            elif outcome == "disabled":
                disabled += 1
        return ReminderReport(sent=sent, disabled=disabled)

    async def _send(self, messenger: Messenger, reminder: DueReminder) -> str:
        """Mark the day, then send: "sent", "disabled" (blocked), or "" (not sent)."""
        if not await self.mark_reminded(reminder.learner_id, reminder.day):
            return ""  # another sender has it, or the learner is gone
        try:
            await messenger.send(reminder.address, reminder_message(reminder.due_count))
        except RecipientUnavailable:
            await self.disable_reminders(reminder.learner_id)
            return "disabled"
        except ProviderError:
            await self._clear(reminder.learner_id, reminder.day)
            return ""
        return "sent"

    async def _clear(self, learner_id: str, day: date) -> None:
        async with self._uow() as uow:
            await uow.reminders.clear_reminded(learner_id, day)
            await uow.commit()
