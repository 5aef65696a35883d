"""Question -> Answer: route between graph facts, hybrid search and abstention.

1. Analyse the question (``kg.answer.analysis``): entities, intent, bound, dimension.
2. Search: embed the question once; hybrid search (dense + BM25 + a boost for passages that
   name the question's entities). Passages are always returned as context.
3. Abstain (route ``none``) when the question names something the notes never mention.
4. Graph: run the intent's SPARQL template for the linked entities, score the candidate facts
   against the question (dimension, bound, words, similarity of their source sentence) and
   compose a sentence in the notes' own units, every fact with its source.
5. Otherwise answer from search with the sentence of the top passages closest to the
   question, unless the evidence is weak on every path: then abstain.

Thresholds and weights are calibrated in docs/answering.md.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import numpy as np

from kg import vocab
from kg.answer import templates
from kg.answer.analysis import Analysis, analyse, counted_head, stems_overlap
from kg.answer.catalog import Catalog
from kg.answer.compose import best_sentence, describe_limit, join_names, limit_sentence, plural
from kg.answer.rows import PREDICATE_LABELS, LimitRow, RelatedRow, Span, source_of
from kg.graph.base import GraphStore
from kg.model import Answer, Fact, Hit, Source, Term
from kg.search.passages import Passage
from kg.text.quantities import find_quantities
from kg.text.units import Dimension
from kg.text.words import norm_key


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


@dataclass
class Candidate:
    """One way to answer: a sentence, the facts behind it, how sure we are."""

    answer: str
    facts: list[Fact]
    confidence: float
    sparql: str | None = None
    spans: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class Thresholds:
    """Calibrated on the dev questions; see docs/answering.md."""

    graph: float = 0.45  # a graph candidate at least this sure answers on its own
    hybrid: float = 0.7  # below this, a graph answer whose source search also found is "hybrid"
    search_none: float = 0.30  # top dense score below this, no entity named: not covered
    search_weak: float = 0.22  # top dense score below this even with entities: not covered


_VERBS = {
    "supports": "supports",
    "hasFeature": "has",
    "chargedBy": "is charged by",
    "replicatesTo": "replicates to",
    "worksWith": "works with",
    "inCategory": "is in",
}
_RELATED_DIMENSIONS = {
    frozenset({Dimension.COUNT, Dimension.COUNT_PER_SECOND}),
    frozenset({Dimension.BITS_PER_SECOND, Dimension.BYTES_PER_SECOND}),
}

Group = tuple[str, str, str | None]  # (entity, predicate, kind of the objects)


class AnswerEngine:
    """Answers questions over one build: a graph store, a catalog and a retriever."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        retriever: Retriever,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.retriever = retriever
        self.thresholds = thresholds or Thresholds()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, list[dict[str, Any]]]] = {}

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
        candidate = self._graph(a, qvec) if a.entities else None
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
                score = sim + 0.03 * min(stems_overlap(a.terms, candidate.text), 3) - 0.05 * rank
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

    def _select(self, template: str, entities: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
        """Run a template for some entities, cached per build. The entities (catalog IRIs,
        never question text) are bound by a VALUES block, which Oxigraph joins first; its
        variable substitution plans the rest of the query before binding and is far slower."""
        key = (template, tuple(entities))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            query = templates.shown(template, list(entities)) if entities else template
            cached = (query, self.store.select(query))
            with self._lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[key] = cached
        return cached

    def _graph(self, a: Analysis, qvec: np.ndarray) -> Candidate | None:
        entities = list(
            dict.fromkeys(
                e.iri for e in a.entities if e.kind in ("service", "feature", "topic", "category")
            )
        )
        if not entities:
            return None
        if a.intent == "compare":
            return self._compare(a, entities)
        if a.intent == "relation" and a.relation == "usedFor":
            return self._used_for(a, qvec) or self._lists(a, entities)
        if a.supported:
            found = self._supported_by(a)
            if found is not None:
                return found
        if a.intent in ("list", "pricing", "relation"):
            return self._lists(a, entities) or self._limits(a, entities, qvec)
        if a.intent == "limit":
            return self._limits(a, entities, qvec)
        # A general question about a named thing may still ask for an amount.
        if a.dimension is None and a.bound is None:
            return None
        found = self._limits(a, entities, qvec)
        return found if found is not None and found.confidence >= 0.6 else None

    # limits -------------------------------------------------------------------------------------

    def _limits(self, a: Analysis, entities: list[str], qvec: np.ndarray) -> Candidate | None:
        own_query, own = self._select(templates.LIMITS, entities)
        features_query, of_features = self._select(templates.FEATURE_LIMITS, entities)
        rows = [LimitRow.of(r, self.catalog) for r in [*own, *of_features]]
        if not rows or (a.counted and not any(_counts(a.counted, r) for r in rows)):
            return None  # "How many consumer groups ...?" where no limit counts them
        sims = self.retriever.similarity(qvec, [r.span for r in rows])
        linked = {e.iri: e.score for e in a.entities}
        scored = sorted(
            ((self._limit_score(a, r, sim, linked), r) for r, sim in zip(rows, sims, strict=True)),
            key=lambda t: -t[0],
        )
        best_score, row = scored[0]
        if row.dimension is None:
            return None
        asked = a.bound if a.bound in row.bounds else None
        if asked is None and a.bound == "max" and "value" in row.bounds:
            asked = "value"
        per = row.per if row.dimension is Dimension.USD else None
        sentence = limit_sentence(
            row.subject_label,
            row.quantity,
            describe_limit(row.bounds, row.dimension, asked, per, row.stated),
        )
        margin = best_score - (scored[1][0] if len(scored) > 1 else 0.0)
        confidence = max(0.0, min(1.0, best_score + 0.3 * min(margin, 0.5)))
        query = own_query if row.subject == row.entity else features_query  # the one that found it
        return Candidate(sentence, row.facts(), confidence, query, [row.span])

    @staticmethod
    def _limit_score(a: Analysis, row: LimitRow, sim: float, linked: dict[str, float]) -> float:
        """How well a limit answers: the asked dimension and bound, the question's words in
        its quantity and source sentence, the meaning of that sentence, and who it is about."""
        score = 0.0
        if a.dimension is not None and row.dimension is not None:
            if row.dimension == a.dimension:
                score += 0.30
            else:
                related = frozenset({row.dimension, a.dimension}) in _RELATED_DIMENSIONS
                score += 0.10 if related else -0.35
        if a.bound is not None:
            score += 0.15 if a.bound in row.bounds else (-0.05 if a.bound == "default" else 0.0)
        elif "value" in row.bounds:
            score += 0.05
        if a.counted and row.dimension is Dimension.COUNT:
            # "the number of nodes": "450 nodes", not "30 managed node groups"
            score += 0.25 if _counts(a.counted, row) else -0.15
        if re.search(r"\bhow\s+often\b|\bfrequen", a.question, re.I):
            score += 0.2 if re.search(r"\b(?:interval|frequency)\b", row.quantity) else -0.1
        named = (
            row.quantity
            if not row.per or row.per in row.quantity
            else f"{row.quantity} per {row.per}"
        )
        score += 0.18 * min(stems_overlap(a.terms, named), 3)
        score += 0.06 * min(stems_overlap(a.terms, row.source.text), 3)
        score += 0.45 * max(0.0, sim)
        score += 0.05 if row.subject == row.entity else 0.0
        return score + 0.05 * linked.get(row.subject, 0.0)

    # lists ------------------------------------------------------------------------------------

    def _lists(self, a: Analysis, entities: list[str]) -> Candidate | None:
        queries: dict[str, str] = {}
        raw: list[dict[str, Any]] = []
        for predicate, template in templates.RELATED.items():
            queries[predicate], rows = self._select(template, entities)
            raw += rows
        groups: dict[Group, list[RelatedRow]] = {}
        for row in (RelatedRow.of(r, self.catalog) for r in raw):
            if row.predicate == "hasFeature" and row.kind is None and a.intent != "list":
                continue
            kind = row.kind if row.predicate in ("hasFeature", "supports") else None
            groups.setdefault((row.entity, row.predicate, kind), []).append(row)
        if not groups:
            return None
        _merge_unkinded(groups)
        order = {iri: i for i, iri in enumerate(entities)}
        kinds = {e.iri: e.kind for e in a.entities}
        score, (entity, pred, kind), members = max(
            ((self._group_score(a, g, m, order, kinds), g, m) for g, m in groups.items()),
            key=lambda t: t[0],
        )
        if kind is None and pred == "hasFeature":
            # A generic list ("features") narrows to the members the question's words name.
            named = [m for m in members if stems_overlap(a.terms, m.label) > 0]
            if named:
                members, score = named, score + 0.25
        members = sorted(members, key=RelatedRow.reading_order)
        names = list(dict.fromkeys(self._as_written(m) for m in members))
        subject = self.catalog.entries[entity].label if entity in self.catalog.entries else entity
        what = f" these {plural(kind)}:" if kind and pred in ("hasFeature", "supports") else ""
        sentence = f"{subject} {_VERBS[pred]}{what} {join_names(names)}."
        facts = [
            Fact(
                Term(subject, entity),
                Term(PREDICATE_LABELS[pred], vocab.CKG + pred),
                Term(m.label, m.object),
                m.source,
            )
            for m in members
        ]
        confidence = max(0.0, min(1.0, 0.35 + score))
        return Candidate(sentence, facts, confidence, queries[pred], [m.span for m in members])

    def _supported_by(self, a: Analysis) -> Candidate | None:
        """ "Which FSx flavour supports SMB?": what supports the named thing (or a thing named
        by it and one more word, "SMB protocol"), among the things the question names."""
        objects = {e.iri for e in a.supported}
        for e in a.supported:
            objects |= {x.iri for x in self.catalog.extended(e.label)}
        query, rows = self._select(templates.SUPPORTED_BY, sorted(objects))
        among = [set(norm_key(e.label).split()) for e in a.among]
        found: dict[str, tuple[str, Source, str]] = {}
        for r in rows:
            subject = r["subject"].value
            entry = self.catalog.entries.get(subject)
            if entry is None:
                continue
            owners = {norm_key(self.catalog.label(o)) for o in entry.owners}
            of_named = any(
                words <= set(norm_key(entry.label).split())
                or any(words <= set(o.split()) for o in owners)
                for words in among
            )
            if among and not of_named:
                continue
            found.setdefault(subject, (entry.label, source_of(r), r["entity"].value))
        if not found:
            return None
        names = [label for label, _, _ in found.values()]
        asked = join_names(list(dict.fromkeys(e.label for e in a.supported)))
        verb = "supports" if len(names) == 1 else "support"
        facts = [
            Fact(
                Term(label, subject),
                Term(PREDICATE_LABELS["supports"], vocab.CKG + "supports"),
                Term(self.catalog.label(obj), obj),
                source,
            )
            for subject, (label, source, obj) in found.items()
        ]
        spans = [(src.document, src.start, src.end) for _, src, _ in found.values()]
        return Candidate(f"{join_names(names)} {verb} {asked}.", facts, 0.9, query, spans)

    @staticmethod
    def _group_score(
        a: Analysis,
        group: Group,
        members: list[RelatedRow],
        order: dict[str, int],
        kinds: dict[str, str],
    ) -> float:
        """How well a group of related things answers a list question: the relation asked
        for, the question's words in the group's kind and names, and the most specific
        entity (a feature the question names beats its service)."""
        entity, pred, kind = group
        score = 0.0
        if a.relation == "chargedBy":
            score += 0.6 if pred == "chargedBy" else -0.4
        elif a.relation == pred:
            score += 0.45
        elif pred in ("chargedBy", "inCategory"):
            score -= 0.3 if a.relation is not None else 0.2
        if pred == "worksWith" and a.relation != "worksWith":
            score -= 0.3
        if pred == "inCategory":
            score -= 0.2
        score += 0.3 * min(stems_overlap(a.terms, kind or ""), 2)
        score += 0.08 * min(stems_overlap(a.terms, " ".join(m.label for m in members)), 3)
        if kind and a.head and stems_overlap(set(a.head.split()), kind):
            score += 0.15
        if a.head and re.search(r"\bservices?\b", a.head) and all(m.is_service for m in members):
            score += 0.3
        score += 0.08 * (len(order) - order.get(entity, 0)) / max(1, len(order))
        if "service" in kinds.values() and kinds.get(entity) == "feature":
            score += 0.2  # "Which RDS engines support read replicas?": the feature's list
        return score + 0.02 * min(len(members), 5)

    def _as_written(self, row: RelatedRow) -> str:
        """The name as the source sentence writes it ("an Elastic Load Balancer" rather than
        the lexicon's "Elastic Load Balancing"), else the label."""
        text, label = row.source.text, row.label
        entry = self.catalog.entries.get(row.object)
        if entry is None or label.lower() in text.lower():
            return label
        low = text.lower()
        for name in sorted({entry.label, *entry.names}, key=len, reverse=True):
            i = low.find(name.lower())
            if i >= 0 and (i == 0 or not low[i - 1].isalnum()):
                j = i + len(name)
                while j < len(text) and text[j].isalnum():
                    j += 1  # keep a plural: "Elastic Load Balancers"
                return text[i:j]
        return label

    # used for ---------------------------------------------------------------------------------

    def _used_for(self, a: Analysis, qvec: np.ndarray) -> Candidate | None:
        """ "Which service is used to troubleshoot Lambda functions?": the purposes the notes
        state, closest to the question, preferring one tied to a service the question names."""
        query, rows = self._select(templates.USED_FOR, [])
        named = {e.iri for e in a.entities}
        labels = [self.catalog.entries[n].label.lower() for n in named if n in self.catalog.entries]
        spans = [(r["doc"].value, int(r["start"].value), int(r["end"].value)) for r in rows]
        best: tuple[float, dict[str, Any]] | None = None
        for row, sim in zip(rows, self.retriever.similarity(qvec, spans), strict=True):
            if row["subject"].value in named:
                continue
            score = 0.25 * min(stems_overlap(a.terms, row["purpose"].value), 2)
            score += 0.05 * min(stems_overlap(a.terms, row["text"].value), 3)
            text = row["text"].value.lower()
            works_with = row["with"].value if "with" in row else None
            if works_with in named or any(n in text for n in labels):
                score += 0.3  # tied to a service the question names
            score += 0.4 * max(0.0, sim)
            if best is None or score > best[0]:
                best = (score, row)
        if best is None:
            return None
        score, row = best
        label, purpose = self.catalog.label(row["subject"].value), row["purpose"].value
        fact = Fact(
            Term(label, row["subject"].value),
            Term("used for", vocab.CKG + "usedFor"),
            Term(purpose),
            source_of(row),
        )
        span = (row["doc"].value, int(row["start"].value), int(row["end"].value))
        return Candidate(
            f"{label} is used for {purpose}.", [fact], min(1.0, 0.2 + score), query, [span]
        )

    # comparisons ------------------------------------------------------------------------------

    def _compare(self, a: Analysis, entities: list[str]) -> Candidate | None:
        """Features compared on one quantity: "Which EBS volume types allow more than 10,000
        IOPS?" (a threshold) or "... has the lowest maximum IOPS?" (a superlative)."""
        query, raw = self._select(templates.FEATURE_LIMITS, entities)
        rows = [LimitRow.of(r, self.catalog) for r in raw]
        wanted = a.compare_dimension or a.dimension
        rows = [
            r
            for r in rows
            if wanted is None or r.dimension == wanted or stems_overlap(a.terms, r.quantity)
        ]
        if not rows:
            return None
        # Keep the quantity the question names best ("IOPS", "volume size").
        overlap = {r.limit: stems_overlap(a.terms, r.quantity) for r in rows}
        top = max(overlap.values())
        rows = [r for r in rows if overlap[r.limit] == top]
        confidence = 0.55 + 0.1 * min(top, 2)
        if a.superlative:
            named = re.search(r"\b(max|min)(?:imum)?\b", a.question, re.I)
            which = named.group(1).lower() if named else None
            pick: Callable[[list[Decimal]], Decimal] = min if a.superlative == "min" else max
            valued = [
                (v, r)
                for r in rows
                if (v := r.first(which, "value", "max", "min", "default")) is not None
            ]
            if not valued:
                return None
            target = pick([v for v, _ in valued])
            winners = [r for v, r in valued if v == target]
            first = winners[0]
            assert first.dimension is not None
            names = join_names(list(dict.fromkeys(r.subject_label for r in winners)))
            described = describe_limit(first.bounds, first.dimension, which, stated=first.stated)
            sentence = f"{names}: {first.quantity} {described}."
        else:
            assert a.compare_value is not None
            bound = "max" if a.compare_op == ">" else "min"
            winners = []
            for r in rows:
                v = r.first(bound, "value")
                if v is not None and (
                    v > a.compare_value if a.compare_op == ">" else v < a.compare_value
                ):
                    winners.append(r)
            if not winners:
                return Candidate("None of them, according to the notes.", [], 0.5, query, [])
            sentence = join_names(list(dict.fromkeys(r.subject_label for r in winners))) + "."
        facts = [f for r in winners for f in r.facts()]
        return Candidate(sentence, facts, confidence, query, [r.span for r in winners])


def _counts(counted: str, row: LimitRow) -> bool:
    """Whether a limit counts the thing a question counts: "450 nodes" counts nodes, "30
    managed node groups" counts groups."""
    if row.dimension not in (Dimension.COUNT, Dimension.COUNT_PER_SECOND):
        return False
    head = counted_head(re.sub(r"^[\d.,\s]+", "", row.stated)) or counted_head(row.quantity)
    return head == counted or counted_head(row.quantity) == counted


def _merge_unkinded(groups: dict[Group, list[RelatedRow]]) -> None:
    """Members listed in the same sentence as a kinded group join it: "RDS supports the next
    database engines: ..., Aurora, ..." puts the service Aurora among the engines."""
    for (entity, pred, kind), members in list(groups.items()):
        if kind is not None:
            continue
        for (e2, p2, k2), kinded in groups.items():
            if (e2, p2) != (entity, pred) or k2 is None:
                continue
            places = _Places(kinded)
            moving = [m for m in members if places.listed_with(m)]
            while moving:  # and the items next to those: the rest of a bulleted list
                kinded += moving
                places.add(moving)
                members[:] = [m for m in members if m not in moving]
                moving = [m for m in members if places.listed_with(m)]
        if not members:
            del groups[(entity, pred, kind)]


class _Places:
    """Where a group's members are stated, to find what is stated with them in constant time:
    the same sentence, or the next or previous item of the same list (3 characters apart)."""

    def __init__(self, rows: list[RelatedRow]) -> None:
        self.spans: set[tuple[str, str | None, int, int]] = set()
        self.starts: set[tuple[str, str | None, int]] = set()
        self.ends: set[tuple[str, str | None, int]] = set()
        self.add(rows)

    def add(self, rows: list[RelatedRow]) -> None:
        for r in rows:
            doc, start, end = r.span
            self.spans.add((doc, r.source.section, start, end))
            self.starts.add((doc, r.source.section, start))
            self.ends.add((doc, r.source.section, end))

    def listed_with(self, r: RelatedRow) -> bool:
        doc, start, end = r.span
        section = r.source.section
        return (doc, section, start, end) in self.spans or any(
            (doc, section, start - gap) in self.ends or (doc, section, end + gap) in self.starts
            for gap in range(4)
        )
