"""Texts and keyboards: everything the user reads is formatted here, handlers only pick what to show.

Button labels that product.md names (Show answer, Listen, Again/Hard/Good/Easy, Previous, Next,
Preview, Add to my words, Add language, Add “<term>”) are contract wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bots.chat.payloads import PUBLIC, encode
from bots.chat.replies import Button, Reply
from core.domain.models import (
    SUPPORTED_LANGUAGES,
    AddWordsResult,
    Grade,
    ImportReport,
    LanguagePair,
    LearnerSettings,
    LearnerStats,
    Pack,
    PackEntry,
    Rating,
    WordBankEntry,
    WordPage,
)
from core.domain.models.flashcards import interval_label

MAX_LIST_LINES = 40  # long lists are cut so one message stays readable (and under platform limits)
RATING_NAMES: dict[Rating, str] = {
    Rating.AGAIN: "Again",
    Rating.HARD: "Hard",
    Rating.GOOD: "Good",
    Rating.EASY: "Easy",
}


# --- small helpers -----------------------------------------------------------------------------


def language_name(code: str) -> str:
    return SUPPORTED_LANGUAGES.get(code, code)


def pair_label(pair: LanguagePair | Pack) -> str:
    return f"{language_name(pair.target)} → {language_name(pair.native)}"


def words(count: int) -> str:
    return f"{count} word" if count == 1 else f"{count} words"


def rows(buttons: Sequence[Button], per_row: int) -> list[list[Button]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def notice(text: str) -> Reply:
    """A short answer to a button press: a toast where the platform has one, and the same text."""
    return Reply(text=text, notice=text)


def then(first: Reply, nxt: Reply, *, edit: bool) -> Reply:
    """Two replies shown as one message: `first`'s text, a blank line, then `nxt` with its buttons.

    `first` is text only (an outcome, a notice); `edit`: the message replaces the pressed one.
    """
    text = "\n\n".join(part for part in (first.text, nxt.text) if part)
    return replace(nxt, text=text, edit=edit, notice=nxt.notice or first.notice)


def cut_lines(lines: Sequence[str], limit: int = MAX_LIST_LINES) -> list[str]:
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"…and {len(lines) - limit} more"]


def when(due: datetime, now: datetime) -> str:
    """A due date as "now" or "in 3h"."""
    delta = due - now
    return "now" if delta <= timedelta(0) else f"in {interval_label(delta)}"


# --- getting started ---------------------------------------------------------------------------


def language_keyboard(learner_id: str, step: str, codes: Iterable[str]) -> list[list[Button]]:
    action = "ob.t" if step == "t" else "ob.n"
    buttons = [Button(language_name(code), encode(action, learner_id, code)) for code in codes]
    return [*rows(buttons, 3), [Button("Type a code", encode("ob.c", learner_id, step))]]


def level_keyboard(learner_id: str) -> list[list[Button]]:
    levels = ("A1", "A2", "B1", "B2", "C1", "C2")
    return rows([Button(level, encode("ob.l", learner_id, level)) for level in levels], 3)


def supported_codes_text() -> str:
    return ", ".join(f"{code} ({name})" for code, name in sorted(SUPPORTED_LANGUAGES.items()))


def pairs_text(pairs: Sequence[LanguagePair]) -> str:
    lines = [f"{'✓' if p.is_active else '·'} {pair_label(p)} ({p.level})" for p in pairs]
    return "Your languages (✓ = active):\n" + "\n".join(lines) + "\nSet one directly: /language es en A2"


def pairs_keyboard(learner_id: str, pairs: Sequence[LanguagePair]) -> list[list[Button]]:
    switch = [Button(f"Switch to {pair_label(p)}", encode("lg.s", learner_id, p.id)) for p in pairs if not p.is_active]
    return [*rows(switch, 1), [Button("Add language", encode("lg.a", learner_id))]]


def welcome_back(pair: LanguagePair) -> str:
    return (
        f"Welcome back! You're learning {language_name(pair.target)} ({pair.level}) "
        f"from {language_name(pair.native)}.\n/review to study, /add to capture words, /help for everything."
    )


def pair_set_text(pair: LanguagePair) -> str:
    return (
        f"All set: you're learning {language_name(pair.target)} ({pair.level}) "
        f"from {language_name(pair.native)}.\n"
        "Add words with /add comer = to eat, browse /packs, then /review."
    )


# --- words -------------------------------------------------------------------------------------


def entry_line(entry: WordBankEntry) -> str:
    term = f"{entry.term} ({entry.context})" if entry.context and entry.context != entry.term else entry.term
    translation = entry.translation if entry.translation is not None else "(needs a translation)"
    return f"{term} — {translation}"


def words_page(learner_id: str, page: WordPage) -> Reply:
    if page.total == 0:
        return Reply(text="Your word bank is empty. Add words with /add comer = to eat, or browse /packs.")
    header = f"Your words ({page.total}), page {page.page} of {page.pages}:"
    text = "\n".join([header, *(entry_line(e) for e in page.entries)])
    nav: list[Button] = []
    if page.page > 1:
        nav.append(Button("Previous", encode("wd.p", learner_id, page.page - 1)))
    if page.page < page.pages:
        nav.append(Button("Next", encode("wd.p", learner_id, page.page + 1)))
    keyboard = [nav] if nav else []
    if any(e.translation is None for e in page.entries):
        keyboard.append([Button("Add missing translations", encode("tr.go", learner_id))])
    return Reply(text=text, buttons=keyboard)


def ask_translation(term: str) -> Reply:
    return Reply(text=f"What does “{term}” mean? Send the translation, or /cancel to leave it for later.")


def offer_term(learner_id: str, offer_id: str, term: str) -> Reply:
    return Reply(
        text=f"Add “{term}” to your words?",
        buttons=[[Button(f"Add “{term}”", encode("ad", learner_id, offer_id))]],
    )


# --- review ------------------------------------------------------------------------------------


def card_front(learner_id: str, card_id: str, seq: int, front: str, answer_language: str, speech: bool) -> Reply:
    """The card's front; `speech`: with Listen (a front in the language learnt: recognition cards)."""
    buttons = [Button("Show answer", encode("rv.s", learner_id, card_id, seq))]
    if speech:
        buttons.append(Button("Listen", encode("rv.l", learner_id, card_id)))
    text = f"{front}\n\nIn {language_name(answer_language)}? Type your answer, or press Show answer."
    return Reply(text=text, buttons=[buttons])


def card_sides(front: str, back: str, context: str | None) -> str:
    seen = f"\n(seen as: {context})" if context else ""
    return f"{front} → {back}{seen}"


def card_back(
    learner_id: str, card_id: str, seq: int, sides: str, intervals: dict[Rating, timedelta], *, listen: bool = False
) -> Reply:
    """The card's two sides with the rating buttons; `listen`: a Listen row (production cards, once answered)."""
    buttons = [
        Button(f"{RATING_NAMES[r]} · {interval_label(intervals[r])}", encode("rv.r", learner_id, card_id, seq, int(r)))
        for r in (Rating.AGAIN, Rating.HARD, Rating.GOOD, Rating.EASY)
        if r in intervals
    ]
    button_rows = rows(buttons, 4)
    if listen:
        button_rows.append([Button("Listen", encode("rv.l", learner_id, card_id))])
    return Reply(text=f"{sides}\nHow well did you know it?", buttons=button_rows, edit=True)


def rated(sides: str, rating: Rating, interval: timedelta) -> Reply:
    return Reply(text=f"{sides}\n{RATING_NAMES[rating]} · next in {interval_label(interval)}", edit=True)


def verdict(grade: Grade, interval: timedelta) -> Reply:
    after = f" · next in {interval_label(interval)}"
    if grade.verdict == "exact":
        return Reply(text=f"✓ Correct: {grade.expected}{after}")
    if grade.verdict == "near":
        return Reply(text=f"≈ Almost — the correct form is: {grade.expected}{after}")
    return Reply(text=f"✗ The answer is: {grade.expected}{after}")


def next_due_line(next_due: datetime | None, now: datetime) -> str:
    if next_due is None:
        return "No cards scheduled yet: add words with /add or pick a pack with /packs."
    return f"Next card due {when(next_due, now)}."


def nothing_due(next_due: datetime | None, now: datetime) -> Reply:
    return Reply(text=f"Nothing to review right now. {next_due_line(next_due, now)}")


def session_summary(reviewed: int, correct: int, next_due: datetime | None, now: datetime) -> Reply:
    head = "Session over" if reviewed else "Session ended"
    return Reply(text=f"{head}: {reviewed} reviewed, {correct} correct. {next_due_line(next_due, now)}")


# --- packs -------------------------------------------------------------------------------------


def pack_label_short(pack: Pack) -> str:
    return f"{pack.target}→{pack.native}"


def pack_card(pack: Pack) -> Reply:
    """One pack of /packs with its own buttons (so identical labels never get mixed up)."""
    return Reply(
        text=f"{pack.title} ({pack.slug}) · {pack.level} · {words(pack.entry_count)}",
        buttons=[[Button("Preview", encode("pk.v", PUBLIC, pack.slug)), subscribe_button(pack.slug)]],
    )


def subscribe_button(slug: str) -> Button:
    return Button("Add to my words", encode("pk.a", PUBLIC, slug))


def pack_preview_text(pack: Pack, entries: Sequence[PackEntry]) -> str:
    lines = [
        f"{pack.title} ({pack.slug})",
        f"{pair_label(pack)} · {pack.level} · {words(pack.entry_count)}",
        "",
        *(f"{e.term} — {e.translation}" for e in entries),
    ]
    if pack.entry_count > len(entries):
        lines.append(f"…and {pack.entry_count - len(entries)} more")
    return "\n".join(lines)


def pack_preview(pack: Pack, entries: Sequence[PackEntry]) -> Reply:
    return Reply(text=pack_preview_text(pack, entries), buttons=[[subscribe_button(pack.slug)]])


# --- progress ----------------------------------------------------------------------------------


def stats_text(stats: LearnerStats) -> str:
    retention = "not enough reviews yet" if stats.retention_30d is None else f"{round(stats.retention_30d * 100)}%"
    days = "day" if stats.streak_days == 1 else "days"
    return "\n".join(
        [
            f"Streak: {stats.streak_days} {days}",
            f"Reviews today: {stats.reviews_today}",
            f"Due now: {stats.due_now} · by tomorrow: {stats.due_tomorrow}",
            f"Retention (30 days): {retention}",
            f"Words: {stats.word_count}",
        ]
    )


SETTINGS_USAGE = (
    "Change with:\n"
    "/settings reminder 19:30 (or off)\n"
    "/settings tz Europe/Madrid\n"
    "/settings new 20\n"
    "/settings directions recognition|production|both\n"
    "/settings audio on|off"
)


def settings_text(settings: LearnerSettings) -> str:
    reminder = settings.reminder_time or "off"
    return "\n".join(
        [
            "Your settings:",
            f"Reminder: {reminder}",
            f"Timezone: {settings.timezone}",
            f"New cards per day: {settings.new_cards_per_day}",
            f"Card directions: {settings.directions}",
            f"Audio on cards: {'on' if settings.audio_on_cards else 'off'}",
            "",
            SETTINGS_USAGE,
        ]
    )


def confirm_keyboard(learner_id: str, token: str, yes_label: str) -> list[list[Button]]:
    return [[Button(yes_label, encode("cf.y", learner_id, token)), Button("Cancel", encode("cf.n", learner_id, token))]]


def add_result(result: AddWordsResult) -> str:
    """What /add did: added entries, duplicates, rejected lines."""
    parts: list[str] = []
    known = {entry.id for entry in result.added}
    stored = [*result.added, *(e for e in result.needs_translation if e.id not in known)]
    if stored:
        parts.append(f"Added {len(stored)}:\n" + "\n".join(cut_lines([entry_line(e) for e in stored])))
    if result.duplicates:
        parts.append("Already in your words: " + ", ".join(cut_lines(result.duplicates, 20)))
    if result.rejected:
        rejected = [f"“{_short(line)}” — {reason}" for line, reason in result.rejected]
        parts.append("Not added:\n" + "\n".join(cut_lines(rejected, 10)))
    if result.translator_problem and result.needs_translation:
        parts.append(f"No automatic translation: {result.translator_problem} Please give the translations yourself.")
    return "\n\n".join(parts) or "Nothing was added."


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def import_report(slug: str, report: ImportReport) -> str:
    """Added / skipped / rejected counts, and the first rejected lines with their reasons."""
    text = f"“{slug}”: {report.added} added, {report.skipped} skipped, {report.rejected} rejected."
    if report.first_rejected:
        lines = [f"line {r.line_no}: “{_short(r.text)}” — {r.reason}" for r in report.first_rejected]
        text += "\nRejected:\n" + "\n".join(lines)
    return text
