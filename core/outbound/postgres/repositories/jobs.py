"""Generation jobs, the speech cache and reminder days.

A job's transitions are single conditional UPDATEs (claim, release, finish), so two workers
racing for one job cannot both win: on Postgres the second UPDATE waits for the first's row lock
and re-checks its WHERE clause against the committed row; SQLite runs one writer at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from core.domain.models import (
    DeliveryAddress,
    GenerationJob,
    JobKind,
    JobStatus,
    ReminderCandidate,
    SpeechClip,
)
from core.outbound.postgres.entities import (
    ChatIdentityEntity,
    GenerationJobEntity,
    LearnerEntity,
    LearnerReminderEntity,
    SpeechClipEntity,
)
from core.outbound.postgres.repositories._base import SqlRepository, parse_id, table_of, to_uuid

_job = table_of(GenerationJobEntity)
_clip = table_of(SpeechClipEntity)
_reminder = table_of(LearnerReminderEntity)
_learner = table_of(LearnerEntity)
_identity = table_of(ChatIdentityEntity)

_RUNNING = JobStatus.RUNNING.value
_PENDING = (JobStatus.QUEUED, JobStatus.RUNNING)


class SqlJobRepository(SqlRepository):
    async def add(self, job: GenerationJob) -> None:
        await self._execute(sa.insert(_job), _job_row(job))

    async def get(self, job_id: str) -> GenerationJob | None:
        uid = parse_id(job_id)
        if uid is None:
            return None
        row = (await self._execute(sa.select(_job).where(_job.c.id == uid))).first()
        return None if row is None else _job_to_model(row)

    async def claim(self, job_id: str, now: datetime, lease_expired_before: datetime) -> GenerationJob | None:
        """One conditional UPDATE … RETURNING: queued, or running under an expired claim → running."""
        uid = parse_id(job_id)
        if uid is None:
            return None
        claimable = sa.or_(
            _job.c.status == JobStatus.QUEUED.value,
            sa.and_(_job.c.status == _RUNNING, _job.c.started_at < lease_expired_before),
        )
        statement = (
            sa.update(_job)
            .where(_job.c.id == uid, claimable)
            .values(status=_RUNNING, attempts=_job.c.attempts + 1, started_at=now, updated_at=now)
            .returning(*_job.c)
        )
        row = (await self._execute(statement)).first()
        return None if row is None else _job_to_model(row)

    async def save_steps(
        self, job_id: str, steps: Mapping[str, Any], now: datetime, *, attempt: int | None = None
    ) -> bool:
        """Read, merge and write the steps under a row lock (one run writes a job's steps at a time).

        With `attempt`, only while the job is running under that attempt: both statements check it
        (the row lock holds it on Postgres; on SQLite a write between them fails the transaction).
        """
        uid = parse_id(job_id)
        if uid is None:
            return False
        conditions = [_job.c.id == uid]
        if attempt is not None:
            conditions += [_job.c.status == _RUNNING, _job.c.attempts == attempt]
        current = await self._execute(sa.select(_job.c.steps).where(*conditions).with_for_update())
        stored = current.scalar_one_or_none()
        if stored is None:
            return False
        merged = {**stored, **steps}
        statement = sa.update(_job).where(*conditions).values(steps=merged, updated_at=now)
        return (await self._execute(statement)).rowcount == 1

    async def release(self, job_id: str, attempt: int, error: str, now: datetime) -> bool:
        statement = (
            sa.update(_job)
            .where(_job.c.id == to_uuid(job_id), _job.c.status == _RUNNING, _job.c.attempts == attempt)
            .values(status=JobStatus.QUEUED.value, last_error=error, updated_at=now)
        )
        return (await self._execute(statement)).rowcount == 1

    async def finish(
        self, job_id: str, status: JobStatus, error: str | None, now: datetime, attempt: int | None = None
    ) -> bool:
        conditions = [_job.c.id == to_uuid(job_id), _job.c.status == _RUNNING]
        if attempt is not None:
            conditions.append(_job.c.attempts == attempt)
        values: dict[str, Any] = {"status": status.value, "finished_at": now, "updated_at": now}
        if error is not None:
            values["last_error"] = error
        return (await self._execute(sa.update(_job).where(*conditions).values(**values))).rowcount == 1

    async def mark_delivered(self, job_id: str, now: datetime) -> bool:
        statement = (
            sa.update(_job)
            .where(_job.c.id == to_uuid(job_id), _job.c.status == JobStatus.DONE.value)
            .values(delivered_at=now, updated_at=now)
        )
        return (await self._execute(statement)).rowcount == 1

    async def list_for_learner(self, learner_id: str, limit: int) -> list[GenerationJob]:
        uid = parse_id(learner_id)
        if uid is None:
            return []
        statement = (
            sa.select(_job)
            .where(_job.c.learner_id == uid)
            .order_by(_job.c.created_at.desc(), _job.c.id.desc())
            .limit(limit)
        )
        return [_job_to_model(row) for row in await self._execute(statement)]

    async def list_stale_queued(self, older_than: datetime, limit: int) -> list[GenerationJob]:
        statement = (
            sa.select(_job)
            .where(_job.c.status == JobStatus.QUEUED.value, _job.c.updated_at < older_than)
            .order_by(_job.c.updated_at)
            .limit(limit)
        )
        return [_job_to_model(row) for row in await self._execute(statement)]

    async def list_stuck_running(self, started_before: datetime, limit: int) -> list[GenerationJob]:
        statement = (
            sa.select(_job)
            .where(_job.c.status == _RUNNING, _job.c.started_at < started_before)
            .order_by(_job.c.started_at)
            .limit(limit)
        )
        return [_job_to_model(row) for row in await self._execute(statement)]

    async def count_since(self, learner_id: str, kind: JobKind, since: datetime, *, pending_only: bool = False) -> int:
        uid = parse_id(learner_id)
        if uid is None:
            return 0
        counted = _PENDING if pending_only else (*_PENDING, JobStatus.DONE)
        statement = sa.select(sa.func.count()).where(
            _job.c.learner_id == uid,
            _job.c.kind == kind.value,
            _job.c.created_at >= since,
            _job.c.status.in_([status.value for status in counted]),
        )
        return int((await self._execute(statement)).scalar_one())


class SqlSpeechCacheRepository(SqlRepository):
    async def get(self, cache_key: str) -> SpeechClip | None:
        row = (await self._execute(sa.select(_clip).where(_clip.c.cache_key == cache_key))).first()
        return None if row is None else _clip_to_model(row)

    async def add(self, clip: SpeechClip) -> bool:
        """INSERT … ON CONFLICT (cache_key) DO NOTHING: the first synthesis of a text wins."""
        statement = self._insert_ignoring_conflicts(_clip, ["cache_key"])
        return (await self._execute(statement, _clip_row(clip))).rowcount == 1

    async def set_platform_ref(self, cache_key: str, platform: str, ref: str) -> None:
        current = await self._execute(
            sa.select(_clip.c.platform_refs).where(_clip.c.cache_key == cache_key).with_for_update()
        )
        refs = current.scalar_one_or_none()
        if refs is None:
            return
        statement = sa.update(_clip).where(_clip.c.cache_key == cache_key).values(platform_refs={**refs, platform: ref})
        await self._execute(statement)

    async def count_requested_since(self, learner_id: str, since: datetime) -> int:
        uid = parse_id(learner_id)
        if uid is None:
            return 0
        statement = sa.select(sa.func.count()).where(_clip.c.requested_by == uid, _clip.c.created_at >= since)
        return int((await self._execute(statement)).scalar_one())


class SqlReminderRepository(SqlRepository):
    async def reminder_timezones(self) -> list[str]:
        statement = sa.select(_learner.c.timezone).where(_learner.c.reminder_time.is_not(None)).distinct()
        return [timezone for (timezone,) in await self._execute(statement)]

    async def list_candidates(self, local_today: Mapping[str, date]) -> list[ReminderCandidate]:
        """One condition per distinct day among the zones (at most three): zone IN (…) AND not reminded that day."""
        zones_by_day: dict[date, list[str]] = {}
        for zone, day in local_today.items():
            zones_by_day.setdefault(day, []).append(zone)
        if not zones_by_day:
            return []
        last = _reminder.c.last_reminded_on
        not_yet = sa.or_(
            *(
                sa.and_(_learner.c.timezone.in_(sorted(zones)), sa.or_(last.is_(None), last < day))
                for day, zones in sorted(zones_by_day.items())
            )
        )
        statement = (
            sa.select(
                _learner.c.id,
                _learner.c.timezone,
                _learner.c.reminder_time,
                _identity.c.platform_user_id,
                _reminder.c.last_reminded_on,
            )
            .join(_identity, sa.and_(_identity.c.learner_id == _learner.c.id, _identity.c.platform == "telegram"))
            .outerjoin(_reminder, _reminder.c.learner_id == _learner.c.id)
            .where(_learner.c.reminder_time.is_not(None), not_yet)
            .order_by(_learner.c.id, _identity.c.platform_user_id)
        )
        candidates: dict[str, ReminderCandidate] = {}
        for learner_id, timezone, reminder_time, user_id, last_reminded_on in await self._execute(statement):
            key = str(learner_id)
            if key not in candidates:  # two Telegram identities: the first one is enough
                candidates[key] = ReminderCandidate(key, timezone, reminder_time, user_id, last_reminded_on)
        return list(candidates.values())

    async def mark_reminded(self, learner_id: str, day: date) -> bool:
        """Upsert that only moves the day forward: rowcount 0 when `day` was already recorded.

        INSERT … SELECT from the learner's row, so a learner deleted meanwhile inserts nothing
        (rowcount 0) instead of failing the foreign key.
        """
        uid = parse_id(learner_id)
        if uid is None:
            return False
        learner = sa.select(_learner.c.id, sa.literal(day, sa.Date)).where(_learner.c.id == uid)
        insert = self._dialect_insert(_reminder).from_select(["learner_id", "last_reminded_on"], learner)
        statement = insert.on_conflict_do_update(
            index_elements=[_reminder.c.learner_id],
            set_={"last_reminded_on": insert.excluded.last_reminded_on},
            where=sa.or_(
                _reminder.c.last_reminded_on.is_(None),
                _reminder.c.last_reminded_on < insert.excluded.last_reminded_on,
            ),
        )
        return (await self._execute(statement)).rowcount == 1

    async def clear_reminded(self, learner_id: str, day: date) -> None:
        statement = (
            sa.update(_reminder)
            .where(_reminder.c.learner_id == to_uuid(learner_id), _reminder.c.last_reminded_on == day)
            .values(last_reminded_on=None)
        )
        await self._execute(statement)


def _job_row(job: GenerationJob) -> dict[str, Any]:
    return {
        "id": to_uuid(job.id),
        "learner_id": to_uuid(job.learner_id),
        "kind": job.kind.value,
        "status": job.status.value,
        "params": job.params,
        "steps": job.steps,
        "platform": job.address.platform,
        "chat_id": job.address.chat_id,
        "user_id": job.address.user_id,
        "attempts": job.attempts,
        "last_error": job.last_error,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "delivered_at": job.delivered_at,
    }


def _job_to_model(row: Sequence[Any]) -> GenerationJob:
    """From a generation_job row (columns in table order)."""
    (
        job_id,
        learner_id,
        kind,
        status,
        params,
        steps,
        platform,
        chat_id,
        user_id,
        attempts,
        last_error,
        created_at,
        updated_at,
        started_at,
        finished_at,
        delivered_at,
    ) = row[:16]
    return GenerationJob(
        id=str(job_id),
        learner_id=str(learner_id),
        kind=JobKind(kind),
        status=JobStatus(status),
        params=dict(params or {}),
        steps=dict(steps or {}),
        address=DeliveryAddress(platform=platform, chat_id=chat_id, user_id=user_id),
        attempts=attempts,
        last_error=last_error,
        created_at=created_at,
        updated_at=updated_at,
        started_at=started_at,
        finished_at=finished_at,
        delivered_at=delivered_at,
    )


def _clip_row(clip: SpeechClip) -> dict[str, Any]:
    return {
        "cache_key": clip.cache_key,
        "media_key": clip.media_key,
        "language": clip.language,
        "voice": clip.voice,
        "model": clip.model,
        "duration_s": clip.duration_s,
        "platform_refs": dict(clip.platform_refs),
        "requested_by": None if clip.requested_by is None else to_uuid(clip.requested_by),
        "created_at": clip.created_at or datetime.now(UTC),
    }


def _clip_to_model(row: Sequence[Any]) -> SpeechClip:
    cache_key, media_key, language, voice, model, duration_s, platform_refs, requested_by, created_at = row[:9]
    return SpeechClip(
        cache_key=cache_key,
        media_key=media_key,
        language=language,
        voice=voice,
        model=model,
        duration_s=duration_s,
        platform_refs=dict(platform_refs or {}),
        requested_by=None if requested_by is None else str(requested_by),
        created_at=created_at,
    )
