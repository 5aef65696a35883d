"""The remote graph store: any SPARQL 1.1 server, through the one SPARQL client
(``kg.graph.client``: form-encoded POSTs, authentication, bulk loads, server quirks, errors).

Callers get the same pyoxigraph results as from the embedded store: SELECT and ASK answers come
back as ``application/sparql-results+json`` and are read by ``pyoxigraph.parse_query_results``
(``QuerySolutions`` / ``QueryBoolean``); CONSTRUCT and DESCRIBE answers come back as N-Triples
and are turned into a real ``QueryTriples`` through a throw-away in-memory pyoxigraph store, so
``isinstance(result, ox.QueryTriples)`` holds as it does for the embedded store.

Choices, and why:

* **Bindings** are never spliced as text. Each bound term is serialised by pyoxigraph's own
  ``str()`` (N-Triples syntax, which escapes quotes, backslashes, newlines and control
  characters) and the row goes into a ``VALUES`` block placed first inside the outermost
  ``WHERE`` group. There it is joined before anything else in the group, so a ``FILTER`` or
  ``GROUP BY`` sees the bound value, as with pyoxigraph's ``substitutions``. A query whose
  ``WHERE`` body is a bare sub-select gets the block around it; ``CONSTRUCT WHERE { }`` and
  ``DESCRIBE`` without ``WHERE`` get a trailing ``VALUES`` clause. Only the placement depends
  on the light scan of the query text; what is inserted is always escaped terms, so a scan that
  guesses wrong can make a query fail, never inject. Blank nodes cannot be bound (``VALUES``
  does not allow them) and raise ``ValueError``.
* **Union default graph.** With neither ``default_graph`` nor ``named_graphs`` the query goes
  without dataset parameters and the server's default graph answers, which must be configured
  as the union of all graphs (Oxigraph: ``serve --union-default-graph``; Fuseki:
  ``tdb2:unionDefaultGraph true``; Virtuoso and GraphDB: always). ``check_union_default_graph``
  checks it, with a probe triple when the store holds nothing yet. When either is given they
  are sent as ``default-graph-uri`` / ``named-graph-uri`` and the server applies protocol
  semantics: a part left out is empty (the embedded store instead keeps the union or all named
  graphs for the part left out; see docs/scaling.md).
* **Replacing a document** lists its graphs (``SELECT DISTINCT ?g WHERE { GRAPH ?g { } }``
  filtered with ``STRSTARTS``; ``{ ?s ?p ?o }`` on Virtuoso, which lists no graph for ``{ }``)
  and drops each with ``DROP SILENT GRAPH``, in the same update request as the first
  ``INSERT DATA`` quads (``SparqlClient.insert``): a document of up to ``batch_size`` graphs and
  quads is replaced by one request, which Oxigraph applies as one transaction. **Replacing a
  graph** (the ontology, the lexicon) is one Graph Store Protocol ``PUT`` where the server
  offers one, else the same drop and inserts.
* **Errors.** Every request has a timeout (connect ``connect_timeout``, read
  ``KG_SPARQL_TIMEOUT``). A server that is down, refuses, times out or answers with an error
  status raises ``GraphStoreError`` (``kg.graph.client.ServerError``) naming the URL in one
  line; a 400 (the server could not parse the query or update) raises ``SyntaxError`` with the
  server's message, as the embedded store does. Pooled connections the server closed are
  dropped by httpx, so the same store object works again once a restarted server answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pyoxigraph as ox

from kg import vocab
from kg.graph.base import GraphStore, GraphStoreError, QueryResult, Term
from kg.graph.client import RequestRejected, SparqlClient, client_options
from kg.settings import Settings
from kg.sparql import scanner

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_ACCEPT_ANY = f"{RESULTS_JSON}, {N_TRIPLES};q=0.9, application/sparql-results+xml;q=0.5"
UNION_HELP = (
    "start Oxigraph with --union-default-graph or set tdb2:unionDefaultGraph on Fuseki "
    "(docs/scaling.md)"
)


class SparqlStore(GraphStore):
    """A SPARQL 1.1 server: queries go to ``query_url``, updates to ``update_url``.

    Without an ``update_url`` the store is read-only and writes raise ``GraphStoreError``.
    Keyword arguments go to ``SparqlClient`` (credentials, ``auth``, ``server``, timeouts,
    ``batch_size``, and ``transport``, which tests replace with ``httpx.MockTransport``).
    """

    name = "sparql"

    def __init__(self, query_url: str, update_url: str | None = None, **client: Any) -> None:
        self.client = SparqlClient(query_url, update_url, **client)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SparqlStore:
        """The store the settings describe; ``overrides`` replace client arguments."""
        query_url, update_url, options = client_options(settings)
        return cls(query_url, update_url, **{**options, **overrides})

    @property
    def query_url(self) -> str:
        return self.client.query_url

    @property
    def update_url(self) -> str | None:
        return self.client.update_url

    @property
    def timeout(self) -> float:
        return self.client.timeout

    def __repr__(self) -> str:
        return f"SparqlStore({self.query_url!r}, {self.update_url!r})"

    # The GraphStore interface.

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> QueryResult:
        scan = scan_query(sparql)
        if bindings:
            self.client.check_terms(bindings.values())
            sparql = bind_values(sparql, bindings, scan)
        params = [("default-graph-uri", g) for g in default_graph or ()]
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        accept = {"results": RESULTS_JSON, "graph": N_TRIPLES}.get(scan.kind or "", _ACCEPT_ANY)
        try:
            response, body = self.client.fetch(sparql, accept=accept, params=params)
        except RequestRejected as exc:
            raise SyntaxError(str(exc)) from None
        return self._result(response, body, scan.kind)

    def update(self, sparql: str) -> None:
        try:
            self.client.update(sparql)
        except RequestRejected as exc:
            raise SyntaxError(str(exc)) from None

    def replace_document(self, doc_iri: str, quads: Iterable[ox.Quad]) -> None:
        self._replace(self.graphs_of(doc_iri), quads)

    def replace_graph(self, graph_iri: str, quads: Iterable[ox.Quad]) -> None:
        quads = list(quads)
        if not self.client.put_graph(graph_iri, quads):
            self._replace([graph_iri], quads)

    def remove_document(self, doc_iri: str) -> None:
        self._replace(self.graphs_of(doc_iri), ())

    def close(self) -> None:
        self.client.close()

    # Helpers.

    def graphs_of(self, doc_iri: str) -> list[str]:
        """The IRIs of the named graphs of one document: its own and those under ``doc_iri/``."""
        rows = self.select(
            f"SELECT DISTINCT ?g WHERE {{ {self.client.server.graph_listing} "
            f"FILTER(isIRI(?g) && (STR(?g) = {ox.Literal(doc_iri)} || "
            f"STRSTARTS(STR(?g), {ox.Literal(doc_iri + '/')}))) }}"
        )
        return [row["g"].value for row in rows]

    def check_union_default_graph(self, *, probe: bool = False) -> None:
        """Raise GraphStoreError when a stored named-graph triple is missing from the default
        graph, i.e. the server was not configured to make its default graph the union.

        With ``probe`` a store that holds no triple yet is checked with one written into a
        graph of its own and dropped again, so that a build can check before it writes."""
        rows = self.select(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            "FILTER(isIRI(?s) && (isIRI(?o) || isLiteral(?o))) } LIMIT 1"
        )
        if rows:
            if not self.ask("ASK { ?s ?p ?o }", **rows[0]):
                self._not_the_union()
            return
        if not probe:
            return
        graph = ox.NamedNode(f"{vocab.GRAPH}probe-{uuid.uuid4().hex}")
        triple = (graph, ox.NamedNode(vocab.RDF + "type"), ox.NamedNode(vocab.CKG + "Probe"))
        self.update(f"INSERT DATA {{ GRAPH {graph} {{ {' '.join(map(str, triple))} }} }}")
        try:
            if not self.ask("ASK { ?s ?p ?o }", s=triple[0], p=triple[1], o=triple[2]):
                self._not_the_union()
        finally:
            self.update(f"DROP SILENT GRAPH {graph}")

    def _not_the_union(self) -> None:
        raise GraphStoreError(
            f"the default graph of {self.query_url} is not the union of all graphs: {UNION_HELP}"
        )

    def _replace(self, graphs: list[str], quads: Iterable[ox.Quad]) -> None:
        try:
            self.client.insert(
                quads, before=[f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in graphs]
            )
        except RequestRejected as exc:
            raise SyntaxError(str(exc)) from None

    def _result(self, response: httpx.Response, body: bytes, kind: str | None) -> QueryResult:
        """Parse an answer by its content type; the query form settles the ambiguous ones
        (``text/plain``, ``application/json``) and a missing one."""
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        results = ox.QueryResultsFormat.from_media_type(media) if media else None
        graph = ox.RdfFormat.from_media_type(media) if media else None
        try:
            if kind == "graph" or (kind is None and results is None and graph is not None):
                triples = ox.Store()
                triples.load(body, graph or ox.RdfFormat.N_TRIPLES)
                return triples.query("CONSTRUCT WHERE { ?s ?p ?o }")
            return ox.parse_query_results(body, results or ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as exc:
            raise GraphStoreError(
                f"unreadable answer ({media or 'no content type'}) from {response.url}: {exc}"
            ) from exc


# Reading the shape of a query.

_FORMS = {"SELECT": "results", "ASK": "results", "CONSTRUCT": "graph", "DESCRIBE": "graph"}


@dataclass(frozen=True)
class QueryScan:
    """What a light scan of a query found: its form and where its WHERE group opens."""

    form: str | None  # SELECT, ASK, CONSTRUCT, DESCRIBE; None when the scan cannot tell
    where: int | None = None  # index just after the "{" of the outermost WHERE group
    end: int | None = None  # index of the "}" closing it, when its body is a sub-select

    @property
    def kind(self) -> str | None:
        """ "results" for SELECT/ASK, "graph" for CONSTRUCT/DESCRIBE."""
        return _FORMS.get(self.form or "")


def _tokens(text: str) -> Iterator[tuple[str, str, int]]:
    return ((t.kind, t.text, t.start) for t in scanner.tokens(text))


def scan_query(text: str) -> QueryScan:
    """The query form after the prologue, and the outermost WHERE group's position."""
    tokens = _tokens(text)
    form = None
    for kind, value, _ in tokens:
        if kind == "word" and value.upper() in ("BASE", "PREFIX"):
            continue
        if kind in ("iri", "pname"):
            continue
        if kind == "word" and value.upper() in _FORMS:
            form = value.upper()
        break
    if form is None:
        return QueryScan(None)
    depth = 0  # parentheses: a "{" inside them belongs to an expression (EXISTS)
    after_form = True
    for _, value, start in tokens:
        if form == "CONSTRUCT" and after_form:
            after_form = False
            if value == "{":  # the template: skip it
                _skip_group(tokens)
                continue
            if value.upper() == "WHERE":  # CONSTRUCT WHERE { template and pattern }
                return QueryScan(form)
        if value == "(":
            depth += 1
        elif value == ")":
            depth -= 1
        elif value == "{" and depth == 0:
            body = next(tokens, None)
            if body is not None and body[1].upper() == "SELECT":
                close = _skip_group(tokens, 1)
                return QueryScan(form, start + 1, close)
            return QueryScan(form, start + 1)
    return QueryScan(form)


def _skip_group(tokens: Iterator[tuple[str, str, int]], depth: int = 1) -> int | None:
    """Consume tokens up to the "}" that closes an open group; its index."""
    for _, value, start in tokens:
        if value == "{":
            depth += 1
        elif value == "}":
            depth -= 1
            if depth == 0:
                return start
    return None


def bind_values(text: str, bindings: Mapping[str, Term], scan: QueryScan | None = None) -> str:
    """The query with ``bindings`` joined in as a one-row ``VALUES`` block of escaped terms."""
    names, terms = [], []
    for name, term in bindings.items():
        if isinstance(term, ox.BlankNode):
            raise ValueError(f"cannot bind ?{name} to a blank node")
        if not isinstance(term, ox.NamedNode | ox.Literal):
            raise TypeError(f"cannot bind ?{name} to {type(term).__name__}")
        names.append(str(ox.Variable(name)))  # ValueError for an invalid variable name
        terms.append(str(term))
    values = f"VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}"
    scan = scan or scan_query(text)
    if scan.where is None:
        return f"{text}\n{values}\n"
    if scan.end is not None:  # a bare sub-select body: put it in a group beside the VALUES
        return (
            f"{text[: scan.where]} {values} {{ {text[scan.where : scan.end]}\n}} {text[scan.end :]}"
        )
    return f"{text[: scan.where]} {values}\n{text[scan.where :]}"
