"""Sentence vectors: which sentence of a passage answers, and how close a fact's source is.

Search ranks section-sized passages (they retrieve best, see docs/search.md), but an answer
quotes one sentence, and graph facts cite sentences, list items and table rows. Every
sentence of the notes is therefore embedded too (cached by content hash like passages) and
kept in a second vector store: ``gen-*/sentences`` with FAISS, or the Qdrant collection
``<collection>-sentences``. At query time nothing more is encoded: similarities are dot
products with the question vector, which the engine computes once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.model import Block, BlockKind, ParsedDocument
from kg.search.cache import EmbeddingCache
from kg.search.embedder import Embedder
from kg.search.index import Progress, build_index, qdrant_location, sync_index
from kg.search.passages import Passage, passage_id
from kg.search.vectors import (
    FaissStore,
    QdrantStore,
    VectorStore,
    qdrant_alias_target,
    qdrant_client,
)

if TYPE_CHECKING:
    from kg.datadir import DataDir
    from kg.settings import Settings

SENTENCES_DIR = "sentences"


def sentence_passages(parsed: Sequence[ParsedDocument]) -> list[Passage]:
    """Every sentence and table row outside code, with its section title as context.

    A table row is read with its header ("Severity: Sev 2; Meaning: Warning"): alone, its
    cells say nothing of what they are, and the header row, which holds no fact, would be
    the closest "sentence" to a question in the header's words."""
    out = []
    for doc in parsed:
        for s in doc.sentences:
            block = doc.blocks[s.block]
            if block.kind in (BlockKind.CODE, BlockKind.TABLE_HEADER):
                continue
            section = doc.sections[block.section]
            title = " › ".join(section.path) if section.path else None
            whole = (s.start, s.end) == (block.start, block.end)
            said = (_with_header(doc, block) if whole else None) or s.text
            path = [p for p in (title, *_nesting(doc, block)) if p]
            context = f"{' › '.join(path)}: {said}" if path else said
            out.append(
                Passage(
                    passage_id(doc.document.id, s.start, s.end),
                    doc.document.id,
                    title,
                    s.start,
                    s.end,
                    s.text,
                    context,
                )
            )
    return out


def _nesting(doc: ParsedDocument, block: Block) -> list[str]:
    """The list items a list item is nested under, outermost first ("SKUs", "Standard"):
    what "up to 1,000 backend instances" is about. A paragraph that introduces a list is
    not part of it."""
    items = (BlockKind.BULLET, BlockKind.NUMBERED)
    out: list[str] = []
    at = block.intro if block.kind in items else None
    while at is not None and doc.blocks[at].kind in items and len(out) < 3:
        intro = doc.blocks[at]
        out.append(" ".join(intro.text.split()[:8]).rstrip(":"))
        at = intro.intro
    return out[::-1]


def _with_header(doc: ParsedDocument, block: Block) -> str | None:
    """A table row as "header: cell; header: cell", or None for anything else."""
    if block.kind is not BlockKind.TABLE_ROW or block.table is None or not block.cells:
        return None
    header = doc.blocks[block.table].cells
    pairs = [
        f"{h.text}: {c.text}" if h.text else c.text
        for h, c in zip(header, block.cells, strict=False)
        if c.text
    ]
    return "; ".join(pairs) or None


class SentenceIndex:
    """All sentence vectors in memory, by document and offset."""

    def __init__(self, store: VectorStore) -> None:
        items = sorted(store.items(), key=lambda item: (item[1]["document"], int(item[1]["start"])))
        self._ids = [i for i, _ in items]
        self._passages = [Passage.from_dict(p) for _, p in items]
        self._matrix = (
            store.vectors(self._ids).astype(np.float32)
            if self._ids
            else np.zeros((0, store.dim), dtype=np.float32)
        )
        self._by_doc: dict[str, tuple[list[int], list[int]]] = {}  # doc -> (starts, rows)
        for row, p in enumerate(self._passages):
            starts, rows = self._by_doc.setdefault(p.document, ([], []))
            starts.append(p.start)
            rows.append(row)
        store.close()

    @classmethod
    def open(cls, settings: Settings, generation: Path, dim: int) -> SentenceIndex:
        if settings.vector_store == "faiss":
            folder = generation / SENTENCES_DIR
            if not (folder / FaissStore.IDS_FILE).exists():
                raise FileNotFoundError(f"no sentence index in {folder}")
            return cls(FaissStore(folder, dim))

        where = qdrant_location(settings)
        alias = f"{settings.qdrant_collection}-sentences"
        client = qdrant_client(where)
        try:
            target = qdrant_alias_target(client, alias)
        finally:
            client.close()
        return cls(QdrantStore(where, target or alias, dim, create=False))

    def __len__(self) -> int:
        return len(self._ids)

    def rows_within(self, document: str, start: int, end: int) -> list[int]:
        """Sentences that overlap [start, end) of a document."""
        found = self._by_doc.get(document)
        if not found:
            return []
        starts, rows = found
        i = max(0, bisect_left(starts, start) - 1)
        out = []
        while i < len(starts) and starts[i] < max(end, start + 1):
            p = self._passages[rows[i]]
            if p.end > start:
                out.append(rows[i])
            i += 1
        return out

    def similarity(
        self, query_vector: np.ndarray, spans: Sequence[tuple[str, int, int]]
    ) -> list[float]:
        """For each span, the best cosine between the query and a sentence inside it."""
        q = np.asarray(query_vector, dtype=np.float32)
        out = []
        for doc, start, end in spans:
            rows = self.rows_within(doc, start, end)
            out.append(float((self._matrix[rows] @ q).max()) if rows else 0.0)
        return out

    def best(
        self, query_vector: np.ndarray, document: str, start: int, end: int
    ) -> list[tuple[float, Passage]]:
        """The sentences of a passage, most similar to the query first."""
        rows = self.rows_within(document, start, end)
        if not rows:
            return []
        sims = self._matrix[rows] @ np.asarray(query_vector, dtype=np.float32)
        ranked = sorted(zip(sims.tolist(), rows, strict=True), key=lambda t: -t[0])
        return [(s, self._passages[r]) for s, r in ranked]


def build_sentence_index(
    *,
    settings: Settings,
    data: DataDir,
    generation: Path,
    parsed: Sequence[ParsedDocument],
    embedder: Embedder,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Embed every sentence of the notes (cached) into the build's sentence store."""
    sentences = sentence_passages(parsed)
    relabel = (lambda stage, done, total: progress("sentences", done, total)) if progress else None
    with EmbeddingCache(data.cache, embedder.model_id) as cache:
        if settings.vector_store == "faiss":
            live = data.current()
            previous = live / SENTENCES_DIR if live is not None else None
            report = build_index(
                generation / SENTENCES_DIR,
                sentences,
                embedder,
                cache,
                previous=previous,
                progress=relabel,
                exact=True,  # read by document and offset, never searched: no HNSW graph
            )
        else:
            alias = f"{settings.qdrant_collection}-sentences"
            store = QdrantStore(
                qdrant_location(settings), f"{alias}-{generation.name}", embedder.dim
            )
            try:
                report = sync_index(store, sentences, embedder, cache, progress=relabel)
                store.publish(alias)
            finally:
                store.close()
    return {"sentences": report.passages, "encoded": report.encoded}
