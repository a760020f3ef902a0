"""Progress and data: /stats with a chart, /settings, /export, /delete_me."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.unit.chat.conftest import ChatWorld
from tests.unit.chat.harness import Chat, labels, texts

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_stats_shows_the_figures_and_a_png_chart(chat: Chat) -> None:
    await chat.onboard()
    await chat.send("/add comer = to eat\ncasa = house")
    await chat.send("/review")
    await chat.send("to eat")
    [reply] = await chat.send("/stats")
    assert reply.text == (
        "Streak: 1 day\nReviews today: 1\nDue now: 0 · by tomorrow: 1\n"
        "Retention (30 days): not enough reviews yet\nWords: 2"
    )
    assert reply.image is not None
    assert (reply.image.filename, reply.image.mime_type) == ("langlearn-stats.png", "image/png")
    assert reply.image.content.startswith(PNG_MAGIC) and len(reply.image.content) > 5_000


SETTINGS_USAGE = (
    "Change with:\n/settings reminder 19:30 (or off)\n/settings tz Europe/Madrid\n/settings new 20\n"
    "/settings directions recognition|production|both\n/settings audio on|off"
)


async def test_settings_without_arguments_shows_current_values_and_usage(chat: Chat) -> None:
    assert texts(await chat.send("/settings")) == [
        "Your settings:\nReminder: off\nTimezone: UTC\nNew cards per day: 20\nCard directions: recognition\n"
        "Audio on cards: off\n\n" + SETTINGS_USAGE
    ]


async def test_settings_subcommands_change_what_is_stored(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    for command in ("reminder 19:30", "tz Europe/Madrid", "new 5", "directions both", "audio on"):
        [reply] = await chat.send(f"/settings {command}")
        assert reply.text.startswith("Saved.\n\nYour settings:\n")
    learner = cw.store.learners[await chat.learner_id()]
    settings = learner.settings
    assert (settings.reminder_time, settings.timezone, settings.new_cards_per_day) == ("19:30", "Europe/Madrid", 5)
    assert (settings.directions, settings.audio_on_cards) == ("both", True)
    [reply] = await chat.send("/settings reminder off")
    assert "Reminder: off" in reply.text


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        (
            "/settings colour blue",
            "“colour” is not a setting. Settings: reminder, tz, new, directions, audio.\n"
            "Example: /settings reminder 19:30",
        ),
        ("/settings new", "Give a value for new.\nExample: /settings new 20"),
        ("/settings new lots", "“lots” is not a number of cards.\nExample: /settings new 20"),
        ("/settings audio loud", "Audio on cards is on or off.\nExample: /settings audio on"),
    ],
)
async def test_bad_settings_say_what_is_wrong_with_an_example(cw: ChatWorld, command: str, answer: str) -> None:
    await cw.chat.onboard()
    assert texts(await cw.chat.send(command)) == [answer]
    assert cw.store.learners[await cw.chat.learner_id()].settings.new_cards_per_day == 20


async def test_settings_errors_from_the_service_end_with_an_example(chat: Chat) -> None:
    [reply] = await chat.send("/settings reminder 25:99")
    assert reply.text.splitlines()[-1].startswith("Example: /settings reminder")


async def test_export_returns_json_and_an_anki_csv(chat: Chat) -> None:
    await chat.onboard()
    await chat.send("/add comer = to eat")
    [reply] = await chat.send("/export")
    assert reply.text.startswith("Your data: everything as JSON, and your words as a CSV for Anki")
    names = [(f.filename, f.mime_type) for f in reply.files]
    assert names == [("langlearn-export.json", "application/json"), ("langlearn-anki.csv", "text/csv")]
    exported = json.loads(reply.files[0].content)
    assert "comer" in json.dumps(exported, ensure_ascii=False)
    rows = list(csv.reader(io.StringIO(reply.files[1].content.decode())))
    assert rows[-1][:2] == ["comer", "to eat"]


async def test_delete_me_asks_then_deletes_everything(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/add comer = to eat")
    asked = await chat.send("/delete_me")
    assert texts(asked)[0].startswith("Delete everything about you — words, cards, review history, settings?")
    assert labels(asked) == ["Yes, delete everything", "Cancel"]
    yes = chat.button("Yes, delete everything").payload
    assert texts(await chat.tap(yes)) == ["Done: everything about you is deleted. Send /start to begin again."]
    assert cw.store.learners == {} and cw.store.words == {} and cw.store.cards == {}
    assert cw.store.identities == {} and cw.store.pairs == {}
    assert texts(await chat.tap(yes)) == ["This button has expired."]
    assert cw.store.learners == {}


async def test_delete_me_cancel_and_text_while_asked(cw: ChatWorld) -> None:
    chat = cw.chat
    await chat.onboard()
    await chat.send("/delete_me")
    assert texts(await chat.send("yes")) == ["Please answer the question above with its buttons, or send /cancel."]
    assert texts(await chat.press("Cancel")) == ["Cancelled: nothing was changed."]
    assert len(cw.store.learners) == 1


@pytest.mark.parametrize("command", ["adventure space", "adventure_end", "quiz", "leaderboard"])
async def test_commands_of_a_later_issue_say_they_are_not_available_yet(chat: Chat, command: str) -> None:
    name = command.split()[0]
    assert texts(await chat.send(f"/{command}")) == [
        f"/{name} is not available yet — it arrives in a later version. "
        "Meanwhile: /review, /add, /packs, /article, /listen, /stats."
    ]
