"""The word bank: capture, lemmatise, de-duplicate, translate, remove, list."""

from __future__ import annotations

from core.domain.models import AddWordsResult, WordBankEntry, WordPage
from core.domain.ports import Clock, Lemmatizer, Translator, UnitOfWorkFactory

MAX_LINES = 100
MAX_TERM_CHARS = 100
MAX_TRANSLATION_CHARS = 200
WORDS_PER_PAGE = 10


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
        reduced to its lemma (the typed form kept as `context` when it differs). A lemma already in
        the pair (or twice in the message) is a duplicate. Missing translations go to the Translator
        when one is configured (one batched call); when it is absent or fails, the entry is stored
        with translation None and returned in `needs_translation` (no card until one is given).
        Entries with a translation get one card per enabled direction (learner settings).
        Raises NoActivePair.
        """
        raise NotImplementedError

    async def provide_translation(self, learner_id: str, entry_id: str, translation: str) -> WordBankEntry:
        """Set a pending entry's translation and create its cards. NotFound / InvalidInput."""
        raise NotImplementedError

    async def pending_translations(self, learner_id: str) -> list[WordBankEntry]:
        """Entries of the active pair still waiting for a translation, oldest first."""
        raise NotImplementedError

    async def remove_word(self, learner_id: str, term: str) -> WordBankEntry:
        """Remove by term or lemma (lemmatised too) from the active pair with its cards. NotFound."""
        raise NotImplementedError

    async def list_words(self, learner_id: str, page: int = 1) -> WordPage:
        """A page (1-based, clamped to the last page) of the active pair's bank, newest first."""
        raise NotImplementedError
