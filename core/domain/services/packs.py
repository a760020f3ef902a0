"""Packs: admin curation (create, fill, import, publish, export, delete) and learner subscription."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re

from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.models import (
    ImportReport,
    LanguagePair,
    Pack,
    PackEntry,
    RejectedLine,
    SubscribeResult,
    WordBankEntry,
)
from core.domain.ports import Clock, Lemmatizer, UnitOfWork, UnitOfWorkFactory
from core.domain.services._pack_files import SourceRow, read_rows, rows_from_lines
from core.domain.services._rules import (
    cards_for,
    cefr_level,
    enabled_directions,
    language_pair_codes,
    load_active_pair,
    load_learner,
    new_id,
    staggered,
)
from core.domain.services._terms import collapse, pack_lemmas, parts_problem

MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_REJECTIONS = 10
MAX_TITLE_CHARS = 200
_SLUG = re.compile(r"^[a-z0-9-]{2,40}$")
_NEW_PACK_EXAMPLE = "/pack_new spanish-a1 es en A1 Spanish basics"


class PackService:
    def __init__(self, uow: UnitOfWorkFactory, lemmatizer: Lemmatizer, clock: Clock) -> None:
        self._uow = uow
        self._lemmatizer = lemmatizer
        self._clock = clock

    # --- admin ---------------------------------------------------------------------------------

    async def create_pack(self, slug: str, target: str, native: str, level: str, title: str) -> Pack:
        """A new draft (unpublished) pack.

        Slug: 2–40 chars of a-z, 0-9 and '-' (InvalidInput); taken → Conflict; codes and level
        validated like language pairs.
        """
        checked_slug = check_slug(slug)
        target_code, native_code = language_pair_codes(target, native)
        checked_level = cefr_level(level)
        checked_title = collapse(title)
        if not checked_title or len(checked_title) > MAX_TITLE_CHARS:
            raise InvalidInput(f"A pack needs a title of 1–{MAX_TITLE_CHARS} characters.", example=_NEW_PACK_EXAMPLE)
        pack = Pack(
            id=new_id(),
            slug=checked_slug,
            title=checked_title,
            target=target_code,
            native=native_code,
            level=checked_level,
            published=False,
            entry_count=0,
            created_at=self._clock(),
        )
        async with self._uow() as uow:
            if await uow.packs.get_by_slug(checked_slug) is not None:
                raise Conflict(f"A pack called “{checked_slug}” already exists.")
            await uow.packs.add(pack)
            await uow.commit()
        return pack

    async def add_entries(self, slug: str, lines: list[str]) -> ImportReport:
        """`term = translation` lines (optional ` = example` third part). NotFound.

        No lines at all, or more than MAX_IMPORT_ROWS → InvalidInput.
        """
        rows = rows_from_lines(lines, MAX_IMPORT_ROWS)
        if not rows:
            raise InvalidInput(
                "Nothing to add: put one `term = translation` per line under the command.",
                example=f"/pack_add {slug.strip() or 'spanish-a1'}\ncomer = to eat",
            )
        return await self._import_rows(slug, rows)

    async def import_file(self, slug: str, data: bytes, filename: str = "") -> ImportReport:
        """Import an uploaded file into the pack.

        CSV or TSV (sniffed; tab wins when present), columns term, translation, optional example;
        a first row that reads like a header (term/word/translation…) is skipped; UTF-8 (BOM ok) or
        InvalidInput; more than MAX_IMPORT_ROWS rows → InvalidInput, nothing added. Rows whose term
        is already in the pack (case-insensitive, or earlier in the file) are skipped; rows with an
        empty term/translation or over-long parts are rejected with line numbers and reasons.
        """
        rows = read_rows(data, filename, MAX_IMPORT_ROWS)
        return await self._import_rows(slug, rows)

    async def publish(self, slug: str) -> Pack:
        """An empty pack can't be published (InvalidInput)."""
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            if pack.entry_count == 0:
                raise InvalidInput(
                    f"“{pack.slug}” has no entries yet, so there is nothing to publish.",
                    example=f"/pack_add {pack.slug}\ncomer = to eat",
                )
            await uow.packs.set_published(pack.id, True)
            await uow.commit()
        return dataclasses.replace(pack, published=True)

    async def unpublish(self, slug: str) -> Pack:
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            await uow.packs.set_published(pack.id, False)
            await uow.commit()
        return dataclasses.replace(pack, published=False)

    async def export_csv(self, slug: str) -> bytes:
        """UTF-8 CSV with a header `term,translation,example`; re-importing it adds the same rows."""
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            entries = await uow.packs.list_entries(pack.id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["term", "translation", "example"])
        writer.writerows([entry.term, entry.translation, entry.example or ""] for entry in entries)
        return buffer.getvalue().encode("utf-8")

    async def delete_pack(self, slug: str) -> Pack:
        """The pack and its entries; words learners already took from it stay theirs."""
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            await uow.packs.delete(pack.id)
            await uow.commit()
        return pack

    async def list_all(self) -> list[Pack]:
        """Drafts too, for admins."""
        async with self._uow() as uow:
            packs = await uow.packs.list(published_only=False)
        return sorted(packs, key=lambda pack: pack.slug)

    async def show(self, slug: str, limit: int = 10) -> tuple[Pack, list[PackEntry]]:
        """Any pack (admin view). NotFound."""
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            return pack, await uow.packs.list_entries(pack.id, limit=max(0, limit))

    # --- learners ------------------------------------------------------------------------------

    async def list_published(self, learner_id: str) -> list[Pack]:
        """Published packs for the learner's active pair. NoActivePair."""
        async with self._uow() as uow:
            pair = await load_active_pair(uow, learner_id)
            packs = await uow.packs.list(published_only=True, target=pair.target, native=pair.native)
        return sorted(packs, key=lambda pack: (pack.level, pack.slug))

    async def preview(self, slug: str, limit: int = 10) -> tuple[Pack, list[PackEntry]]:
        """A published pack and its first entries; drafts are NotFound for learners."""
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug, published_only=True)
            return pack, await uow.packs.list_entries(pack.id, limit=max(0, limit))

    async def subscribe(self, learner_id: str, slug: str) -> SubscribeResult:
        """Add the pack's entries the learner lacks (by lemma), with their cards.

        They go to the learner's pair for the pack's languages (created, not made active, when
        missing — unless the learner has no active pair at all). Again → added 0. Drafts are
        NotFound. Bulk by design: one read of the pair's lemmas, one insert of words, one of cards.
        A concurrent subscription (a double tap) makes the insert conflict; one retry then adds 0.
        """
        try:
            return await self._subscribe_once(learner_id, slug)
        except Conflict:
            return await self._subscribe_once(learner_id, slug)

    # --- steps ---------------------------------------------------------------------------------

    async def _subscribe_once(self, learner_id: str, slug: str) -> SubscribeResult:
        async with self._uow() as uow:
            learner = await load_learner(uow, learner_id)
            pack = await _load_pack(uow, slug, published_only=True)
            pair = await self._pair_for(uow, learner_id, pack)
            entries = await uow.packs.list_entries(pack.id)
            known = await uow.words.all_lemmas(pair.id)
            forms = await uow.words.all_forms(pair.id)
            words = self._words_from(entries, known, forms, learner_id, pair, pack)
            if words:
                await uow.words.add_many(words)
                cards = cards_for(words, enabled_directions(learner.settings), self._clock())
                if cards:
                    await uow.cards.add_many(cards)
            await uow.commit()
        return SubscribeResult(pack=pack, added=len(words), skipped=len(entries) - len(words))

    async def _import_rows(self, slug: str, rows: list[SourceRow]) -> ImportReport:
        """Check, de-duplicate and lemmatise the rows, then insert the good ones in bulk."""
        report = ImportReport()
        async with self._uow() as uow:
            pack = await _load_pack(uow, slug)
            accepted = _accepted_rows(rows, await uow.packs.existing_terms(pack.id), report)
            entries = self._entries_from(accepted, pack)
            if entries:
                await uow.packs.add_entries(pack.id, entries)
                await uow.commit()
        report.added = len(entries)
        return report

    def _entries_from(self, accepted: list[SourceRow], pack: Pack) -> list[PackEntry]:
        """Pack entries after the pack's last one, lemmatised in one batch (not one call a row)."""
        lemmas = pack_lemmas([row.term for row in accepted], pack.target, self._lemmatizer)
        ids = _fresh_ids(len(accepted))
        first = pack.entry_count
        pack_id = pack.id
        return [
            PackEntry(entry_id, pack_id, row.term, lemma, row.translation or "", row.example, first + offset)
            for offset, (entry_id, row, lemma) in enumerate(zip(ids, accepted, lemmas, strict=True))
        ]

    async def _pair_for(self, uow: UnitOfWork, learner_id: str, pack: Pack) -> LanguagePair:
        """The learner's pair for the pack's languages, created at the pack's level when missing."""
        pair = await uow.pairs.find(learner_id, pack.target, pack.native)
        if pair is not None:
            return pair
        pair = LanguagePair(
            id=new_id(),
            learner_id=learner_id,
            target=pack.target,
            native=pack.native,
            level=pack.level,
            is_active=False,
            created_at=self._clock(),
        )
        await uow.pairs.add(pair)
        if await uow.pairs.get_active(learner_id) is None:
            await uow.pairs.set_active(learner_id, pair.id)
            pair = dataclasses.replace(pair, is_active=True)
        return pair

    def _words_from(
        self,
        entries: list[PackEntry],
        known: set[str],
        forms: set[str],
        learner_id: str,
        pair: LanguagePair,
        pack: Pack,
    ) -> list[WordBankEntry]:
        """Bank entries for the pack entries the pair lacks, in pack order.

        Lacking: neither its lemma nor its term is one the pair has (a term stored under another
        lemma key, by an older lemmatizer, is still the same word).
        """
        fresh: list[PackEntry] = []
        lemmas = {lemma.lower() for lemma in known}
        terms = set(forms)
        for entry in entries:
            lemma, term = entry.lemma.lower(), entry.term.lower()
            if lemma not in lemmas and term not in terms:
                lemmas.add(lemma)
                terms.add(term)
                fresh.append(entry)
        moments = staggered(self._clock(), len(fresh))
        return [
            WordBankEntry(
                id=new_id(),
                learner_id=learner_id,
                pair_id=pair.id,
                term=entry.term,
                lemma=entry.lemma.lower(),
                translation=entry.translation,
                context=None,
                example=entry.example,
                source=f"pack:{pack.slug}",
                created_at=created_at,
            )
            for entry, created_at in zip(fresh, moments, strict=True)
        ]


def check_slug(slug: str) -> str:
    """Pack slugs appear in commands and deep links: 2–40 of a-z, 0-9 and '-'."""
    text = slug.strip().lower()
    if not _SLUG.match(text):
        raise InvalidInput(
            f"“{slug.strip()}” is not a valid pack slug: use 2–40 characters of a-z, 0-9 and '-'.",
            example=_NEW_PACK_EXAMPLE,
        )
    return text


def _accepted_rows(rows: list[SourceRow], seen: set[str], report: ImportReport) -> list[SourceRow]:
    """The rows to add; the others counted in `report` as skipped (term already seen) or rejected.

    One plain loop over up to 50,000 rows: no exception and no checked-parts object a row.
    """
    accepted: list[SourceRow] = []
    for row in rows:
        reason = row.problem or parts_problem(row.term, row.translation, row.example, translation_required=True)
        if reason is not None:
            report.rejected += 1
            if len(report.first_rejected) < MAX_REPORTED_REJECTIONS:
                report.first_rejected.append(RejectedLine(row.line_no, row.text, reason))
            continue
        key = row.term.lower()
        if key in seen:
            report.skipped += 1
            continue
        seen.add(key)
        accepted.append(row)
    return accepted


def _fresh_ids(count: int) -> list[str]:
    """`count` random (version 4) UUID strings from one `os.urandom` call.

    The same bits `str(uuid.uuid4())` gives (random, version nibble 4, RFC 4122 variant), about
    three times faster: no UUID object a row, and the repository hands the strings to the driver.
    """
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((byte & 0x0F) | 0x40 for byte in raw[6::16])
    raw[8::16] = bytes((byte & 0x3F) | 0x80 for byte in raw[8::16])
    digits = raw.hex()
    return [
        f"{digits[i : i + 8]}-{digits[i + 8 : i + 12]}-{digits[i + 12 : i + 16]}-{digits[i + 16 : i + 20]}-"
        f"{digits[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


async def _load_pack(uow: UnitOfWork, slug: str, *, published_only: bool = False) -> Pack:
    pack = await uow.packs.get_by_slug(slug.strip().lower())
    if pack is None or (published_only and not pack.published):
        raise NotFound(f"pack “{slug.strip()}”")
    return pack
