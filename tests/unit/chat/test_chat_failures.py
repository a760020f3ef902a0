"""An unexpected failure: an apology, nothing stored half-way, and a redelivery is handled again."""

from __future__ import annotations

from collections.abc import Sequence

from bots.chat.errors import SOMETHING_WENT_WRONG
from bots.chat.events import EventKind
from tests.unit.chat.conftest import build_chat_world
from tests.unit.chat.harness import texts


class BrokenTranslator:
    """A translator with a bug (not a provider outage): raises something no one expects."""

    def __init__(self) -> None:
        self.broken = True

    async def translate(self, texts: Sequence[str], source: str, target: str) -> list[str]:
        if self.broken:
            raise RuntimeError("bug")
        return [f"{text} (translated)" for text in texts]


async def test_a_failed_update_is_handled_again_when_redelivered() -> None:
    translator = BrokenTranslator()
    cw = build_chat_world(translator=translator)
    chat = cw.chat
    await chat.onboard()
    event = chat.event("ann", EventKind.COMMAND, text="/add perro", command="add", args="perro", update_id="77")

    assert texts(await chat.app.handle(event)) == [SOMETHING_WENT_WRONG]
    assert cw.store.words == {}

    translator.broken = False
    replies = await chat.app.handle(event)  # the platform delivers it again
    assert texts(replies) == ["Added 1:\nperro — perro (translated)"]
    assert await chat.app.handle(event) == []  # and once handled, a third delivery is a duplicate
