"""Reading `term = translation` lines and turning a typed term into the lemma a bank is keyed by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.domain.ports import Lemmatizer

MAX_TERM_CHARS = 100
MAX_TRANSLATION_CHARS = 200
MAX_EXAMPLE_CHARS = 500


class LineRejected(Exception):
    """A line that can't become an entry; `reason` is shown to the user next to the line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TermLine:
    term: str
    translation: str | None
    example: str | None


@dataclass(frozen=True)
class LemmaKey:
    term: str  # as shown on the card: the lemma for a single word, the phrase as typed otherwise
    lemma: str  # lower-cased; what de-duplication compares
    context: str | None  # the typed form when it is not the lemma


def collapse(text: str) -> str:
    r"""Runs of whitespace made one space, ends stripped.

    `str.split()` splits on exactly the characters `re`'s `\s` matches (both use `str.isspace`), so
    this is `re.sub(r"\s+", " ", text).strip()` at a quarter of the cost (a file import collapses
    every cell of 50,000 rows).
    """
    return " ".join(text.split())


def parse_term_line(line: str) -> TermLine:
    """`term`, `term = translation` or `term = translation = example`. Raises LineRejected."""
    parts = [collapse(part) for part in line.split("=")]
    if len(parts) > 3:
        raise LineRejected("too many “=”: use term = translation (= example)")
    term = parts[0]
    translation = parts[1] if len(parts) > 1 and parts[1] else None
    example = parts[2] if len(parts) > 2 and parts[2] else None
    return check_parts(term, translation, example, translation_required=False)


def check_parts(term: str, translation: str | None, example: str | None, *, translation_required: bool) -> TermLine:
    """Length and emptiness rules shared by /add, /pack_add and file imports."""
    reason = parts_problem(term, translation, example, translation_required=translation_required)
    if reason is not None:
        raise LineRejected(reason)
    return TermLine(term, translation, example)


def parts_problem(term: str, translation: str | None, example: str | None, *, translation_required: bool) -> str | None:
    """Why `check_parts` would reject these parts, or None; no exception or object a row (bulk imports)."""
    if not term:
        return "empty term"
    if translation_required and not translation:
        return "empty translation"
    if len(term) > MAX_TERM_CHARS:
        return f"term longer than {MAX_TERM_CHARS} characters"
    if translation is not None and len(translation) > MAX_TRANSLATION_CHARS:
        return f"translation longer than {MAX_TRANSLATION_CHARS} characters"
    if example is not None and len(example) > MAX_EXAMPLE_CHARS:
        return f"example longer than {MAX_EXAMPLE_CHARS} characters"
    return None


def lemma_key(term: str, language: str, lemmatizer: Lemmatizer) -> LemmaKey:
    """The card term, de-duplication key and context of a typed term.

    A single word is reduced to its lemma ("comían" → "comer", context "comían"); a phrase is kept
    as typed. The lemma key is lower-cased so "Casa" and "casa" are one entry.
    """
    typed = collapse(term)
    if " " in typed:
        return LemmaKey(typed, typed.lower(), None)
    lemma = collapse(lemmatizer.lemmatize(typed, language)) or typed
    if lemma == typed and typed != typed.lower():
        # lookup tables are mostly lower-case: "Comían" at the start of a line is still "comer"
        lowered = collapse(lemmatizer.lemmatize(typed.lower(), language))
        if lowered and lowered != typed.lower():
            lemma = lowered
    context = typed if typed.lower() != lemma.lower() else None
    return LemmaKey(lemma, lemma.lower(), context)


def pack_lemma(term: str, language: str, lemmatizer: Lemmatizer) -> str:
    """The lemma stored with a pack entry, so subscribing needs no NLP."""
    return lemma_key(term, language, lemmatizer).lemma


def pack_lemmas(terms: Sequence[str], language: str, lemmatizer: Lemmatizer) -> list[str]:
    """`pack_lemma` of each term in at most two lemmatizer calls (a file import has 50,000 rows).

    Same rules as `lemma_key`: phrases stay as typed, a capitalised word the tables leave alone
    is retried lower-cased, and the result is the lower-cased de-duplication key.
    """
    typed = [collapse(term) for term in terms]
    lemmas = list(typed)
    singles = [i for i, term in enumerate(typed) if " " not in term]
    firsts = lemmatizer.lemmatize_many([typed[i] for i in singles], language)
    retry: list[int] = []
    for i, first in zip(singles, firsts, strict=True):
        lemmas[i] = collapse(first) or typed[i]
        if lemmas[i] == typed[i] and typed[i] != typed[i].lower():
            retry.append(i)
    if retry:
        lowered = lemmatizer.lemmatize_many([typed[i].lower() for i in retry], language)
        for i, second in zip(retry, lowered, strict=True):
            candidate = collapse(second)
            if candidate and candidate != typed[i].lower():
                lemmas[i] = candidate
    return [lemma.lower() for lemma in lemmas]
