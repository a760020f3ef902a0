"""Packs for learners: /packs, /pack <slug>, and the Preview / Add to my words buttons."""

from __future__ import annotations

from bots.chat import render
from bots.chat.context import Turn
from bots.chat.errors import user_message
from bots.chat.replies import Reply
from core.domain.errors import DomainError, InvalidInput

MAX_PACKS_SHOWN = 20
PREVIEW_ENTRIES = 10


async def cmd_packs(turn: Turn) -> list[Reply]:
    """Published packs for the active pair, each with Preview and Add to my words."""
    pair = await turn.services.languages.active_pair(turn.learner_id)
    found = await turn.services.packs.list_published(turn.learner_id)
    if not found:
        return [Reply(text=f"No packs for {render.pair_label(pair)} yet.")]
    header = f"Packs for {render.pair_label(pair)} ({len(found)}):"
    if len(found) > MAX_PACKS_SHOWN:
        header += f" showing the first {MAX_PACKS_SHOWN}; open any with /pack <slug>."
    return [Reply(text=header), *(render.pack_card(pack) for pack in found[:MAX_PACKS_SHOWN])]


async def cmd_pack(turn: Turn) -> list[Reply]:
    """/pack <slug>: the preview with Add to my words."""
    slug = turn.event.args.strip()
    if not slug or len(slug.split()) != 1:
        raise InvalidInput("Name one pack by its slug (see /packs).", example="/pack spanish-basics")
    pack, entries = await turn.services.packs.preview(slug.lower()[:60], PREVIEW_ENTRIES)
    return [render.pack_preview(pack, entries)]


async def preview_reply(turn: Turn, slug: str) -> Reply:
    """A pack offered inside another answer (/start pack-<slug>): a missing pack is said, not raised."""
    try:
        pack, entries = await turn.services.packs.preview(slug.strip().lower()[:60], PREVIEW_ENTRIES)
    except DomainError as error:
        return Reply(text=user_message(error))
    return render.pack_preview(pack, entries)


async def button_preview(turn: Turn) -> list[Reply]:
    """Preview."""
    assert turn.payload is not None
    pack, entries = await turn.services.packs.preview(turn.payload.args[0], PREVIEW_ENTRIES)
    return [render.pack_preview(pack, entries)]


async def button_subscribe(turn: Turn) -> list[Reply]:
    """Add to my words: entries the learner lacks join their bank; twice adds nothing."""
    assert turn.payload is not None
    result = await turn.services.packs.subscribe(turn.learner_id, turn.payload.args[0])
    pack = result.pack
    if result.added == 0:
        text = f"Nothing new: you already have all {render.words(pack.entry_count)} of “{pack.title}”."
        return [Reply(text=text, notice=text)]
    skipped = f" ({result.skipped} you already had)" if result.skipped else ""
    text = f"Added {render.words(result.added)} from “{pack.title}”{skipped}. They're ready for /review."
    active = await turn.services.languages.find_active_pair(turn.learner_id)
    if active is None or (active.target, active.native) != (pack.target, pack.native):
        text += f"\nThey're in your {render.pair_label(pack)} words: switch with /language {pack.target} {pack.native}."
    return [Reply(text=text)]
