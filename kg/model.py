"""Small frozen dataclasses that cross layers: parsed notes, citable spans, answers."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


def content_hash(text: str) -> str:
    """Stable hex digest of some text (documents, passages, cache keys)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Document:
    """A notes file as read: ``id`` is its name relative to the folder it was found in."""

    id: str
    path: str
    text: str
    format: str  # "markdown" | "text"
    metadata: Mapping[str, str] = field(default_factory=dict)  # front matter: title, provider

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

    def sentences_of(self, block: Block) -> list[Sentence]:
        return [s for s in self.sentences if s.block == block.index]


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
