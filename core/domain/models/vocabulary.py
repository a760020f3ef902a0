"""Vocabulary: language pairs and the word bank."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class LanguagePair:
    id: str
    learner_id: str
    target: str  # ISO 639-1 code of the language being learned
    native: str  # ISO 639-1 code of the learner's language
    level: str  # CEFR A1..C2
    is_active: bool
    created_at: datetime


@dataclass
class WordBankEntry:
    id: str
    learner_id: str
    pair_id: str
    term: str  # the lemma as shown on the card ("comer")
    lemma: str  # normalised lemma used for de-duplication ("comer")
    translation: str | None  # None while the learner still owes a translation: no card yet
    context: str | None  # the form the learner typed when it differs from the lemma ("comían")
    example: str | None
    source: str  # "manual" | "pack:<slug>" | "article" | "adventure"
    created_at: datetime


@dataclass
class AddWordsResult:
    added: list[WordBankEntry] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # terms already in the bank
    needs_translation: list[WordBankEntry] = field(default_factory=list)  # added, awaiting a translation
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (line, reason)
    translator_problem: str | None = None  # why the configured translator gave no translations


@dataclass
class WordPage:
    entries: list[WordBankEntry]
    page: int  # 1-based
    pages: int
    total: int
