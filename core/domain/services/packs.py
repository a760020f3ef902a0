"""Packs: admin curation (create, fill, import, publish, export, delete) and learner subscription."""

from __future__ import annotations

from core.domain.models import ImportReport, Pack, PackEntry, SubscribeResult
from core.domain.ports import Clock, Lemmatizer, UnitOfWorkFactory

MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_REJECTIONS = 10


class PackService:
    def __init__(self, uow: UnitOfWorkFactory, lemmatizer: Lemmatizer, clock: Clock) -> None:
        self._uow = uow
        self._lemmatizer = lemmatizer
        self._clock = clock

    # --- admin ---------------------------------------------------------------------------------

    async def create_pack(self, slug: str, target: str, native: str, level: str, title: str) -> Pack:
        """Slug: 2–40 chars of a-z, 0-9 and '-' (InvalidInput); taken → Conflict; codes and level
        validated like language pairs. New packs are drafts (unpublished)."""
        raise NotImplementedError

    async def add_entries(self, slug: str, lines: list[str]) -> ImportReport:
        """`term = translation` lines (optional ` = example` third part). NotFound."""
        raise NotImplementedError

    async def import_file(self, slug: str, data: bytes, filename: str = "") -> ImportReport:
        """CSV or TSV (sniffed; tab wins when present), columns term, translation, optional example;
        a first row that reads like a header (term/word/translation…) is skipped; UTF-8 (BOM ok) or
        InvalidInput; more than MAX_IMPORT_ROWS rows → InvalidInput, nothing added. Rows whose term
        is already in the pack (case-insensitive, or earlier in the file) are skipped; rows with an
        empty term/translation or over-long parts are rejected with line numbers and reasons."""
        raise NotImplementedError

    async def publish(self, slug: str) -> Pack:
        """An empty pack can't be published (InvalidInput)."""
        raise NotImplementedError

    async def unpublish(self, slug: str) -> Pack:
        raise NotImplementedError

    async def export_csv(self, slug: str) -> bytes:
        """UTF-8 CSV with a header `term,translation,example`; re-importing it adds the same rows."""
        raise NotImplementedError

    async def delete_pack(self, slug: str) -> Pack:
        raise NotImplementedError

    async def list_all(self) -> list[Pack]:
        """Drafts too, for admins."""
        raise NotImplementedError

    async def show(self, slug: str, limit: int = 10) -> tuple[Pack, list[PackEntry]]:
        """Any pack (admin view). NotFound."""
        raise NotImplementedError

    # --- learners ------------------------------------------------------------------------------

    async def list_published(self, learner_id: str) -> list[Pack]:
        """Published packs for the learner's active pair. NoActivePair."""
        raise NotImplementedError

    async def preview(self, slug: str, limit: int = 10) -> tuple[Pack, list[PackEntry]]:
        """A published pack and its first entries; drafts are NotFound for learners."""
        raise NotImplementedError

    async def subscribe(self, learner_id: str, slug: str) -> SubscribeResult:
        """Add the entries the learner lacks (by lemma) to their pair for the pack's languages
        (created, not made active, when missing) and create their cards. Again → added 0."""
        raise NotImplementedError
