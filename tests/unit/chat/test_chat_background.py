"""Background work in the chat: /article, /listen, /jobs, the Listen button on cards, **Add all words**
and the reminder's **Review** button — the real ChatApp and job services over the fakes of our ports,
results delivered through a RecordingMessenger (what the learner's chat shows), jobs run as a worker would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.chat.app import ChatApp
from bots.chat.deliveries import button_payload
from bots.chat.replies import Reply
from core.bootstrap import Services, build_services
from core.config import Settings
from core.domain.errors import ProviderRefused
from core.domain.models import ActionButton, DeliveryAddress, JobKind, JobStatus
from core.domain.services.reminders import reminder_message
from core.outbound.fsrs import FsrsScheduler
from tests.fakes import (
    FakeJobQueue,
    FakeLanguageModel,
    FakeLemmatizer,
    FakeMediaStore,
    FakeSpeechSynthesizer,
    FakeUnitOfWorkFactory,
    FixedClock,
    RecordingMessenger,
)
from tests.unit.chat.harness import ADMINS, Chat, labels, texts

ARTICLE: dict[str, Any] = {
    "title": "Un día en el mercado",
    "text": "Hoy voy al mercado.\n\nCompro pan y fruta.",
    "new_words": [{"term": "mercado", "translation": "market"}, {"term": "fruta", "translation": "fruit"}],
}
TRANSLATION = "A day at the market\n\nToday I go to the market.\n\nI buy bread and fruit."
QUEUED = "⏳ Your article is queued."
REFUSED = "Speech is unavailable right now: the service refused our account. The operator has been told."


@dataclass
class World:
    chat: Chat
    services: Services
    uow: FakeUnitOfWorkFactory
    queue: FakeJobQueue
    messenger: RecordingMessenger
    model: FakeLanguageModel
    synthesizer: FakeSpeechSynthesizer
    clock: FixedClock

    async def run_jobs(self) -> None:
        """Run every enqueued job once, in order, as the worker would."""
        assert self.services.jobs is not None
        while self.queue.enqueued:
            await self.services.jobs.run(self.queue.enqueued.pop(0), {"telegram": self.messenger})

    def shown(self, user: str = "ann") -> list[str]:
        """What the learner's chat shows of the background messages, after edits."""
        return [item.text for item in self.messenger.delivered if item.address.user_id == user]

    async def press_delivered(self, label: str, user: str = "ann", *, by: str | None = None) -> list[Reply]:
        """Press a button of a background message sent to `user` (as the messenger encoded it)."""
        buttons = [
            button
            for item in self.messenger.delivered
            if item.address.user_id == user
            for row in item.message.buttons
            for button in row
            if button.label == label
        ]
        assert buttons, f"no delivered button {label!r}"
        return await self.chat.tap(button_payload(buttons[-1]), by or user)


def build_world(
    *,
    articles: int = 5,
    language_model: bool = True,
    speech: bool = True,
    messengers: bool = True,
    article_answers: int = 3,
) -> World:
    uow, clock, queue = FakeUnitOfWorkFactory(), FixedClock(), FakeJobQueue()
    model = FakeLanguageModel(json_answers=[ARTICLE] * article_answers, text_answers=[TRANSLATION] * article_answers)
    synthesizer, media = FakeSpeechSynthesizer(), FakeMediaStore()
    settings = Settings(_env_file=None, DATABASE_URL="sqlite+aiosqlite:///:memory:", DAILY_ARTICLE_QUOTA=articles)  # type: ignore[call-arg]
    services = build_services(
        settings,
        uow,
        scheduler=FsrsScheduler(enable_fuzzing=False),
        lemmatizer=FakeLemmatizer(),
        translator=None,
        clock=clock,
        language_model=model if language_model else None,
        speech=synthesizer if speech else None,
        media=media if speech else None,
        queue=queue,
    )
    messenger = RecordingMessenger()
    app = ChatApp(services, ADMINS, clock=clock, messengers={"telegram": messenger} if messengers else None)
    return World(Chat(app, services), services, uow, queue, messenger, model, synthesizer, clock)


async def onboarded(user: str = "ann", **options: Any) -> World:
    world = build_world(**options)
    await world.chat.onboard(user)
    return world


# --- /article ---------------------------------------------------------------------------------


async def test_article_status_line_is_edited_through_the_steps_then_the_parts_arrive() -> None:
    world = await onboarded()
    assert await world.chat.send("/article el mercado") == []  # the status line went through the messenger
    assert world.shown() == [QUEUED]
    status = world.messenger.delivered[0]
    await world.run_jobs()
    assert status.edits == [
        "✍️ Writing your article…",
        "🌍 Translating your article…",
        "🎙 Recording your article…",
        "✅ Your article is ready.",
    ]
    _, text, translation, voice, words = world.messenger.delivered
    assert text.text == "Un día en el mercado\n\nHoy voy al mercado.\n\nCompro pan y fruta."
    assert (translation.message.text, translation.message.spoiler) == ("Translation", TRANSLATION)
    assert voice.message.voice is not None and voice.message.voice_audio
    assert words.text == "New words:\n• mercado — market\n• fruta — fruit"
    assert [b.label for row in words.message.buttons for b in row] == ["Add all words"]
    assert "el mercado" in world.model.calls[0].prompt


async def test_add_all_words_adds_them_once() -> None:
    world = await onboarded()
    await world.chat.send("/article")
    await world.run_jobs()
    added = await world.press_delivered("Add all words")
    assert texts(added) == ["Added 2:\nmercado — market\nfruta — fruit\n\nThey're ready for /review."]
    bank = {(entry.term, entry.translation) for entry in world.uow.store.words.values()}
    assert bank == {("mercado", "market"), ("fruta", "fruit")}
    again = await world.press_delivered("Add all words")
    assert texts(again) == ["Nothing new: you already have all 2 words of this article."]
    assert again[0].notice == again[0].text
    assert len(world.uow.store.words) == 2


async def test_add_all_words_of_someone_elses_article_is_refused() -> None:
    world = await onboarded()
    await world.chat.onboard("bob")
    await world.chat.send("/article")
    await world.run_jobs()
    refused = await world.press_delivered("Add all words", by="bob")
    assert texts(refused) == ["This button isn't for you."] and refused[0].notice == "This button isn't for you."
    stranger = await world.press_delivered("Add all words", by="eve")  # never talked to the bot
    assert texts(stranger) == ["This button has expired."]
    assert world.uow.store.words == {}
    assert len(world.uow.store.learners) == 2  # the press made no learner


async def test_add_all_words_after_switching_languages_says_how_to_switch_back() -> None:
    world = await onboarded()
    await world.chat.send("/article")
    await world.run_jobs()
    await world.chat.send("/language fr en A1")
    switched = await world.press_delivered("Add all words")
    assert texts(switched) == [
        "These words are Spanish → English: switch with /language es en, then press Add all words again."
    ]
    assert world.uow.store.words == {}


async def test_article_quota_and_bad_input_are_told() -> None:
    world = await onboarded(articles=1)
    await world.chat.send("/article")
    [quota] = texts(await world.chat.send("/article el mar"))
    assert quota.startswith("You have used today's 1 articles. More from midnight (UTC time), in ")
    [too_long] = texts(await world.chat.send("/article " + "tema " * 60))
    assert too_long == (
        "That topic is 299 characters long; a topic has at most 200.\nExample: /article a day at the market"
    )
    assert len(world.uow.store.jobs) == 1


async def test_article_not_configured_names_the_setting() -> None:
    world = await onboarded(language_model=False)
    assert texts(await world.chat.send("/article")) == [
        "Articles is not configured: set ANTHROPIC_API_KEY to enable it."
    ]
    assert world.uow.store.jobs == {} and world.messenger.delivered == []


async def test_article_with_the_queue_down_is_kept_and_the_learner_told() -> None:
    world = await onboarded()
    world.queue.reachable = False
    assert await world.chat.send("/article") == []
    assert world.shown() == ["⏳ Your article is queued: it will run as soon as the worker is back."]
    [job] = world.uow.store.jobs.values()
    assert job.status is JobStatus.QUEUED


async def test_article_asked_in_a_group_is_answered_privately() -> None:
    world = await onboarded()
    replies = await world.chat.send("/article", chat="study-group", group=True)
    assert texts(replies) == [QUEUED] and replies[0].private
    [job] = world.uow.store.jobs.values()
    assert job.address == DeliveryAddress(platform="telegram", chat_id="ann", user_id="ann")
    await world.run_jobs()
    assert {item.address.chat_id for item in world.messenger.delivered} == {"ann"}


async def test_without_a_messenger_the_reply_says_it_is_queued() -> None:
    world = await onboarded(messengers=False)
    assert texts(await world.chat.send("/article")) == [QUEUED]


# --- /listen and Listen on cards ---------------------------------------------------------------


async def test_listen_records_once_then_sends_the_cached_voice_at_once() -> None:
    world = await onboarded()
    assert await world.chat.send("/listen  ¿Dónde   está la estación?") == []
    [job] = world.uow.store.jobs.values()
    assert (job.kind, job.params) == (JobKind.SPEECH, {"text": "¿Dónde está la estación?", "language": "es"})
    await world.run_jobs()
    [first] = world.messenger.delivered
    assert first.message.voice_audio is not None and world.messenger.uploads == 1

    assert await world.chat.send("/listen ¿Dónde está la estación?") == []
    assert world.queue.enqueued == [] and len(world.uow.store.jobs) == 1  # no job: sent right away
    second = world.messenger.delivered[-1]
    assert second.message.voice_audio is None and second.message.voice is not None
    assert second.message.voice.platform_refs == {"telegram": "file-1"}
    assert len(world.synthesizer.calls) == 1 and world.messenger.uploads == 1


async def test_listen_bad_input_and_not_configured() -> None:
    world = await onboarded()
    assert texts(await world.chat.send("/listen")) == [
        "Send the text to read aloud after the command.\nExample: /listen ¿Dónde está la estación?"
    ]
    assert texts(await world.chat.send("/listen " + "a" * 301)) == [
        "That is 301 characters; /listen reads up to 300.\nExample: /listen ¿Dónde está la estación?"
    ]
    silent = await onboarded(speech=False)
    assert texts(await silent.chat.send("/listen hola")) == [
        "Speech is not configured: set GEMINI_API_KEY to enable it."
    ]
    assert world.uow.store.jobs == {} and silent.uow.store.jobs == {}


async def test_listen_with_the_queue_down_says_it_will_run_later() -> None:
    world = await onboarded()
    world.queue.reachable = False
    assert texts(await world.chat.send("/listen hola")) == [
        "⏳ Your voice message is queued: it will run as soon as the worker is back."
    ]


async def test_listen_without_a_messenger_answers_cached_audio_in_the_reply() -> None:
    world = await onboarded(messengers=False)
    assert world.services.speech_clips is not None
    await world.services.speech_clips.clip_for(await world.chat.learner_id(), "hola", "es")
    [reply] = await world.chat.send("/listen hola")
    assert reply.audio is not None and reply.audio.content == b"OggS" + b"es:hola"


async def test_listen_button_on_a_card_reads_its_word() -> None:
    world = await onboarded()
    await world.chat.send("/add comer = to eat")
    front = await world.chat.send("/review")
    assert labels(front) == ["Show answer", "Listen"]  # speech is configured: offered
    pressed = await world.chat.press("Listen")
    assert [reply.notice for reply in pressed] == ["🎙 Recording…"]
    await world.run_jobs()
    [voice] = world.messenger.delivered
    assert voice.message.voice is not None
    assert world.synthesizer.calls == [("comer", "es", "Kore")]
    assert await world.chat.press("Listen") == []  # cached: sent at once, by its upload id
    assert world.messenger.delivered[-1].message.voice_audio is None
    # The session did not move: the card is still the one to answer.
    assert texts(await world.chat.send("to eat"))[0].startswith("✓ Correct")


async def test_after_listen_the_next_card_comes_below_the_voice_message() -> None:
    """Editing the card into the next one would leave the session above the voice message: after a
    Listen, the rating edits the card into its outcome and the next card is a new message; the card
    after that is edited in place again."""
    world = await onboarded()
    await world.chat.send("/add comer = to eat\nbeber = to drink\nagua = water")
    await world.chat.send("/review")
    await world.chat.press("Listen")
    await world.chat.press("Show answer")
    outcome, next_card = await world.chat.press("Good · 10m")
    assert outcome.edit and outcome.buttons == [] and "Good · next in" in outcome.text
    assert not next_card.edit and labels([next_card]) == ["Show answer", "Listen"]
    assert "In English?" in next_card.text and "Good · next in" not in next_card.text

    await world.chat.press("Show answer")
    [moved] = await world.chat.press("Good · 10m")  # no Listen on this card: edited into the next one
    assert moved.edit and "Good · next in" in moved.text and "In English?" in moved.text


async def test_after_listen_a_removed_card_gives_way_to_the_next_below_the_voice() -> None:
    world = await onboarded()
    await world.chat.send("/add comer = to eat\nbeber = to drink")
    await world.chat.send("/review")
    await world.chat.press("Listen")
    assert texts(await world.chat.send("/remove comer")) == ["Removed “comer” and its cards."]
    notice, next_card = await world.chat.press("Show answer")
    assert notice.edit and notice.text == "That card's word was removed from your words." and notice.buttons == []
    assert not next_card.edit and labels([next_card]) == ["Show answer", "Listen"]


async def test_listen_on_a_production_card_reads_the_answer_once_shown() -> None:
    world = await onboarded()
    await world.chat.send("/settings directions production")
    await world.chat.send("/add comer = to eat")
    front = await world.chat.send("/review")
    assert texts(front)[0].startswith("to eat") and labels(front) == ["Show answer"]
    back = await world.chat.press("Show answer")
    assert labels(back)[-1] == "Listen"
    await world.chat.press("Listen")
    await world.run_jobs()
    assert world.synthesizer.calls == [("comer", "es", "Kore")]


async def test_listen_is_not_offered_when_speech_is_not_configured() -> None:
    world = await onboarded(speech=False)
    await world.chat.send("/add comer = to eat")
    assert labels(await world.chat.send("/review")) == ["Show answer"]


# --- /jobs ------------------------------------------------------------------------------------


async def test_jobs_lists_recent_jobs_and_their_state() -> None:
    world = await onboarded()
    assert texts(await world.chat.send("/jobs")) == ["You have no background jobs yet. Try /article or /listen <text>."]
    await world.chat.send("/article el mercado")
    await world.run_jobs()
    world.clock.advance(minutes=5)
    world.synthesizer.fail_next.append(ProviderRefused("Gemini", REFUSED, "check GEMINI_API_KEY"))
    await world.chat.send("/listen hola")
    await world.run_jobs()
    world.clock.advance(minutes=1)
    await world.chat.send("/listen adiós")
    [listing] = texts(await world.chat.send("/jobs"))
    assert listing == (
        "Your recent background jobs:\n"
        "• Voice message “adiós” — ⏳ queued · <1m ago\n"
        f"• Voice message “hola” — ❌ failed · 1m ago\n   {REFUSED}\n"
        "• Article “el mercado” — ✅ done · 6m ago"
    )
    assert world.shown()[-1] == f"Sorry, your voice message could not be made. {REFUSED}"


# --- the reminder's Review button, /help ----------------------------------------------------------


async def test_reminder_review_button_starts_a_review() -> None:
    world = await onboarded()
    await world.chat.send("/add comer = to eat")
    [[review]] = reminder_message(1).buttons
    assert review == ActionButton(label="Review", action="review", ref="")
    started = await world.chat.tap(button_payload(review), "ann")
    assert texts(started)[0].startswith("comer\n\n") and labels(started)[0] == "Show answer"


async def test_help_lists_the_background_commands_as_available() -> None:
    world = await onboarded()
    [help_text] = texts(await world.chat.send("/help"))
    for line in help_text.splitlines():
        if line.startswith(("/listen", "/article", "/jobs")):
            assert "not available" not in line, line
    assert "/adventure [theme] — a story you steer (not available yet)" in help_text


async def test_listen_in_a_group_is_answered_privately_by_the_adapter() -> None:
    world = await onboarded()
    queued = await world.chat.send("/listen hola", chat="study-group", group=True)
    assert texts(queued) == ["🎙 Recording…"] and queued[0].private
    await world.run_jobs()
    assert [item.address.chat_id for item in world.messenger.delivered] == ["ann"]
    [cached] = await world.chat.send("/listen hola", chat="study-group", group=True)
    assert cached.private and cached.audio is not None and cached.audio.content.startswith(b"OggS")
    assert len(world.messenger.delivered) == 1  # not sent around the adapter
