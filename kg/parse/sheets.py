"""Spreadsheets -> tables: CSV and TSV (the standard ``csv`` module) and XLSX (openpyxl).

Both share one reading of the grid. Rows with at most one filled cell before the first row
with two or more are notes (a title, a remark) and read as lines of plain text: paragraphs,
or list items when they open with a list marker ("- None", "1. built-in"); that first wider row
is the header, naming the columns, and every row after it is a TABLE_ROW with its cells, as
a row of a Markdown table is. After a blank row, a row as wide as the table above goes on
with it unless it reads as a header (short labels, no digits), which starts a new table.

``Document.text`` of a CSV or TSV file is the file itself: cells and rows point at their
characters (inside the quotes of a quoted cell), and carry their spreadsheet reference
("B7", "A7:D7"). An XLSX workbook has no text of its own: its ``Document.text`` is the sheets
written out as Markdown (a ``#`` heading per sheet, a pipe table per table), and each row and
cell carries its reference in the workbook ("'FSx for Lustre'!B7").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.model import Block, BlockKind, Cell, Document, ParsedDocument, Section
from kg.parse.layout import Layout, TableCell, squash
from kg.parse.lists import Marker, link_lists, list_marker
from kg.parse.notes import ParseError, Reading, decode_text, split_sentences

_DELIMITERS = ",;\t|"
_NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")


def sheet_title(path: Path) -> str:
    """A file's name as a title: without its suffix, Notion's page id or ``_all``."""
    stem = path.stem.removesuffix("_all")
    return _NOTION_ID.sub("", stem).strip() or path.stem


def column_letter(index: int) -> str:
    """0 -> "A", 25 -> "Z", 26 -> "AA", as spreadsheets name columns."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# --- the grid ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Role:
    """What a row of the grid is: "blank", "note", "header" or "row" (of ``table``)."""

    kind: str
    table: int | None = None  # the grid row of this row's header


def roles(grid: Sequence[Sequence[str]]) -> list[Role]:
    """Read a grid of cell texts as notes, headers and rows (see the module docstring)."""
    out: list[Role] = []
    header: int | None = None  # of the current table
    last_header: int | None = None
    for i, row in enumerate(grid):
        filled = sum(1 for c in row if c.strip())
        if not filled:
            out.append(Role("blank"))
            header = None
        elif header is not None:
            out.append(Role("row", header))
        elif filled >= 2:
            if last_header is not None and _continues(grid[last_header], row):
                out.append(Role("row", last_header))  # a stray blank row inside a table
                header = last_header
            else:
                out.append(Role("header"))
                header = last_header = i
        else:
            out.append(Role("note"))
    return out


def _continues(header: Sequence[str], row: Sequence[str]) -> bool:
    """Whether a row after a blank row goes on with the table above rather than heading a new
    one: it is no wider, and does not read as a header (short labels without digits)."""
    labels = all(not re.search(r"\d", c) and len(c.split()) <= 5 for c in row if c.strip())
    return len(row) <= len(header) and not labels


def ragged(grid: Sequence[Sequence[str]], kinds: Sequence[Role]) -> list[int]:
    """Rows (0-based) with more filled cells than their header has columns."""
    bad = []
    for i, role in enumerate(kinds):
        if role.kind == "row" and role.table is not None:
            width = len(grid[role.table])
            row = grid[i]
            if len(row) > width and any(c.strip() for c in row[width:]):
                bad.append(i)
    return bad


def _ragged_notice(path: Path, rows: list[int], where: str = "") -> list[str]:
    if not rows:
        return []
    shown = ", ".join(str(r + 1) for r in rows[:8]) + (" ..." if len(rows) > 8 else "")
    return [
        f"{path}: {len(rows)} row(s){where} have more cells than the header has columns "
        f"(rows {shown}); the extra cells are read without a column name"
    ]


# --- CSV and TSV ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    start: int
    end: int
    cells: tuple[Cell, ...]


def read_delimited(path: Path, doc_id: str, fmt: str) -> Reading:
    """A CSV or TSV file; the delimiter is sniffed (``,`` ``;`` tab ``|``), the suffix's own
    one when in doubt."""
    text = decode_text(path.read_bytes(), path)
    default = "\t" if fmt == "tsv" else ","
    delimiter = _sniff(text, default)
    records = _records(text, delimiter, path)
    grid = [[c.text for c in r.cells] for r in records]
    if not any(c.strip() for row in grid for c in row):
        raise ParseError(f"{path}: empty file (no cells with text)")
    kinds = roles(grid)
    title = sheet_title(path)
    doc = Document(doc_id, str(path), text, fmt)
    blocks: list[Block] = []
    header_block: dict[int, int] = {}
    for i, (record, role) in enumerate(zip(records, kinds, strict=True)):
        locator = f"A{i + 1}:{column_letter(max(len(record.cells) - 1, 0))}{i + 1}"
        if role.kind == "blank":
            continue
        if role.kind == "note":
            kind, start, end = _note(text, next(c for c in record.cells if c.text))
            blocks.append(Block(len(blocks), kind, 0, start, end, text[start:end], locator=locator))
            continue
        kind = BlockKind.TABLE_HEADER if role.kind == "header" else BlockKind.TABLE_ROW
        if role.kind == "header":
            header_block[i] = len(blocks)
        table = header_block.get(role.table if role.table is not None else i)
        start, end = _trim(text, record.start, record.end)
        blocks.append(
            Block(
                index=len(blocks),
                kind=kind,
                section=0,
                start=start,
                end=end,
                text=text[start:end],
                table=table if kind is BlockKind.TABLE_ROW else None,
                cells=record.cells,
                locator=locator,
            )
        )
    section = Section(0, title, 1, 0, len(text))
    linked = link_lists(blocks)
    sentences = tuple(s for b in linked for s in split_sentences(text, b))
    parsed = ParsedDocument(doc, (section,), tuple(linked), sentences)
    return Reading(parsed, tuple(_ragged_notice(path, ragged(grid, kinds))))


def _note(text: str, cell: Cell) -> tuple[BlockKind, int, int]:
    """A note row's one cell read as a line of notes: a paragraph, or a list item from after
    its marker ("- None", "1. built-in")."""
    marker = _item_marker(text[cell.start : cell.end])
    if marker is None:
        return BlockKind.PARAGRAPH, cell.start, cell.end
    return marker.kind, cell.start + marker.start, cell.end


def _item_marker(line: str) -> Marker | None:
    """The list marker a note row opens with, when an item follows it."""
    marker = list_marker(line)
    return marker if marker and line[marker.start :].strip() else None


def _sniff(text: str, default: str) -> str:
    sample = "\n".join(text.split("\n", 20)[:20])
    try:
        found = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return default
    first = text.split("\n", 1)[0]
    # The Sniffer can pick a character common in the values ("1,000" in a TSV): keep the
    # suffix's delimiter whenever the header line has it.
    return default if default in first else found


def _records(text: str, delimiter: str, path: Path) -> list[_Record]:
    """Each record with its cells' offsets in ``text``: the csv module reads the values,
    and each value is found again where it stands in the record's lines."""
    line_starts = [0]
    for m in re.finditer("\n", text):
        line_starts.append(m.end())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out: list[_Record] = []
    consumed = 0
    try:
        for values in reader:
            first, consumed = consumed, reader.line_num
            start = line_starts[first]
            end = line_starts[consumed] - 1 if consumed < len(line_starts) else len(text)
            cells = _locate(text, start, end, values, delimiter, len(out) + 1)
            out.append(_Record(start, end, cells))
    except csv.Error as exc:
        raise ParseError(f"{path}: not valid CSV at line {reader.line_num + 1}: {exc}") from None
    return out


def _locate(
    text: str, start: int, end: int, values: list[str], delimiter: str, row: int
) -> tuple[Cell, ...]:
    cells: list[Cell] = []
    pos = start
    for value in values:
        if text.startswith('"', pos):
            quoted = '"' + value.replace('"', '""') + '"'
            if not text.startswith(quoted, pos):
                return _whole_row(text, start, end, values, row)
            s, e, pos = pos + 1, pos + len(quoted) - 1, pos + len(quoted)
        else:
            if not text.startswith(value, pos):
                return _whole_row(text, start, end, values, row)
            s, e, pos = pos, pos + len(value), pos + len(value)
        s, e = _trim(text, s, e)
        cells.append(Cell(value.strip(), s, e, f"{column_letter(len(cells))}{row}"))
        if pos < end and text[pos] == delimiter:
            pos += 1
    return tuple(cells)


def _whole_row(text: str, start: int, end: int, values: list[str], row: int) -> tuple[Cell, ...]:
    """Cells that cannot be found again in the record (malformed quoting) cite the row."""
    s, e = _trim(text, start, end)
    return tuple(Cell(v.strip(), s, e, f"{column_letter(c)}{row}") for c, v in enumerate(values))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# --- XLSX ----------------------------------------------------------------------------------


def read_xlsx(path: Path, doc_id: str) -> Reading:
    """An Excel workbook: each visible sheet a section named by the sheet (cached values of
    formulas, as Excel last computed them)."""
    from zipfile import BadZipFile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise ParseError(
            f"{path}: not a readable XLSX workbook ({exc}); a password-protected or legacy "
            ".xls file must be saved as .xlsx"
        ) from None
    notices: list[str] = []
    meta = {}
    if book.properties.title:
        meta["title"] = squash(book.properties.title)
    if book.properties.keywords:
        meta["tags"] = squash(book.properties.keywords)
    layout = Layout(doc_id, str(path), "xlsx", meta)
    try:
        for sheet in book.worksheets:
            if sheet.sheet_state != "visible":
                notices.append(f"{path}: sheet {sheet.title!r} is hidden; not read")
                continue
            grid, refs = _sheet_grid(sheet)
            if not any(c.strip() for row in grid for c in row):
                continue
            layout.heading(sheet.title, 1)
            _lay_out(layout, grid, refs, _sheet_ref(sheet.title))
            where = f" of sheet {sheet.title!r}"
            notices += _ragged_notice(path, ragged(grid, roles(grid)), where)
    finally:
        book.close()
    if not layout.blocks:
        raise ParseError(f"{path}: empty workbook (no cells with text)")
    return Reading(layout.finish(), tuple(notices))


def _sheet_ref(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", title):
        return title + "!"
    return "'" + title.replace("'", "''") + "'!"


def _sheet_grid(sheet: Any) -> tuple[list[list[str]], list[int]]:
    """Cell texts by row, trailing empty cells dropped, and each row's number in the sheet."""
    grid: list[list[str]] = []
    numbers: list[int] = []
    for number, row in enumerate(sheet.iter_rows(min_row=1, min_col=1), start=1):
        texts = [cell_text(c.value, getattr(c, "number_format", "General")) for c in row]
        while texts and not texts[-1].strip():
            texts.pop()
        grid.append(texts)
        numbers.append(number)
    while grid and not grid[-1]:
        grid.pop()
        numbers.pop()
    return grid, numbers


def cell_text(value: object, number_format: str = "General") -> str:
    """A cell value as the spreadsheet shows it, near enough: 0.999 with a percent format is
    "99.9%", a date is ISO 8601, an integral float has no ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        if "%" in number_format:
            return _number(value * 100) + "%"
        text = _number(value)
        return "$" + text if "$" in number_format else text
    return squash(str(value))


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return repr(round(float(value), 10))


def _lay_out(layout: Layout, grid: list[list[str]], numbers: list[int], sheet: str) -> None:
    kinds = roles(grid)
    tables: dict[int, tuple[list[TableCell], list[list[TableCell]], list[str | None]]] = {}
    order: list[tuple[str, int]] = []  # ("note" | "table", grid row) in reading order

    def cells(i: int) -> list[TableCell]:
        n = numbers[i]
        return [TableCell(t, f"{sheet}{column_letter(c)}{n}") for c, t in enumerate(grid[i])]

    def span(i: int) -> str:
        return f"{sheet}A{numbers[i]}:{column_letter(max(len(grid[i]) - 1, 0))}{numbers[i]}"

    for i, role in enumerate(kinds):
        if role.kind == "note":
            order.append(("note", i))
        elif role.kind == "header":
            tables[i] = (cells(i), [], [span(i)])
            order.append(("table", i))
        elif role.kind == "row" and role.table is not None:
            width = len(grid[role.table])
            row = cells(i)
            tables[role.table][1].append(row + [TableCell("")] * (width - len(row)))
            tables[role.table][2].append(span(i))
    for what, i in order:
        if what == "note":
            note = " ".join(t for t in grid[i] if t.strip())
            marker = _item_marker(note)
            if marker is None:
                layout.paragraph(note, span(i))
            else:
                numbered = marker.kind is BlockKind.NUMBERED
                layout.item(note[marker.start :], numbered=numbered, depth=0, locator=span(i))
        else:
            header, rows, places = tables[i]
            layout.table(header, rows, places)
