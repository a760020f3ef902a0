"""Random input from several learners at once never breaks the chat layer or crosses between learners.

Hypothesis throws texts, commands (known and unknown, with unicode, huge, empty and multi-line
arguments), button payloads (ones really shown, crafted ones with other learners' ids, garbage),
files and voice notes at one ChatApp over in-memory fakes. For every event:

- nothing unexpected happens inside: no reply is the "Something went wrong" apology (that text
  only appears when an exception reached the one catch-all in ChatApp.handle);
- an event addressed to the bot (and not a redelivery) gets at least one reply, each with text;
  a group message not addressed to the bot, or a redelivered update, gets deliberate silence;
- every button in a reply decodes and fits Telegram's 64-byte limit;
- no other learner's words, cards, pairs, settings, reviews or conversation state change.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.chat.commands import BY_NAME
from bots.chat.errors import SOMETHING_WENT_WRONG
from bots.chat.events import Attachment, Event, EventKind
from bots.chat.parsing import parse_command
from bots.chat.payloads import ACTIONS, MAX_PAYLOAD_BYTES, PUBLIC, decode, owner_tag
from tests.fakes import FakeUnitOfWorkFactory, FixedClock, InMemoryStore, make_services
from tests.unit.chat.harness import ADMIN, ADMIN_CHANNEL, PLATFORM, Chat

LEARNERS = ("ann", "bob", "cat")
ACTORS = (*LEARNERS, ADMIN)
SLUG = "es-basics"

MEANINGFUL_ARGS = (
    SLUG,
    f"pack-{SLUG}",
    "comer = to eat",
    "perro",
    "es en A2",
    "fr en",
    "xx yy",
    "2",
    "0",
    "-1",
    "99999999999",
    "reminder 19:30",
    "tz Europe/Madrid",
    "new 5",
    "directions both",
    "audio on",
    "colour red",
    f"{SLUG}\nagua = water\nsol",
    f"{SLUG} es en A1 Title",
    "new-pack es en B1 New pack",
)
ANSWERS = ("to eat", "house", "dog", "es", "en", "A2", "yes", "cat", "Spanish")

short_text = st.text(max_size=60)
huge_text = st.integers(3_990, 4_200).map(lambda n: "a" * n)
many_lines = st.lists(st.text(max_size=15), max_size=120).map("\n".join)
arguments = st.one_of(st.just(""), short_text, huge_text, many_lines, st.sampled_from(MEANINGFUL_ARGS))
command_names = st.one_of(st.sampled_from(sorted(BY_NAME)), st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
plain_texts = st.one_of(short_text, huge_text, many_lines, st.sampled_from(ANSWERS), st.just("   "))
durations = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
mimes = st.sampled_from([None, "audio/ogg", "audio/mpeg", "application/pdf", "text/csv", "image/png", ""])
csv_like = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=20).map(
    lambda rows: "\n".join(f"{a},{b}" for a, b in rows).encode()
)
file_bodies = st.one_of(st.binary(max_size=300), csv_like)
captions = st.one_of(
    st.just(""),
    st.just(f"/pack_import {SLUG}"),
    short_text,
    st.builds(lambda c, a: f"/{c} {a}", command_names, short_text),
)


class Run:
    """One example: a ChatApp over fresh fakes, learners set up, and what was shown so far."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = FixedClock()
        self.chat = Chat.build(make_services(uow=self.uow, clock=self.clock), self.clock)
        self.payloads: list[str] = []
        self.seen_updates: set[str] = set()

    @property
    def store(self) -> InMemoryStore:
        return self.uow.store

    async def set_up(self) -> None:
        chat = self.chat
        await chat.admin(f"/pack_new {SLUG} es en A1 Spanish basics")
        await chat.admin(f"/pack_add {SLUG}\nagua = water\nsol = sun")
        await chat.admin(f"/pack_publish {SLUG}")
        await chat.onboard("ann")
        await chat.send("/add comer = to eat\ncasa = house\nperro", "ann")
        await chat.onboard("bob", target="French")
        await chat.send("/add chat = cat\nmaison = house", "bob")
        await chat.send("/review", "bob")
        await chat.press("Show answer", "bob")
        await chat.send("/packs", "ann")
        await chat.send("/delete_me", "cat")
        for buttons in chat.shown.values():
            self.payloads.extend(b.payload for b in buttons)

    def learner_of(self, user: str) -> str | None:
        identity = self.store.identities.get((PLATFORM, user))
        return identity.learner_id if identity else None

    def snapshot(self, except_learner: str | None) -> dict[str, Any]:
        """Everything that belongs to each learner other than the actor."""
        store = self.store
        return {
            learner_id: copy.deepcopy(
                (
                    learner.settings,
                    sorted(
                        (w.id, w.term, w.translation, w.pair_id)
                        for w in store.words.values()
                        if w.learner_id == learner_id
                    ),
                    sorted(
                        (c.id, c.due, c.state, c.suspended) for c in store.cards.values() if c.learner_id == learner_id
                    ),
                    sorted(
                        (p.id, p.target, p.native, p.level, p.is_active)
                        for p in store.pairs.values()
                        if p.learner_id == learner_id
                    ),
                    [r.id for r in store.reviews if r.learner_id == learner_id],
                    store.conversations.get(learner_id),
                )
            )
            for learner_id, learner in store.learners.items()
            if learner_id != except_learner
        }


def crafted_payloads(run: Run) -> st.SearchStrategy[str]:
    """Valid-looking payloads aimed at real objects, tagged as anyone's (or nobody's)."""
    ids = [*run.store.cards, *run.store.pairs, SLUG, "1", "3", "t", "A2", "es", "deadbeef"]
    owners = [PUBLIC, "00000000", *(owner_tag(lid) for lid in run.store.learners)]

    def build(action: str, owner: str, args: list[str]) -> str:
        return ":".join([action, owner, *args[: ACTIONS[action]]])

    return st.builds(
        build,
        st.sampled_from(sorted(ACTIONS)),
        st.sampled_from(owners),
        st.lists(st.sampled_from(ids), min_size=3, max_size=3),
    )


def events(run: Run, data: st.DataObject) -> Event:
    """One random event from a random actor."""
    user = data.draw(st.sampled_from(ACTORS), label="actor")
    in_group = data.draw(st.booleans(), label="group") if user != ADMIN else True
    chat_id = (ADMIN_CHANNEL if user == ADMIN else "group-1") if in_group else user
    kind = data.draw(st.sampled_from(list(EventKind)), label="kind")
    fields: dict[str, Any] = {
        "chat": chat_id,
        "group": in_group,
        "update_id": data.draw(st.one_of(st.none(), st.integers(0, 40).map(str)), label="update"),
    }
    if kind == EventKind.COMMAND:
        name, args = data.draw(command_names, label="command"), data.draw(arguments, label="args")
        fields |= {"text": f"/{name} {args}", "command": name, "args": args}
    elif kind == EventKind.TEXT:
        fields |= {"text": data.draw(plain_texts, label="text")}
    elif kind == EventKind.BUTTON:
        shown = st.sampled_from(run.payloads) if run.payloads else st.just("")
        fields |= {"payload": data.draw(st.one_of(shown, crafted_payloads(run), st.text(max_size=80)), label="payload")}
    elif kind == EventKind.VOICE:
        content = data.draw(st.one_of(st.just(b""), st.binary(max_size=64).map(lambda b: b"OggS" + b)), label="voice")
        attachment = Attachment("voice.ogg", content, data.draw(mimes, label="mime"), data.draw(durations, label="s"))
        fields |= {"attachment": attachment}
    else:
        caption = data.draw(captions, label="caption")
        attachment = Attachment("words.csv", data.draw(file_bodies, label="file"), data.draw(mimes, label="mime"))
        command, args = parse_command(caption)
        fields |= {"text": caption, "command": command, "args": args, "attachment": attachment}
    event = run.chat.event(user, kind, **fields)
    if in_group and data.draw(st.integers(0, 3), label="ignored") == 0:
        event = Event(**{**event.__dict__, "addressed_to_bot": False})
    return event


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_random_input_from_several_learners(data: st.DataObject) -> None:
    run = Run()
    await run.set_up()
    for _ in range(data.draw(st.integers(1, 8), label="steps")):
        event = events(run, data)
        actor = run.learner_of(event.user_id)
        duplicate = event.update_id is not None and event.update_id in run.seen_updates
        if event.addressed_to_bot and event.update_id is not None:
            run.seen_updates.add(event.update_id)
        before = run.snapshot(actor)

        replies = await run.chat.handle(event)

        assert all(reply.text != SOMETHING_WENT_WRONG for reply in replies), event
        if not event.addressed_to_bot or duplicate:
            assert replies == [], event
        else:
            assert replies and all(reply.text.strip() for reply in replies), (event, replies)
        for reply in replies:
            for row in reply.buttons:
                for button in row:
                    assert len(button.payload.encode()) <= MAX_PAYLOAD_BYTES and decode(button.payload), button
                    run.payloads.append(button.payload)
        after = run.snapshot(actor)
        assert {k: v for k, v in after.items() if k in before} == before, event
