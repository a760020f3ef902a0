"""Reminders: "N cards due" with a Review button at the learner's local reminder time, at most once a
day, never when nothing is due; a learner who blocked the bot has reminders turned off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.errors import ProviderUnavailable
from core.domain.models import ActionButton, CardState, Learner, ReminderReport
from tests.fakes import JobWorld, build_job_world


async def learner_with_due_cards(
    world: JobWorld, due: int, reminder: str | None = "19:30", timezone: str = "Europe/Madrid", user_id: str = "1001"
) -> Learner:
    learner = await world.learner(user_id)
    await world.services.learner_settings.set_timezone(learner.id, timezone)
    if reminder is not None:
        await world.services.learner_settings.set_reminder(learner.id, reminder)
    terms = ["perro", "gato", "casa", "libro"]
    await world.services.vocabulary.add_words(learner.id, [f"{term}{user_id} = x" for term in terms])
    cards = [card for card in world.uow.store.cards.values() if card.learner_id == learner.id]
    for index, card in enumerate(cards):
        card.state = CardState.REVIEW
        card.due = world.clock() - timedelta(days=1) if index < due else world.clock() + timedelta(days=30)
    return learner


async def tick(world: JobWorld, at: datetime) -> ReminderReport:
    world.clock.set(at)
    return await world.jobs.reminders.send_due(world.messengers)


async def test_a_reminder_goes_out_at_the_learners_local_time_once_a_day() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=2)  # 19:30 in Madrid = 18:30 UTC in March
    assert await tick(world, datetime(2025, 3, 10, 18, 29, tzinfo=UTC)) == ReminderReport(sent=0, disabled=0)
    assert await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC)) == ReminderReport(sent=1, disabled=0)
    [reminder] = world.messenger.delivered
    assert reminder.message.text == "⏰ 2 cards are due for review."
    assert reminder.message.buttons == [[ActionButton(label="Review", action="review", ref="")]]
    assert (reminder.address.platform, reminder.address.chat_id) == ("telegram", "1001")
    for minute in (31, 45, 59):
        assert (await tick(world, datetime(2025, 3, 10, 18, minute, tzinfo=UTC))).sent == 0
    assert (await tick(world, datetime(2025, 3, 11, 18, 30, tzinfo=UTC))).sent == 1
    assert len(world.messenger.delivered) == 2


async def test_the_time_is_the_learners_own() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=1, timezone="Asia/Tokyo")  # 19:30 in Tokyo = 10:30 UTC
    assert (await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))).sent == 0
    assert (await tick(world, datetime(2025, 3, 11, 10, 30, tzinfo=UTC))).sent == 1
    assert world.messenger.texts() == ["⏰ 1 card is due for review."]


async def test_a_late_tick_still_reminds_and_a_time_already_past_waits_for_tomorrow() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=1)
    assert (await tick(world, datetime(2025, 3, 10, 19, 45, tzinfo=UTC))).sent == 1  # 20:45: the worker was late
    later = build_job_world()
    later.clock.set(datetime(2025, 3, 10, 22, 0, tzinfo=UTC))  # 23:00 in Madrid: set to 19:30 tonight, too late
    await learner_with_due_cards(later, due=1)
    assert (await tick(later, datetime(2025, 3, 10, 22, 1, tzinfo=UTC))).sent == 0
    assert (await tick(later, datetime(2025, 3, 11, 18, 30, tzinfo=UTC))).sent == 1


async def test_a_late_evening_reminder_is_still_sent_just_after_midnight() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=1, reminder="23:30")  # 22:30 UTC
    assert (await tick(world, datetime(2025, 3, 10, 23, 10, tzinfo=UTC))).sent == 1  # 00:10 on the 11th, in Madrid
    assert (await tick(world, datetime(2025, 3, 10, 23, 20, tzinfo=UTC))).sent == 0
    assert (await tick(world, datetime(2025, 3, 11, 22, 30, tzinfo=UTC))).sent == 1  # the 11th's own reminder


async def test_never_when_nothing_is_due() -> None:
    world = build_job_world()
    learner = await learner_with_due_cards(world, due=0)
    assert (await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))).sent == 0
    assert world.messenger.delivered == []
    for card in world.uow.store.cards.values():  # cards fall due within the hour: the reminder follows
        if card.learner_id == learner.id:
            card.due = datetime(2025, 3, 10, 18, 40, tzinfo=UTC)
    assert (await tick(world, datetime(2025, 3, 10, 18, 45, tzinfo=UTC))).sent == 1


async def test_learners_without_a_reminder_or_a_telegram_chat_are_left_alone() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=2, reminder=None)
    console, _created = await world.services.accounts.ensure_learner("console", "local", "Me")
    await world.services.learner_settings.set_reminder(console.id, "19:30")
    assert (await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))).sent == 0
    assert await world.jobs.reminders.send_due({}) == ReminderReport(sent=0, disabled=0)


async def test_a_learner_who_blocked_the_bot_has_reminders_turned_off() -> None:
    world = build_job_world()
    learner = await learner_with_due_cards(world, due=2)
    other = await learner_with_due_cards(world, due=1, user_id="2002")
    world.messenger.blocked.add("1001")
    report = await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))
    assert report == ReminderReport(sent=1, disabled=1)
    assert world.uow.store.learners[learner.id].settings.reminder_time is None
    assert world.uow.store.learners[other.id].settings.reminder_time == "19:30"
    world.messenger.blocked.clear()
    assert (await tick(world, datetime(2025, 3, 11, 18, 30, tzinfo=UTC))) == ReminderReport(sent=1, disabled=0)
    assert [item.address.chat_id for item in world.messenger.delivered] == ["2002", "2002"]


async def test_a_send_that_fails_for_a_passing_reason_is_tried_again_on_the_next_tick() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=3)
    world.messenger.fail_next = [ProviderUnavailable("Telegram", "timeout")]
    assert (await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC))).sent == 0
    assert (await tick(world, datetime(2025, 3, 10, 18, 31, tzinfo=UTC))).sent == 1
    assert (await tick(world, datetime(2025, 3, 10, 18, 32, tzinfo=UTC))).sent == 0
    assert world.messenger.texts() == ["⏰ 3 cards are due for review."]


async def test_a_day_marked_by_another_sender_is_not_sent_twice() -> None:
    world = build_job_world()
    learner = await learner_with_due_cards(world, due=1)
    world.clock.set(datetime(2025, 3, 10, 18, 30, tzinfo=UTC))
    [due] = await world.jobs.reminders.due_reminders()
    assert (due.learner_id, due.due_count, due.day.isoformat()) == (learner.id, 1, "2025-03-10")
    assert await world.jobs.reminders.mark_reminded(learner.id, due.day)  # another worker's tick won
    assert (await world.jobs.reminders.send_due(world.messengers)).sent == 0
    assert world.messenger.delivered == []


async def test_one_learners_failure_does_not_cost_the_others_their_reminder() -> None:
    world = build_job_world()
    await learner_with_due_cards(world, due=1)
    await learner_with_due_cards(world, due=2, user_id="2002")
    world.messenger.fail_next = [RuntimeError("a bug on the way to the first learner")]
    assert await tick(world, datetime(2025, 3, 10, 18, 30, tzinfo=UTC)) == ReminderReport(sent=1, disabled=0)
    assert len(world.messenger.delivered) == 1


async def test_a_learner_deleted_before_the_day_is_marked_is_skipped() -> None:
    world = build_job_world()
    learner = await learner_with_due_cards(world, due=1)
    world.clock.set(datetime(2025, 3, 10, 18, 30, tzinfo=UTC))
    [due] = await world.jobs.reminders.due_reminders()
    await world.services.data.delete_everything(learner.id)
    assert not await world.jobs.reminders.mark_reminded(due.learner_id, due.day)
    assert world.uow.store.reminder_days == {}


# Zones east and west of UTC, half-hour offsets, and Los Angeles's switch to summer time on
# 9 March 2025 (02:30 does not exist that day); reminders just before and after local midnight.
SIMULATED = [
    ("1001", "Pacific/Kiritimati", "23:30"),  # UTC+14
    ("1002", "Pacific/Pago_Pago", "00:15"),  # UTC-11
    ("1003", "Europe/Madrid", "19:30"),
    ("1004", "America/Los_Angeles", "02:30"),
    ("1005", "Asia/Kolkata", "12:45"),  # UTC+5:30
]


async def test_four_days_of_ticks_remind_each_learner_once_a_local_day_at_their_time() -> None:
    start, end = datetime(2025, 3, 7, 12, 0, tzinfo=UTC), datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
    step = timedelta(minutes=10)
    world = build_job_world()
    world.clock.set(start)  # their cards fell due the day before
    for user_id, timezone, at in SIMULATED:
        await learner_with_due_cards(world, due=1, reminder=at, timezone=timezone, user_id=user_id)
    sent: list[tuple[str, datetime]] = []
    moment = start
    while moment < end:
        await tick(world, moment)
        sent += [(item.address.chat_id, moment) for item in world.messenger.delivered[len(sent) :]]
        moment += step

    expected: list[tuple[str, datetime]] = []
    for user_id, timezone, at in SIMULATED:
        zone, (hours, minutes) = ZoneInfo(timezone), (int(part) for part in at.split(":"))
        for offset in range(-1, 6):
            due_at = datetime.combine(date(2025, 3, 6) + timedelta(days=offset), time(hours, minutes), tzinfo=zone)
            if start - timedelta(hours=2) < due_at < end - step:  # within the 2 h grace at the first tick
                first_tick = start + max(0, -((start - due_at) // step)) * step  # the first tick at or after it
                expected.append((user_id, first_tick))
    assert sorted(sent) == sorted(expected)
    assert {user_id: sum(user == user_id for user, _ in sent) for user_id, _, _ in SIMULATED} == {
        user_id: 4 if user_id not in ("1002", "1004") else 5 for user_id, _, _ in SIMULATED
    }  # four days, and the two whose time came within 2 h before the start
