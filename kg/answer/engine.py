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

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import numpy as np

from kg.answer.analysis import AMOUNT_WORDS, Analysis, absent_terms, analyse, stems_overlap
from kg.answer.calibration import Calibration, Features
from kg.answer.candidates import Candidate, GraphCandidates
from kg.answer.catalog import Catalog
from kg.answer.compose import join_names
from kg.answer.crosscloud import compared_services, describe_equivalents, equivalents
from kg.answer.reader import Reading, about, named_entities, read_amounts, read_lists
from kg.answer.rows import LimitRow, Span
from kg.answer.weights import Thresholds, Weights
from kg.graph.base import GraphStore
from kg.model import Answer, Fact, Hit
from kg.search.passages import Passage
from kg.text.words import squash


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

    def rarity(self, word: str) -> float:
        """0 for a word every passage uses, 1 for one none does."""
        ...

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
        calibration: Calibration | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.retriever = retriever
        self.thresholds = thresholds or Thresholds()
        self.weights = weights or Weights()
        self.calibration = calibration or Calibration()
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

        equivalent = equivalents(a, self.catalog)
        if equivalent is not None:
            text, pairs = describe_equivalents(equivalent, self.catalog)
            analysis["via"] = {"kind": "equivalents"}
            if not pairs:
                return none(text)
            return Answer(
                question,
                text,
                "graph",
                self.thresholds.catalog,
                tuple(pairs),
                tuple(hits),
                None,
                analysis,
            )
        if a.unknown:
            return none(f"the notes never mention {join_names(a.unknown)}")
        compared = compared_services(a)
        if compared:
            return self._compare_services(a, compared, hits, qvec, analysis)
        graph = self.graph.for_question(a, qvec) if a.entities else None
        found = self._answer(a, graph, hits, qvec)
        if isinstance(found, str):
            top = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
            return none(found, top)
        chosen, route, evidence = found
        features = self._features(a, chosen, evidence, qvec)
        probability = self.calibration.probability(features)
        analysis["via"] = features.as_dict()
        if probability < self.thresholds.answer:
            return none("the notes do not state it clearly enough", probability)
        confidence = self.calibration.confidence(features)
        sparql = chosen.sparql if route != "search" else None
        return Answer(
            question,
            chosen.answer,
            route,
            round(confidence, 3),
            tuple(chosen.facts) if route != "search" else (),
            tuple(hits),
            sparql,
            analysis,
        )

    def _compare_services(
        self,
        a: Analysis,
        services: list[str],
        hits: list[Hit],
        qvec: np.ndarray,
        analysis: dict[str, object],
    ) -> Answer:
        """One amount per service, each answered on its own with its own source."""
        parts: list[str] = []
        facts: list[Fact] = []
        sure: list[float] = []
        sparql = None
        for iri in services:
            label = self.catalog.label(iri)
            own = replace(a, entities=[e for e in a.entities if e.iri == iri])
            found = self._amount(own, self._search(label + " " + a.question, own, qvec, 5), qvec)
            if found is None:
                parts.append(f"{label}: the notes don't say.")
                continue
            chosen, _, evidence = found
            starts = chosen.answer.startswith(label)
            parts.append(chosen.answer if starts else f"{label}: {chosen.answer}")
            facts += chosen.facts
            sparql = sparql or chosen.sparql
            sure.append(self.calibration.confidence(self._features(own, chosen, evidence, qvec)))
        analysis["via"] = {"kind": "compare_services", "services": services}
        if not sure:
            analysis["reason"] = "the notes state it for none of them"
            return Answer(a.question, "", "none", 0.0, (), tuple(hits), None, analysis)
        route = "graph" if facts else "search"
        return Answer(
            a.question,
            " ".join(parts),
            route,
            round(min(sure), 3),
            tuple(facts),
            tuple(hits),
            sparql,
            analysis,
        )

    def _answer(
        self, a: Analysis, graph: Candidate | None, hits: list[Hit], qvec: np.ndarray
    ) -> tuple[Candidate, str, str] | str:
        """The winning candidate, its route and the text of its evidence; or why none.

        An amount asked for is read from the sentences about the named thing as well as
        looked up in the graph: when both point at the same sentence the graph's fact comes
        with the sentence quoted; when they differ the sentence wins (on the tuning probes it
        is right far more often than a limit read elsewhere) unless the graph is far surer, and
        the graph answers alone where no sentence states an amount of the kind asked."""
        if a.intent == "limit" and a.dimension is not None and hits:
            amount = self._amount(a, hits, qvec)
            if amount is not None:
                return amount
        if a.intent in ("list", "pricing") and hits:
            # A list: the graph's, or a sentence about the named thing that lists names
            # ("A: AMQP, STOMP, MQTT ...") when it is the surer reading.
            lists = read_lists(a, hits, self.retriever, qvec, self.catalog, self.weights)
            reading = lists[0] if lists else None
            graph_sure = graph.confidence if graph is not None else 0.0
            if reading is not None and self.weights.list_reading * reading.score > graph_sure:
                sent = reading.sentence
                span = (sent.document, sent.start, sent.end)
                chosen = Candidate.of_kind(
                    "list_reader", squash(sent.text), [], min(1.0, reading.score), None, [span]
                )
                return chosen, "search", sent.context
        if graph is not None and graph.confidence >= self.thresholds.graph:
            found = any(self._covers(h, graph) for h in hits)
            route = "hybrid" if found and graph.confidence < self.thresholds.hybrid else "graph"
            return graph, route, _sources(graph)
        top = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
        floor = self.thresholds.search_weak if a.entities else self.thresholds.search_none
        if not hits or top < floor:
            return "weak evidence: no fact and no passage answers it"
        if a.intent == "limit" and a.dimension is not None:
            return f"no passage about it states a {a.dimension.value} amount"
        best = self._search_answer(a, hits, qvec)
        if best is None:
            return "no passage about what the question names answers it"
        sentence, context, span = best
        chosen = Candidate.of_kind("search", sentence, [], min(1.0, top), None, [span])
        if graph is not None and any(self._covers(h, graph) for h in hits[:3]):
            # The passages search found hold the graph's best candidate: its facts come along.
            return replace(chosen, facts=graph.facts, sparql=graph.sparql), "hybrid", context
        return chosen, "search", context

    def _amount(
        self, a: Analysis, hits: list[Hit], qvec: np.ndarray
    ) -> tuple[Candidate, str, str] | None:
        """An amount asked for, from the graph's limits and the sentences about the named
        thing scored together: a limit counts its own score plus its sentence's, when the
        reader found that sentence; a sentence no limit was read from counts its score and
        ``reading_alone``. The best wins; a limit and its sentence agreeing are both cited."""
        w = self.weights
        readings = read_amounts(a, hits, self.retriever, qvec, self.catalog, w)
        entities = [e.iri for e in a.entities if e.kind in ("service", "feature", "topic")]
        scored = self.graph.scored_limits(a, entities, qvec) if entities else []
        options = amount_options(scored, readings, w)
        if not options:
            return None
        _, at, reading = options[0]
        if at is None:
            assert reading is not None
            sent = reading.sentence
            quote = squash(sent.text)
            span = (sent.document, sent.start, sent.end)
            chosen = Candidate.of_kind("reader", quote, [], min(1.0, reading.score), None, [span])
            return chosen, "search", sent.context
        limit = self.graph.limit_candidate(a, entities, scored, at)
        if limit is None:
            return None
        if reading is None:
            return limit, "graph", _sources(limit)
        sent = reading.sentence
        quote = squash(sent.text)
        text = limit.answer if quote in limit.answer else f"{limit.answer} “{quote}”"
        sure = max(limit.confidence, reading.score)
        chosen = replace(limit, answer=text, confidence=sure, kind="agreed")
        return chosen, "graph", f"{sent.context} {_sources(limit)}"

    def _features(
        self, a: Analysis, chosen: Candidate, evidence: str, qvec: np.ndarray
    ) -> Features:
        text = f"{chosen.answer} {evidence}"
        terms = a.terms - AMOUNT_WORDS
        coverage = stems_overlap(terms, text) / len(terms) if terms else 1.0
        spans = chosen.spans or [
            (f.source.document, f.source.start, f.source.end) for f in chosen.facts if f.source
        ]
        similarity = max(self.retriever.similarity(qvec, spans[:12]), default=0.0)
        named = named_entities(a)
        unnamed = (
            bool(named)
            and not about(text, named, self.catalog)
            and not any(f.subject.iri in named or f.object.iri in named for f in chosen.facts)
        )
        said = stems_overlap(terms, chosen.answer) / len(terms) if terms else 1.0
        # The rarest word of the question its evidence lacks: "SLA" in "What uptime SLA does
        # BigQuery offer?" answered by some percentage, however much else matches.
        missing = max((self.retriever.rarity(t) for t in absent_terms(terms, text)), default=0.0)
        return Features(
            chosen.kind,
            chosen.confidence,
            min(1.0, coverage),
            unnamed,
            similarity,
            min(1.0, said),
            missing,
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

    def _search_answer(
        self, a: Analysis, hits: list[Hit], qvec: np.ndarray
    ) -> tuple[str, str, Span] | None:
        """The sentence that best answers, from the top passages: closest in meaning, with a
        nudge for the question's words and for the passage's rank. When the question names a
        service or feature, only passages about it count (named in the passage, its headings or
        the sentence's context); None when there is none."""
        named = named_entities(a)
        w = self.weights
        best: tuple[float, str, str, Span] | None = None
        for rank, hit in enumerate(hits[:3]):
            hit_about = not named or about(f"{hit.section or ''}\n{hit.text}", named, self.catalog)
            for sim, candidate in self.retriever.best_sentences(qvec, hit)[:4]:
                if not (hit_about or about(candidate.context, named, self.catalog)):
                    continue
                score = sim + w.sentence_word * min(stems_overlap(a.terms, candidate.text), 3)
                score += w.sentence_rank * rank
                if best is None or score > best[0]:
                    span = (candidate.document, candidate.start, candidate.end)
                    context = f"{hit.section or ''} {candidate.context}"
                    best = (score, candidate.text, context, span)
        if best is None:
            return None
        sentence, context, span = " ".join(best[1].split()), best[2], best[3]
        if a.intent == "relation" and a.relation == "usedFor":
            # "Which service ...?": name the service the sentence is about.
            named_iris = {e.iri for e in a.entities}
            for m in self.catalog.matcher.find(sentence):
                entry = self.catalog.entries.get(m.keys[0])
                if m.keys[0] not in named_iris and entry is not None and entry.kind == "service":
                    return f"{entry.label}: {sentence}", context, span
        return sentence, context, span

    @staticmethod
    def _covers(hit: Hit, candidate: Candidate) -> bool:
        return any(
            doc == hit.document and hit.start <= s and e <= hit.end + 1
            for doc, s, e in candidate.spans
        )

    # ---- graph --------------------------------------------------------------------------------


def _sources(candidate: Candidate) -> str:
    """The text of a candidate's evidence: its facts' sentences with their headings."""
    return " ".join(
        f"{f.source.section or ''} {f.source.text}" for f in candidate.facts if f.source
    )


Option = tuple[float, "int | None", "Reading | None"]  # (score, limit index, sentence)


def amount_options(
    scored: list[tuple[float, LimitRow]], readings: list[Reading], w: Weights
) -> list[Option]:
    """Limits and sentences scored together (see ``AnswerEngine._amount``), best first."""
    options: list[Option] = []
    matched: set[int] = set()
    for at, (score, row) in enumerate(scored):
        doc, start, end = row.span
        reading = next(
            (r for r in readings if r.sentence.document == doc and start <= r.sentence.start < end),
            None,
        )
        if reading is not None:
            matched.add(id(reading))
        options.append((score + w.joint_reading * (reading.score if reading else 0.0), at, reading))
    for reading in readings:
        if id(reading) not in matched:
            options.append((w.joint_reading * reading.score + w.reading_alone, None, reading))
    return sorted(options, key=lambda o: -o[0])
