"""Admin commands: pack curation, allowed only for admin users inside an admin channel."""

from __future__ import annotations

from typing import Any

from bots.chat import render
from bots.chat.context import Turn
from bots.chat.errors import ChatNotice
from bots.chat.flows import confirm
from bots.chat.replies import FileOut, Reply
from core.domain.errors import InvalidInput

SHOW_ENTRIES = 10


def require_admin(turn: Turn, what: str) -> None:
    """Refuse, saying why, unless both the user and the channel are admin ones."""
    event = turn.event
    if not turn.admins.is_admin_user(event.platform, event.user_id):
        raise ChatNotice(f"{what} is for pack admins only, and you are not one. Nothing was changed.")
    if not turn.admins.is_admin_channel(event.platform, event.chat_id):
        raise ChatNotice(f"{what} works only in the admin channel. Nothing was changed.")


def _slug_only(turn: Turn, example: str) -> str:
    parts = turn.event.args.split()
    if len(parts) != 1:
        raise InvalidInput("Name one pack by its slug.", example=example)
    return parts[0].lower()[:60]


async def cmd_pack_new(turn: Turn) -> list[Reply]:
    """/pack_new <slug> <target> <native> <level> <title…>"""
    require_admin(turn, "/pack_new")
    parts = turn.event.args.split(maxsplit=4)
    if len(parts) < 5:
        raise InvalidInput(
            "Give a slug, the language codes (learned, then native), a level and a title.",
            example="/pack_new spanish-basics es en A1 Spanish basics",
        )
    slug, target, native, level, title = parts
    pack = await turn.services.packs.create_pack(slug.lower()[:60], target[:40], native[:40], level[:40], title)
    return [
        Reply(
            text=f"Created draft pack “{pack.slug}”: {pack.title} ({render.pair_label(pack)}, {pack.level}).\n"
            f"Fill it with /pack_add {pack.slug} or /pack_import {pack.slug}, then /pack_publish {pack.slug}."
        )
    ]


async def cmd_pack_add(turn: Turn) -> list[Reply]:
    """/pack_add <slug> then `term = translation` lines in the same message."""
    require_admin(turn, "/pack_add")
    first, _, rest = turn.event.args.partition("\n")
    slug, _, inline = first.strip().partition(" ")
    lines = [line for line in [inline, *rest.split("\n")] if line.strip()]
    if not slug or not lines:
        raise InvalidInput(
            "Put the slug on the first line and one `term = translation` per line below it.",
            example="/pack_add spanish-basics\ncomer = to eat\ncasa = house",
        )
    report = await turn.services.packs.add_entries(slug.lower()[:60], lines)
    return [Reply(text=render.import_report(slug.lower(), report))]


async def cmd_pack_import(turn: Turn) -> list[Reply]:
    """/pack_import <slug> as the caption of a CSV or TSV file."""
    require_admin(turn, "/pack_import")
    example = "/pack_import spanish-basics (as the caption of words.csv)"
    slug = _slug_only(turn, example)
    attachment = turn.event.attachment
    if attachment is None or not attachment.content:
        raise InvalidInput("Attach a CSV or TSV file (term, translation, optional example) to the command.", example)
    report = await turn.services.packs.import_file(slug, attachment.content, attachment.filename)
    return [Reply(text=render.import_report(slug, report))]


async def cmd_pack_show(turn: Turn) -> list[Reply]:
    """/pack_show <slug>: drafts too."""
    require_admin(turn, "/pack_show")
    pack, entries = await turn.services.packs.show(_slug_only(turn, "/pack_show spanish-basics"), SHOW_ENTRIES)
    status = "published" if pack.published else "draft"
    return [Reply(text=f"{render.pack_preview_text(pack, entries)}\nStatus: {status}")]


async def cmd_pack_list(turn: Turn) -> list[Reply]:
    """/pack_list: every pack, drafts too."""
    require_admin(turn, "/pack_list")
    found = await turn.services.packs.list_all()
    if not found:
        return [Reply(text="No packs yet. Create one: /pack_new spanish-basics es en A1 Spanish basics")]
    lines = [
        f"{p.slug} · {render.pack_label_short(p)} · {p.level} · {render.words(p.entry_count)} · "
        f"{'published' if p.published else 'draft'} · {p.title}"
        for p in found
    ]
    return [Reply(text=f"Packs ({len(found)}):\n" + "\n".join(render.cut_lines(lines)))]


async def cmd_pack_publish(turn: Turn) -> list[Reply]:
    """/pack_publish <slug>"""
    require_admin(turn, "/pack_publish")
    pack = await turn.services.packs.publish(_slug_only(turn, "/pack_publish spanish-basics"))
    return [Reply(text=f"Published “{pack.slug}”: learners of {render.pair_label(pack)} see it in /packs.")]


async def cmd_pack_unpublish(turn: Turn) -> list[Reply]:
    """/pack_unpublish <slug>"""
    require_admin(turn, "/pack_unpublish")
    pack = await turn.services.packs.unpublish(_slug_only(turn, "/pack_unpublish spanish-basics"))
    return [Reply(text=f"Unpublished “{pack.slug}”: it is a draft again; learners keep words they added.")]


async def cmd_pack_export(turn: Turn) -> list[Reply]:
    """/pack_export <slug>: the pack as CSV."""
    require_admin(turn, "/pack_export")
    slug = _slug_only(turn, "/pack_export spanish-basics")
    data = await turn.services.packs.export_csv(slug)
    return [Reply(text=f"“{slug}” as CSV.", files=[FileOut(f"{slug}.csv", data, "text/csv")])]


async def cmd_pack_delete(turn: Turn) -> list[Reply]:
    """/pack_delete <slug>: asks to confirm with a button."""
    require_admin(turn, "/pack_delete")
    pack, _ = await turn.services.packs.show(_slug_only(turn, "/pack_delete spanish-basics"), 0)
    question = (
        f"Delete pack “{pack.slug}” ({render.words(pack.entry_count)})? Learners keep the words they already added."
    )
    return [await confirm.ask(turn, "pack_delete", question, f"Delete “{pack.slug}”", slug=pack.slug)]


async def confirmed_pack_delete(turn: Turn, data: dict[str, Any]) -> list[Reply]:
    """The admin pressed Delete: checked again, since the press may come from elsewhere."""
    require_admin(turn, "/pack_delete")
    pack = await turn.services.packs.delete_pack(str(data["slug"]))
    return [Reply(text=f"Deleted pack “{pack.slug}”.", edit=True)]
