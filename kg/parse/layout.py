"""Structured content (headings, paragraphs, list items, tables) -> text and a ParsedDocument.

The readers of formats whose text is not the file itself (HTML, DOCX, XLSX) hand what they
found to a ``Layout``, which writes it out as Markdown (``#`` headings, ``-`` and ``1.``
items, pipe tables) and records each block's offsets into that text, with the locator that
names its place in the original file. The result is the same structure the Markdown parser
gives, so extraction treats a spreadsheet row as it treats a Markdown table row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from kg.model import Block, BlockKind, Cell, Document, ParsedDocument, Section
from kg.parse.lists import link_lists
from kg.parse.notes import split_sentences


def squash(text: str) -> str:
    """Runs of whitespace as one space, ends trimmed (cells, headings, list items)."""
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class TableCell:
    text: str
    ref: str | None = None


@dataclass
class _Open:
    """The section being written: its heading, or none before the first heading."""

    title: str | None = None
    level: int = 1
    start: int = 0
    heading: tuple[int, int] | None = None
    parents: tuple[str, ...] = ()
    content: bool = False


@dataclass
class Layout:
    """Builds the text and the blocks of one document, in reading order."""

    doc_id: str
    path: str
    format: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    _parts: list[str] = field(default_factory=list)
    _length: int = 0
    _blocks: list[Block] = field(default_factory=list)
    _sections: list[Section] = field(default_factory=list)
    _open: _Open = field(default_factory=_Open)
    _stack: list[tuple[int, str]] = field(default_factory=list)
    _last: str = ""  # what was written last: "", "item", "block"

    @property
    def blocks(self) -> int:
        return len(self._blocks)

    def _write(self, text: str) -> tuple[int, int]:
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        return start, self._length

    def _gap(self, lines: int = 2) -> None:
        """Blank lines between blocks (none at the very start)."""
        if self._length:
            self._write("\n" * lines)

    def heading(self, title: str, level: int) -> None:
        title = squash(title)
        if not title:
            return
        level = max(1, level)
        self._gap()
        start, end = self._write(f"{'#' * min(level, 6)} {title}")
        self._close_section(start)
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        parents = tuple(t for _, t in self._stack)
        self._stack.append((level, title))
        self._open = _Open(title, level, start, (start, end), parents)
        self._last = "block"

    def paragraph(self, text: str, locator: str | None = None) -> None:
        lines = [squash(line) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            self._gap()
            start, end = self._write(text)
            self._add(BlockKind.PARAGRAPH, start, end, locator=locator)

    def item(self, text: str, *, numbered: bool, depth: int, locator: str | None = None) -> None:
        """A list item at ``depth`` (0 for the outermost list)."""
        text = squash(text)
        if not text:
            return
        self._gap(1 if self._last == "item" else 2)
        marker = "1. " if numbered else "- "
        self._write("  " * depth + marker)
        start, end = self._write(text)
        kind = BlockKind.NUMBERED if numbered else BlockKind.BULLET
        self._add(kind, start, end, depth=2 * depth, locator=locator)
        self._last = "item"

    def code(self, text: str, locator: str | None = None) -> None:
        text = text.strip("\n")
        if text.strip():
            self._gap()
            self._write("```\n")
            start, end = self._write(text)
            self._write("\n```")
            self._add(BlockKind.CODE, start, end, locator=locator)

    def table(
        self,
        header: Sequence[TableCell],
        rows: Sequence[Sequence[TableCell]],
        locators: Sequence[str | None] = (),
    ) -> None:
        """A header row and its rows; ``locators`` holds the header's first, then each row's."""
        places = [*locators, *([None] * (len(rows) + 1))]
        width = max([len(header), *(len(r) for r in rows)])
        self._gap()
        head = self._row(BlockKind.TABLE_HEADER, header, None, places[0])
        self._write("\n|" + " --- |" * width)
        for row, place in zip(rows, places[1:], strict=False):
            self._write("\n")
            self._row(BlockKind.TABLE_ROW, row, head, place)

    def _row(
        self, kind: BlockKind, cells: Sequence[TableCell], table: int | None, locator: str | None
    ) -> int:
        start, _ = self._write("|")
        out = []
        for cell in cells:
            text = squash(cell.text)
            self._write(" ")
            s, e = self._write(text)
            out.append(Cell(text, s, e, cell.ref))
            self._write(" |")
        index = len(self._blocks)
        self._add(kind, start, self._length, table=table)
        self._blocks[index] = replace(self._blocks[index], cells=tuple(out), locator=locator)
        return index

    def _add(self, kind: BlockKind, start: int, end: int, **kw: object) -> None:
        self._blocks.append(
            Block(
                index=len(self._blocks),
                kind=kind,
                section=len(self._sections),
                start=start,
                end=end,
                text="",  # filled in by finish(), once the text is whole
                **kw,  # type: ignore[arg-type]
            )
        )
        self._open.content = True
        self._last = "block"

    def _close_section(self, end: int) -> None:
        o = self._open
        if o.title is None and not o.content:
            return
        self._sections.append(
            Section(
                index=len(self._sections),
                title=o.title,
                level=o.level,
                start=o.start,
                end=end,
                heading_start=o.heading[0] if o.heading else None,
                heading_end=o.heading[1] if o.heading else None,
                parents=o.parents,
            )
        )

    def finish(self) -> ParsedDocument:
        """The document and its parse; call once, after the last block."""
        text = "".join(self._parts) + "\n"
        self._close_section(len(text))
        doc = Document(self.doc_id, self.path, text, self.format, dict(self.metadata))
        blocks = link_lists([replace(b, text=text[b.start : b.end]) for b in self._blocks])
        sentences = tuple(s for b in blocks for s in split_sentences(text, b))
        return ParsedDocument(doc, tuple(self._sections), tuple(blocks), sentences)
