"""Generation jobs, the speech cache and reminder days in SQL: what goes in comes back, and the
transitions are atomic. Every test runs on SQLite and Postgres (`db`) unless its name says Postgres.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from core.bootstrap import bootstrap
from core.config import Settings
from core.domain.errors import ProviderUnavailable
from core.domain.models import (
    ChatIdentity,
    DeliveryAddress,
    GenerationJob,
    JobKind,
    JobStatus,
    Learner,
    LearnerSettings,
    OutgoingMessage,
    ReminderReport,
    SentMessage,
    SpeechClip,
)
from core.domain.services import JobTimings
from core.jobs_wiring import build_job_services
from core.outbound.jobs import InProcessJobQueue
from core.outbound.postgres.database import Database
from core.outbound.postgres.entities.flashcards import QUEUE_SCHEDULED, FlashcardEntity
from tests.fakes import (
    FakeJobQueue,
    FakeLanguageModel,
    FakeMediaStore,
    FakeSpeechSynthesizer,
    FixedClock,
    RecordingMessenger,
    make_services,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def new_id() -> str:
    return str(uuid.uuid4())


async def add_learner(
    db: Database,
    *,
    reminder_time: str | None = None,
    platform: str = "telegram",
    user_id: str | None = None,
    timezone: str = "Europe/Madrid",
) -> Learner:
    learner = Learner(
        id=new_id(),
        display_name="Alice",
        settings=LearnerSettings(timezone=timezone, reminder_time=reminder_time),
        desired_retention=0.9,
        fsrs_parameters=(0.1, 0.2),
        created_at=T0,
    )
    async with db.unit_of_work() as uow:
        await uow.learners.add(learner, ChatIdentity(platform, user_id or str(uuid.uuid4().int % 10**9), learner.id))
        await uow.commit()
    return learner


def make_job(learner: Learner, **changes: Any) -> GenerationJob:
    job = GenerationJob(
        id=new_id(),
        learner_id=learner.id,
        kind=JobKind.ARTICLE,
        status=JobStatus.QUEUED,
        params={"topic": "el fútbol «en casa» 🏠", "pair_id": new_id(), "level": "A2", "nested": {"n": [1, 2.5]}},
        steps={},
        address=DeliveryAddress("telegram", "-100123", "42"),
        attempts=0,
        last_error=None,
        created_at=T0,
        updated_at=T0,
    )
    return replace(job, **changes)


async def add_job(db: Database, job: GenerationJob) -> GenerationJob:
    async with db.unit_of_work() as uow:
        await uow.jobs.add(job)
        await uow.commit()
    return job


async def get_job(db: Database, job_id: str) -> GenerationJob:
    async with db.unit_of_work() as uow:
        job = await uow.jobs.get(job_id)
    assert job is not None
    return job


async def claim(db: Database, job_id: str, now: datetime) -> GenerationJob | None:
    async with db.unit_of_work() as uow:
        claimed = await uow.jobs.claim(job_id, now, now - LEASE)
        await uow.commit()
    return claimed


# --- jobs -------------------------------------------------------------------------------------


async def test_a_job_comes_back_as_it_went_in(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner, last_error="earlier", started_at=T0 + timedelta(seconds=1)))
    assert await get_job(db, job.id) == job
    async with db.unit_of_work() as uow:
        assert await uow.jobs.get(new_id()) is None
        assert await uow.jobs.get("not-a-uuid") is None


async def test_claim_takes_a_queued_job_once(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    now = T0 + timedelta(minutes=1)
    claimed = await claim(db, job.id, now)
    assert claimed is not None
    assert (claimed.status, claimed.attempts, claimed.started_at, claimed.updated_at) == (
        JobStatus.RUNNING,
        1,
        now,
        now,
    )
    assert claimed.params == job.params  # the returned row is the whole job
    assert await claim(db, job.id, now + timedelta(seconds=1)) is None  # a live claim holds
    assert (await get_job(db, job.id)).attempts == 1
    assert await claim(db, new_id(), now) is None
    assert await claim(db, "nope", now) is None


async def test_a_running_job_whose_lease_expired_is_claimed_again(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    await claim(db, job.id, T0)
    later = T0 + LEASE + timedelta(seconds=1)
    again = await claim(db, job.id, later)
    assert again is not None and again.attempts == 2 and again.started_at == later


async def test_done_and_failed_jobs_are_never_claimed(db: Database) -> None:
    learner = await add_learner(db)
    for status in (JobStatus.DONE, JobStatus.FAILED):
        job = await add_job(db, make_job(learner, status=status, started_at=T0))
        assert await claim(db, job.id, T0 + timedelta(days=1)) is None
        assert (await get_job(db, job.id)).status is status


async def test_steps_are_merged_one_by_one(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    async with db.unit_of_work() as uow:
        await uow.jobs.save_steps(job.id, {"write": {"title": "Hola", "new_words": [{"term": "ñu"}]}}, T0)
        await uow.jobs.save_steps(job.id, {"status_message_id": "17"}, T0 + timedelta(seconds=2))
        await uow.commit()
    async with db.unit_of_work() as uow:
        await uow.jobs.save_steps(job.id, {"delivered": ["text"]}, T0 + timedelta(seconds=3))
        await uow.jobs.save_steps(job.id, {"delivered": ["text", "voice"]}, T0 + timedelta(seconds=4))
        await uow.commit()
    stored = await get_job(db, job.id)
    assert stored.steps == {
        "write": {"title": "Hola", "new_words": [{"term": "ñu"}]},
        "status_message_id": "17",
        "delivered": ["text", "voice"],
    }
    assert stored.updated_at == T0 + timedelta(seconds=4)
    async with db.unit_of_work() as uow:  # several at once: merged together, the others kept
        both = {"delivered": ["text", "voice", "words"], "sent": {"words": ["41", "42"]}}
        assert await uow.jobs.save_steps(job.id, both, T0 + timedelta(seconds=5))
        await uow.commit()
    stored = await get_job(db, job.id)
    assert stored.steps["delivered"] == ["text", "voice", "words"]
    assert stored.steps["sent"] == {"words": ["41", "42"]}
    assert stored.steps["status_message_id"] == "17"


async def test_release_and_finish_belong_to_the_claiming_attempt(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    await claim(db, job.id, T0)
    async with db.unit_of_work() as uow:
        assert not await uow.jobs.release(job.id, 2, "not ours", T0)
        assert await uow.jobs.release(job.id, 1, "Claude is unavailable right now.", T0 + timedelta(seconds=5))
        await uow.commit()
    released = await get_job(db, job.id)
    assert (released.status, released.attempts, released.last_error) == (
        JobStatus.QUEUED,
        1,
        "Claude is unavailable right now.",
    )
    assert released.updated_at == T0 + timedelta(seconds=5)

    await claim(db, job.id, T0 + timedelta(minutes=1))
    done_at = T0 + timedelta(minutes=2)
    async with db.unit_of_work() as uow:
        assert not await uow.jobs.finish(job.id, JobStatus.DONE, None, done_at, attempt=1)  # an older attempt
        assert await uow.jobs.finish(job.id, JobStatus.DONE, None, done_at, attempt=2)
        assert not await uow.jobs.finish(job.id, JobStatus.FAILED, "late", done_at)  # only from running
        await uow.jobs.mark_delivered(job.id, done_at)
        await uow.commit()
    done = await get_job(db, job.id)
    assert (done.status, done.finished_at, done.delivered_at) == (JobStatus.DONE, done_at, done_at)
    assert done.last_error == "Claude is unavailable right now."  # a success keeps the history


async def test_a_step_is_stored_only_while_the_job_runs_under_the_claim(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    async with db.unit_of_work() as uow:  # queued, before any claim (the request's status message)
        assert await uow.jobs.save_steps(job.id, {"status_message_id": "7"}, T0)
        assert not await uow.jobs.save_steps(job.id, {"write": {}}, T0, attempt=0)  # not running
        await uow.commit()
    await claim(db, job.id, T0)
    async with db.unit_of_work() as uow:
        assert await uow.jobs.save_steps(job.id, {"write": {"title": "Hola"}}, T0, attempt=1)
        assert not await uow.jobs.save_steps(job.id, {"translate": {}}, T0, attempt=2)  # another run's
        assert not await uow.jobs.save_steps(new_id(), {"write": {}}, T0)
        assert not await uow.jobs.save_steps("nope", {"write": {}}, T0, attempt=1)
        assert await uow.jobs.finish(job.id, JobStatus.FAILED, "It took too long and was stopped.", T0)
        await uow.commit()
    async with db.unit_of_work() as uow:  # failed by the sweep: the late run stores nothing more
        assert not await uow.jobs.save_steps(job.id, {"translate": {"text": "Hello"}}, T0, attempt=1)
        assert not await uow.jobs.mark_delivered(job.id, T0)  # only a done job is delivered
        await uow.commit()
    assert (await get_job(db, job.id)).steps == {"status_message_id": "7", "write": {"title": "Hola"}}
    async with db.unit_of_work() as uow:
        await uow.learners.delete(learner.id)
        await uow.commit()
    async with db.unit_of_work() as uow:  # deleted with its learner
        assert not await uow.jobs.save_steps(job.id, {"translate": {}}, T0)
        assert not await uow.jobs.mark_delivered(job.id, T0)


async def test_the_sweep_lists_stale_queued_and_stuck_running_jobs(db: Database) -> None:
    learner = await add_learner(db)
    old_queued = await add_job(db, make_job(learner, updated_at=T0 - timedelta(minutes=5)))
    older_queued = await add_job(db, make_job(learner, updated_at=T0 - timedelta(minutes=9)))
    await add_job(db, make_job(learner, updated_at=T0))  # fresh: the queue has it
    stuck = await add_job(db, make_job(learner, status=JobStatus.RUNNING, started_at=T0 - timedelta(minutes=20)))
    await add_job(db, make_job(learner, status=JobStatus.RUNNING, started_at=T0 - timedelta(minutes=1)))
    await add_job(db, make_job(learner, status=JobStatus.DONE, started_at=T0 - timedelta(hours=1)))
    async with db.unit_of_work() as uow:
        stale = await uow.jobs.list_stale_queued(T0 - timedelta(seconds=30), limit=10)
        assert [job.id for job in stale] == [older_queued.id, old_queued.id]
        assert [job.id for job in await uow.jobs.list_stale_queued(T0, limit=1)] == [older_queued.id]
        stuck_jobs = await uow.jobs.list_stuck_running(T0 - timedelta(minutes=10), limit=10)
        assert [job.id for job in stuck_jobs] == [stuck.id]


async def test_a_learners_jobs_newest_first_and_the_daily_count(db: Database) -> None:
    learner, other = await add_learner(db), await add_learner(db)
    jobs = [await add_job(db, make_job(learner, created_at=T0 + timedelta(hours=hour))) for hour in range(4)]
    await add_job(db, make_job(learner, created_at=T0 + timedelta(hours=5), status=JobStatus.FAILED))
    await add_job(db, make_job(learner, created_at=T0 + timedelta(hours=6), kind=JobKind.SPEECH))
    await add_job(db, make_job(other, created_at=T0 + timedelta(hours=3)))
    async with db.unit_of_work() as uow:
        listed = await uow.jobs.list_for_learner(learner.id, limit=3)
        assert [job.created_at for job in listed] == [T0 + timedelta(hours=h) for h in (6, 5, 3)]
        assert await uow.jobs.list_for_learner("nope", limit=3) == []
        # articles since hour 1: hours 1, 2 and 3 (the failed one and the speech job do not count)
        assert await uow.jobs.count_since(learner.id, JobKind.ARTICLE, jobs[1].created_at) == 3
        assert await uow.jobs.count_since(learner.id, JobKind.SPEECH, T0) == 1
        assert await uow.jobs.count_since(other.id, JobKind.ARTICLE, T0) == 1


async def test_the_pending_count_is_of_queued_and_running_jobs_only(db: Database) -> None:
    learner = await add_learner(db)
    for status in JobStatus:
        await add_job(db, make_job(learner, kind=JobKind.SPEECH, status=status, created_at=T0))
    await add_job(db, make_job(learner, kind=JobKind.SPEECH, created_at=T0 - timedelta(seconds=1)))  # before
    await add_job(db, make_job(learner, created_at=T0))  # an article
    async with db.unit_of_work() as uow:
        assert await uow.jobs.count_since(learner.id, JobKind.SPEECH, T0, pending_only=True) == 2
        assert await uow.jobs.count_since(learner.id, JobKind.SPEECH, T0) == 3  # and the done one


async def test_deleting_a_learner_deletes_their_jobs_and_keeps_the_shared_speech_cache(db: Database) -> None:
    learner = await add_learner(db)
    job = await add_job(db, make_job(learner))
    async with db.unit_of_work() as uow:
        await uow.speech_cache.add(make_clip("k" * 64, requested_by=learner.id))
        await uow.reminders.mark_reminded(learner.id, date(2026, 3, 1))
        await uow.commit()
    async with db.unit_of_work() as uow:
        await uow.learners.delete(learner.id)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.jobs.get(job.id) is None
        clip = await uow.speech_cache.get("k" * 64)
        assert clip is not None and clip.requested_by is None
    async with db.session() as session:
        left = (await session.execute(sa.text("SELECT count(*) FROM learner_reminder"))).scalar_one()
    assert left == 0


# --- concurrency on Postgres ------------------------------------------------------------------


async def test_postgres_concurrent_claims_of_a_queued_job_have_one_winner(pg_db: Database) -> None:
    learner = await add_learner(pg_db)
    job = await add_job(pg_db, make_job(learner))
    others = [Database(pg_db.url) for _ in range(3)]  # separate engines, as separate workers
    try:
        results = await asyncio.gather(*(claim(database, job.id, T0) for database in [pg_db, *others]))
    finally:
        for database in others:
            await database.dispose()
    winners = [result for result in results if result is not None]
    assert len(winners) == 1 and winners[0].attempts == 1
    stored = await get_job(pg_db, job.id)
    assert (stored.status, stored.attempts) == (JobStatus.RUNNING, 1)


async def test_postgres_a_claim_waiting_on_an_uncommitted_claim_loses(pg_db: Database) -> None:
    """The second UPDATE waits for the first's row lock, then re-checks the committed row."""
    learner = await add_learner(pg_db)
    job = await add_job(pg_db, make_job(learner))
    other = Database(pg_db.url)
    try:
        async with pg_db.unit_of_work() as first:
            assert await first.jobs.claim(job.id, T0, T0 - LEASE) is not None
            second = asyncio.create_task(claim(other, job.id, T0))
            await wait_for_lock_waiter(pg_db)
            assert not second.done()
            await first.commit()
        assert await second is None
    finally:
        await other.dispose()
    assert (await get_job(pg_db, job.id)).attempts == 1


async def wait_for_lock_waiter(db: Database) -> None:
    """Until a backend of this database waits on a lock (what the second claim does)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(500):
        async with db.session() as session:
            if (await session.execute(query)).scalar_one():
                return
        await asyncio.sleep(0.01)  # polling a server condition, not timing the outcome
    raise AssertionError("the second claim never waited on the first's row lock")


# --- speech cache -----------------------------------------------------------------------------


def make_clip(cache_key: str, **changes: Any) -> SpeechClip:
    clip = SpeechClip(
        cache_key=cache_key,
        media_key=f"speech/{cache_key}.ogg",
        language="es",
        voice="Kore",
        model="gemini-2.5-flash-preview-tts",
        duration_s=1.4375,
        platform_refs={},
        requested_by=None,
        created_at=T0,
    )
    return replace(clip, **changes)


async def test_speech_clips_are_cached_once_and_remember_platform_uploads(db: Database) -> None:
    learner = await add_learner(db)
    clip = make_clip("a" * 64, requested_by=learner.id)
    async with db.unit_of_work() as uow:
        assert await uow.speech_cache.add(clip)
        assert not await uow.speech_cache.add(replace(clip, media_key="elsewhere"))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.speech_cache.get("a" * 64) == clip
        assert await uow.speech_cache.get("b" * 64) is None
        await uow.speech_cache.set_platform_ref("a" * 64, "telegram", "AwACAgIAAxkBAAI")
        await uow.speech_cache.set_platform_ref("a" * 64, "discord", "d1")
        await uow.speech_cache.set_platform_ref("b" * 64, "telegram", "ignored")  # no such clip: nothing
        await uow.commit()
    async with db.unit_of_work() as uow:  # a re-upload after Telegram forgot the id: the new id replaces it
        await uow.speech_cache.set_platform_ref("a" * 64, "telegram", "AwACAgIAAxkBAAJ")
        await uow.commit()
    async with db.unit_of_work() as uow:
        stored = await uow.speech_cache.get("a" * 64)
        assert stored is not None
        assert stored.platform_refs == {"telegram": "AwACAgIAAxkBAAJ", "discord": "d1"}
        assert stored.media_key == "speech/" + "a" * 64 + ".ogg"


async def test_the_speech_quota_counts_a_learners_syntheses_since_a_moment(db: Database) -> None:
    learner, other = await add_learner(db), await add_learner(db)
    async with db.unit_of_work() as uow:
        for index, hours in enumerate([0, 1, 2]):
            await uow.speech_cache.add(
                make_clip(f"{index:064d}", requested_by=learner.id, created_at=T0 + timedelta(hours=hours))
            )
        await uow.speech_cache.add(make_clip("c" * 64, requested_by=other.id))
        await uow.speech_cache.add(make_clip("d" * 64))  # article narration: nobody's quota
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.speech_cache.count_requested_since(learner.id, T0 + timedelta(hours=1)) == 2
        assert await uow.speech_cache.count_requested_since(other.id, T0) == 1
        assert await uow.speech_cache.count_requested_since("nope", T0) == 0


# --- reminders --------------------------------------------------------------------------------


async def test_reminder_candidates_have_a_time_and_a_telegram_chat(db: Database) -> None:
    due = await add_learner(db, reminder_time="19:30", user_id="1001")
    await add_learner(db, reminder_time=None)  # reminders off
    await add_learner(db, reminder_time="08:00", platform="discord")  # no Telegram chat
    reminded = await add_learner(db, reminder_time="07:00")
    async with db.unit_of_work() as uow:
        await uow.reminders.mark_reminded(reminded.id, date(2026, 3, 2))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.reminders.reminder_timezones() == ["Europe/Madrid"]
        candidates = await uow.reminders.list_candidates({"Europe/Madrid": date(2026, 3, 2)})
        rows = [(c.learner_id, c.timezone, c.reminder_time, c.telegram_user_id, c.last_reminded_on) for c in candidates]
        assert rows == [(due.id, "Europe/Madrid", "19:30", "1001", None)]
        later = await uow.reminders.list_candidates({"Europe/Madrid": date(2026, 3, 3)})
        assert {c.learner_id: c.last_reminded_on for c in later} == {due.id: None, reminded.id: date(2026, 3, 2)}
        assert await uow.reminders.list_candidates({"Asia/Tokyo": date(2026, 3, 3)}) == []  # nobody there
        assert await uow.reminders.list_candidates({}) == []


async def test_learners_reminded_on_their_local_today_are_left_out_zone_by_zone(db: Database) -> None:
    madrid = await add_learner(db, reminder_time="19:30")
    tokyo = await add_learner(db, reminder_time="08:00", timezone="Asia/Tokyo")
    day = date(2026, 3, 2)
    async with db.unit_of_work() as uow:
        assert await uow.reminders.mark_reminded(madrid.id, day)
        assert await uow.reminders.mark_reminded(tokyo.id, day)
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert sorted(await uow.reminders.reminder_timezones()) == ["Asia/Tokyo", "Europe/Madrid"]
        # 2 March in Madrid, already 3 March in Tokyo: only Tokyo's learner may be due
        listed = await uow.reminders.list_candidates({"Europe/Madrid": day, "Asia/Tokyo": day + timedelta(days=1)})
        assert [c.learner_id for c in listed] == [tokyo.id]
        both = await uow.reminders.list_candidates({"Europe/Madrid": day + timedelta(days=1), "Asia/Tokyo": day})
        assert [c.learner_id for c in both] == [madrid.id]


async def test_a_day_is_marked_reminded_once_and_only_forward(db: Database) -> None:
    learner = await add_learner(db, reminder_time="19:30")
    day = date(2026, 3, 2)
    async with db.unit_of_work() as uow:
        assert await uow.reminders.mark_reminded(learner.id, day)
        assert not await uow.reminders.mark_reminded(learner.id, day)
        assert not await uow.reminders.mark_reminded(learner.id, day - timedelta(days=1))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert not await uow.reminders.mark_reminded(learner.id, day)  # another transaction sees it too
        await uow.reminders.clear_reminded(learner.id, day - timedelta(days=1))  # not that day: nothing
        assert not await uow.reminders.mark_reminded(learner.id, day)
        await uow.reminders.clear_reminded(learner.id, day)
        assert await uow.reminders.mark_reminded(learner.id, day)
        assert await uow.reminders.mark_reminded(learner.id, day + timedelta(days=1))
        await uow.commit()
    async with db.unit_of_work() as uow:
        [candidate] = await uow.reminders.list_candidates({"Europe/Madrid": day + timedelta(days=2)})
        assert candidate.last_reminded_on == day + timedelta(days=1)
        assert not await uow.reminders.mark_reminded(new_id(), day)  # no such learner: nothing, no error
        assert not await uow.reminders.mark_reminded("nope", day)


async def test_a_learner_deleted_during_the_reminder_tick_does_not_stop_it(db: Database) -> None:
    clock = FixedClock(datetime(2026, 3, 2, 18, 30, tzinfo=UTC))  # 19:30 in Madrid
    services = make_services(uow=db.unit_of_work, clock=clock)
    learners = []
    for user_id in ("1001", "2002"):
        learner, _created = await services.accounts.ensure_learner("telegram", user_id, "Ana")
        await services.learner_settings.set_timezone(learner.id, "Europe/Madrid")
        await services.learner_settings.set_reminder(learner.id, "19:30")
        await services.languages.set_pair(learner.id, "es", "en", "A2")
        await services.vocabulary.add_words(learner.id, [f"perro{user_id} = dog"])
        learners.append(learner)
    async with db.session() as session:  # their cards are due
        await session.execute(sa.update(FlashcardEntity).values(queue=QUEUE_SCHEDULED, due=clock() - timedelta(days=1)))
        await session.commit()
    reminders = build_job_services(
        db.unit_of_work,
        Settings(_env_file=None, DATABASE_URL=db.url),
        queue=FakeJobQueue(),
        language_model=None,
        speech=None,
        media=None,
        translator=None,
        clock=clock,
    ).reminders

    class DeletingMessenger(RecordingMessenger):
        """The other learner deletes their account while the first reminder goes out."""

        async def send(self, address: DeliveryAddress, message: OutgoingMessage) -> list[SentMessage]:
            sent = await super().send(address, message)
            if len(self.delivered) == 1:
                await services.data.delete_everything(learners[1 if address.user_id == "1001" else 0].id)
            return sent

    messenger = DeletingMessenger()
    assert await reminders.send_due({"telegram": messenger}) == ReminderReport(sent=1, disabled=0)
    assert messenger.texts() == ["⏰ 1 card is due for review."]


# --- the services over SQL --------------------------------------------------------------------


async def test_an_article_then_a_listen_of_its_text_run_over_sql(db: Database) -> None:
    """Request → a provider outage (released, resumed) → delivered once; the narration is reused by /listen."""
    clock = FixedClock()
    services = make_services(uow=db.unit_of_work, clock=clock)
    text = "Hoy voy al mercado. Compro pan."
    model = FakeLanguageModel(
        json_answers=[{"title": "El mercado", "text": text, "new_words": [{"term": "pan", "translation": "bread"}]}],
        text_answers=[ProviderUnavailable("Claude", "overloaded"), "The market\n\nToday I go to the market."],
    )
    synthesizer, queue, messenger = FakeSpeechSynthesizer(), FakeJobQueue(), RecordingMessenger()
    jobs = build_job_services(
        db.unit_of_work,
        Settings(_env_file=None, DATABASE_URL=db.url),
        queue=queue,
        language_model=model,
        speech=synthesizer,
        media=FakeMediaStore(),
        translator=None,
        clock=clock,
    ).jobs
    learner, _created = await services.accounts.ensure_learner("telegram", "1001", "Ana")
    await services.languages.set_pair(learner.id, "es", "en", "A2")
    address = DeliveryAddress("telegram", "1001", "1001")

    requested = await jobs.request(learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, address, messenger=messenger)
    assert requested.enqueued and queue.enqueued == [requested.job.id]
    with pytest.raises(ProviderUnavailable):
        await jobs.run(requested.job.id, {"telegram": messenger})
    clock.advance(seconds=30)
    done = await jobs.run(requested.job.id, {"telegram": messenger})
    assert done is not None and (done.status, done.attempts) == (JobStatus.DONE, 2)
    assert done.steps["delivered"] == ["text", "translation", "voice", "words"]
    assert done.steps["write"]["new_words"] == [{"term": "pan", "translation": "bread"}]
    assert await jobs.run(requested.job.id, {"telegram": messenger}) is None
    assert [call.tool_name for call in model.calls] == ["write_article", None, None]

    listen = await jobs.request(learner.id, JobKind.SPEECH, {"text": text}, address)
    again = await jobs.run(listen.job.id, {"telegram": messenger})
    assert again is not None and again.steps["record"]["synthesized"] is False
    assert len(synthesizer.calls) == 1 and messenger.uploads == 1  # the article's upload is reused
    assert [job.kind for job in await jobs.recent(learner.id)] == [JobKind.SPEECH, JobKind.ARTICLE]


async def test_a_learner_who_deletes_their_account_mid_article_gets_nothing_more_over_sql(db: Database) -> None:
    """DataService.delete_everything while the model writes: the run stops at its next step, silently."""
    clock = FixedClock()
    services = make_services(uow=db.unit_of_work, clock=clock)
    learner, _created = await services.accounts.ensure_learner("telegram", "1001", "Ana")
    await services.languages.set_pair(learner.id, "es", "en", "A2")

    class DeletingModel(FakeLanguageModel):
        async def generate_json(self, **kwargs: Any) -> dict[str, Any]:
            await services.data.delete_everything(learner.id)
            return await super().generate_json(**kwargs)

    model = DeletingModel(json_answers=[{"title": "Hola", "text": "Hola.", "new_words": []}], text_answers=["Hi."])
    synthesizer, queue, messenger = FakeSpeechSynthesizer(), FakeJobQueue(), RecordingMessenger()
    jobs = build_job_services(
        db.unit_of_work,
        Settings(_env_file=None, DATABASE_URL=db.url),
        queue=queue,
        language_model=model,
        speech=synthesizer,
        media=FakeMediaStore(),
        translator=None,
        clock=clock,
    ).jobs
    address = DeliveryAddress("telegram", "1001", "1001")
    requested = await jobs.request(learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, address, messenger=messenger)
    assert await jobs.run(requested.job.id, {"telegram": messenger}) is None
    assert messenger.texts() == ["✍️ Writing your article…"]  # the status line, edited once before the deletion
    assert [call.tool_name for call in model.calls] == ["write_article"] and synthesizer.calls == []


@pytest.mark.parametrize(("lease_s", "timeout_s"), [(30.0, 30.0), (300.0, 240.0)])
async def test_the_in_process_queue_cuts_a_run_off_within_its_lease(
    tmp_path: Path, lease_s: float, timeout_s: float
) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    timings = JobTimings(run_lease=timedelta(seconds=lease_s))
    services = await bootstrap(settings, migrate_sqlite=False, job_timings=timings)
    try:
        assert isinstance(services.queue, InProcessJobQueue) and services.queue.run_timeout_s == timeout_s
    finally:
        await services.aclose()
