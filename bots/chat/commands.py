"""The one table of commands: name, usage, one-line summary, handler, and whether it is personal.

/help is generated from it, so every command the chat layer answers is listed, one line each.
Personal commands used in a group are answered privately.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.chat.context import Turn
from bots.chat.flows import admin, background, control, packs, progress, review, start, words
from bots.chat.replies import Reply

Handler = Callable[[Turn], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    handler: Handler
    personal: bool = True


async def cmd_help(turn: Turn) -> list[Reply]:
    """Every command, one line each."""
    return [Reply(text=help_text())]


_NOT_YET = background.cmd_not_available_yet

COMMANDS: tuple[Command, ...] = (
    # Getting started
    Command("start", "/start", "set up your languages", start.cmd_start),
    Command("language", "/language [target native level]", "show, switch or set your languages", start.cmd_language),
    Command("help", "/help", "this list", cmd_help, personal=False),
    # Words
    Command("add", "/add <term> [= translation]", "add words, one per line (up to 100)", words.cmd_add),
    Command("words", "/words [page]", "your word bank", words.cmd_words),
    Command("remove", "/remove <term>", "remove a word and its cards", words.cmd_remove),
    # Review
    Command("review", "/review", "review due cards, then new ones", review.cmd_review),
    Command("stop", "/stop", "end the review session (with a summary)", control.cmd_stop),
    Command("cancel", "/cancel", "leave the current question", control.cmd_cancel),
    # Packs
    Command("packs", "/packs", "word packs for your languages", packs.cmd_packs),
    Command("pack", "/pack <slug>", "preview a pack and add its words", packs.cmd_pack),
    # Progress and data
    Command("stats", "/stats", "streak, reviews, retention and a chart", progress.cmd_stats),
    Command("settings", "/settings", "reminder, timezone, new cards per day, directions, audio", progress.cmd_settings),
    Command("export", "/export", "download all your data (JSON and an Anki CSV)", progress.cmd_export),
    Command("delete_me", "/delete_me", "delete everything about you", progress.cmd_delete_me),
    # Listening, reading, stories (background work)
    Command("listen", "/listen <text>", "hear a text read aloud (up to 300 characters)", background.cmd_listen),
    Command(
        "article",
        "/article [topic]",
        "a short text at your level, translated and read aloud",
        background.cmd_article,
    ),
    Command("jobs", "/jobs", "your recent articles and voice messages, and their state", background.cmd_jobs),
    # A later issue wires these
    Command("adventure", "/adventure [theme]", "a story you steer (not available yet)", _NOT_YET),
    Command("adventure_end", "/adventure_end", "end the story (not available yet)", _NOT_YET),
    Command("quiz", "/quiz [pack] [rounds]", "a quiz race in a group (not available yet)", _NOT_YET, personal=False),
    Command("leaderboard", "/leaderboard", "the group's scores (not available yet)", _NOT_YET, personal=False),
    # Admin (admin users, in the admin channel)
    Command(
        "pack_new",
        "/pack_new <slug> <target> <native> <level> <title>",
        "admin: create a draft pack",
        admin.cmd_pack_new,
        personal=False,
    ),
    Command(
        "pack_add",
        "/pack_add <slug> + lines term = translation",
        "admin: add entries",
        admin.cmd_pack_add,
        personal=False,
    ),
    Command(
        "pack_import",
        "/pack_import <slug>",
        "admin: caption of a CSV/TSV file to import",
        admin.cmd_pack_import,
        personal=False,
    ),
    Command("pack_show", "/pack_show <slug>", "admin: show a pack, drafts too", admin.cmd_pack_show, personal=False),
    Command("pack_list", "/pack_list", "admin: every pack, drafts too", admin.cmd_pack_list, personal=False),
    Command("pack_publish", "/pack_publish <slug>", "admin: publish a pack", admin.cmd_pack_publish, personal=False),
    Command(
        "pack_unpublish", "/pack_unpublish <slug>", "admin: back to draft", admin.cmd_pack_unpublish, personal=False
    ),
    Command(
        "pack_export", "/pack_export <slug>", "admin: the pack as a CSV file", admin.cmd_pack_export, personal=False
    ),
    Command(
        "pack_delete", "/pack_delete <slug>", "admin: delete a pack (asks first)", admin.cmd_pack_delete, personal=False
    ),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}


def help_text() -> str:
    return "Commands:\n" + "\n".join(f"{c.usage} — {c.summary}" for c in COMMANDS)
