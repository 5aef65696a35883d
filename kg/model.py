"""Small frozen dataclasses that cross layers: parsed notes, citable spans, answers."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


def content_hash(text: str) -> str:
    """Stable hex digest of some text (documents, passages, cache keys)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Document:
    """A notes file as read: ``id`` is its name relative to the folder it was found in.

    ``text`` is what offsets point into: the file's own text for Markdown, plain text, CSV
    and TSV; for HTML, DOCX and XLSX the readable text the reader extracted (as Markdown),
    with each block's ``locator`` naming its place in the original (docs/formats.md).
    ``metadata`` holds what the file says about itself (front matter, document properties):
    ``title``, ``tags``, ``aliases`` and ``provider`` (``aws``, ``azure``, ``google-cloud``).
    """

    id: str
    path: str
    text: str
    format: str  # "markdown" | "text" | "csv" | "tsv" | "xlsx" | "html" | "docx"
    metadata: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def sha256(self) -> str:
        return content_hash(self.text)


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of a document under one heading; ``title`` is None when the heading is missing."""

    index: int
    title: str | None
    level: int
    start: int
    end: int
    heading_start: int | None = None
    heading_end: int | None = None
    parents: tuple[str, ...] = ()  # enclosing headings, outermost first

    @property
    def path(self) -> tuple[str, ...]:
        return (*self.parents, self.title) if self.title else self.parents


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    BULLET = "bullet"
    NUMBERED = "numbered"
    TABLE_HEADER = "table_header"
    TABLE_ROW = "table_row"
    CODE = "code"


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    start: int
    end: int
    ref: str | None = None  # the cell in the original file: "B7" (CSV), "'FSx'!B7" (XLSX)


@dataclass(frozen=True, slots=True)
class Block:
    """A paragraph, list item, table row or code block, without its list marker.

    ``intro`` points at the block that introduces a list or table (a line ending in ``:``);
    ``lead`` at a short label item that the block elaborates ("• Simple Routing Policy").
    """

    index: int
    kind: BlockKind
    section: int
    start: int
    end: int
    text: str
    depth: int = 0
    table: int | None = None  # index of the table header block, for header and rows
    cells: tuple[Cell, ...] = ()  # when the source marks cells: pipes, or two-space gaps
    intro: int | None = None
    lead: int | None = None
    # Where the block is in the original file when ``Document.text`` is extracted from it:
    # an XPath (HTML), "paragraph 12" or "table 2, row 3" (DOCX), "Sheet!A3:C3" (XLSX),
    # "line 7" (CSV). None for Markdown and plain text, whose offsets are the place.
    locator: str | None = None


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str
    block: int


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    document: Document
    sections: tuple[Section, ...]
    blocks: tuple[Block, ...]
    sentences: tuple[Sentence, ...]

    # Blocks and sentences are in document order, so their section, block and start offsets
    # never decrease: each lookup is a binary search, not a scan (a scan per block or per
    # section made building one big note quadratic).

    def sentences_of(self, block: Block) -> list[Sentence]:
        lo = bisect_left(self.sentences, block.index, key=_block_of)
        hi = bisect_right(self.sentences, block.index, lo=lo, key=_block_of)
        return list(self.sentences[lo:hi])

    def sentences_in(self, start: int, end: int) -> list[Sentence]:
        """The sentences that start in ``[start, end)`` (a section's, for instance)."""
        lo = bisect_left(self.sentences, start, key=_start_of)
        hi = bisect_left(self.sentences, end, lo=lo, key=_start_of)
        return list(self.sentences[lo:hi])

    def blocks_of(self, section: Section) -> list[Block]:
        lo = bisect_left(self.blocks, section.index, key=_section_of)
        hi = bisect_right(self.blocks, section.index, lo=lo, key=_section_of)
        return list(self.blocks[lo:hi])


def _block_of(sentence: Sentence) -> int:
    return sentence.block


def _start_of(item: Sentence | Section) -> int:
    return item.start


def _section_of(block: Block) -> int:
    return block.section


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of a document that states a fact: a sentence, a list item or a table row."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Source:
    """Where a fact or passage comes from: exact character offsets into a document."""

    document: str
    section: str | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Term:
    label: str
    iri: str | None = None
    value: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Fact:
    subject: Term
    predicate: Term
    object: Term
    source: Source | None


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage returned by search, with every component score that ranked it."""

    id: str
    text: str
    document: str
    section: str | None
    start: int
    end: int
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    answer: str
    route: str  # "graph" | "search" | "hybrid" | "none"
    confidence: float
    facts: tuple[Fact, ...] = ()
    passages: tuple[Hit, ...] = ()
    sparql: str | None = None
    analysis: dict[str, object] = field(default_factory=dict)
