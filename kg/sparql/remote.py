"""The /sparql endpoint over a remote SPARQL 1.1 server (``KG_GRAPH_STORE=sparql``).

``RemoteExecutor`` forwards queries to ``KG_SPARQL_QUERY_URL`` and updates to
``KG_SPARQL_UPDATE_URL`` through the same client as the graph store (``kg.graph.client``:
form-encoded POSTs, authentication, the server's quirks, one-line errors), under the same rules
as the embedded executor, so a client cannot tell the two apart:

* **SERVICE and LOAD** are refused by the same screen (``check_allowed``) before anything is
  sent: most servers federate by default (Oxigraph's server and Virtuoso do).
* **Formats and the row cap.** SELECT and ASK answers are fetched as SPARQL JSON, CONSTRUCT and
  DESCRIBE answers as N-Triples, and streamed through pyoxigraph's parsers into the endpoint's
  own writers (``kg.sparql.worker.serialize_solutions`` / ``serialize_triples``): the client
  gets any format of ``kg.sparql.formats`` with the same cap, headers and JSON flag as from the
  embedded store. Parsing stops at row ``max_rows + 1`` and the connection is dropped, so a huge
  answer is never read whole. An answer the server itself cut (Virtuoso's ``ResultSetMaxRows``)
  is marked truncated too.
* **The time limit** (``KG_SPARQL_TIMEOUT``) is the HTTP timeout: connecting may take
  ``connect_timeout``, the answer must start within the limit, and the body is read against a
  deadline checked after every chunk (a server trickling bytes is cut off at most one read
  timeout after the deadline). Servers that take a time limit with the request get it (Virtuoso
  and Fuseki read ``timeout``), so they stop the query too; Oxigraph has no such parameter.
* **Datasets.** ``default-graph-uri`` / ``named-graph-uri`` are forwarded as given; without them
  the server's default graph answers, which must be the union of all graphs
  (``oxigraph serve --union-default-graph``; docs/scaling.md). A query's own ``FROM`` /
  ``FROM NAMED`` are sent as those parameters too, because Oxigraph's union option would
  otherwise override them (``query_dataset``).
* **Errors** keep the endpoint's codes: the server's 400 is ``MalformedQuery`` with its message
  (and the line and column it names); a server that is down, refuses, or answers another error
  status is ``GraphUnavailable`` (503) naming the URL; a time limit that passes is
  ``QueryTimeout`` (503).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from typing import IO, Any, cast

import httpx
import pyoxigraph as ox

from kg.graph.base import GraphStoreError
from kg.graph.client import (
    RequestRejected,
    ServerError,
    ServerTimeout,
    SparqlClient,
    client_options,
    row_cap,
)
from kg.settings import Settings
from kg.sparql.errors import (
    BadRequest,
    Forbidden,
    GraphUnavailable,
    MalformedQuery,
    NotAcceptable,
    QueryTimeout,
)
from kg.sparql.executor import (
    _ACCEPT_GRAPHS,
    _ACCEPT_RESULTS,
    OUTPUT_PREFIXES,
    QueryExecutor,
    QueryRequest,
    QueryResult,
    check_allowed,
)
from kg.sparql.formats import BY_NAME
from kg.sparql.worker import RESULT_FORMATS, serialize_solutions, serialize_triples

RESULTS_JSON = "application/sparql-results+json"
ACCEPT = {
    "results": f"{RESULTS_JSON}, application/sparql-results+xml;q=0.8",
    "graph": "application/n-triples, text/turtle;q=0.8, application/rdf+xml;q=0.5",
}
ACCEPT_ANY = f"{ACCEPT['results']}, {ACCEPT['graph']}"
UPDATED = "remote"  # what ``update`` returns: the server holds no generations
# Where a server's message names the place of an error: Oxigraph "error at 3:7", Virtuoso
# "SPARQL compiler, line 3:", Fuseki "at line 3, column 7".
_POSITION = re.compile(r"\berror at (\d+):(\d+)|\bline (\d+)(?:, column (\d+))?")


class _Expired(Exception):
    """The deadline passed while the answer was still arriving."""


class RemoteExecutor(QueryExecutor):
    """Queries and updates forwarded to a SPARQL 1.1 server with the endpoint's limits.

    Without ``update_url`` updates are refused (403). Keyword arguments other than
    ``max_rows`` go to ``SparqlClient`` (credentials, ``auth``, ``server``, timeouts, and
    ``transport``, which tests replace with ``httpx.MockTransport``).
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        max_rows: int = 10_000,
        **client: Any,
    ) -> None:
        self.max_rows = max_rows
        self.client = SparqlClient(query_url, update_url, **client)

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteExecutor:
        try:
            query_url, update_url, options = client_options(settings)
        except GraphStoreError as exc:
            raise ValueError(str(exc)) from None
        return cls(query_url, update_url, max_rows=settings.sparql_max_rows, **options)

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
        return f"RemoteExecutor({self.query_url!r}, {self.update_url!r})"

    # Queries.

    def query(self, request: QueryRequest) -> QueryResult:
        found = check_allowed(request.query)
        if found.kind == "results" and request.results_format is None:
            raise NotAcceptable(f"{found.form} answers are results; {_ACCEPT_RESULTS}")
        if found.kind == "graph" and request.graph_format is None:
            raise NotAcceptable(f"{found.form} answers are RDF graphs; {_ACCEPT_GRAPHS}")
        default_graphs, named_graphs = request.default_graphs, request.named_graphs
        if default_graphs is None and named_graphs is None and found.has_dataset:
            default_graphs, named_graphs = query_dataset(request.query)
        for iri in (*(default_graphs or ()), *(named_graphs or ())):
            try:
                ox.NamedNode(iri)
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        params: list[tuple[str, str]] = []
        if default_graphs is not None or named_graphs is not None:
            # The protocol's dataset replaces the query's; a part left out is empty.
            params += [("default-graph-uri", g) for g in default_graphs or ()]
            params += [("named-graph-uri", g) for g in named_graphs or ()]
        started = time.monotonic()
        deadline = started + self.timeout
        accept = ACCEPT.get(found.kind or "", ACCEPT_ANY)
        with (
            self._failures("query"),
            self.client.query(request.query, accept=accept, params=params) as response,
        ):
            body, fmt, kind, truncated = self._serialise(response, request, found.kind, deadline)
        return QueryResult(
            body=body,
            format=BY_NAME[fmt],
            kind=kind,
            truncated=truncated or row_cap(response) is not None,
            max_rows=self.max_rows,
            elapsed=time.monotonic() - started,
        )

    def _serialise(
        self,
        response: httpx.Response,
        request: QueryRequest,
        expected: str | None,
        deadline: float,
    ) -> tuple[bytes, str, str, bool]:
        """Stream the server's answer into the requested format: (body, format, kind, cut)."""
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        results = ox.QueryResultsFormat.from_media_type(media) if media else None
        graph = ox.RdfFormat.from_media_type(media) if media else None
        # application/json and application/xml name both kinds: the query's form decides.
        if results is not None and (graph is None or expected != "graph"):
            parsed = ox.parse_query_results(self._body(response, deadline), results)
            fmt = request.results_format
            if isinstance(parsed, ox.QueryBoolean):
                if fmt is None:
                    raise NotAcceptable(f"ASK answers are results; {_ACCEPT_RESULTS}")
                return parsed.serialize(format=RESULT_FORMATS[fmt]) or b"", fmt, "boolean", False
            if fmt is None:
                raise NotAcceptable(f"SELECT answers are results; {_ACCEPT_RESULTS}")
            body, truncated = serialize_solutions(parsed, fmt, self.max_rows)
            return body, fmt, "results", truncated
        if graph is not None:
            fmt = request.graph_format
            if fmt is None:
                raise NotAcceptable(f"CONSTRUCT answers are RDF graphs; {_ACCEPT_GRAPHS}")
            triples = (quad.triple for quad in ox.parse(self._body(response, deadline), graph))
            body, _, truncated = serialize_triples(triples, fmt, self.max_rows, OUTPUT_PREFIXES)
            return body, fmt, "graph", truncated
        raise GraphUnavailable(
            f"the SPARQL server at {self.query_url} answered in an unexpected format "
            f"({media or 'no content type'})"
        )

    def _body(self, response: httpx.Response, deadline: float) -> IO[bytes]:
        return cast("IO[bytes]", _Body(self.client.chunks(response), deadline))

    # Updates.

    def update(self, update: str) -> str:
        """Send an update to the server; returns ``"remote"`` (there is no generation)."""
        check_allowed(update, update=True)
        if not self.update_url:
            raise Forbidden(
                f"the graph store at {self.query_url} is read-only here: set KG_SPARQL_UPDATE_URL"
            )
        with self._failures("update"):
            self.client.update(update)
        return UPDATED

    @contextlib.contextmanager
    def _failures(self, what: str) -> Iterator[None]:
        """The client's failures as the endpoint's errors."""
        try:
            yield
        except _Expired:
            raise self._timeout(what, stopped=False) from None
        except ServerTimeout as exc:
            raise self._timeout(what, stopped=exc.stopped) from None
        except RequestRejected as exc:
            raise malformed(exc.detail or str(exc)) from None
        except ServerError as exc:
            raise GraphUnavailable(str(exc)) from None
        except (SyntaxError, ValueError) as exc:  # pyoxigraph could not read the answer
            raise GraphUnavailable(
                f"unreadable answer from the SPARQL server at {self.query_url}: {exc}"
            ) from exc

    def _timeout(self, what: str, *, stopped: bool) -> QueryTimeout:
        url = self.query_url if what == "query" else self.update_url
        if stopped:
            outcome = "stopped it"
        else:
            outcome = "may still be running it" if what == "query" else "may still apply it"
        return QueryTimeout(
            f"the {what} ran longer than the {self.timeout:g} s limit: the SPARQL server at {url} "
            f"did not answer in time (it {outcome})"
        )

    def close(self) -> None:
        self.client.close()


def malformed(message: str) -> MalformedQuery:
    """The server's parse error, with the line and column it names (Virtuoso names a line
    only: the column is then None)."""
    m = _POSITION.search(message)
    if m is None:
        return MalformedQuery(message)
    column = m.group(2) or m.group(4)
    return MalformedQuery(message, int(m.group(1) or m.group(3)), int(column) if column else None)


def query_dataset(text: str) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """The IRIs a query's FROM and FROM NAMED clauses name, to be sent as the protocol's
    ``default-graph-uri`` / ``named-graph-uri``: ``oxigraph serve --union-default-graph`` lets
    the union override a query's own FROM, while the protocol's parameters win everywhere.
    rdflib's parser resolves prefixes and BASE; (None, None) when it cannot read the query (the
    server then gets it as it is)."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        clauses = translateQuery(parseQuery(text)).algebra.get("datasetClause") or []
    except Exception:  # rdflib reads less than the servers do: let the server decide
        return None, None
    # CompValue.get answers the key itself for a missing key: test membership instead.
    default = tuple(str(c["default"]) for c in clauses if "default" in c)
    named = tuple(str(c["named"]) for c in clauses if "named" in c)
    if not default and not named:
        return None, None
    return default, named


class _Body:
    """Chunks of a streamed answer as a binary file for pyoxigraph's parsers.

    Raises ``_Expired`` once ``deadline`` (``time.monotonic()``) has passed between chunks.
    """

    def __init__(self, chunks: Iterator[bytes], deadline: float) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")
        self._deadline = deadline

    def read(self, size: int = -1) -> bytes:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if time.monotonic() > self._deadline:
                raise _Expired
            if chunk is None:
                return b""
            self._buffer = memoryview(chunk)
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = bytes(self._buffer), memoryview(b"")
        else:
            out, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
        return out

    def readable(self) -> bool:
        return True
