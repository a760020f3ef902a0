"""Grading a typed or spoken answer: pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata

from core.domain.models import Grade, Rating

# Leading words a learner may add or leave out without being wrong. Elided forms ("l'", "un'")
# are matched as prefixes glued to the next word.
_ARTICLES: dict[str, frozenset[str]] = {
    "ca": frozenset({"el", "la", "els", "les", "un", "una", "uns", "unes"}),
    "da": frozenset({"en", "et", "at"}),
    "de": frozenset({"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines"}),
    "el": frozenset({"ο", "η", "το", "οι", "τα", "ένας", "μια", "μία", "ένα"}),
    "en": frozenset({"the", "a", "an", "to"}),
    "es": frozenset({"el", "la", "los", "las", "un", "una", "unos", "unas"}),
    "fr": frozenset({"le", "la", "les", "un", "une", "des"}),
    "it": frozenset({"il", "lo", "la", "i", "gli", "le", "un", "uno", "una"}),
    "nb": frozenset({"en", "ei", "et", "å"}),
    "nl": frozenset({"de", "het", "een"}),
    "pt": frozenset({"o", "a", "os", "as", "um", "uma", "uns", "umas"}),
    "ro": frozenset({"un", "o", "niște", "a"}),
    "sv": frozenset({"en", "ett", "att"}),
}
_ELISIONS: dict[str, tuple[str, ...]] = {
    "ca": ("l'",),
    "fr": ("l'",),
    "it": ("l'", "un'"),
}
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_ALTERNATIVE_SEPARATORS = re.compile(r"[,;/]")
_SPACES = re.compile(r"\s+")


def _punctuation_to_spaces(text: str) -> str:
    """Punctuation and symbols become spaces; apostrophes stay for now (they mark elisions)."""
    return "".join(" " if char != "'" and unicodedata.category(char)[0] in "PS" else char for char in text)


def _drop_leading_article(text: str, language: str) -> str:
    """Remove one leading article (never the whole answer: "a" alone stays "a")."""
    for elision in _ELISIONS.get(language, ()):
        if text.startswith(elision) and len(text) > len(elision):
            return text[len(elision) :].lstrip()
    first, _, rest = text.partition(" ")
    if rest and first in _ARTICLES.get(language, frozenset()):
        return rest
    return text


def normalise_answer(text: str, language: str) -> str:
    """The answer as compared: what a learner may type differently without being wrong.

    Lower-case, strip punctuation and surrounding whitespace, collapse inner whitespace, and drop
    the language's leading articles ("el", "la", "der", "the", "to " for English verbs, …).
    """
    # casefold before unifying apostrophes: casefolding can produce one ("ŉ" → "ʼn")
    lowered = unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)
    words = _SPACES.sub(" ", _punctuation_to_spaces(lowered)).strip()
    words = _drop_leading_article(words, language.lower())
    # "don't" ~ "dont": an apostrophe left after elision handling is not worth a miss
    return _SPACES.sub(" ", words.replace("'", "")).strip()


def fold_accents(text: str) -> str:
    """What a keyboard without dead keys types: "Müller" → "muller", "straße" → "strasse"."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFC", bare).replace("ß", "ss")


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance where swapping two neighbours also costs one edit ("hosue" → "house").

    Transpositions are the commonest typo (optimal string alignment). Returns `limit + 1` as soon
    as the distance must exceed `limit`.
    """
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    before_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, before_previous[j - 2] + 1)
            current.append(cost)
        if limit is not None and min(current) > limit:
            return limit + 1
        before_previous, previous = previous, current
    return previous[-1]


def near_miss_tolerance(expected: str) -> int:
    """Edits forgiven as typos.

    None for 1–2 letters (any edit makes another word), ≤1 up to 5, ≤2 up to 10, ≤3 beyond.
    """
    length = len(expected)
    if length <= 2:
        return 0
    if length <= 5:
        return 1
    if length <= 10:
        return 2
    return 3


def expected_alternatives(expected: str, language: str) -> list[str]:
    """Every accepted answer, normalised: the whole back and each "a, b" / "a; b" / "a / b" part."""
    candidates = [expected, *_ALTERNATIVE_SEPARATORS.split(expected)]
    seen: list[str] = []
    for candidate in candidates:
        normalised = normalise_answer(candidate, language)
        if normalised and normalised not in seen:
            seen.append(normalised)
    return seen


def grade_typed_answer(answer: str, expected: str, language: str) -> Grade:
    """Judge a typed or spoken answer against the card's back.

    Exact (after normalising; any of several "a, b" / "a; b" / "a / b" alternatives) → GOOD;
    only accents differ, or a small edit distance (see `near_miss_tolerance`: none for 1–2 letters,
    ≤1 up to 5, ≤2 up to 10, ≤3 beyond) → HARD; otherwise AGAIN. `expected` in the Grade is the
    card's back as written.
    """
    given = normalise_answer(answer, language)
    alternatives = expected_alternatives(expected, language)
    if given and given in alternatives:
        return Grade(Rating.GOOD, "exact", expected)
    if given and _is_near_miss(given, alternatives):
        return Grade(Rating.HARD, "near", expected)
    return Grade(Rating.AGAIN, "wrong", expected)


def _is_near_miss(given: str, alternatives: list[str]) -> bool:
    folded = fold_accents(given)
    for alternative in alternatives:
        target = fold_accents(alternative)
        if folded == target:
            return True
        tolerance = near_miss_tolerance(target)
        if tolerance and edit_distance(folded, target, tolerance) <= tolerance:
            return True
    return False
