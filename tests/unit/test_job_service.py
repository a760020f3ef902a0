"""JobService: jobs are stored before they are queued, run at most once to completion, resume from
their stored steps, fail once with the learner told, and the sweep finds what the queue lost."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from core.domain.errors import NotFound, ProviderRefused, ProviderUnavailable
from core.domain.models import DeliveryAddress, JobKind, JobStatus, Learner
from core.domain.services._text_pieces import text_pieces
from tests.fakes import FakeLanguageModel, JobWorld, build_job_world

ARTICLE: dict[str, Any] = {
    "title": "Un día en el mercado",
    "text": "Hoy voy al mercado. Compro pan y fruta.",
    "new_words": [{"term": "mercado", "translation": "market"}, {"term": "fruta", "translation": "fruit"}],
}
TRANSLATION = "A day at the market\n\nToday I go to the market. I buy bread and fruit."
REFUSED = ProviderRefused(
    "Anthropic",
    "Articles are unavailable right now: the service refused our account. The operator has been told.",
    "check ANTHROPIC_API_KEY",
)


def overloaded() -> ProviderUnavailable:
    return ProviderUnavailable("Claude", "overloaded")


def world_with(json_answers: list[Any] | None = None, text_answers: list[Any] | None = None) -> JobWorld:
    model = FakeLanguageModel(
        json_answers=[ARTICLE] if json_answers is None else json_answers,
        text_answers=[TRANSLATION] if text_answers is None else text_answers,
    )
    return build_job_world(model=model)


async def request_article(world: JobWorld, learner: Learner, topic: str | None = "el mercado", **kwargs: Any) -> str:
    requested = await world.jobs.jobs.request(learner.id, JobKind.ARTICLE, {"topic": topic}, world.address(), **kwargs)
    return requested.job.id


# --- request ----------------------------------------------------------------------------------


async def test_a_request_stores_a_queued_job_then_enqueues_it() -> None:
    world = world_with()
    learner = await world.learner()
    requested = await world.jobs.jobs.request(learner.id, JobKind.ARTICLE, {"topic": "el mercado"}, world.address())
    assert requested.enqueued
    assert world.queue.enqueued == [requested.job.id]
    stored = world.stored_job(requested.job.id)
    assert (stored.status, stored.attempts, stored.kind, stored.learner_id) == (
        JobStatus.QUEUED,
        0,
        JobKind.ARTICLE,
        learner.id,
    )
    assert stored.params["topic"] == "el mercado" and stored.params["target"] == "es" and stored.params["level"] == "A2"
    assert stored.address == DeliveryAddress("telegram", "1001", "1001")
    assert world.messenger.delivered == []  # without a messenger the run sends the status message


@pytest.mark.parametrize("outage", ["unreachable", "raises"])
async def test_when_the_queue_is_down_the_job_stays_queued_and_the_learner_is_told(outage: str) -> None:
    world = world_with()
    learner = await world.learner()
    if outage == "unreachable":
        world.queue.reachable = False
    else:
        world.queue.fail_with = ConnectionError("redis down")
    requested = await world.jobs.jobs.request(
        learner.id, JobKind.ARTICLE, {}, world.address(), messenger=world.messenger
    )
    assert not requested.enqueued
    assert world.stored_job(requested.job.id).status is JobStatus.QUEUED
    assert world.messenger.texts() == ["⏳ Your article is queued: it will run as soon as the worker is back."]


# --- run --------------------------------------------------------------------------------------


async def test_the_status_message_is_edited_at_each_step_and_the_parts_follow() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner, messenger=world.messenger)
    await world.run_enqueued()
    status, *parts = world.messenger.delivered
    assert status.message.text == "⏳ Your article is queued."
    assert status.edits == [
        "✍️ Writing your article…",
        "🌍 Translating your article…",
        "🎙 Recording your article…",
        "✅ Your article is ready.",
    ]
    assert [part.message_id for part in parts] == ["2", "3", "4", "5"]
    job = world.stored_job(job_id)
    assert (job.status, job.attempts, job.delivered_at) == (JobStatus.DONE, 1, world.clock())
    assert job.steps["delivered"] == ["text", "translation", "voice", "words"]
    assert job.steps["sent"] == {"text": ["2"], "translation": ["3"], "voice": ["4"], "words": ["5"]}
    assert job.steps["status_message_id"] == "1"


async def test_running_a_done_job_again_does_nothing() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner)
    await world.run_enqueued()
    delivered, calls = len(world.messenger.delivered), len(world.model.calls)
    assert await world.jobs.jobs.run(job_id, world.messengers) is None
    assert (len(world.messenger.delivered), len(world.model.calls)) == (delivered, calls)
    assert world.stored_job(job_id).attempts == 1


async def test_the_same_job_enqueued_twice_is_delivered_once() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner)
    world.queue.enqueued.append(job_id)
    await world.run_enqueued()
    texts = world.messenger.texts()
    assert texts.count(f"{ARTICLE['title']}\n\n{ARTICLE['text']}") == 1
    assert len(world.model.calls) == 2  # write + translate, once


async def test_a_retry_resumes_from_the_stored_steps_without_calling_the_model_again() -> None:
    world = world_with(text_answers=[overloaded(), TRANSLATION])
    learner = await world.learner()
    job_id = await request_article(world, learner)
    with pytest.raises(ProviderUnavailable):
        await world.jobs.jobs.run(job_id, world.messengers)
    released = world.stored_job(job_id)
    assert (released.status, released.attempts) == (JobStatus.QUEUED, 1)
    assert released.last_error == "Claude is unavailable right now: overloaded."
    assert released.steps["write"]["title"] == ARTICLE["title"]

    world.clock.advance(seconds=20)
    finished = await world.jobs.jobs.run(job_id, world.messengers)
    assert finished is not None and (finished.status, finished.attempts) == (JobStatus.DONE, 2)
    assert [call.tool_name for call in world.model.calls] == ["write_article", None, None]  # one write, two tries
    assert sum(text.startswith(ARTICLE["title"]) for text in world.messenger.texts()) == 1


async def test_a_status_message_that_cannot_be_sent_does_not_stop_the_job() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner)
    world.messenger.fail_next = [overloaded()]  # the first status line: not worth a retry of the job
    await world.jobs.jobs.run(job_id, world.messengers)
    assert world.stored_job(job_id).status is JobStatus.DONE
    status = world.messenger.delivered[0]  # the next status line sent it
    assert (status.message.text, status.text) == ("🌍 Translating your article…", "✅ Your article is ready.")
    assert len(world.messenger.delivered) == 5


async def test_a_delivery_cut_short_resumes_with_the_parts_not_yet_sent() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner, messenger=world.messenger)
    world.messenger.fail_next_voice = [overloaded()]
    with pytest.raises(ProviderUnavailable):
        await world.jobs.jobs.run(job_id, world.messengers)
    assert world.stored_job(job_id).steps["delivered"] == ["text", "translation"]
    await world.jobs.jobs.run(job_id, world.messengers)
    kinds = ["voice" if item.message.voice else item.message.text.split("\n")[0] for item in world.messenger.delivered]
    assert kinds == ["⏳ Your article is queued.", ARTICLE["title"], "Translation", "voice", "New words:"]
    assert len(world.model.calls) == 2  # the retry asked the model nothing
    assert len(world.synthesizer.calls) == 1  # nor the speech service


async def test_a_long_text_cut_short_mid_delivery_resends_none_of_what_the_learner_already_got() -> None:
    paragraphs = [f"Párrafo {n}: " + " ".join(["Hoy voy al mercado y compro pan."] * 14) for n in range(1, 13)]
    long_article = {**ARTICLE, "text": "\n\n".join(paragraphs)}  # ~5,700 characters: more than one message
    world = world_with(json_answers=[long_article])
    learner = await world.learner()
    job_id = await request_article(world, learner, messenger=world.messenger)
    world.messenger.fail_after(1, overloaded())  # the text's first message goes out, the next does not
    with pytest.raises(ProviderUnavailable):
        await world.jobs.jobs.run(job_id, world.messengers)
    await world.jobs.jobs.run(job_id, world.messengers)
    assert world.stored_job(job_id).status is JobStatus.DONE
    seen = "".join(world.messenger.texts())
    for marker in [ARTICLE["title"], *(f"Párrafo {n}:" for n in range(1, 13))]:
        assert seen.count(marker) == 1, marker  # every paragraph reached the learner once, none twice


@pytest.mark.parametrize(
    "text",
    [
        "\n\n".join(f"Párrafo {n}. " + "Una frase corta. " * 40 for n in range(12)),
        "una palabra " * 900,
        "sin espacios" * 700,
        "🙂 " * 2000,  # each emoji counts twice, as Telegram counts it
        "日本語の文です。" * 600,
    ],
)
def test_text_pieces_fit_a_message_and_keep_the_whole_text(text: str) -> None:
    pieces = text_pieces(text, 1000)
    assert len(pieces) > 1
    assert all(0 < len(piece.encode("utf-16-le")) // 2 <= 1000 for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
    assert text_pieces("  corto \n") == ["corto"] and text_pieces(" ") == []


async def test_a_refusal_fails_the_job_and_tells_the_learner_once() -> None:
    world = world_with(json_answers=[REFUSED])
    learner = await world.learner()
    job_id = await request_article(world, learner)
    failed = await world.jobs.jobs.run(job_id, world.messengers)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.last_error == REFUSED.user_text
    status, told = world.messenger.delivered
    assert status.text == "❌ Your article could not be made."
    assert told.text == f"Sorry, your article could not be made. {REFUSED.user_text}"
    assert "ANTHROPIC_API_KEY" not in told.text
    assert len(world.model.calls) == 1
    assert await world.jobs.jobs.run(job_id, world.messengers) is None
    assert len(world.messenger.delivered) == 2


async def test_a_provider_down_at_every_attempt_fails_the_job_at_the_last_one() -> None:
    world = world_with(json_answers=[overloaded(), overloaded(), overloaded()])
    learner = await world.learner()
    job_id = await request_article(world, learner)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await world.jobs.jobs.run(job_id, world.messengers)
        assert world.stored_job(job_id).status is JobStatus.QUEUED
    failed = await world.jobs.jobs.run(job_id, world.messengers)
    assert failed is not None and (failed.status, failed.attempts) == (JobStatus.FAILED, 3)
    told = world.messenger.texts()[-1]
    assert told == "Sorry, your article could not be made. Claude is unavailable right now: overloaded."
    assert len(world.model.calls) == 3


async def test_an_unexpected_error_hands_the_job_back_and_attempts_bound_the_retries() -> None:
    world = world_with(json_answers=[RuntimeError("a bug")])
    learner = await world.learner()
    job_id = await request_article(world, learner)
    with pytest.raises(RuntimeError):
        await world.jobs.jobs.run(job_id, world.messengers)
    job = world.stored_job(job_id)
    assert (job.status, job.last_error) == (JobStatus.QUEUED, "RuntimeError while running")
    job.attempts = 3  # as after three crashed runs
    failed = await world.jobs.jobs.run(job_id, world.messengers)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert world.messenger.texts()[-1] == (
        "Sorry, your article could not be made. It failed too many times; please try again later."
    )


async def test_a_learner_who_blocked_the_bot_fails_the_job_silently() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner)
    world.messenger.blocked.add("1001")
    failed = await world.jobs.jobs.run(job_id, world.messengers)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert failed.last_error is not None and "blocked" in failed.last_error
    assert world.messenger.delivered == []


async def test_a_job_for_a_platform_without_a_messenger_fails() -> None:
    world = world_with()
    learner = await world.learner()
    requested = await world.jobs.jobs.request(learner.id, JobKind.ARTICLE, {}, DeliveryAddress("discord", "55", "66"))
    failed = await world.jobs.jobs.run(requested.job.id, world.messengers)
    assert failed is not None and failed.status is JobStatus.FAILED
    assert world.model.calls == []


class ModelWithSideEffect(FakeLanguageModel):
    """A model that runs `during_write` while it writes the article (what happens meanwhile elsewhere)."""

    during_write: Callable[[], Awaitable[None]] | None = None

    async def generate_json(
        self, *, system: str, prompt: str, schema: dict[str, Any], tool_name: str, max_tokens: int = 2048
    ) -> dict[str, Any]:
        if self.during_write is not None:
            await self.during_write()
        return await super().generate_json(system=system, prompt=prompt, schema=schema, tool_name=tool_name)


async def test_a_learner_who_deletes_their_account_while_the_job_runs_gets_nothing_more() -> None:
    model = ModelWithSideEffect(json_answers=[ARTICLE], text_answers=[TRANSLATION])
    world = build_job_world(model=model)
    learner = await world.learner()
    job_id = await request_article(world, learner)

    async def delete_account() -> None:
        await world.services.data.delete_everything(learner.id)

    model.during_write = delete_account
    assert await world.jobs.jobs.run(job_id, world.messengers) is None
    assert world.messenger.texts() == ["✍️ Writing your article…"]  # sent before the account went
    assert [call.tool_name for call in model.calls] == ["write_article"]  # no translation asked for
    assert world.synthesizer.calls == []
    assert world.uow.store.jobs == {}


async def test_a_run_that_the_sweep_failed_as_stuck_delivers_nothing_afterwards() -> None:
    model = ModelWithSideEffect(json_answers=[ARTICLE], text_answers=[TRANSLATION])
    world = build_job_world(model=model)
    learner = await world.learner()
    job_id = await request_article(world, learner, messenger=world.messenger)

    async def stuck_then_swept() -> None:
        world.clock.advance(minutes=11)
        assert (await world.jobs.jobs.sweep(world.messengers)).failed == 1

    model.during_write = stuck_then_swept
    late = await world.jobs.jobs.run(job_id, world.messengers)
    assert late is not None and late.status is JobStatus.FAILED
    assert late.last_error == "It took too long and was stopped."
    [status, told] = world.messenger.delivered
    assert status.text == "❌ Your article could not be made."  # the late run did not edit it on
    assert told.text == "Sorry, your article could not be made. It took too long and was stopped."
    assert len(model.calls) == 1 and world.synthesizer.calls == []
    assert "write" not in world.stored_job(job_id).steps


# --- sweep ------------------------------------------------------------------------------------


async def test_the_sweep_enqueues_jobs_the_queue_never_got_after_30_seconds() -> None:
    world = world_with()
    learner = await world.learner()
    world.queue.reachable = False
    job_id = await request_article(world, learner)
    world.queue.reachable = True
    world.clock.advance(seconds=29)
    assert (await world.jobs.jobs.sweep(world.messengers)).requeued == 0
    world.clock.advance(seconds=2)
    report = await world.jobs.jobs.sweep(world.messengers)
    assert (report.requeued, report.failed) == (1, 0)
    assert world.queue.enqueued == [job_id]
    await world.run_enqueued()
    assert world.stored_job(job_id).status is JobStatus.DONE


async def test_the_sweep_enqueues_a_dead_run_again_and_fails_a_job_stuck_past_its_timeout() -> None:
    world = world_with()
    learner = await world.learner()
    job_id = await request_article(world, learner)
    world.queue.enqueued.clear()
    async with world.uow() as uow:  # a worker claimed it and died
        assert await uow.jobs.claim(job_id, world.clock(), world.clock() - timedelta(minutes=5)) is not None
        await uow.commit()

    world.clock.advance(minutes=4)
    assert (await world.jobs.jobs.sweep(world.messengers)).requeued == 0  # its claim is still live
    world.clock.advance(minutes=2)
    assert (await world.jobs.jobs.sweep(world.messengers)).requeued == 1  # the lease expired: resume it
    assert world.queue.enqueued == [job_id]
    assert world.messenger.delivered == []

    world.clock.advance(minutes=5)  # 11 minutes after the claim: nobody took it over
    report = await world.jobs.jobs.sweep(world.messengers)
    assert (report.requeued, report.failed) == (0, 1)
    assert world.stored_job(job_id).status is JobStatus.FAILED
    assert world.messenger.texts() == ["Sorry, your article could not be made. It took too long and was stopped."]
    assert (await world.jobs.jobs.sweep(world.messengers)).failed == 0  # told once


# --- listing ----------------------------------------------------------------------------------


async def test_recent_jobs_are_the_learners_newest_first_and_get_checks_the_owner() -> None:
    world = world_with()
    learner, other = await world.learner(), await world.learner("2002")
    first = await request_article(world, learner, topic="uno")
    world.clock.advance(minutes=1)
    second = await request_article(world, learner, topic="dos")
    await request_article(world, other)
    assert [job.id for job in await world.jobs.jobs.recent(learner.id)] == [second, first]
    assert [job.id for job in await world.jobs.jobs.recent(learner.id, limit=1)] == [second]
    assert (await world.jobs.jobs.get(learner.id, first)).params["topic"] == "uno"
    with pytest.raises(NotFound):
        await world.jobs.jobs.get(other.id, first)
