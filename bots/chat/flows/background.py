"""Background work asked for in the chat: /listen, /article, /jobs (and the commands a later issue wires).

The work itself runs in a job (the arq worker, or this process's in-process queue) and its results
come back through the platform's `Messenger`, not as replies:

- /article queues an ARTICLE job. With the platform's messenger the service sends the status line
  ("⏳ Your article is queued.") at once, and the run edits that same message at each step; so the
  command itself answers nothing more. In a group the answer is private: the status line then comes
  with the first step, and the reply says it was queued (the adapter takes it to the private chat).
- /listen and the Listen button: a text already synthesised is sent right away through the
  messenger (on Telegram by its remembered file_id: no provider call, no upload); otherwise a
  SPEECH job records it and sends the voice message (speech jobs show no status line).
- /jobs lists the learner's recent jobs and their state.
"""

from __future__ import annotations

from datetime import datetime

from bots.chat.context import Turn
from bots.chat.errors import ChatNotice
from bots.chat.replies import FileOut, Reply
from core.domain.errors import InvalidInput, ProviderNotConfigured
from core.domain.models import GenerationJob, JobKind, JobStatus
from core.domain.models.flashcards import interval_label
from core.domain.services import JobService, SpeechService
from core.domain.services.articles import MAX_TOPIC_CHARS
from core.domain.services.jobs import queued_text
from core.domain.services.speech import LISTEN_EXAMPLE, LISTEN_MAX_CHARS, normalise_text

ARTICLE_EXAMPLE = "/article a day at the market"
NO_BACKGROUND = "Background work is not running in this process."
RECORDING = "🎙 Recording…"
RECENT_JOBS = 10
_QUOTE_CHARS = 40
_STATES = {
    JobStatus.QUEUED: "⏳ queued",
    JobStatus.RUNNING: "⚙️ in progress",
    JobStatus.DONE: "✅ done",
    JobStatus.FAILED: "❌ failed",
}
_ARTICLE_STEPS = (("write", "writing"), ("translate", "translating"), ("record", "recording"))


async def cmd_not_available_yet(turn: Turn) -> list[Reply]:
    """Say plainly that the command exists but does not work yet, and what does."""
    name = turn.event.command or "This command"
    return [
        Reply(
            text=f"/{name} is not available yet — it arrives in a later version. "
            "Meanwhile: /review, /add, /packs, /article, /listen, /stats."
        )
    ]


# --- /article --------------------------------------------------------------------------------


async def cmd_article(turn: Turn) -> list[Reply]:
    """/article [topic]: queue an article (quota, provider and pair checked by the service)."""
    topic = " ".join(turn.event.args.split())
    if len(topic) > MAX_TOPIC_CHARS:
        raise InvalidInput(
            f"That topic is {len(topic)} characters long; a topic has at most {MAX_TOPIC_CHARS}.",
            example=ARTICLE_EXAMPLE,
        )
    jobs = _jobs(turn)
    messenger = None if turn.event.is_group else turn.messenger
    requested = await jobs.request(
        turn.learner_id, JobKind.ARTICLE, {"topic": topic or None}, turn.address, messenger=messenger
    )
    if messenger is not None:
        return []  # the service sent the status line, which the run edits as it goes
    return [Reply(text=queued_text("article", requested.enqueued))]


# --- /listen and the Listen button -------------------------------------------------------------


async def cmd_listen(turn: Turn) -> list[Reply]:
    """/listen <text>: a voice message of the text in the active pair's target language."""
    _speech(turn)  # not configured: say which setting enables it, whatever the text
    text = normalise_text(turn.event.args)
    if not text:
        raise InvalidInput("Send the text to read aloud after the command.", example=LISTEN_EXAMPLE)
    if len(text) > LISTEN_MAX_CHARS:
        raise InvalidInput(
            f"That is {len(text)} characters; /listen reads up to {LISTEN_MAX_CHARS}.", example=LISTEN_EXAMPLE
        )
    pair = await turn.services.languages.active_pair(turn.learner_id)
    return await speak(turn, text, pair.target)


async def speak(turn: Turn, text: str, language: str, *, pressed: bool = False) -> list[Reply]:
    """Send `text` read aloud: at once when it was synthesised before, else through a SPEECH job.

    `pressed`: a button asked for it (its toast says it is being recorded).
    """
    speech = _speech(turn)
    clip = await speech.cached(text, language)
    # From a group, answers go through the adapter's private-answer path (it tells the group, or
    # says the learner must open the private chat first), not straight to the private chat.
    messenger = None if turn.event.is_group else turn.messenger
    platform = turn.event.platform
    if clip is not None:
        if messenger is None:  # the audio goes in the reply (no upload id to reuse there)
            message = await speech.voice_message(clip, f"{platform}:reply", source_text=text)
            assert message.voice_audio is not None
            return [Reply(audio=FileOut("listen.ogg", message.voice_audio, "audio/ogg"))]
        # A platform that forgot the upload id gets the audio again (SpeechService.send_voice).
        await speech.send_voice(messenger, turn.address, clip, source_text=text)
        return []
    requested = await _jobs(turn).request(
        turn.learner_id, JobKind.SPEECH, {"text": text, "language": language}, turn.address
    )
    if not requested.enqueued:
        return [Reply(text=queued_text(speech.label, False))]
    if turn.event.is_group:
        return [Reply(text=RECORDING)]
    return [Reply(notice=RECORDING)] if pressed else []


# --- /jobs -----------------------------------------------------------------------------------


async def cmd_jobs(turn: Turn) -> list[Reply]:
    """The learner's recent background jobs, newest first, each with its state."""
    found = await _jobs(turn).recent(turn.learner_id, RECENT_JOBS)
    if not found:
        return [Reply(text="You have no background jobs yet. Try /article or /listen <text>.")]
    now = turn.clock()
    lines = [job_line(job, now) for job in found]
    return [Reply(text="Your recent background jobs:\n" + "\n".join(lines))]


def job_line(job: GenerationJob, now: datetime) -> str:
    """“• Article “the sea” — ✅ done · 5m ago”, a failure with its reason."""
    if job.kind is JobKind.ARTICLE:
        topic = job.params.get("topic")
        what = f"Article “{_quote(topic)}”" if topic else "Article"
    else:
        what = f"Voice message “{_quote(job.params.get('text') or '')}”"
    state = _STATES.get(job.status, job.status.value)
    if job.status is JobStatus.RUNNING and job.kind is JobKind.ARTICLE:
        step = next((label for name, label in _ARTICLE_STEPS if name not in job.steps), "delivering")
        state = f"{state}: {step}"
    if job.status is JobStatus.QUEUED and job.attempts:
        state += " (will try again)"
    line = f"• {what} — {state} · {interval_label(now - job.created_at)} ago"
    if job.status is JobStatus.FAILED and job.last_error:
        line += f"\n   {_quote(job.last_error, 120)}"
    return line


def _quote(text: object, limit: int = _QUOTE_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- services ----------------------------------------------------------------------------------


def _jobs(turn: Turn) -> JobService:
    jobs = turn.services.jobs
    if jobs is None:
        raise ChatNotice(NO_BACKGROUND)
    return jobs


def _speech(turn: Turn) -> SpeechService:
    speech = turn.services.speech_clips
    if speech is None or not speech.configured:
        raise ProviderNotConfigured("Speech", "GEMINI_API_KEY")
    return speech

