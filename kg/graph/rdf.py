"""Extraction -> RDF quads, one named graph per source passage.

Provenance model (see docs/provenance.md): every fact triple is stored in the named graph
whose IRI is the passage it was read from, and that passage is described in its document's
graph (``ckg:text``, ``ckg:startChar`` ...). Every extracted node also carries
``prov:wasDerivedFrom`` its passages, so simple queries need no ``GRAPH`` clause. A triple is
stored once per document, under the first passage that states it: querying the union of
all graphs then returns each fact once (per document).

Reference data about services the notes name (labels, aliases, categories from
``ontology/services/``) goes to the lexicon graph; the vocabulary to the ontology graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pyoxigraph as ox

from kg import vocab
from kg.extract.context import Entity, Extraction
from kg.extract.limits import LimitFact
from kg.lexicon import Lexicon
from kg.model import Evidence
from kg.settings import ONTOLOGY_DIR
from kg.text.words import squash

RDF_TYPE = ox.NamedNode(vocab.RDF + "type")
LABEL = ox.NamedNode(vocab.RDFS + "label")
ALT = ox.NamedNode(vocab.SKOS + "altLabel")
CLOSE_MATCH = ox.NamedNode(vocab.SKOS + "closeMatch")
DERIVED = ox.NamedNode(vocab.PROV + "wasDerivedFrom")
XSD_DECIMAL = ox.NamedNode(vocab.XSD + "decimal")
XSD_INTEGER = ox.NamedNode(vocab.XSD + "integer")

_CLASSES = {
    "service": "Service",
    "feature": "Feature",
    "topic": "Topic",
    "pricing": "PricingDimension",
    "location": "Location",
    "category": "Category",
}


def ckg(local: str) -> ox.NamedNode:
    return ox.NamedNode(vocab.CKG + local)


def decimal_literal(value: Decimal) -> ox.Literal:
    """xsd:decimal in its plain lexical form (never an exponent: 5E+12 -> "5000000000000")."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".") or "0"
    return ox.Literal(text, datatype=XSD_DECIMAL)


class _Quads:
    """Collects quads, keeping each triple once per document (under its first passage)."""

    def __init__(self) -> None:
        self.quads: list[ox.Quad] = []
        self._seen: set[ox.Triple] = set()

    def add(
        self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal, g: ox.NamedNode
    ) -> None:
        triple = ox.Triple(s, p, o)
        if triple not in self._seen:
            self._seen.add(triple)
            self.quads.append(ox.Quad(s, p, o, g))


def document_quads(x: Extraction) -> list[ox.Quad]:
    """Every quad of one document: its description, its passages and the facts they state."""
    doc = x.document
    doc_node = ox.NamedNode(vocab.document_iri(doc.id))
    out = _Quads()
    out.add(doc_node, RDF_TYPE, ckg("Document"), doc_node)
    out.add(doc_node, LABEL, ox.Literal(doc.id), doc_node)
    out.add(doc_node, ckg("path"), ox.Literal(doc.id), doc_node)
    out.add(doc_node, ckg("contentHash"), ox.Literal(doc.sha256), doc_node)
    if x.provider:
        out.add(doc_node, ckg("provider"), ox.NamedNode(x.provider), doc_node)

    passages: dict[Evidence, ox.NamedNode] = {}

    def passage(ev: Evidence) -> ox.NamedNode:
        node = passages.get(ev)
        if node is None:
            node = ox.NamedNode(vocab.passage_iri(doc.id, ev.start, ev.end))
            passages[ev] = node
            out.add(node, RDF_TYPE, ckg("Passage"), doc_node)
            out.add(node, ckg("document"), doc_node, doc_node)
            section = x.section_title(ev)
            if section:
                out.add(node, ckg("section"), ox.Literal(section), doc_node)
            out.add(
                node, ckg("startChar"), ox.Literal(str(ev.start), datatype=XSD_INTEGER), doc_node
            )
            out.add(node, ckg("endChar"), ox.Literal(str(ev.end), datatype=XSD_INTEGER), doc_node)
            out.add(node, ckg("text"), ox.Literal(squash(doc.text[ev.start : ev.end])), doc_node)
        return node

    for ent in x.entities.values():
        if not ent.evidence:
            continue
        node = ox.NamedNode(ent.iri)
        for ev in ent.evidence:
            g = passage(ev)
            out.add(node, DERIVED, g, g)
        g = passage(ent.evidence[0])
        if ent.known:
            # A lexicon service, component or category: described once, in the lexicon graph;
            # here only what this note adds (a kind, a name as the note writes it).
            if ent.feature_kind and ent.kind == "feature":
                out.add(node, ckg("featureKind"), ox.Literal(ent.feature_kind), g)
            for alias in sorted(ent.aliases - ent.reference_names):
                out.add(node, ALT, ox.Literal(alias), g)
        else:
            _describe(out, node, ent, g)
        if ent.definition is not None:
            text, ev = ent.definition
            out.add(node, ckg("definition"), ox.Literal(text), passage(ev))

    for rel in x.relations:
        g = passage(rel.evidence)
        obj: ox.NamedNode | ox.Literal = (
            ox.Literal(rel.object) if rel.literal else ox.NamedNode(rel.object)
        )
        out.add(ox.NamedNode(rel.subject), ckg(rel.predicate), obj, g)

    minted: dict[str, int] = {}
    for limit in x.limits:
        assert isinstance(limit, LimitFact)
        iri = limit.iri(doc.id)
        minted[iri] = minted.get(iri, 0) + 1
        if minted[iri] > 1:  # two amounts of one quantity in one sentence ("1 year or 3 years")
            iri = f"{iri}-{minted[iri]}"
        _limit(out, limit, ox.NamedNode(iri), passage(limit.evidence))
    return out.quads


def _describe(out: _Quads, node: ox.NamedNode, ent: Entity, g: ox.NamedNode) -> None:
    out.add(node, RDF_TYPE, ckg(_CLASSES[ent.kind]), g)
    out.add(node, LABEL, ox.Literal(ent.label), g)
    for alias in sorted(ent.aliases):
        if alias.lower() != ent.label.lower():
            out.add(node, ALT, ox.Literal(alias), g)
    if ent.feature_kind and ent.kind == "feature":
        out.add(node, ckg("featureKind"), ox.Literal(ent.feature_kind), g)
    if ent.provider and ent.kind == "service":
        out.add(node, ckg("provider"), ox.NamedNode(ent.provider), g)


def _limit(out: _Quads, limit: LimitFact, node: ox.NamedNode, g: ox.NamedNode) -> None:
    out.add(ox.NamedNode(limit.subject), ckg("hasLimit"), node, g)
    out.add(node, RDF_TYPE, ckg("Limit"), g)
    out.add(node, ckg("quantity"), ox.Literal(limit.quantity), g)
    for key, value in limit.bounds().items():
        out.add(node, ckg(f"{key}Value" if key != "value" else "value"), decimal_literal(value), g)
    out.add(node, ckg("unit"), ox.NamedNode(limit.unit), g)
    out.add(node, ckg("statedAs"), ox.Literal(limit.stated_as), g)
    if limit.per:
        out.add(node, ckg("per"), ox.Literal(limit.per), g)
    out.add(node, DERIVED, g, g)


def lexicon_quads(lexicon: Lexicon, iris: Iterable[str]) -> list[ox.Quad]:
    """Labels, aliases and categories of the known services, components and categories the
    notes name: described once here, not in every note that names them (a triple repeated in
    many graphs would come back once per graph from the union default graph)."""
    g = ox.NamedNode(vocab.LEXICON_GRAPH)
    out = _Quads()
    categories: set[str] = set()
    providers: set[str] = set()
    described = set(iris)
    for iri in sorted(described):
        entry = lexicon.entries.get(iri)
        if entry is None:
            continue
        node = ox.NamedNode(iri)
        if entry.kind == "category":
            categories.add(iri)
            continue
        if entry.kind == "provider":
            providers.add(iri)
            continue
        out.add(node, RDF_TYPE, ckg("Service" if entry.kind == "service" else "Feature"), g)
        out.add(node, LABEL, ox.Literal(entry.label), g)
        for alias in lexicon.names(entry):
            if alias != entry.label:
                out.add(node, ALT, ox.Literal(alias), g)
        if entry.part_of:
            out.add(node, ckg("partOf"), ox.NamedNode(entry.part_of), g)
        for cat in entry.categories:
            out.add(node, ckg("inCategory"), ox.NamedNode(cat), g)
            categories.add(cat)
        if entry.provider:
            out.add(node, ckg("provider"), ox.NamedNode(entry.provider), g)
            providers.add(entry.provider)
        for other in entry.equivalents:
            if other in described:  # both named in the notes; the rest is reference data
                out.add(node, CLOSE_MATCH, ox.NamedNode(other), g)
    for provider in sorted(providers):
        entry = lexicon.entries.get(provider)
        if entry is not None:
            out.add(ox.NamedNode(provider), RDF_TYPE, ckg("Provider"), g)
            out.add(ox.NamedNode(provider), LABEL, ox.Literal(entry.label), g)
    for cat in sorted(categories):
        entry = lexicon.entries.get(cat)
        if entry is not None:
            out.add(ox.NamedNode(cat), RDF_TYPE, ckg("Category"), g)
            out.add(ox.NamedNode(cat), LABEL, ox.Literal(entry.label), g)
    return out.quads


def ontology_quads() -> list[ox.Quad]:
    g = ox.NamedNode(vocab.ONTOLOGY_GRAPH)
    path = ONTOLOGY_DIR / "cloudkg.ttl"
    return [
        ox.Quad(t.subject, t.predicate, t.object, g)
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
    ]


def build_quads(build_id: str, documents: int) -> list[ox.Quad]:
    g = ox.NamedNode(vocab.BUILD_GRAPH)
    node = ox.NamedNode(vocab.ID + "build")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        ox.Quad(node, RDF_TYPE, ckg("Build"), g),
        ox.Quad(node, ckg("buildId"), ox.Literal(build_id), g),
        ox.Quad(
            node, ckg("builtAt"), ox.Literal(now, datatype=ox.NamedNode(vocab.XSD + "dateTime")), g
        ),
        ox.Quad(node, ckg("documentCount"), ox.Literal(str(documents), datatype=XSD_INTEGER), g),
    ]


def iter_entities(x: Extraction) -> Iterator[str]:
    """The IRIs a document names: its entities, and the providers of it and its services."""
    yield from x.entities
    if x.provider:
        yield x.provider
    yield from {e.provider for e in x.entities.values() if e.provider}
