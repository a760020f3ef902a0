"""The cheap helpers behind a 50,000-row pack import give what the plain versions gave."""

from __future__ import annotations

import re
import sys
import uuid

from core.domain.services._pack_files import read_rows
from core.domain.services._terms import collapse
from core.domain.services.packs import _fresh_ids

_OLD_SPACES = re.compile(r"\s+")


def test_collapse_matches_the_regex_it_replaced_for_every_whitespace_character() -> None:
    spaces = [chr(cp) for cp in range(sys.maxunicode + 1) if _OLD_SPACES.fullmatch(chr(cp))]
    samples = [f"{s}a{s}{s}b {s}c{s}" for s in spaces] + ["", " ", "a", "\u00a0x\u2003 y\t\n", "é  ü"]
    for text in samples:
        assert collapse(text) == _OLD_SPACES.sub(" ", text).strip()


def test_fresh_ids_are_distinct_random_version_4_uuids_in_canonical_form() -> None:
    ids = _fresh_ids(5000)
    assert len(set(ids)) == 5000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    assert _fresh_ids(0) == []


def test_a_rejected_rows_text_is_cut_at_80_characters() -> None:
    long_term = "x" * 120
    (row,) = read_rows(f"{long_term},to x\n".encode(), "words.csv", 10)
    assert row.text == f"{long_term},to x"[:79] + "…"
    (short,) = read_rows(b"casa,house\n", "words.csv", 10)
    assert short.text == "casa,house"
