"""Reading pack rows from an uploaded CSV/TSV file or from `term = translation` lines."""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from core.domain.errors import InvalidInput
from core.domain.services._terms import collapse

# Column names, in English and the languages admins most often write packs from.
_TERM_COLUMNS = frozenset(
    {"term", "terms", "word", "words", "lemma", "front", "palabra", "término", "mot", "terme", "wort", "begriff"}
    | {"parola", "termine", "palavra"}
)
_TRANSLATION_COLUMNS = frozenset(
    {"translation", "translations", "meaning", "back", "traducción", "significado", "traduction", "sens"}
    | {"übersetzung", "bedeutung", "traduzione", "significato", "tradução"}
)
_EXAMPLE_COLUMNS = frozenset({"example", "examples", "ejemplo", "exemple", "beispiel", "esempio", "exemplo"})
_SHOWN_TEXT_CHARS = 80
_SNIFF_CHARS = 8192
_IMPORT_EXAMPLE = "/pack_import spanish-a1 (as the caption of a .csv file: term,translation,example)"


class SourceRow(NamedTuple):
    """One row as the admin wrote it, with the line it came from.

    A tuple, not a frozen dataclass: a file import builds 50,000 of them and a frozen dataclass's
    `__init__` costs several times a tuple's.
    """

    line_no: int
    raw: str  # the row as written; `text` is what a rejection shows
    term: str
    translation: str | None
    example: str | None
    problem: str | None = None  # set when the row's shape is already wrong

    @property
    def text(self) -> str:
        """The row as shown next to a rejection (cut at 80 characters); only rejected rows need it."""
        raw = self.raw
        return raw if len(raw) <= _SHOWN_TEXT_CHARS else raw[: _SHOWN_TEXT_CHARS - 1] + "…"


def rows_from_lines(lines: list[str], max_rows: int = 50_000) -> list[SourceRow]:
    """`term = translation [= example]` lines; line numbers count every given line."""
    rows: list[SourceRow] = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = [collapse(part) for part in line.split("=")]
        problem = "too many “=”: use term = translation (= example)" if len(parts) > 3 else None
        rows.append(_row(line_no, line.strip(), parts, problem))
        if len(rows) > max_rows:
            raise InvalidInput(f"At most {max_rows:,} entries at a time.")
    return rows


def read_rows(data: bytes, filename: str, max_rows: int) -> list[SourceRow]:
    """The data rows of a UTF-8 CSV/TSV upload (blank lines and a header row left out)."""
    text = _decode(data)
    delimiter = _delimiter(text, filename)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[SourceRow] = []
    first_line = 1
    header_checked = False
    try:
        for record in reader:
            line_no, first_line = first_line, reader.line_num + 1
            cells = [" ".join(cell.split()) for cell in record]  # `collapse`, inlined: 150,000 cells
            if not any(cells):
                continue
            if not header_checked:
                header_checked = True
                if _looks_like_header(cells):
                    continue
            rows.append(_file_row(line_no, delimiter.join(record), cells))
            if len(rows) > max_rows:
                raise InvalidInput(
                    f"The file has more than {max_rows:,} rows: split it into files of at most {max_rows:,}.",
                    example=_IMPORT_EXAMPLE,
                )
    except csv.Error as exc:
        raise InvalidInput(f"The file can't be read as CSV near line {first_line}: {exc}.") from exc
    if not rows:
        raise InvalidInput("The file has no rows: one term,translation per line.", example=_IMPORT_EXAMPLE)
    return rows


def _decode(data: bytes) -> str:
    if not data.strip():
        raise InvalidInput("The file is empty.", example=_IMPORT_EXAMPLE)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The file is not UTF-8 text: save it as UTF-8 (in Excel: CSV UTF-8) and send it again.",
            example=_IMPORT_EXAMPLE,
        ) from exc
    if "\x00" in text:
        raise InvalidInput("The file contains binary data, not CSV text.", example=_IMPORT_EXAMPLE)
    return text


def _delimiter(text: str, filename: str) -> str:
    """Tab when present (TSV), otherwise what csv.Sniffer finds among comma and semicolon."""
    sample = text[:_SNIFF_CHARS]
    if filename.lower().endswith(".tsv") or "\t" in sample:
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        return ","


def _looks_like_header(cells: list[str]) -> bool:
    """Whether the first row names columns ("term,translation", "palabra⇥translation", "mot;traduction").

    A term column name followed by a translation or example column name: "word,palabra" is an
    entry (two term names), "palabra,translation" a header.
    """
    names = [cell.strip().lower() for cell in cells[:2]]
    if not names or names[0] not in _TERM_COLUMNS:
        return False
    return len(names) == 1 or not names[1] or names[1] in _TRANSLATION_COLUMNS | _EXAMPLE_COLUMNS


def _file_row(line_no: int, raw: str, cells: list[str]) -> SourceRow:
    problem = None
    if len(cells) > 3 and any(cells[3:]):
        problem = "more than 3 columns (term, translation, example)"
    return _row(line_no, raw, cells, problem)


def _row(line_no: int, raw: str, parts: list[str], problem: str | None) -> SourceRow:
    count = len(parts)
    return SourceRow(
        line_no,
        raw,
        parts[0] if count else "",
        (parts[1] or None) if count > 1 else None,
        (parts[2] or None) if count > 2 else None,
        problem,
    )
