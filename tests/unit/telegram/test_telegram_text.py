"""Escaping and splitting text for Telegram: what a reader sees and what Telegram accepts."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.telegram.text import MESSAGE_LIMIT, Run, escape, split_text, to_html, utf16_len


def visible(html_text: str) -> str:
    """What Telegram shows for an HTML message: tags removed, entities decoded."""
    return html.unescape(re.sub(r"</?tg-spoiler>", "", html_text))


def test_escape_covers_what_telegram_html_parses() -> None:
    assert escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert escape('"quoted" \'single\'') == '"quoted" \'single\''
    assert escape("&lt;") == "&amp;lt;"  # an entity typed by a user stays literal text


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len("👍") == 2
    assert utf16_len("a👍b") == 4


def test_short_text_is_one_part() -> None:
    assert split_text("hola", 4096) == ["hola"]
    assert split_text("", 4096) == []
    assert split_text("   \n\n ", 4096) == []


def test_split_prefers_paragraphs() -> None:
    first = "Uno dos tres. " * 5 + "fin."
    second = "Cuatro cinco seis."
    parts = split_text(f"{first}\n\n{second}", limit=len(first) + 5)
    assert parts == [first, second]


def test_split_falls_back_to_lines_then_sentences_then_words() -> None:
    lines = "line one is here\nline two is here\nline three"
    assert split_text(lines, limit=36) == ["line one is here\nline two is here", "line three"]
    sentences = "First sentence here. Second sentence here. Third."
    assert split_text(sentences, limit=45) == ["First sentence here. Second sentence here.", "Third."]
    words = "alpha beta gamma delta epsilon"
    assert split_text(words, limit=17) == ["alpha beta gamma", "delta epsilon"]


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_an_early_boundary_is_not_used_when_it_would_leave_a_tiny_part() -> None:
    text = "Hi.\n\n" + "word " * 40
    parts = split_text(text, limit=100)
    assert parts[0].startswith("Hi.\n\nword word"), parts
    assert [len(part) for part in parts] == [99, 99, 4]


def test_every_part_fits_in_utf16_units_with_emoji() -> None:
    text = ("👍 bien " * 1000).strip()
    parts = split_text(text, MESSAGE_LIMIT)
    assert len(parts) > 1
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in parts)
    assert " ".join(parts).split() == text.split()


def test_html_parts_never_cut_an_entity_and_count_visible_characters() -> None:
    text = "<&>" * 3000  # 9,000 visible characters, 36,000 characters of HTML
    parts = to_html([Run(text)], MESSAGE_LIMIT)
    assert len(parts) == 3
    for part in parts:
        assert re.fullmatch(r"(&lt;|&amp;|&gt;)+", part)
        assert utf16_len(visible(part)) <= MESSAGE_LIMIT
    assert "".join(visible(part) for part in parts) == text


def test_a_spoiler_split_in_two_is_closed_and_reopened() -> None:
    runs = [Run("Texto: " + "palabra " * 5), Run("\n\n"), Run("translation " * 20, spoiler=True)]
    parts = to_html(runs, limit=100)
    assert len(parts) > 2
    assert "<tg-spoiler>" not in parts[0]
    for part in parts[1:]:
        assert part.count("<tg-spoiler>") == part.count("</tg-spoiler>") == 1
    shown = " ".join(visible(part) for part in parts).split()
    assert shown == "".join(run.text for run in runs).split()


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab <&>.!?\n\t👍é")), max_size=400),
    limit=st.integers(min_value=2, max_value=60),
)
def test_splitting_keeps_every_visible_character_and_respects_the_limit(text: str, limit: int) -> None:
    parts = to_html([Run(text)], limit)
    for part in parts:
        assert utf16_len(visible(part)) <= limit
        assert visible(part).strip()
    shown = "".join(visible(part) for part in parts)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", text)
