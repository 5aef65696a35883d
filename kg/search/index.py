"""Hybrid passage search (dense + BM25 + entity boost), and building it incrementally.

A ``SearchIndex`` needs nothing but a vector store and an embedder: BM25 is rebuilt in memory
from the passages stored as payloads, so a stateless replica can serve from a shared Qdrant.

Builds: with FAISS, ``build_index`` writes ``gen-*/vectors/`` of the new generation, starting
from the live generation's files and encoding only passages whose text is not in the
embedding cache. With Qdrant, each build fills a collection ``<collection>-<generation>`` and
then points the alias ``<collection>`` at it in one step; readers resolve the alias when they
open, so a reader's BM25 and vectors always come from the same build.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.model import Hit
from kg.search.bm25 import BM25, words
from kg.search.cache import EmbeddingCache, encode_cached
from kg.search.embedder import Embedder, make_embedder
from kg.search.fusion import DEFAULT_FUSION, fuse
from kg.search.passages import Passage, chunk_all
from kg.search.vectors import (
    FaissStore,
    QdrantStore,
    VectorStore,
    qdrant_alias_target,
    qdrant_client,
)

if TYPE_CHECKING:
    from kg.datadir import DataDir
    from kg.model import ParsedDocument
    from kg.settings import Settings

CANDIDATES = 50  # taken from each ranking before fusion
VECTORS_DIR = "vectors"  # the FAISS store's folder inside a generation

Progress = Callable[[str, int, int], None]


def payload_of(passage: Passage, model_id: str) -> dict[str, Any]:
    """What the vector store keeps per passage: enough to serve and to update it."""
    return {**passage.to_dict(), "hash": passage.hash, "model": model_id}


class SearchIndex:
    """Passages searchable by meaning and by words; ``search`` returns fused ``Hit``s."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        *,
        fusion: str = DEFAULT_FUSION,
        candidates: int = CANDIDATES,
    ) -> None:
        if store.dim != embedder.dim:
            raise ValueError(f"store holds {store.dim}-d vectors, embedder makes {embedder.dim}")
        self.store = store
        self.embedder = embedder
        self.fusion = fusion
        self.candidates = candidates
        items = sorted(store.items(), key=lambda item: item[0])
        self._ids = [i for i, _ in items]
        self._passages = {i: Passage.from_dict(payload) for i, payload in items}
        self._row = {i: n for n, i in enumerate(self._ids)}
        self._contexts_lower = [self._passages[i].context.lower() for i in self._ids]
        self.bm25 = BM25([self._passages[i].context for i in self._ids])
        self._by_document: dict[str, list[Passage]] = {}
        for p in sorted(self._passages.values(), key=lambda p: (p.document, p.start)):
            self._by_document.setdefault(p.document, []).append(p)

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, **kw: Any) -> SearchIndex:
        """The FAISS index saved by ``build_index`` in ``folder`` (nothing is encoded)."""
        if not (folder / FaissStore.IDS_FILE).exists():
            raise FileNotFoundError(f"no search index in {folder}")
        return cls(FaissStore(folder, embedder.dim), embedder, **kw)

    @classmethod
    def open(
        cls, settings: Settings, generation: Path, embedder: Embedder, **kw: Any
    ) -> SearchIndex:
        """The index of a build: ``generation/vectors`` with FAISS, or the collection the
        Qdrant alias ``settings.qdrant_collection`` points at now."""
        if settings.vector_store == "faiss":
            return cls.load(generation / VECTORS_DIR, embedder, **kw)
        where = qdrant_location(settings)
        client = qdrant_client(where)
        try:
            target = qdrant_alias_target(client, settings.qdrant_collection)
        finally:
            client.close()
        store = QdrantStore(where, target or settings.qdrant_collection, embedder.dim, create=False)
        return cls(store, embedder, **kw)

    def __len__(self) -> int:
        return len(self._ids)

    def passage(self, id_: str) -> Passage:
        return self._passages[id_]

    def passages(self) -> list[Passage]:
        return [self._passages[i] for i in self._ids]

    def encode(self, text: str) -> np.ndarray:
        """The query vector of ``text`` (to embed a question once and reuse it)."""
        return self.embedder.encode_one(text)

    def vocabulary(self) -> set[str]:
        """Every lowercased word of the passages' texts, compounds whole and split."""
        vocabulary: set[str] = set()
        for p in self._passages.values():
            for token in words(p.context):
                vocabulary.add(token)
                if not token.isalnum():
                    vocabulary.update(w for w in re.split(r"[.\-/]", token) if w)
        return vocabulary

    def similarity(
        self, query_vector: np.ndarray, spans: Sequence[tuple[str, int, int]]
    ) -> list[float]:
        """Cosine between the query and the passage covering each (document, start, end);
        0.0 for a span that no passage overlaps."""
        found = [self._covering(doc, start, end) for doc, start, end in spans]
        ids = list(dict.fromkeys(i for i in found if i is not None))
        if not ids:
            return [0.0] * len(spans)
        sims = self.store.vectors(ids) @ np.asarray(query_vector, dtype=np.float32)
        by_id = {i: float(s) for i, s in zip(ids, sims, strict=True)}
        return [by_id[i] if i is not None else 0.0 for i in found]

    def _covering(self, document: str, start: int, end: int) -> str | None:
        best, overlap = None, 0
        for p in self._by_document.get(document, ()):
            if p.start >= max(end, start + 1):
                break
            shared = min(end, p.end) - max(start, p.start)
            if shared > overlap or (shared == overlap == 0 and p.start <= start < p.end):
                best, overlap = p.id, shared
        return best

    def ping(self) -> None:
        """Raise if the vector store cannot answer."""
        self.store.ping()

    def dense(self, query_vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The ``n`` passages nearest to the query vector, with cosine similarities."""
        return self.store.search(query_vector, n)

    def lexical(self, query: str, n: int) -> list[tuple[str, float]]:
        """The ``n`` best BM25 matches (score > 0), with raw BM25 scores."""
        return [(self._ids[d], s) for d, s in self.bm25.top(query, n)]

    def mentions(self, names: Sequence[str], ids: Sequence[str] | None = None) -> dict[str, float]:
        """Entity boost: the share of ``names`` each passage mentions (whole words, any case)."""
        wanted = [n.lower() for n in dict.fromkeys(n.strip() for n in names) if n]
        if not wanted:
            return {}
        rows = range(len(self._ids)) if ids is None else [self._row[i] for i in ids]
        out: dict[str, float] = {}
        for row in rows:
            text = self._contexts_lower[row]
            # A substring test first (fast); the word-boundary check only where it hits.
            found = sum(1 for n in wanted if n in text and _word_pattern(n).search(text))
            if found:
                out[self._ids[row]] = found / len(wanted)
        return out

    def search(
        self,
        query: str,
        k: int = 5,
        *,
        query_vector: np.ndarray | None = None,
        boost: Mapping[str, float] | None = None,
        entities: Sequence[str] | None = None,
        method: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, each with dense, bm25, entity, fused scores.

        ``query_vector`` skips encoding (a caller that already embedded the question);
        ``boost`` maps passage ids to an entity boost in [0, 1]; ``entities`` computes one
        from names mentioned in the candidates (the larger of the two counts).
        """
        if k <= 0 or not self._ids:
            return []
        if query_vector is None:
            query_vector = self.embedder.encode_one(query)
        n = max(self.candidates, k)
        dense = self.dense(query_vector, n)
        bm25_all = self.bm25.scores(query)
        lexical = self._top(bm25_all, n)
        candidates = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
        in_dense = {i for i, _ in dense}
        missing = [i for i in candidates if i not in in_dense]
        dense_scores: dict[str, float] = {}
        if missing:
            sims = self.store.vectors(missing) @ np.asarray(query_vector, dtype=np.float32)
            dense_scores = {i: float(s) for i, s in zip(missing, sims, strict=True)}
        bm25_scores = {i: float(bm25_all[self._row[i]]) for i in candidates}
        boosts = dict(boost or {})
        if entities:
            for i, b in self.mentions(entities, candidates).items():
                boosts[i] = max(b, boosts.get(i, 0.0))
        fused = fuse(
            dense,
            lexical,
            method=method or self.fusion,
            boost=boosts,
            dense_scores=dense_scores,
            bm25_scores=bm25_scores,
        )
        hits = []
        for f in fused[:k]:
            p = self._passages[f.id]
            hits.append(Hit(p.id, p.text, p.document, p.section, p.start, p.end, f.score, f.scores))
        return hits

    def _top(self, scores: np.ndarray, n: int) -> list[tuple[str, float]]:
        n = min(n, len(scores))
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._ids[d], float(scores[d])) for d in best if scores[d] > 0]

    def close(self) -> None:
        self.store.close()


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What an index update did: passages now held, how many were encoded, added, removed."""

    passages: int
    encoded: int
    added: int
    removed: int
    seconds: float


def sync_index(
    store: VectorStore,
    passages: Sequence[Passage],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    progress: Progress | None = None,
) -> IndexReport:
    """Make ``store`` hold exactly ``passages``: remove what is gone or changed, add the new.

    Only passages whose encoded text is in neither the store nor the cache are encoded.
    """
    start = time.perf_counter()
    wanted = {p.id: p for p in passages}
    held = {i: (payload.get("hash"), payload.get("model")) for i, payload in store.items()}
    key = {i: (p.hash, embedder.model_id) for i, p in wanted.items()}
    stale = [i for i, k in held.items() if k != key.get(i)]
    new = [p for i, p in wanted.items() if held.get(i) != key[i]]
    store.delete(stale)
    vectors, encoded = encode_cached(
        embedder,
        cache,
        [p.context for p in new],
        progress=(lambda done, total: progress("embed", done, total)) if progress else None,
    )
    if new:
        store.add([p.id for p in new], vectors, [payload_of(p, embedder.model_id) for p in new])
    store.flush()
    removed = len([i for i in stale if i not in wanted])
    return IndexReport(len(wanted), encoded, len(new), removed, time.perf_counter() - start)


def build_index(
    folder: Path,
    passages: Sequence[Passage],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    previous: Path | None = None,
    progress: Progress | None = None,
    exact: bool = False,
) -> IndexReport:
    """Write the FAISS index of ``passages`` into ``folder`` (e.g. ``gen-*/vectors``).

    Starts from ``previous`` (the live generation's folder) when given: its files are
    hard-linked, not copied, and left untouched, since writes replace files atomically.
    ``exact`` keeps a flat index at any size, for a store that is read by id and never
    searched (the sentence store): an HNSW graph would only cost build time.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if previous is not None and (previous / FaissStore.IDS_FILE).exists():
        for name in (FaissStore.INDEX_FILE, FaissStore.PAYLOADS_FILE, FaissStore.IDS_FILE):
            _link_or_copy(previous / name, folder / name)
    store = (
        FaissStore(folder, embedder.dim, hnsw_threshold=sys.maxsize)
        if exact
        else FaissStore(folder, embedder.dim)
    )
    try:
        report = sync_index(store, passages, embedder, cache, progress=progress)
        if not (folder / FaissStore.IDS_FILE).exists():
            store.save()  # no passages: an empty index is still an index
    finally:
        store.close()
    return report


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build_search_index(
    *,
    settings: Settings,
    data: DataDir,
    generation: Path,
    parsed: Sequence[ParsedDocument],
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> dict[str, int]:
    """Index the passages of ``parsed`` for the build ``generation`` (see the module docstring).

    Returns counts: ``passages`` held, ``encoded`` (not found in the cache), ``added``,
    ``removed`` (relative to the live build).
    """
    embedder = embedder or make_embedder(
        settings.embedder, settings.torch_threads, lazy=True, cache=data.cache
    )
    passages = chunk_all(parsed)
    with EmbeddingCache(data.cache, embedder.model_id) as cache:
        if settings.vector_store == "faiss":
            live = data.current()
            previous = live / VECTORS_DIR if live is not None else None
            report = build_index(
                generation / VECTORS_DIR,
                passages,
                embedder,
                cache,
                previous=previous,
                progress=progress,
            )
        else:
            alias = settings.qdrant_collection
            store = QdrantStore(
                qdrant_location(settings), f"{alias}-{generation.name}", embedder.dim
            )
            try:
                report = sync_index(store, passages, embedder, cache, progress=progress)
                store.publish(alias)
            finally:
                store.close()
    return {
        "passages": report.passages,
        "encoded": report.encoded,
        "added": report.added,
        "removed": report.removed,
    }


def remote_build_id(settings: Settings) -> str:
    """The build a shared Qdrant serves: the collection its alias points at."""
    client = qdrant_client(qdrant_location(settings))
    try:
        target = qdrant_alias_target(client, settings.qdrant_collection)
    finally:
        client.close()
    if target is None:
        raise LookupError(f"no build published in Qdrant (alias {settings.qdrant_collection!r})")
    return target


def qdrant_location(settings: Settings) -> str:
    """``KG_QDRANT_URL``, else an embedded Qdrant in ``DATA/qdrant``."""
    return settings.qdrant_url or str(settings.data / "qdrant")


@functools.lru_cache(maxsize=4096)
def _word_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(name) + r"(?![a-z0-9])")
