"""The SPARQL 1.1 Service Description of the endpoint, as RDF."""

from __future__ import annotations

import pyoxigraph as ox

from kg import vocab
from kg.sparql.formats import GRAPH_FORMATS, RESULT_FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
SH = vocab.SH
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_PREFIXES = {
    "sd": SD,
    "dcterms": "http://purl.org/dc/terms/",
    "formats": "http://www.w3.org/ns/formats/",
    "sh": SH,
}

# Prefixes every query and update may use without declaring them: the project's own and those
# of the vocabularies its graph uses. A query's own PREFIX wins over these.
PREDECLARED: dict[str, str] = {
    **vocab.PREFIXES,
    "qudt": "http://qudt.org/schema/qudt/",
    "sh": vocab.SH,
}

_RDF_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def service_description(endpoint: str, *, updates: bool) -> list[ox.Triple]:
    """``endpoint`` is the absolute URL of /sparql; ``updates`` whether SPARQL Update is on."""
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")

    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    triples = [
        ox.Triple(service, _RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        ox.Triple(
            service,
            sd("defaultEntailmentRegime"),
            ox.NamedNode("http://www.w3.org/ns/entailment/Simple"),
        ),
        ox.Triple(
            service,
            ox.NamedNode("http://purl.org/dc/terms/title"),
            ox.Literal("cloudkg SPARQL endpoint", language="en"),
        ),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, _RDF_TYPE, sd("Graph")),
    ]
    if updates:
        triples.append(ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")))
    # The predeclared prefixes, as SHACL prefix declarations (the vocabulary RDF tools read).
    for name, iri in sorted(PREDECLARED.items()):
        declaration = ox.BlankNode(f"prefix-{name}")
        triples += [
            ox.Triple(service, ox.NamedNode(SH + "declare"), declaration),
            ox.Triple(declaration, ox.NamedNode(SH + "prefix"), ox.Literal(name)),
            ox.Triple(
                declaration,
                ox.NamedNode(SH + "namespace"),
                ox.Literal(iri, datatype=ox.NamedNode(vocab.XSD + "anyURI")),
            ),
        ]
    for fmt in (*RESULT_FORMATS, *GRAPH_FORMATS):
        triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(fmt.iri)))
    return triples


def serialize_description(endpoint: str, fmt: str, *, updates: bool) -> bytes:
    """The description in one of the graph formats (by name: "turtle", "jsonld", ...)."""
    body = ox.serialize(
        service_description(endpoint, updates=updates),
        format=_RDF_FORMATS[fmt],
        prefixes=_PREFIXES if fmt in ("turtle", "rdfxml") else None,
    )
    return body or b""
