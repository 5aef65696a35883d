"""Parsed notes -> passages: citable spans with the heading context that gets searched.

A passage's ``text`` is always the exact span ``document.text[start:end]``, so it can be cited
by offsets; its ``context`` is what the embedder and BM25 see: the heading path, the line that
introduces a list or table (or a table's header), then the passage's own blocks.

Three chunkings are available; ``bench/chunking.py`` compares them on the dev questions and
docs/search.md has the table behind the default:

- ``"block"``: each paragraph, list item or table row; tiny neighbours in a section are
  merged until a passage has some substance, and a list's lead-in line rides along in context.
- ``"window"``: windows of consecutive sentences within a section, overlapping by one.
- ``"section"``: small sections whole; big ones split at block boundaries.

Code blocks are never passages.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from kg.model import Block, BlockKind, ParsedDocument, Section, content_hash

STRATEGIES = ("block", "window", "section")
DEFAULT_STRATEGY = "section"

MIN_CHARS = 80  # smaller blocks are merged with their neighbours ("block")
MAX_CHARS = 900  # longer passages are split at sentence or block boundaries
WINDOW_SENTENCES = 3  # "window": sentences per window, overlapping by one
SECTION_CHARS = 1500  # "section": sections up to this size stay whole, bigger ones split
INTRO_CHARS = 200  # how much of a list's lead-in paragraph goes into each item's context


@dataclass(frozen=True, slots=True)
class Passage:
    """A span of a document (``text`` is exactly ``document.text[start:end]``).

    ``context`` is what gets embedded and matched by BM25: headings, lead-in, then the text.
    """

    id: str
    document: str
    section: str | None
    start: int
    end: int
    text: str
    context: str

    @property
    def hash(self) -> str:
        """Cache key of the passage's embedding: the sha256 of the encoded text."""
        return content_hash(self.context)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        return cls(
            id=str(data["id"]),
            document=str(data["document"]),
            section=data.get("section"),
            start=int(data["start"]),
            end=int(data["end"]),
            text=str(data["text"]),
            context=str(data["context"]),
        )


def passage_id(document: str, start: int, end: int) -> str:
    """Stable id of a span: the document id and the character offsets."""
    return f"{document}#{start}-{end}"


def chunk(parsed: ParsedDocument, strategy: str = DEFAULT_STRATEGY) -> list[Passage]:
    """Split a parsed document into passages with one of ``STRATEGIES``."""
    if strategy == "block":
        groups = _block_groups(parsed)
    elif strategy == "window":
        groups = _window_groups(parsed)
    elif strategy == "section":
        groups = _section_groups(parsed)
    else:
        raise ValueError(f"unknown chunking strategy {strategy!r}; choose from {STRATEGIES}")
    return [_passage(parsed, group) for group in groups]


def chunk_all(docs: Iterable[ParsedDocument], strategy: str = DEFAULT_STRATEGY) -> list[Passage]:
    return [p for doc in docs for p in chunk(doc, strategy)]


@dataclass(frozen=True, slots=True)
class _Piece:
    """Part of a passage: a block, or a run of sentences of one block, with its offsets."""

    block: Block
    start: int
    end: int
    text: str


def _passage(parsed: ParsedDocument, pieces: list[_Piece]) -> Passage:
    doc = parsed.document
    section = parsed.sections[pieces[0].block.section] if parsed.sections else None
    start, end = pieces[0].start, pieces[-1].end
    lines = [" > ".join(section.path)] if section is not None and section.path else []
    inside = {p.block.index for p in pieces}
    for ref in _context_blocks(parsed, pieces):
        text = ref.text if ref.kind is BlockKind.TABLE_HEADER else _tail(parsed, ref)
        if ref.index not in inside and text not in lines:
            lines.append(text)
    lines += [p.text for p in pieces]
    return Passage(
        id=passage_id(doc.id, start, end),
        document=doc.id,
        section=section.title if section is not None else None,
        start=start,
        end=end,
        text=doc.text[start:end],
        context="\n".join(" ".join(line.split()) for line in lines),
    )


def _tail(parsed: ParsedDocument, block: Block) -> str:
    """The last sentences of a lead-in block, up to INTRO_CHARS: the part that introduces."""
    pieces = [s.text for s in parsed.sentences_of(block)] or [block.text]
    text = ""
    for piece in reversed(pieces):
        if text and len(piece) + len(text) > INTRO_CHARS:
            break
        text = f"{piece} {text}".strip()
    return text[-INTRO_CHARS:] if len(text) > INTRO_CHARS else text


def _context_blocks(parsed: ParsedDocument, pieces: list[_Piece]) -> Iterator[Block]:
    """The blocks that introduce the pieces: list lead-ins, labels and table headers."""
    for piece in pieces:
        block = piece.block
        for ref in (block.intro, block.table, block.lead):
            if ref is not None:
                yield parsed.blocks[ref]


def _searchable(parsed: ParsedDocument, section: Section) -> list[Block]:
    return [b for b in parsed.blocks_of(section) if b.kind is not BlockKind.CODE]


def _block_pieces(parsed: ParsedDocument, block: Block) -> list[_Piece]:
    """A block whole, or split at sentence boundaries when it is longer than MAX_CHARS."""
    if block.end - block.start <= MAX_CHARS:
        return [_Piece(block, block.start, block.end, block.text)]
    pieces: list[_Piece] = []
    run: list[_Piece] = []
    for s in _sentences(parsed, block):
        if run and s.end - run[0].start > MAX_CHARS:
            pieces.append(_Piece(block, run[0].start, run[-1].end, " ".join(p.text for p in run)))
            run = []
        run.append(s)
    if run:
        pieces.append(_Piece(block, run[0].start, run[-1].end, " ".join(p.text for p in run)))
    return pieces


def _sentences(parsed: ParsedDocument, block: Block) -> list[_Piece]:
    """A block's sentences, none longer than MAX_CHARS: a longer one (a log pasted without
    full stops, a 100,000-line file that is one paragraph) is cut at the last line break, or
    else the last space, before the limit. A passage is then never much longer than
    SECTION_CHARS + MAX_CHARS, whatever the note holds."""
    text = parsed.document.text
    spans = [(s.start, s.end, s.text) for s in parsed.sentences_of(block)]
    out: list[_Piece] = []
    for start, end, sentence in spans or [(block.start, block.end, block.text)]:
        if end - start <= MAX_CHARS:
            out.append(_Piece(block, start, end, sentence))
            continue
        while end - start > MAX_CHARS:
            limit = start + MAX_CHARS
            cut = text.rfind("\n", start + MAX_CHARS // 2, limit)
            if cut < 0:
                cut = text.rfind(" ", start + MAX_CHARS // 2, limit)
            cut = cut if cut > start else limit
            out.append(_Piece(block, start, cut, text[start:cut]))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if start < end:
            out.append(_Piece(block, start, end, text[start:end]))
    return out


def _block_groups(parsed: ParsedDocument) -> Iterator[list[_Piece]]:
    for section in parsed.sections:
        groups: list[list[_Piece]] = []
        size = 0
        for block in _searchable(parsed, section):
            for piece in _block_pieces(parsed, block):
                length = piece.end - piece.start
                if not groups or size >= MIN_CHARS or size + length > MAX_CHARS:
                    groups.append([])
                    size = 0
                groups[-1].append(piece)
                size += length
        if len(groups) > 1 and size < MIN_CHARS:
            # a tiny tail joins the passage before it rather than standing alone
            last = groups.pop()
            if last[-1].end - groups[-1][0].start <= MAX_CHARS:
                groups[-1].extend(last)
            else:
                groups.append(last)
        yield from groups


def _window_groups(parsed: ParsedDocument) -> Iterator[list[_Piece]]:
    step = max(1, WINDOW_SENTENCES - 1)
    for section in parsed.sections:
        sentences = [p for b in _searchable(parsed, section) for p in _sentences(parsed, b)]
        if not sentences:
            continue
        starts = range(0, max(1, len(sentences) - WINDOW_SENTENCES + step), step)
        for i in starts:
            window = sentences[i : i + WINDOW_SENTENCES]
            if window:
                yield window


def _section_groups(parsed: ParsedDocument) -> Iterator[list[_Piece]]:
    for section in parsed.sections:
        pieces = [p for b in _searchable(parsed, section) for p in _block_pieces(parsed, b)]
        if not pieces:
            continue
        span = pieces[-1].end - pieces[0].start
        if span <= SECTION_CHARS:
            yield pieces
            continue
        # balanced parts rather than full ones and a scrap
        target = span / math.ceil(span / SECTION_CHARS)
        group: list[_Piece] = []
        for piece in pieces:
            if group and (
                piece.end - group[0].start > SECTION_CHARS
                or group[-1].end - group[0].start >= target
            ):
                yield group
                group = []
            group.append(piece)
        if group:
            yield group
