"""Question -> Answer: route between graph facts, hybrid search and abstention.

1. Analyse the question (``kg.answer.analysis``): entities, intent, bound, dimension.
2. Search: embed the question once; hybrid search (dense + BM25 + a boost for passages that
   name the question's entities). Passages are always returned as context.
3. Abstain (route ``none``) when the question names something the notes never mention.
4. Graph (``kg.answer.candidates``): run the intent's SPARQL template for the linked entities,
   score the candidate facts against the question (``kg.answer.score``: dimension, bound,
   words, similarity of their source sentence) and compose a sentence in the notes' own units
   (``kg.answer.compose``), every fact with its source.
5. Otherwise answer from search with the sentence of the top passages closest to the
   question, unless the evidence is weak on every path: then abstain.

Thresholds and weights (``kg.answer.weights``) are listed and calibrated in docs/answering.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from kg.answer.analysis import Analysis, analyse, counted_head, stems_overlap
from kg.answer.candidates import Candidate, GraphCandidates
from kg.answer.catalog import Catalog
from kg.answer.compose import best_sentence, join_names
from kg.answer.rows import Span
from kg.answer.weights import Thresholds, Weights
from kg.graph.base import GraphStore
from kg.model import Answer, Hit
from kg.search.passages import Passage
from kg.text.quantities import find_quantities
from kg.text.units import Dimension


class Retriever(Protocol):
    """What the engine needs from search (``kg.search.retriever.Retriever`` provides it)."""

    def encode(self, text: str) -> np.ndarray: ...

    def search(
        self,
        query: str,
        k: int,
        *,
        query_vector: np.ndarray | None = None,
        entities: Sequence[str] | None = None,
    ) -> list[Hit]: ...

    def similarity(self, query_vector: np.ndarray, spans: Sequence[Span]) -> list[float]:
        """Cosine between the query and the closest sentence in each span."""
        ...

    def best_sentences(self, query_vector: np.ndarray, hit: Hit) -> list[tuple[float, Passage]]:
        """The sentences of a hit, most similar first."""
        ...

    def vocabulary(self) -> set[str]: ...

    def ping(self) -> None: ...


class AnswerEngine:
    """Answers questions over one build: a graph store, a catalog and a retriever."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        retriever: Retriever,
        thresholds: Thresholds | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.retriever = retriever
        self.thresholds = thresholds or Thresholds()
        self.weights = weights or Weights()
        self.graph = GraphCandidates(store, catalog, retriever, self.weights, self.thresholds)

    # ---- public -----------------------------------------------------------------------------

    def ask(self, question: str, k: int = 5) -> Answer:
        question = " ".join(question.split())
        a = analyse(question, self.catalog)
        qvec = self.retriever.encode(question)
        hits = self._search(question, a, qvec, k)
        analysis = a.as_dict()

        def none(reason: str, confidence: float = 0.0) -> Answer:
            analysis["reason"] = reason
            return Answer(
                question, "", "none", round(confidence, 3), (), tuple(hits), None, analysis
            )

        if a.unknown:
            return none(f"the notes never mention {join_names(a.unknown)}")
        candidate = self.graph.for_question(a, qvec) if a.entities else None
        found = candidate is not None and any(self._covers(h, candidate) for h in hits)
        if candidate is not None and candidate.confidence >= self.thresholds.graph:
            route = "hybrid" if found and candidate.confidence < self.thresholds.hybrid else "graph"
            return Answer(
                question,
                candidate.answer,
                route,
                round(candidate.confidence, 3),
                tuple(candidate.facts),
                tuple(hits),
                candidate.sparql,
                analysis,
            )
        top = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
        floor = self.thresholds.search_weak if a.entities else self.thresholds.search_none
        if not hits or top < floor or self._needs_number_but_none(a, hits):
            return none("weak evidence: no fact and no passage answers it", top)
        answer = self._search_answer(a, hits, qvec)
        if candidate is not None and any(self._covers(h, candidate) for h in hits[:3]):
            return Answer(
                question,
                answer,
                "hybrid",
                round(min(1.0, top), 3),
                tuple(candidate.facts),
                tuple(hits),
                candidate.sparql,
                analysis,
            )
        return Answer(
            question, answer, "search", round(min(1.0, top), 3), (), tuple(hits), None, analysis
        )

    def search(self, query: str, k: int = 5) -> list[Hit]:
        a = analyse(query, self.catalog)
        return self._search(query, a, self.retriever.encode(query), k)

    # ---- search -------------------------------------------------------------------------------

    def _search(self, question: str, a: Analysis, qvec: np.ndarray, k: int) -> list[Hit]:
        names: list[str] = []
        for e in a.entities:
            entry = self.catalog.entries.get(e.iri)
            if entry is not None:
                names += [n for n in (entry.label, *entry.names, e.text) if len(n) >= 2]
        return self.retriever.search(question, k, query_vector=qvec, entities=names or None)

    def _search_answer(self, a: Analysis, hits: list[Hit], qvec: np.ndarray) -> str:
        """The sentence that best answers, from the top passages: closest in meaning, with a
        nudge for the question's words and for the passage's rank."""
        best: tuple[float, str] | None = None
        for rank, hit in enumerate(hits[:3]):
            for sim, candidate in self.retriever.best_sentences(qvec, hit)[:4]:
                w = self.weights
                score = sim + w.sentence_word * min(stems_overlap(a.terms, candidate.text), 3)
                score += w.sentence_rank * rank
                if best is None or score > best[0]:
                    best = (score, candidate.text)
        sentence = " ".join(best[1].split()) if best else best_sentence(hits[0].text, a.question)
        if a.intent == "relation" and a.relation == "usedFor":
            # "Which service ...?": name the service the sentence is about.
            named = {e.iri for e in a.entities}
            for m in self.catalog.matcher.find(sentence):
                entry = self.catalog.entries.get(m.keys[0])
                if m.keys[0] not in named and entry is not None and entry.kind == "service":
                    return f"{entry.label}: {sentence}"
        return sentence

    def _needs_number_but_none(self, a: Analysis, hits: list[Hit]) -> bool:
        """A limit question whose best passages state no amount of the asked dimension, or
        no count of the thing it counts."""
        if a.intent != "limit" or a.dimension is None:
            return False
        found = [
            (q, h) for h in hits[:3] for q in find_quantities(h.text) if q.dimension == a.dimension
        ]
        if a.counted and a.dimension is Dimension.COUNT:
            # "450 nodes", or "up to 10,000 of them" in a passage that names what it counts
            return not any(
                counted_head(q.noun or "") == a.counted
                or (
                    (re.match(r"\s*of\s+(?:them|these|those)\b", h.text[q.end :]) or "|" in h.text)
                    and stems_overlap({a.counted}, h.text) > 0
                )
                for q, h in found
            )
        return not found

    @staticmethod
    def _covers(hit: Hit, candidate: Candidate) -> bool:
        return any(
            doc == hit.document and hit.start <= s and e <= hit.end + 1
            for doc, s, e in candidate.spans
        )

    # ---- graph --------------------------------------------------------------------------------
