"""The word bank: capture, lemmatise, de-duplicate, translate, remove, list."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from core.domain.errors import Conflict, InvalidInput, NotFound, ProviderError
from core.domain.models import AddWordsResult, LanguagePair, Learner, WordBankEntry, WordPage
from core.domain.ports import Clock, Lemmatizer, Translator, UnitOfWork, UnitOfWorkFactory
from core.domain.services._rules import (
    cards_for,
    enabled_directions,
    is_id,
    load_active_pair,
    load_learner,
    new_id,
    staggered,
)
from core.domain.services._terms import (
    MAX_TERM_CHARS,
    MAX_TRANSLATION_CHARS,
    LemmaKey,
    LineRejected,
    collapse,
    lemma_key,
    parse_term_line,
)

MAX_LINES = 100
WORDS_PER_PAGE = 10
ADD_EXAMPLE = "/add comer = to eat"

__all__ = ["MAX_LINES", "MAX_TERM_CHARS", "MAX_TRANSLATION_CHARS", "WORDS_PER_PAGE", "VocabularyService"]


@dataclass
class _Candidate:
    """A parsed line on its way into the bank."""

    line: str
    key: LemmaKey
    translation: str | None
    example: str | None
    owed: WordBankEntry | None = None  # an entry of the bank still waiting for this translation


class VocabularyService:
    def __init__(
        self, uow: UnitOfWorkFactory, lemmatizer: Lemmatizer, translator: Translator | None, clock: Clock
    ) -> None:
        self._uow = uow
        self._lemmatizer = lemmatizer
        self._translator = translator
        self._clock = clock

    async def add_words(self, learner_id: str, lines: list[str], source: str = "manual") -> AddWordsResult:
        """Add `term` or `term = translation` lines (blank lines ignored) to the active pair.

        More than MAX_LINES non-blank lines, or none → InvalidInput (nothing added). A line with an
        empty term or over-long parts is rejected with its reason; the others go on. A single word is
        reduced to its lemma (the typed form kept as `context` when it differs) unless the line gives
        its own translation, which is of the typed form. A lemma already in
        the pair (or twice in the message) is a duplicate. Missing translations go to the Translator
        when one is configured (one batched call); when it is absent or fails, the entry is stored
        with translation None and returned in `needs_translation` (no card until one is given).
        Entries with a translation get one card per enabled direction (learner settings).
        Raises NoActivePair.

        `added` and `needs_translation` are disjoint: `added` holds the entries that got cards.
        The translator is called outside any transaction, so a slow provider holds no connection.
        """
        texts = _non_blank(lines)
        result = AddWordsResult()
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            pair = await load_active_pair(uow, learner_id)
            candidates, known = await self._split_known(uow, pair, self._parse(texts, pair, result))
        result.duplicates.extend(known)
        candidates, result.translator_problem = await self._translate_missing(candidates, pair)
        await self._store_new(learner, pair, candidates, source, result)
        return result

    async def provide_translation(self, learner_id: str, entry_id: str, translation: str) -> WordBankEntry:
        """Set a pending entry's translation and create its cards. NotFound / InvalidInput.

        An entry that already had a translation only gets the new text (its cards exist).
        """
        text = collapse(translation)
        if not text:
            raise InvalidInput("The translation is empty.", example="to eat")
        if len(text) > MAX_TRANSLATION_CHARS:
            raise InvalidInput(f"A translation has at most {MAX_TRANSLATION_CHARS} characters.", example="to eat")
        async with self._uow() as uow:
            entry = await uow.words.get(entry_id) if is_id(entry_id) else None
            if entry is None or entry.learner_id != learner_id:
                raise NotFound("word")
            learner = await load_learner(uow, learner_id)
            await uow.words.set_translation(entry.id, text)
            if entry.translation is None:
                translated = dataclasses.replace(entry, translation=text)
                await uow.cards.add_many(cards_for([translated], enabled_directions(learner.settings), self._clock()))
            await uow.commit()
        return dataclasses.replace(entry, translation=text)

    async def pending_translations(self, learner_id: str) -> list[WordBankEntry]:
        """Entries of the active pair still waiting for a translation, oldest first."""
        async with self._uow() as uow:
            pair = await load_active_pair(uow, learner_id)
            entries = await uow.words.list_needing_translation(pair.id)
        return sorted(entries, key=lambda entry: entry.created_at)

    async def remove_word(self, learner_id: str, term: str) -> WordBankEntry:
        """Remove by term or lemma (lemmatised too) from the active pair with its cards. NotFound."""
        typed = collapse(term)
        if not typed:
            raise InvalidInput("Which word? Give the term to remove.", example="/remove comer")
        async with self._uow() as uow:
            pair = await load_active_pair(uow, learner_id)
            entry = await uow.words.find_by_term(pair.id, typed)
            if entry is None:
                key = lemma_key(typed, pair.target, self._lemmatizer)
                entry = await uow.words.find_by_term(pair.id, key.lemma)
            if entry is None:
                raise NotFound(f"“{typed}” is not in your words")
            await uow.words.delete(entry.id)
            await uow.commit()
        return entry

    async def list_words(self, learner_id: str, page: int = 1) -> WordPage:
        """A page (1-based, clamped to the last page) of the active pair's bank, newest first."""
        async with self._uow() as uow:
            pair = await load_active_pair(uow, learner_id)
            wanted = max(1, page)
            entries, total = await uow.words.list_page(pair.id, (wanted - 1) * WORDS_PER_PAGE, WORDS_PER_PAGE)
            pages = max(1, math.ceil(total / WORDS_PER_PAGE))
            if wanted > pages:
                wanted = pages
                entries, total = await uow.words.list_page(pair.id, (wanted - 1) * WORDS_PER_PAGE, WORDS_PER_PAGE)
        return WordPage(entries=entries, page=wanted, pages=pages, total=total)

    # --- steps of add_words ---------------------------------------------------------------------

    def _parse(self, texts: list[str], pair: LanguagePair, result: AddWordsResult) -> list[_Candidate]:
        """Lines → candidates; rejected lines and repeats within the message go to `result`."""
        candidates: dict[str, _Candidate] = {}
        for text in texts:
            try:
                parsed = parse_term_line(text)
            except LineRejected as rejected:
                result.rejected.append((text.strip(), rejected.reason))
                continue
            key = lemma_key(parsed.term, pair.target, self._lemmatizer)
            if parsed.translation is not None:
                # The learner's translation is of the form they typed ("comían = they ate"), and
                # lookup lemmas guess without context ("vino": wine, or "he came" of "venir"): keep
                # the typed term on the card; the lemma still keys de-duplication.
                key = LemmaKey(collapse(parsed.term), key.lemma, None)
            if key.lemma in candidates:
                result.duplicates.append(parsed.term)
                continue
            candidates[key.lemma] = _Candidate(text.strip(), key, parsed.translation, parsed.example)
        return list(candidates.values())

    @staticmethod
    async def _split_known(
        uow: UnitOfWork, pair: LanguagePair, candidates: list[_Candidate]
    ) -> tuple[list[_Candidate], list[str]]:
        """Candidates to store, and the typed terms of those the bank already holds.

        A line bringing the translation an entry still owes is to store, not a duplicate: what
        the learner typed is never dropped.
        """
        if not candidates:
            return [], []
        existing = await uow.words.find_by_lemmas(pair.id, [candidate.key.lemma for candidate in candidates])
        # The same typed form stored under another lemma key (an older lemmatizer guessed differently)
        # is the same word too.
        unmatched = [_typed(candidate) for candidate in candidates if candidate.key.lemma not in existing]
        by_form = await uow.words.find_by_forms(pair.id, unmatched) if unmatched else {}
        fresh: list[_Candidate] = []
        known: list[str] = []
        for candidate in candidates:
            entry = existing.get(candidate.key.lemma) or by_form.get(_typed(candidate).lower())
            if entry is None:
                fresh.append(candidate)
            elif entry.translation is None and candidate.translation is not None:
                fresh.append(dataclasses.replace(candidate, owed=entry))
            else:
                known.append(candidate.key.context or candidate.key.term)
        return fresh, known

    async def _translate_missing(
        self, candidates: list[_Candidate], pair: LanguagePair
    ) -> tuple[list[_Candidate], str | None]:
        """One batched call for every missing translation; on failure they stay missing, and why."""
        missing = [candidate for candidate in candidates if candidate.translation is None]
        if self._translator is None or not missing:
            return candidates, None
        try:
            translations = await self._translator.translate(
                [candidate.key.term for candidate in missing], pair.target, pair.native
            )
        except ProviderError as error:
            return candidates, str(error)  # the learner is asked instead: never a card with an empty side
        if len(translations) != len(missing):
            return candidates, "the translator gave an unexpected answer."
        for candidate, translation in zip(missing, translations, strict=True):
            text = collapse(translation)
            if text and len(text) <= MAX_TRANSLATION_CHARS:
                candidate.translation = text
        return candidates, None

    async def _store_new(
        self,
        learner: Learner,
        pair: LanguagePair,
        candidates: list[_Candidate],
        source: str,
        result: AddWordsResult,
    ) -> None:
        """Insert the entries and their cards in one transaction, re-checking duplicates first.

        A concurrent /add of the same lemma (a double-sent message) makes the insert conflict;
        one retry then finds that word in the bank and reports it as a duplicate.
        """
        for attempt in (1, 2):
            try:
                async with self._uow() as uow:
                    fresh, known = await self._split_known(uow, pair, candidates)
                    entries = await self._insert(uow, learner, pair, fresh, source)
            except Conflict:
                if attempt == 2:
                    raise
                continue
            result.duplicates.extend(known)
            result.added.extend(entry for entry in entries if entry.translation)
            result.needs_translation.extend(entry for entry in entries if not entry.translation)
            return

    async def _insert(
        self, uow: UnitOfWork, learner: Learner, pair: LanguagePair, candidates: list[_Candidate], source: str
    ) -> list[WordBankEntry]:
        now = self._clock()
        completed = [
            dataclasses.replace(candidate.owed, translation=candidate.translation)
            for candidate in candidates
            if candidate.owed is not None
        ]
        for entry in completed:
            await uow.words.set_translation(entry.id, entry.translation or "")
        candidates = [candidate for candidate in candidates if candidate.owed is None]
        entries = [
            WordBankEntry(
                id=new_id(),
                learner_id=learner.id,
                pair_id=pair.id,
                term=candidate.key.term,
                lemma=candidate.key.lemma,
                translation=candidate.translation,
                context=candidate.key.context,
                example=candidate.example,
                source=source,
                created_at=created_at,
            )
            for candidate, created_at in zip(candidates, staggered(now, len(candidates)), strict=True)
        ]
        if entries:
            await uow.words.add_many(entries)
        cards = cards_for([*completed, *entries], enabled_directions(learner.settings), now)
        if cards:
            await uow.cards.add_many(cards)
        if completed or entries:
            await uow.commit()
        return [*completed, *entries]


def _non_blank(lines: list[str]) -> list[str]:
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise InvalidInput("Nothing to add: send a word, or a word = its translation.", example=ADD_EXAMPLE)
    if len(texts) > MAX_LINES:
        raise InvalidInput(
            f"That is {len(texts)} lines; add at most {MAX_LINES} at a time.",
            example=ADD_EXAMPLE,
        )
    return texts


def _typed(candidate: _Candidate) -> str:
    """What the learner typed for the card's term (its context when the term is a lemma of it)."""
    return candidate.key.context or candidate.key.term
