"""Graph candidates: the SPARQL templates an analysed question calls for, run for its linked
entities, each result turned into a candidate answer (a sentence, its facts, a confidence).

``GraphCandidates.for_question`` picks by intent: limits (scored by ``score.limit_score``),
lists of related things (``score.group_score``), "what supports X", "which service is used
to ...", and comparisons across features.
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
from kg.answer.analysis import Analysis, stems_overlap
from kg.answer.catalog import Catalog
from kg.answer.compose import describe_limit, join_names, limit_sentence, plural
from kg.answer.rows import PREDICATE_LABELS, LimitRow, RelatedRow, Span, source_of, value
from kg.answer.score import Group, counts, group_score, limit_score
from kg.answer.weights import Thresholds, Weights
from kg.graph.base import GraphStore
from kg.model import Fact, Source, Term
from kg.text.phrases import item_name
from kg.text.units import Dimension
from kg.text.words import norm_key

_VERBS = {
    "supports": "supports",
    "hasFeature": "has",
    "chargedBy": "is charged by",
    "replicatesTo": "replicates to",
    "worksWith": "works with",
    "inCategory": "is in",
}


class Similarity(Protocol):
    def similarity(self, query_vector: np.ndarray, spans: Sequence[Span]) -> list[float]:
        """Cosine between the query and the closest sentence in each span."""
        ...


@dataclass
class Candidate:
    """One way to answer: a sentence, the facts behind it, how sure we are."""

    answer: str
    facts: list[Fact]
    confidence: float
    sparql: str | None = None
    spans: list[Span] = field(default_factory=list)
    kind: str = "graph"  # which reading produced it: limit, related, enumeration, ...

    @classmethod
    def of_kind(
        cls,
        kind: str,
        answer: str,
        facts: list[Fact],
        confidence: float,
        sparql: str | None = None,
        spans: list[Span] | None = None,
    ) -> Candidate:
        return cls(answer, facts, confidence, sparql, spans or [], kind)


class GraphCandidates:
    """Candidate answers from one build's graph; template results are cached per build."""

    def __init__(
        self,
        store: GraphStore,
        catalog: Catalog,
        retriever: Similarity,
        weights: Weights,
        thresholds: Thresholds,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.retriever = retriever
        self.weights = weights
        self.thresholds = thresholds
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, tuple[str, ...]], tuple[str, list[dict[str, Any]]]] = {}

    def select(self, template: str, entities: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
        """Run a template for some entities, cached per build. The entities (catalog IRIs,
        never question text) are bound by a VALUES block, which Oxigraph joins first; its
        variable substitution plans the rest of the query before binding and is far slower."""
        key = (template, tuple(entities))
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            query = templates.shown(template, list(entities)) if entities else template
            # One order whatever the store: a SPARQL server returns rows in its own order
            # (Virtuoso's differs from Oxigraph's), and ties downstream keep the row order.
            rows = sorted(self.store.select(query), key=_row_key)
            cached = (query, rows)
            with self._lock:
                if len(self._cache) > 4096:
                    self._cache.clear()
                self._cache[key] = cached
        return cached

    def for_question(self, a: Analysis, qvec: np.ndarray) -> Candidate | None:
        entities = list(
            dict.fromkeys(
                e.iri for e in a.entities if e.kind in ("service", "feature", "topic", "category")
            )
        )
        if not entities:
            return None
        if a.intent == "compare":
            return self.compare(a, entities)
        if a.intent == "relation" and a.relation == "usedFor":
            return self.used_for(a, qvec) or self.lists(a, entities)
        if a.supported:
            found = self.supported_by(a)
            if found is not None:
                return found
        if a.intent == "list" and a.relation in (None, "supports"):
            # Related things by relation and kind, or a list as the notes enumerate it.
            related, enumerated = self.lists(a, entities), self.enumerated(a, entities, qvec)
            found = max(
                (c for c in (related, enumerated) if c), key=lambda c: c.confidence, default=None
            )
            if related and enumerated and related.confidence == enumerated.confidence:
                # A tie over one owner goes to the list as the notes enumerate it: it keeps
                # the services among its items ("... stop rule set, WorkMail"), which no
                # feature group holds. A named feature's own group stays more specific.
                owners = {c.facts[0].subject.iri for c in (related, enumerated) if c.facts}
                found = enumerated if len(owners) == 1 else related
            named = {e.iri for e in a.entities if e.kind == "service"}
            if related and enumerated and named:
                # A list of a service the question names beats one of a service it does not:
                # Front Door's "Premium only features", not Event Hubs' "Premium tier".
                ours = [c for c in (related, enumerated) if self._of_named(c, named)]
                found = ours[0] if len(ours) == 1 else found
            return found or self.limits(a, entities, qvec)
        if a.intent in ("list", "pricing", "relation"):
            return self.lists(a, entities) or self.limits(a, entities, qvec)
        if a.intent == "limit":
            return self.limits(a, entities, qvec)
        # A general question about a named thing may still ask for an amount.
        if a.dimension is None and a.bound is None:
            return None
        found = self.limits(a, entities, qvec)
        return (
            found
            if found is not None and found.confidence >= self.thresholds.general_limit
            else None
        )

    def _of_named(self, c: Candidate, services: set[str]) -> bool:
        """Whether what a candidate is about belongs to a service the question names."""
        subject = c.facts[0].subject.iri if c.facts else None
        return subject is not None and bool(self.catalog.owner_services(subject) & services)

    # limits -------------------------------------------------------------------------------------

    def scored_limits(
        self, a: Analysis, entities: list[str], qvec: np.ndarray
    ) -> list[tuple[float, LimitRow]]:
        """Every limit of the entities and their features, scored, best first; none when the
        question counts a thing no limit counts ("How many consumer groups ...?")."""
        _, own = self.select(templates.LIMITS, entities)
        _, of_features = self.select(templates.FEATURE_LIMITS, entities)
        rows = [LimitRow.of(r, self.catalog) for r in [*own, *of_features]]
        if not rows or (a.counted and not any(counts(a.counted, r, a.initials) for r in rows)):
            return []
        sims = self.retriever.similarity(qvec, [r.span for r in rows])
        linked = {e.iri: e.score for e in a.entities}
        scored = [
            (limit_score(a, r, sim, linked, self.weights), r)
            for r, sim in zip(rows, sims, strict=True)
        ]
        return sorted(scored, key=lambda t: -t[0])

    def limits(self, a: Analysis, entities: list[str], qvec: np.ndarray) -> Candidate | None:
        scored = self.scored_limits(a, entities, qvec)
        return self.limit_candidate(a, entities, scored, 0) if scored else None

    def limit_candidate(
        self, a: Analysis, entities: list[str], scored: list[tuple[float, LimitRow]], at: int
    ) -> Candidate | None:
        """The answer a scored limit gives, sure by its score and its lead over the others."""
        w = self.weights
        best_score, row = scored[at]
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
        others = [s for i, (s, _) in enumerate(scored) if i != at]
        margin = best_score - (max(others) if others else 0.0)
        confidence = max(0.0, min(1.0, best_score + w.limit_margin * min(margin, 0.5)))
        template = templates.LIMITS if row.subject == row.entity else templates.FEATURE_LIMITS
        query = templates.shown(template, entities)  # the one that found it
        return Candidate.of_kind("limit", sentence, row.facts(), confidence, query, [row.span])

    # lists ------------------------------------------------------------------------------------

    def lists(self, a: Analysis, entities: list[str]) -> Candidate | None:
        w = self.weights
        queries: dict[str, str] = {}
        raw: list[dict[str, Any]] = []
        for predicate, template in templates.RELATED.items():
            queries[predicate], rows = self.select(template, entities)
            raw += rows
        groups: dict[Group, list[RelatedRow]] = {}
        for row in (RelatedRow.of(r, self.catalog) for r in raw):
            if row.predicate == "hasFeature" and row.kind is None and a.intent != "list":
                continue
            kind = row.kind if row.predicate in ("hasFeature", "supports") else None
            groups.setdefault((row.entity, row.predicate, kind), []).append(row)
        if not groups:
            return None
        merge_unkinded(groups)
        order = {iri: i for i, iri in enumerate(entities)}
        kinds = {e.iri: e.kind for e in a.entities}
        score, (entity, pred, kind), members = max(
            ((group_score(a, g, m, order, kinds, self.weights), g, m) for g, m in groups.items()),
            key=lambda t: t[0],
        )
        if kind is None and pred == "hasFeature":
            # A generic list ("features") narrows to the members the question's words name.
            named = [m for m in members if stems_overlap(a.terms, m.label) > 0]
            if named:
                members, score = named, score + w.named_members
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
        confidence = max(0.0, min(1.0, w.list_base + score))
        return Candidate.of_kind(
            "related", sentence, facts, confidence, queries[pred], [m.span for m in members]
        )

    def enumerated(self, a: Analysis, entities: list[str], qvec: np.ndarray) -> Candidate | None:
        """A list the notes enumerate for a named entity (kg.extract.enumerations), the one
        whose lead, or whose items with their headings, is closest in meaning to the
        question; its items in the notes' order."""
        w = self.weights
        lists: dict[str, list[dict[str, Any]]] = {}
        queries: dict[str, str] = {}
        for template in (templates.LISTS, templates.FEATURE_LISTS):
            query, rows = self.select(template, entities)
            for r in rows:
                lists.setdefault(r["list"].value, []).append(r)
                queries[r["list"].value] = query
        if not lists:
            return None
        order = {iri: i for i, iri in enumerate(entities)}
        best: tuple[float, str] | None = None
        keys = list(lists)
        leads = [_span(lists[k][0], "ls", "le") for k in keys]
        firsts = [
            min((_span(r, "start", "end") for r in lists[k]), key=lambda s: s[1]) for k in keys
        ]
        lead_sims = self.retriever.similarity(qvec, leads)
        item_sims = self.retriever.similarity(qvec, firsts)
        words = a.asked
        for key, lead_sim, item_sim in zip(keys, lead_sims, item_sims, strict=True):
            rows = lists[key]
            lead, kind = rows[0]["lead"].value, rows[0]["kind"].value if "kind" in rows[0] else ""
            score = w.enum_similarity * max(lead_sim, item_sim)
            score += w.enum_lead_word * min(stems_overlap(words, f"{lead} {kind}"), 2)
            if a.head and stems_overlap(set(a.head.split()), f"{lead} {kind}"):
                score += w.head_in_kind
            score += (
                w.entity_order
                * (len(order) - order.get(rows[0]["entity"].value, 0))
                / max(1, len(order))
            )
            if best is None or score > best[0]:
                best = (score, key)
        assert best is not None
        score, key = best
        rows = sorted(lists[key], key=lambda r: (r["doc"].value, int(r["start"].value)))
        owner = rows[0]["owner"].value
        owner_label = self.catalog.label(owner)
        first = {r["item"].value: r for r in reversed(rows)}  # each item's first row
        items = list(dict.fromkeys(r["item"].value for r in rows))
        names = list(dict.fromkeys(self._item_as_written(first[i]) for i in items))
        lead = rows[0]["lead"].value
        sentence = f"{owner_label} — {lead}: {join_names(names)}."
        facts = [
            Fact(
                Term(owner_label, owner),
                Term(PREDICATE_LABELS["hasFeature"], vocab.CKG + "hasFeature"),
                Term(self.catalog.label(r["item"].value), r["item"].value),
                source_of(r),
            )
            for r in rows
        ]
        confidence = max(0.0, min(1.0, w.enum_base + score))
        spans = [(r["doc"].value, int(r["start"].value), int(r["end"].value)) for r in rows]
        return Candidate.of_kind("enumeration", sentence, facts, confidence, queries[key], spans)

    def supported_by(self, a: Analysis) -> Candidate | None:
        """ "Which FSx flavour supports SMB?": what supports the named thing (or a thing named
        by it and one more word, "SMB protocol"), among the things the question names."""
        w = self.weights
        objects = {e.iri for e in a.supported}
        for e in a.supported:
            objects |= {x.iri for x in self.catalog.extended(e.label)}
        query, rows = self.select(templates.SUPPORTED_BY, sorted(objects))
        among = [set(norm_key(e.label).split()) for e in a.among]
        among_owners = {
            o
            for e in a.among
            if e.start >= 0 and (entry := self.catalog.entries.get(e.iri)) is not None
            for o in (entry.owners or {e.iri})
        }
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
            ) or bool(entry.owners & among_owners)  # a tier of the named plan's service
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
        return Candidate.of_kind(
            "supported_by",
            f"{join_names(names)} {verb} {asked}.",
            facts,
            w.supported_by,
            query,
            spans,
        )

    def _as_written(self, row: RelatedRow) -> str:
        return self._written(row.source.text, row.object, row.label)

    def _item_as_written(self, row: dict[str, Any]) -> str:
        """An enumerated item as its list item writes it ("Virtual network gateway", "Route 53
        hosted zones"), when the catalog knows it by another name; else as ``_written``."""
        iri, text = row["item"].value, value(row, "text") or ""
        label = self.catalog.label(iri)
        if text.lstrip().startswith("|"):
            return self._written(text, iri, label)
        entry = self.catalog.entries.get(iri)
        name = item_name(text)
        names = {label, *(entry.names if entry else ())}
        if name and name != label and any(n.lower() in name.lower() for n in names):
            return name
        return self._written(text, iri, label)

    def _written(self, text: str, iri: str, label: str) -> str:
        """The name as the source sentence writes it ("an Elastic Load Balancer" rather than
        the lexicon's "Elastic Load Balancing"), else the label."""
        entry = self.catalog.entries.get(iri)
        if entry is None or label.lower() in text.lower():
            return label
        if text.lstrip().startswith("|"):
            # A table's row is named by its first cell as the table writes it: "LoadBalancer"
            # (a Kubernetes Service type), not the catalog's "Cloud Load Balancing".
            return text.strip().strip("|").split("|")[0].strip(" *`") or label
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

    def used_for(self, a: Analysis, qvec: np.ndarray) -> Candidate | None:
        """ "Which service is used to troubleshoot Lambda functions?": the purposes the notes
        state, closest to the question, preferring one tied to a service the question names."""
        w = self.weights
        query, rows = self.select(templates.USED_FOR, [])
        named = {e.iri for e in a.entities}
        labels = [self.catalog.entries[n].label.lower() for n in named if n in self.catalog.entries]
        spans = [(r["doc"].value, int(r["start"].value), int(r["end"].value)) for r in rows]
        best: tuple[float, dict[str, Any]] | None = None
        for row, sim in zip(rows, self.retriever.similarity(qvec, spans), strict=True):
            if row["subject"].value in named:
                continue
            score = w.purpose_word * min(stems_overlap(a.terms, row["purpose"].value), 2)
            score += w.used_source_word * min(stems_overlap(a.terms, row["text"].value), 3)
            text = row["text"].value.lower()
            works_with = row["with"].value if "with" in row else None
            if works_with in named or any(n in text for n in labels):
                score += w.used_named  # tied to a service the question names
            score += w.used_similarity * max(0.0, sim)
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
        return Candidate.of_kind(
            "used_for",
            f"{label} is used for {purpose}.",
            [fact],
            min(1.0, w.used_base + score),
            query,
            [span],
        )

    # comparisons ------------------------------------------------------------------------------

    def compare(self, a: Analysis, entities: list[str]) -> Candidate | None:
        """Features compared on one quantity: "Which EBS volume types allow more than 10,000
        IOPS?" (a threshold) or "... has the lowest maximum IOPS?" (a superlative)."""
        w = self.weights
        query, raw = self.select(templates.FEATURE_LIMITS, entities)
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
        confidence = w.compare_base + w.compare_word * min(top, 2)
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
                return Candidate.of_kind(
                    "compare",
                    "None of them, according to the notes.",
                    [],
                    w.compare_none,
                    query,
                    [],
                )
            sentence = join_names(list(dict.fromkeys(r.subject_label for r in winners))) + "."
        facts = [f for r in winners for f in r.facts()]
        return Candidate.of_kind(
            "compare", sentence, facts, confidence, query, [r.span for r in winners]
        )


def _start(span: Span) -> int:
    return span[1]


def _span(row: dict[str, Any], start: str, end: str) -> Span:
    return (row["doc"].value, int(row[start].value), int(row[end].value))


def merge_unkinded(groups: dict[Group, list[RelatedRow]]) -> None:
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


def _row_key(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A row's variables and the lexical forms of their values (Virtuoso keeps a number's
    value, not its datatype: ``"70"^^xsd:decimal`` comes back as an integer)."""
    return tuple(sorted((name, term.value) for name, term in row.items()))
