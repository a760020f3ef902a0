"""Reminders: "N cards due" with a Review button at the learner's local reminder time, at most once a
day, never when nothing is due; a learner who blocked the bot has reminders turned off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
