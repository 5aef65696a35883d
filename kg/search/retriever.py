"""What question answering needs from search: one object over passages and sentences."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kg.model import Hit
from kg.search.embedder import Embedder
from kg.search.index import SearchIndex
from kg.search.passages import Passage
from kg.search.sentences import SentenceIndex
from kg.settings import Settings


class Retriever:
    """Hybrid passage search plus sentence similarities, all from one query vector."""

    def __init__(self, index: SearchIndex, sentences: SentenceIndex) -> None:
        self.index = index
        self.sentences = sentences

    @classmethod
    def open(cls, settings: Settings, generation: Path, embedder: Embedder) -> Retriever:
        index = SearchIndex.open(settings, generation, embedder)
        try:
            sentences = SentenceIndex.open(settings, generation, embedder.dim)
        except Exception:
            index.close()
            raise
        return cls(index, sentences)

    def encode(self, text: str) -> np.ndarray:
        return self.index.encode(text)

    def search(
        self,
        query: str,
        k: int,
        *,
        query_vector: np.ndarray | None = None,
        entities: Sequence[str] | None = None,
    ) -> list[Hit]:
        return self.index.search(query, k, query_vector=query_vector, entities=entities)

    def similarity(
        self, query_vector: np.ndarray, spans: Sequence[tuple[str, int, int]]
    ) -> list[float]:
        """Cosine of the closest sentence inside each (document, start, end) span."""
        return self.sentences.similarity(query_vector, spans)

    def best_sentences(self, query_vector: np.ndarray, hit: Hit) -> list[tuple[float, Passage]]:
        return self.sentences.best(query_vector, hit.document, hit.start, hit.end)

    def vocabulary(self) -> set[str]:
        return self.index.vocabulary()

    def rarity(self, word: str) -> float:
        return self.index.bm25.rarity(word)

    def ping(self) -> None:
        self.index.ping()

    def close(self) -> None:
        self.index.close()
