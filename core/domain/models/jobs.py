"""Background work: generation jobs (articles, speech), cached speech clips and reminders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class JobKind(StrEnum):
    ARTICLE = "article"
    SPEECH = "speech"


class JobStatus(StrEnum):
    """queued → running → done | failed; a running job goes back to queued when a provider was down."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class DeliveryAddress:
    """Where a job's results go: the chat it was asked from (a private chat id equals the user id)."""

    platform: str  # "telegram" | "discord" | "console"
    chat_id: str
    user_id: str


@dataclass
class GenerationJob:
    """One piece of background work, written in the transaction of the request.

    `steps` holds each step's stored result, so a retried job resumes instead of paying twice:
    {"write": {...}, "translate": {...}, "record": {...}, "status_message_id": "…",
     "delivered": ["text", "translation", "voice", "words"], "sent": {"text": ["12"], …}}
    """

    id: str
    learner_id: str
    kind: JobKind
    status: JobStatus
    params: dict[str, Any]
    steps: dict[str, Any]
    address: DeliveryAddress
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class RequestedJob:
    """What a request returns: the stored job and whether the queue took it.

    `enqueued` False: the queue could not be reached; the job stays queued and the sweep
    enqueues it when the queue is back (tell the learner it will run then).
    """

    job: GenerationJob
    enqueued: bool


@dataclass(frozen=True)
class SweepReport:
    requeued: int  # queued jobs handed to the queue again
    failed: int  # jobs stuck running past their timeout, failed (the learner was told)


@dataclass
class SpeechClip:
    """Synthesised audio, cached by (text, language, voice, model); `platform_refs` are upload ids.

    `requested_by`: the learner whose request paid for the synthesis (it counts toward their daily
    speech quota); None for narration that another quota covers (articles).
    """

    cache_key: str  # sha256 of text|language|voice|model
    media_key: str  # where the OGG/Opus bytes are in the media store
    language: str
    voice: str
    model: str
    duration_s: float
    platform_refs: dict[str, str] = field(default_factory=dict)  # {"telegram": file_id}
    requested_by: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class SpeechResult:
    """A clip for a text: `audio` holds the bytes when they were just made (else read them when needed)."""

    clip: SpeechClip
    audio: bytes | None
    synthesized: bool  # False: a cache hit (no provider call, free)


@dataclass(frozen=True)
class ReminderCandidate:
    """A learner with a reminder time, reachable on Telegram (private chat id = user id)."""

    learner_id: str
    timezone: str
    reminder_time: str  # "HH:MM" in `timezone`
    telegram_user_id: str
    last_reminded_on: date | None  # the learner's local day of the last reminder


@dataclass(frozen=True)
class DueReminder:
    """A reminder to send now: `day` is the learner's local day it is for (marked once sent)."""

    learner_id: str
    address: DeliveryAddress
    due_count: int
    day: date


@dataclass(frozen=True)
class ReminderReport:
    sent: int
    disabled: int  # learners who blocked the bot: reminders turned off
