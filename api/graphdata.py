"""What the pages read from the graph through the SPARQL endpoint, with its time limit and
row cap: the services the notes cover, an entity's statements and cross-cloud equivalents,
and an entity's description as RDF. Only the published vocabulary (DESIGN.md) is used, so the
pages do not depend on how the answer engine works inside."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kg import vocab
from kg.sparql import QueryRequest, SparqlEndpoint

MAX_STATEMENTS = 400  # statements of one entity listed on its page
MAX_SERVICES = 500

Binding = dict[str, dict[str, str]]  # SPARQL JSON: variable -> {"type", "value", ...}


async def select(endpoint: SparqlEndpoint, query: str) -> list[Binding]:
    """The bindings of a SELECT. Raises ``kg.sparql.SparqlError`` (GraphUnavailable, ...)."""
    result = await endpoint.executor.query_async(QueryRequest(query, "json", None))
    bindings: list[Binding] = json.loads(result.body)["results"]["bindings"]
    return bindings


async def construct(endpoint: SparqlEndpoint, query: str, graph_format: str) -> bytes:
    result = await endpoint.executor.query_async(QueryRequest(query, None, graph_format))
    return result.body


def _value(row: Binding, name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


@dataclass(frozen=True)
class Service:
    iri: str
    label: str
    passages: int  # how many passages of the notes mention it


async def covered_services(endpoint: SparqlEndpoint) -> list[Service]:
    """The services the notes say something about, most often mentioned first."""
    rows = await select(
        endpoint,
        vocab.sparql_prefixes(("ckg", "rdfs", "prov"))
        + f"""SELECT ?s (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?p) AS ?n) WHERE {{
  ?s a ckg:Service ; prov:wasDerivedFrom ?p ; rdfs:label ?l .
}} GROUP BY ?s ORDER BY DESC(?n) ?label LIMIT {MAX_SERVICES}""",
    )
    return [
        Service(r["s"]["value"], r["label"]["value"], int(r["n"]["value"]))
        for r in rows
        if "label" in r
    ]


@dataclass(frozen=True)
class Equivalent:
    iri: str
    label: str
    provider: str | None


async def equivalents(endpoint: SparqlEndpoint, iri: str) -> list[Equivalent]:
    """Services of other providers that ``skos:closeMatch`` links to ``iri`` (either way)."""
    rows = await select(
        endpoint,
        vocab.sparql_prefixes(("ckg", "rdfs", "skos"))
        + f"""SELECT DISTINCT ?m ?label ?provider WHERE {{
  {{ <{iri}> skos:closeMatch ?m }} UNION {{ ?m skos:closeMatch <{iri}> }}
  FILTER(isIRI(?m) && ?m != <{iri}>)
  OPTIONAL {{ ?m rdfs:label ?label }}
  OPTIONAL {{ ?m ckg:provider ?pv . OPTIONAL {{ ?pv rdfs:label ?pl }} }}
  BIND(COALESCE(?pl, ?pv) AS ?provider)
}} ORDER BY ?provider ?label""",
    )
    seen: dict[str, Equivalent] = {}
    for r in rows:
        m = r["m"]["value"]
        provider = _value(r, "provider")
        if provider and provider.startswith(vocab.ID):
            provider = provider.rsplit("/", 1)[-1]
        seen.setdefault(m, Equivalent(m, _value(r, "label") or m.rsplit("/", 1)[-1], provider))
    return list(seen.values())


@dataclass(frozen=True)
class Term:
    """An RDF term as SPARQL JSON gives it, with a label when it is a labelled IRI."""

    type: str  # "uri", "literal", "bnode", "triple"
    value: str
    label: str | None = None
    datatype: str | None = None
    lang: str | None = None


@dataclass
class Statements:
    """Everything stated about one IRI: ``out`` (predicate, object) and ``incoming``
    (subject, predicate), and its ``types``."""

    out: list[tuple[Term, Term]] = field(default_factory=list)
    incoming: list[tuple[Term, Term]] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return bool(self.out or self.incoming)

    def objects(self, predicate: str) -> list[Term]:
        return [o for p, o in self.out if p.value == predicate]

    def first(self, predicate: str) -> str | None:
        found = self.objects(predicate)
        return found[0].value if found else None


def term(binding: dict[str, str] | None, labels: dict[str, str]) -> Term:
    if binding is None:
        return Term("literal", "")
    value = binding.get("value", "")
    kind = binding.get("type", "literal")
    return Term(
        "literal" if kind == "typed-literal" else kind,
        value if isinstance(value, str) else json.dumps(value),
        labels.get(value) if isinstance(value, str) else None,
        binding.get("datatype"),
        binding.get("xml:lang"),
    )


async def statements(endpoint: SparqlEndpoint, iri: str) -> Statements:
    """What the graph states about ``iri`` and what it states pointing at it (each once,
    whatever the passages it is stated in), with the labels of the IRIs involved."""
    out_rows = await select(
        endpoint,
        f"SELECT DISTINCT ?p ?o WHERE {{ <{iri}> ?p ?o }} LIMIT {MAX_STATEMENTS}",
    )
    in_rows = await select(
        endpoint,
        f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{iri}> FILTER(isIRI(?s)) }} LIMIT {MAX_STATEMENTS}",
    )
    iris = {r["o"]["value"] for r in out_rows if r["o"]["type"] == "uri"}
    iris |= {r["s"]["value"] for r in in_rows}
    labels = await labels_of(endpoint, sorted(iris))
    return Statements(
        out=[(term(r["p"], labels), term(r["o"], labels)) for r in out_rows],
        incoming=[(term(r["s"], labels), term(r["p"], labels)) for r in in_rows],
    )


async def labels_of(endpoint: SparqlEndpoint, iris: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for start in range(0, len(iris), 200):
        values = " ".join(f"<{i}>" for i in iris[start : start + 200])
        rows = await select(
            endpoint,
            vocab.sparql_prefixes(("rdfs",))
            + f"SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?x {{ {values} }} "
            "?x rdfs:label ?l } GROUP BY ?x",
        )
        labels.update({r["x"]["value"]: r["label"]["value"] for r in rows if "label" in r})
    return labels


def describe_query(iri: str) -> str:
    """The CONSTRUCT behind an entity's RDF: its statements, the details of its limits, what
    points at it, and the labels of every resource involved."""
    return (
        vocab.sparql_prefixes(("ckg", "rdfs"))
        + f"""CONSTRUCT {{
  <{iri}> ?p ?o . ?o ?lp ?lo . ?s ?ip <{iri}> . ?n rdfs:label ?nl .
}} WHERE {{
  {{ <{iri}> ?p ?o .
     OPTIONAL {{ ?o ?lp ?lo . FILTER(?p = ckg:hasLimit || isBlank(?o)) }} }}
  UNION {{ ?s ?ip <{iri}> . FILTER(isIRI(?s)) }}
  UNION {{ <{iri}> ?np ?n . FILTER(isIRI(?n)) ?n rdfs:label ?nl }}
  UNION {{ ?n ?np <{iri}> . ?n rdfs:label ?nl }}
}}"""
    )
