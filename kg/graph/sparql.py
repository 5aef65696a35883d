"""The remote graph store: any SPARQL 1.1 server over the SPARQL 1.1 Protocol (HTTP).

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
  ``tdb2:unionDefaultGraph true``; GraphDB: always). ``check_union_default_graph()`` checks it.
  When either is given they are sent as ``default-graph-uri`` / ``named-graph-uri`` and the
  server applies protocol semantics: a part left out is empty (the embedded store instead keeps
  the union or all named graphs for the part left out; see docs/scaling.md).
* **Replacing a document** lists its graphs (``SELECT DISTINCT ?g WHERE { GRAPH ?g { } }``
  filtered with ``STRSTARTS``) and drops each with ``DROP SILENT GRAPH``, in the same update
  request as the first batch of ``INSERT DATA``: a document of up to ``batch_size`` quads is
  replaced by one request, which Oxigraph applies as one transaction. Measured on Oxigraph
  0.5 with 100k triples stored, dropping 500 graphs this way took 190 ms against 300 ms for one
  ``DELETE WHERE { GRAPH ?g {...} FILTER STRSTARTS(...) }``, which scans every graph. Inserts go
  as ``INSERT DATA`` in batches of ``batch_size`` quads (5,000): posting N-Quads to Oxigraph's
  ``/store`` ran at the same ~20k quads/s, so the one pure SPARQL Update path serves every
  server. Quads with blank nodes all travel in one request, because a blank node label only
  means the same node within one request.
* **Errors.** Every request has a timeout (connect ``connect_timeout``, read
  ``KG_SPARQL_TIMEOUT``). A server that is down, refuses, times out or answers with an error
  status raises ``GraphStoreError`` naming the URL; a 400 (the server could not parse the query
  or update) raises ``SyntaxError`` with the server's message, as the embedded store does.
  Pooled connections the server closed are dropped by httpx, so the same store object works
  again once a restarted server answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

import httpx
import pyoxigraph as ox

from kg.graph.base import GraphStore, GraphStoreError, QueryResult, Term
from kg.settings import Settings

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_ACCEPT_ANY = f"{RESULTS_JSON}, {N_TRIPLES};q=0.9, application/sparql-results+xml;q=0.5"
_DROPS_PER_REQUEST = 5_000
_Params = list[tuple[str, str | int | float | bool | None]]  # what httpx accepts


def server_client(
    user: str | None,
    password: str | None,
    token: str | None,
    timeout: float,
    connect_timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The HTTP client for a SPARQL server: basic or bearer auth, the time limits, and one
    retry of a failed connect (nothing was sent, so it is always safe)."""
    if token and (user or password):
        raise ValueError("give either a user and password or a token, not both")
    headers = {"User-Agent": "cloudkg"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(
        auth=httpx.BasicAuth(user, password or "") if user else None,
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        transport=transport or httpx.HTTPTransport(retries=1),
    )


class ServerCredentials(TypedDict):
    user: str | None
    password: str | None
    token: str | None


def server_credentials(settings: Settings) -> ServerCredentials:
    """The SPARQL server's user, password and token from the settings, secrets unwrapped."""
    password, token = settings.sparql_store_password, settings.sparql_store_token
    return ServerCredentials(
        user=settings.sparql_store_user,
        password=password.get_secret_value() if password else None,
        token=token.get_secret_value() if token else None,
    )


class SparqlStore(GraphStore):
    """A SPARQL 1.1 server: queries go to ``query_url``, updates to ``update_url``.

    Without an ``update_url`` the store is read-only and writes raise ``GraphStoreError``.
    ``transport`` replaces the HTTP transport (tests use ``httpx.MockTransport``).
    """

    name = "sparql"

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 3.0,
        batch_size: int = 5_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.batch_size = batch_size
        self._client = server_client(user, password, token, timeout, connect_timeout, transport)

    @classmethod
    def from_settings(cls, settings: Settings) -> SparqlStore:
        if not settings.sparql_query_url:
            raise GraphStoreError("KG_GRAPH_STORE=sparql needs KG_SPARQL_QUERY_URL")
        return cls(
            settings.sparql_query_url,
            settings.sparql_update_url,
            timeout=settings.sparql_timeout,
            **server_credentials(settings),
        )

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
            sparql = bind_values(sparql, bindings, scan)
        params: _Params = [("default-graph-uri", g) for g in default_graph or ()]
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        accept = {"results": RESULTS_JSON, "graph": N_TRIPLES}.get(scan.kind or "", _ACCEPT_ANY)
        response = self._post(
            self.query_url, sparql, "application/sparql-query", accept=accept, params=params
        )
        return self._result(response, scan.kind)

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise GraphStoreError(
                f"the SPARQL store at {self.query_url} is read-only: set KG_SPARQL_UPDATE_URL"
            )
        self._post(self.update_url, sparql, "application/sparql-update")

    def replace_document(self, doc_iri: str, quads: Iterable[ox.Quad]) -> None:
        self._replace(self.graphs_of(doc_iri), quads)

    def replace_graph(self, graph_iri: str, quads: Iterable[ox.Quad]) -> None:
        self._replace([graph_iri], quads)

    def remove_document(self, doc_iri: str) -> None:
        self._replace(self.graphs_of(doc_iri), ())

    def close(self) -> None:
        self._client.close()

    # Helpers.

    def graphs_of(self, doc_iri: str) -> list[str]:
        """The IRIs of the named graphs of one document: its own and those under ``doc_iri/``."""
        rows = self.select(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { } "
            f"FILTER(isIRI(?g) && (STR(?g) = {ox.Literal(doc_iri)} || "
            f"STRSTARTS(STR(?g), {ox.Literal(doc_iri + '/')}))) }}"
        )
        return [row["g"].value for row in rows]

    def check_union_default_graph(self) -> None:
        """Raise GraphStoreError when a stored named-graph triple is missing from the default
        graph, i.e. the server was not configured to make its default graph the union."""
        rows = self.select(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
            "FILTER(isIRI(?s) && (isIRI(?o) || isLiteral(?o))) } LIMIT 1"
        )
        if rows and not self.ask("ASK { ?s ?p ?o }", **rows[0]):
            raise GraphStoreError(
                f"the default graph of {self.query_url} is not the union of all graphs: start "
                "Oxigraph with --union-default-graph or set unionDefaultGraph (docs/scaling.md)"
            )

    def _replace(self, graphs: list[str], quads: Iterable[ox.Quad]) -> None:
        drops = [f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in graphs]
        batches = _batches(quads, self.batch_size)
        first = next(batches, None)
        while len(drops) > _DROPS_PER_REQUEST:
            self.update(" ;\n".join(drops[:_DROPS_PER_REQUEST]))
            del drops[:_DROPS_PER_REQUEST]
        if first is not None:
            drops.append(_insert_data(first))
        if drops:
            self.update(" ;\n".join(drops))
        for batch in batches:
            self.update(_insert_data(batch))

    def _post(
        self,
        url: str,
        body: str,
        content_type: str,
        *,
        accept: str | None = None,
        params: _Params | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        try:
            response = self._client.post(
                url, content=body.encode("utf-8"), headers=headers, params=params or None
            )
        except httpx.ConnectTimeout as exc:
            raise GraphStoreError(
                f"the SPARQL server at {url} did not accept a connection within "
                f"{self.connect_timeout:g} s"
            ) from exc
        except httpx.TimeoutException as exc:
            raise GraphStoreError(
                f"the SPARQL server at {url} did not answer within {self.timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise GraphStoreError(f"cannot reach the SPARQL server at {url}: {exc}") from exc
        if response.status_code == 400:
            raise SyntaxError(_message(response) or f"the SPARQL server at {url} answered 400")
        if response.is_error:
            detail = _message(response)
            raise GraphStoreError(
                f"the SPARQL server at {url} answered {response.status_code} "
                f"{response.reason_phrase}" + (f": {detail}" if detail else "")
            )
        return response

    def _result(self, response: httpx.Response, kind: str | None) -> QueryResult:
        """Parse an answer by its content type; the query form settles the ambiguous ones
        (``text/plain``, ``application/json``) and a missing one."""
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        results = ox.QueryResultsFormat.from_media_type(media) if media else None
        graph = ox.RdfFormat.from_media_type(media) if media else None
        try:
            if kind == "graph" or (kind is None and results is None and graph is not None):
                triples = ox.Store()
                triples.load(response.content, graph or ox.RdfFormat.N_TRIPLES)
                return triples.query("CONSTRUCT WHERE { ?s ?p ?o }")
            return ox.parse_query_results(response.content, results or ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as exc:
            raise GraphStoreError(
                f"unreadable answer ({media or 'no content type'}) from {response.url}: {exc}"
            ) from exc


# Reading the shape of a query.

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<str>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\[\s\S]))*\"\"\"
          | '''(?:(?:'|'')?(?:[^'\\]|\\[\s\S]))*'''
          | \"(?:[^\"\\\r\n]|\\[\s\S])*\"
          | '(?:[^'\\\r\n]|\\[\s\S])*')
  | (?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF]+)
  | (?P<pname>(?:[A-Za-z\u00C0-\U000EFFFF][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF.\-]*)?
          :(?:[0-9A-Za-z_\u00B7\u00C0-\U000EFFFF.\-:%]|\\[^\s])*)
  | (?P<word>[0-9A-Za-z_]+)
  | (?P<punct>[\s\S])
    """,
    re.VERBOSE,
)
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
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            yield kind, match.group(), match.start()


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


# Writing quads.


def _batches(quads: Iterable[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    """Quads in lists of ``size``; those holding blank nodes all in the last list."""
    batch: list[ox.Quad] = []
    blank: list[ox.Quad] = []
    for quad in quads:
        if _has_blank_node(quad):
            blank.append(quad)
            continue
        batch.append(quad)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
    if blank:
        yield blank


def _has_blank_node(quad: ox.Quad) -> bool:
    return any(isinstance(t, ox.BlankNode) for t in (quad.subject, quad.object, quad.graph_name))


def _insert_data(quads: list[ox.Quad]) -> str:
    """``INSERT DATA`` of ``quads``, every term serialised by pyoxigraph, grouped by graph."""
    graphs: dict[Any, list[str]] = {}
    for q in quads:
        graphs.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
    parts = ["INSERT DATA {"]
    for graph, triples in graphs.items():
        if isinstance(graph, ox.DefaultGraph):
            parts.extend(triples)
            continue
        if not isinstance(graph, ox.NamedNode):
            raise ValueError(f"SPARQL Update cannot name a graph with {graph}")
        parts.append(f"GRAPH {graph} {{")
        parts.extend(triples)
        parts.append("}")
    parts.append("}")
    return "\n".join(parts)


def _message(response: httpx.Response, limit: int = 1_000) -> str:
    """The server's error text, short enough for an exception message."""
    try:
        text = response.text.strip()
    except (UnicodeDecodeError, LookupError):
        return ""
    return text if len(text) <= limit else text[:limit] + " ..."
