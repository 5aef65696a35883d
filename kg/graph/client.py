"""One client for SPARQL 1.1 servers over HTTP, used by the remote graph store
(``kg.graph.sparql.SparqlStore``) and by the ``/sparql`` forwarder (``kg.sparql.remote``).

What it sends is what every SPARQL 1.1 server takes, and what it knows about particular
servers is data (``SERVERS``), chosen by the ``Server`` header of the server's first answer:

* **Form-encoded POSTs.** Queries go as ``query=`` and updates as ``update=`` in an
  ``application/x-www-form-urlencoded`` body, with ``default-graph-uri`` / ``named-graph-uri``
  beside them (SPARQL 1.1 Protocol 2.1.2 and 2.2.1), as SPARQLWrapper and rdflib do. Virtuoso
  7.2 never answers a direct ``application/sparql-query`` POST; on Oxigraph the two forms
  measured the same (docs/scaling.md), so there is one encoding for every server.
* **Bulk loads that fit the server.** ``put_graph`` replaces one graph with a Graph Store
  Protocol ``PUT`` where the server offers one (Oxigraph ``/store``, Virtuoso
  ``/sparql-graph-crud[-auth]``, Fuseki ``/data``): one request at any size, blank nodes
  included. ``insert`` sends ``INSERT DATA`` batches, preceded in the same request by update
  operations the caller gives (the drops of a replaced document); a batch the server refuses
  as too large (HTTP 413, or a message such as Virtuoso's "memory exhausted" and "exceeded
  10000 lines") is split in half and sent again, and the smaller size is kept.
* **Authentication.** Basic, digest (Virtuoso's ``/sparql-auth``) or a bearer token. With
  ``auth="auto"`` credentials are sent only when the server asks, in the scheme it asks for,
  so a password never travels as Basic to a server that wants Digest.
* **Answers that are not what was asked.** A Virtuoso answer cut by its time limit
  (``X-SQL-State: S1TAT``, an "anytime" partial result sent with status 200) raises
  ``ServerTimeout``; one cut by ``ResultSetMaxRows`` (``X-SPARQL-MaxRows``) is reported by
  ``row_cap`` so that no caller takes part of an answer for all of it.
* **Only our triples.** Virtuoso's union default graph holds its own system graphs (about
  5,600 triples on a fresh server). Every query sent to Virtuoso starts with
  ``define input:default-graph-exclude`` / ``input:named-graph-exclude`` pragmas naming them,
  so counts, checks and answers see what cloudkg and its users stored, as on the embedded store.
* **Errors** are one line: ``ServerError`` names the server (its URL), the HTTP status and the
  first part of what it said (without Virtuoso's echo of the whole request). A 400 is
  ``RequestRejected`` (the server could not parse the query or update); a server that cannot be
  reached is ``ServerUnreachable``; one that does not answer in time is ``ServerTimeout``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from kg.graph.base import GraphStoreError
from kg.settings import Settings

log = logging.getLogger("cloudkg")

Auth = Literal["auto", "basic", "digest"]
FORM = "application/x-www-form-urlencoded"
N_TRIPLES = "application/n-triples"
_SD_SERVICE = "http://www.w3.org/ns/sparql-service-description#Service"
EMPTY_GRAPH = "urn:x-cloudkg:empty-default-graph"


# -- what cloudkg knows about particular servers ---------------------------------------------


@dataclass(frozen=True)
class Server:
    """One kind of SPARQL server. The first of ``SERVERS`` whose ``header`` pattern matches the
    ``Server`` header of the first answer applies; ``example`` is the header it exists for."""

    name: str
    header: str  # regular expression searched in the Server header
    example: str
    graph_store: tuple[str, str] | None = None  # (pattern, replacement) on the update URL
    timeout_parameter: str | None = None  # a query parameter that stops the query on the server
    timeout_unit: float = 1.0  # the parameter's unit, in seconds
    system_graphs: tuple[str, ...] = ()  # the server's own graphs, hidden from every query
    pragmas: str = ""  # put before every query
    graph_listing: str = "GRAPH ?g { }"  # the pattern whose ?g are the stored named graphs
    nul_in_literals: bool = True  # False: a U+0000 would silently cut a literal short
    json_bnode_prefix: bytes = b""  # what it puts before blank node labels in SPARQL JSON


VIRTUOSO = Server(
    "virtuoso",
    r"^Virtuoso/",
    "Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu",
    graph_store=(r"/sparql(-auth)?/?$", r"/sparql-graph-crud\1"),
    timeout_parameter="timeout",  # milliseconds; the answer is then marked S1TAT and refused
    timeout_unit=0.001,
    # DESCRIBE as a Concise Bounded Description over the union, as Oxigraph answers it (by
    # default Virtuoso describes nothing in a union default graph).
    pragmas='define sql:describe-mode "CBD" ',
    graph_listing="GRAPH ?g { ?s ?p ?o }",  # it knows a graph by its triples: "{ }" finds none
    nul_in_literals=False,  # its strings end at U+0000
    json_bnode_prefix=b"nodeID://",  # {"type": "bnode", "value": "nodeID://b10004"}
    # The rest of its graphs (the service description, WebDAV) are named after the host it
    # believes it runs on, and are found when the client starts (``_virtuoso_graphs``).
    system_graphs=(
        "http://www.openlinksw.com/schemas/virtrdf#",
        "http://www.w3.org/ns/ldp#",
        "http://www.w3.org/2002/07/owl#",
    ),
)
OXIGRAPH = Server(
    "oxigraph", r"^Oxigraph/", "Oxigraph/0.5.13", graph_store=(r"/(update|query)/?$", "/store")
)
FUSEKI = Server(
    "fuseki",
    r"Fuseki",
    "Apache Jena Fuseki (5.1.0)",
    graph_store=(r"/(update|query|sparql)/?$", "/data"),
    timeout_parameter="timeout",
)
GENERIC = Server("generic", r"", "any other SPARQL 1.1 server")
SERVERS = (VIRTUOSO, OXIGRAPH, FUSEKI, GENERIC)
SERVER_NAMES = tuple(s.name for s in SERVERS)


def server_of(header: str) -> Server:
    """The known server whose pattern matches a ``Server`` response header.

    >>> server_of("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu").name
    'virtuoso'
    >>> server_of("nginx/1.25").name
    'generic'
    """
    return next(s for s in SERVERS if re.search(s.header, header))


# -- errors ------------------------------------------------------------------------------------


class ServerError(GraphStoreError):
    """A SPARQL server failed or refused: one line with its URL, the HTTP status (when it
    answered) and the first part of what it said (``detail``)."""

    def __init__(self, message: str, *, url: str, status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.url = url
        self.status = status
        self.detail = detail


class RequestRejected(ServerError):
    """400: the server could not parse the query or update; ``detail`` is its message."""


class ServerUnreachable(ServerError):
    """No connection: refused, unknown host, or not accepted in time."""


class ServerTimeout(ServerError):
    """No (complete) answer within the time limit. ``stopped`` when the server said it gave up
    on the query (Virtuoso's partial answers); otherwise it may still be running it."""

    def __init__(self, message: str, *, url: str, stopped: bool = False) -> None:
        super().__init__(message, url=url)
        self.stopped = stopped


_SIZE_REFUSAL = re.compile(
    r"exceed|too (?:large|long|big|many)|memory exhausted|out of memory", re.IGNORECASE
)


def too_large(exc: ServerError) -> bool:
    """Whether the server refused a request for its size (then a smaller one may pass)."""
    if exc.status == 413:
        return True
    return exc.status in (400, 500) and _SIZE_REFUSAL.search(exc.detail) is not None


def summary(text: str, limit: int = 300) -> str:
    """The first part of a server's error text, on one line: Virtuoso's echo of the request
    ("SPARQL query:" and all after it) and HTML markup are left out.

    >>> summary("Virtuoso 37000 Error SP030: syntax error\\n\\nSPARQL query:\\nSELEC ?x")
    'Virtuoso 37000 Error SP030: syntax error'
    >>> summary("<html><head><title>Bad</title></head><body><h1>400</h1> no </body></html>")
    'Bad 400 no'
    """
    text = re.split(r"\n\s*SPARQL query:", text, maxsplit=1)[0]
    if re.match(r"\s*<(?:!DOCTYPE|\?xml|html)", text, re.IGNORECASE):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        text = re.sub(r"<[^>]*>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 4].rstrip() + " ..."


def _detail(response: httpx.Response) -> str:
    try:
        return summary(response.text)
    except (UnicodeDecodeError, LookupError):
        return ""


# -- authentication ----------------------------------------------------------------------------


class ChallengeAuth(httpx.Auth):
    """Credentials only when a server asks (401), in the scheme it asks for: Digest when it
    offers Digest, else Basic. The scheme is remembered per URL, so later requests to it answer
    at once (Basic preemptively; Digest from the last challenge, as ``httpx.DigestAuth`` does)."""

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._schemes: dict[str, httpx.Auth] = {}
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        where = str(request.url.copy_with(query=None))
        with self._lock:
            known = self._schemes.get(where)
        if known is not None:
            yield from known.auth_flow(request)
            return
        response = yield request
        offered = " ".join(response.headers.get_list("www-authenticate")).lower()
        if response.status_code != 401 or not offered:
            return
        scheme = self._digest if "digest" in offered else self._basic
        with self._lock:
            self._schemes[where] = scheme
        if scheme is self._basic:
            yield from scheme.auth_flow(request)
            return
        flow = scheme.auth_flow(request)
        next(flow)  # the request as a first attempt: the 401 we already have answers it
        try:
            retry = flow.send(response)
            while True:
                retry = flow.send((yield retry))
        except StopIteration:
            return


def make_auth(
    user: str | None, password: str | None, token: str | None, scheme: Auth
) -> tuple[httpx.Auth | None, dict[str, str]]:
    """The httpx auth and extra headers for the given credentials."""
    if token and (user or password):
        raise ValueError("give either a user and password or a token, not both")
    if token:
        return None, {"Authorization": f"Bearer {token}"}
    if not user:
        return None, {}
    if scheme == "basic":
        return httpx.BasicAuth(user, password or ""), {}
    if scheme == "digest":
        return httpx.DigestAuth(user, password or ""), {}
    return ChallengeAuth(user, password or ""), {}


# -- the client --------------------------------------------------------------------------------


def client_options(settings: Settings) -> tuple[str, str | None, dict[str, Any]]:
    """The query URL, the update URL and the other ``SparqlClient`` arguments of the settings."""
    if not settings.sparql_query_url:
        raise GraphStoreError("KG_GRAPH_STORE=sparql needs KG_SPARQL_QUERY_URL")
    password, token = settings.sparql_store_password, settings.sparql_store_token
    options: dict[str, Any] = {
        "user": settings.sparql_store_user,
        "password": password.get_secret_value() if password else None,
        "token": token.get_secret_value() if token else None,
        "auth": settings.sparql_store_auth,
        "server": settings.sparql_server,
        "timeout": settings.sparql_timeout,
    }
    return settings.sparql_query_url, settings.sparql_update_url, options


class SparqlClient:
    """A SPARQL 1.1 server: queries to ``query_url``, updates and loads to ``update_url``.

    ``server`` names the kind of server ("auto": read from the first answer's ``Server``
    header, with one ``ASK {}`` when the client starts). ``transport`` replaces the HTTP
    transport (tests use ``httpx.MockTransport``). Thread-safe, like the httpx client inside.
    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        token: str | None = None,
        auth: Auth = "auto",
        server: str = "auto",
        timeout: float = 30.0,
        connect_timeout: float = 3.0,
        batch_size: int = 5_000,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if server != "auto" and server not in SERVER_NAMES:
            raise ValueError(f"unknown SPARQL server {server!r}: one of auto, {SERVER_NAMES}")
        self.query_url = query_url
        self.update_url = update_url
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.batch_size = batch_size
        self._server: Server | None = None
        self._configured = server
        self._lock = threading.Lock()
        self._gsp_refused = False
        http_auth, headers = make_auth(user, password, token, auth)
        self._http = httpx.Client(
            auth=http_auth,
            headers={"User-Agent": "cloudkg", **headers},
            timeout=httpx.Timeout(timeout, connect=self.connect_timeout),
            # One retry of a failed connect: nothing was sent, so it is always safe.
            transport=transport or httpx.HTTPTransport(retries=1),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SparqlClient:
        """The client the settings describe; ``overrides`` replace constructor arguments
        (a readiness probe's short timeouts)."""
        query_url, update_url, options = client_options(settings)
        return cls(query_url, update_url, **{**options, **overrides})

    def __repr__(self) -> str:
        return f"SparqlClient({self.query_url!r}, {self.update_url!r})"

    def close(self) -> None:
        self._http.close()

    # What kind of server.

    @property
    def server(self) -> Server:
        """The kind of server, found out once (``ASK {}`` and, on Virtuoso, its own graphs)."""
        found = self._server
        if found is not None:
            return found
        with self._lock:
            if self._server is None:
                self._server = self._identify()
            return self._server

    def _identify(self) -> Server:
        if self._configured != "auto":
            server = next(s for s in SERVERS if s.name == self._configured)
        else:
            with self._post(self.query_url, [("query", "ASK {}")], stream=False) as response:
                server = server_of(response.headers.get("Server", ""))
        if server is VIRTUOSO:
            server = replace(server, system_graphs=server.system_graphs + self._virtuoso_graphs())
        log.debug("%s is %s", self.query_url, server.name)
        return server

    def _virtuoso_graphs(self) -> tuple[str, ...]:
        """Virtuoso's graphs named after its host: the service description
        (``http://HOST/sparql``) and the WebDAV listing (``http://HOST/DAV/``)."""
        query = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s a <{_SD_SERVICE}> }} }}"
        headers = {"Accept": "application/sparql-results+json"}
        with self._post(self.query_url, [("query", query)], headers=headers, stream=False) as r:
            rows = ox.parse_query_results(r.content, ox.QueryResultsFormat.JSON)
        found: list[str] = []
        for row in rows if isinstance(rows, ox.QuerySolutions) else ():
            graph = row["g"]
            if isinstance(graph, ox.NamedNode) and graph.value.endswith("/sparql"):
                found += [graph.value, graph.value.removesuffix("sparql") + "DAV/"]
        return tuple(found)

    def prologue(self) -> str:
        """What goes before every query: the server's pragmas and those hiding its system
        graphs, on the query's first line so that the line numbers of its messages stay right."""
        server = self.server
        return server.pragmas + "".join(
            f"define input:default-graph-exclude <{g}> define input:named-graph-exclude <{g}> "
            for g in server.system_graphs
        )

    # Queries and updates.

    @contextlib.contextmanager
    def query(
        self, text: str, *, accept: str, params: Sequence[tuple[str, str]] = ()
    ) -> Iterator[httpx.Response]:
        """POST a query; yields the streamed response once its status is a success. Errors
        while the body is read inside the block are mapped as well (``ServerTimeout`` ...)."""
        server = self.server
        form = [("query", self.prologue() + text), *params]
        names = {name for name, _ in params}
        if "named-graph-uri" in names and "default-graph-uri" not in names:
            # The protocol's dataset: named graphs alone leave the default graph empty, which
            # Virtuoso would read as the union. A graph nobody stores says it everywhere.
            form.append(("default-graph-uri", EMPTY_GRAPH))
        if server.timeout_parameter and not _has_param(self.query_url, server.timeout_parameter):
            form.append((server.timeout_parameter, f"{self.timeout / server.timeout_unit:g}"))
        with self._post(self.query_url, form, headers={"Accept": accept}) as response:
            if response.headers.get("X-SQL-State") == "S1TAT":
                raise ServerTimeout(
                    f"the SPARQL server at {self.query_url} stopped the query at its time limit "
                    "and sent only part of the answer",
                    url=self.query_url,
                    stopped=True,
                )
            yield response

    def fetch(
        self, text: str, *, accept: str, params: Sequence[tuple[str, str]] = ()
    ) -> tuple[httpx.Response, bytes]:
        """A query's whole answer (the response and its body, read through ``chunks``),
        refusing one the server cut at its own row limit."""
        with self.query(text, accept=accept, params=params) as response:
            body = b"".join(self.chunks(response))
        cap = row_cap(response)
        if cap is not None:
            raise ServerError(
                f"the SPARQL server at {self.query_url} cut the answer at {cap} rows "
                "(Virtuoso: raise ResultSetMaxRows in virtuoso.ini; docs/scaling.md)",
                url=self.query_url,
                status=response.status_code,
            )
        return response, body

    def chunks(self, response: httpx.Response) -> Iterator[bytes]:
        """The body of an answer as it arrives, in SPARQL 1.1 terms: Virtuoso's blank nodes in
        SPARQL JSON (``nodeID://b10004``, which no parser takes) become plain labels."""
        chunks = response.iter_bytes()
        prefix = self.server.json_bnode_prefix
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if prefix and media in ("application/sparql-results+json", "application/json"):
            return _bnode_labels(chunks, prefix)
        return chunks

    def update(self, text: str) -> None:
        """POST an update to ``update_url``."""
        url = self._update_url()
        with self._post(url, [("update", text)], stream=False):
            pass

    def check_terms(self, terms: Iterable[object]) -> None:
        """Raise ValueError for a term the server would store or match wrongly."""
        if self.server.nul_in_literals:
            return
        for term in terms:
            if isinstance(term, ox.Literal) and "\x00" in term.value:
                raise ValueError(
                    f"{self.server.name} cuts a literal short at U+0000: {term.value[:40]!r}"
                )

    # Loading.

    def put_graph(self, graph: str, quads: Sequence[ox.Quad]) -> bool:
        """Replace ``graph`` with ``quads`` in one Graph Store Protocol PUT. False (nothing
        done) when the server offers no graph store, or refused it once (403, 404, 405)."""
        url = self.graph_store_url()
        if url is None or not quads:
            return False
        self.check_terms(q.object for q in quads)
        body = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES) or b""
        headers = {"Content-Type": N_TRIPLES}
        try:
            try:
                with self._send("PUT", url, body, headers, params=[("graph", graph)], stream=False):
                    pass
            except ServerError as exc:
                if type(exc) is not ServerError or exc.status is not None:
                    raise
                # The connection dropped before any answer (Virtuoso resets a kept-alive one
                # now and then): a PUT replaces the whole graph, so sending it again is safe.
                log.info("the connection to %s dropped (%s): sending the graph again", url, exc)
                with self._send("PUT", url, body, headers, params=[("graph", graph)], stream=False):
                    pass
        except ServerError as exc:
            if exc.status not in (403, 404, 405):
                raise
            log.info("no Graph Store Protocol at %s (%s): using SPARQL Update", url, exc.status)
            self._gsp_refused = True
            return False
        return True

    def graph_store_url(self) -> str | None:
        """The server's Graph Store Protocol endpoint, derived from the update URL."""
        rule = self.server.graph_store
        if rule is None or self.update_url is None or self._gsp_refused:
            return None
        url = httpx.URL(self.update_url)
        path, found = re.subn(rule[0], rule[1], url.path)
        return str(url.copy_with(path=path)) if found else None

    def insert(self, quads: Iterable[ox.Quad], *, before: Sequence[str] = ()) -> None:
        """Send ``quads`` in as few updates as the server takes, after the update operations
        ``before`` (in the same request as the first quads: drops and inserts of a small
        document are one request, which Oxigraph applies as one transaction).

        A request holds at most ``batch_size`` operations and quads. One the server refuses
        as too large is split in half and sent again; the smaller size is kept. Quads holding
        blank nodes all go last in one ``INSERT {…} WHERE {}`` (a blank node label means the
        same node only within one request, and Virtuoso refuses blank nodes in INSERT DATA).
        """
        plain: list[ox.Quad] = []
        blank: list[ox.Quad] = []
        for quad in quads:
            (blank if _has_blank_node(quad) else plain).append(quad)
        self.check_terms(q.object for q in (*plain, *blank))
        ops, done = list(before), 0
        while ops or done < len(plain):
            size = self.batch_size
            head = ops[:size]
            batch = plain[done : done + size - len(head)]
            parts = [*head, insert_data(batch)] if batch else head
            try:
                self.update(" ;\n".join(parts))
            except ServerError as exc:
                if len(head) + len(batch) <= 1 or not too_large(exc):
                    raise
                self.batch_size = max(1, (len(head) + len(batch)) // 2)
                log.info(
                    "%s refused %d operations and quads in one update: %d at a time now",
                    self._update_url(),
                    len(head) + len(batch),
                    self.batch_size,
                )
                continue
            del ops[: len(head)]
            done += len(batch)
        if blank:
            self.update(insert_template(blank))

    # HTTP.

    def _update_url(self) -> str:
        if not self.update_url:
            raise GraphStoreError(
                f"the SPARQL store at {self.query_url} is read-only: set KG_SPARQL_UPDATE_URL"
            )
        return self.update_url

    @contextlib.contextmanager
    def _post(
        self,
        url: str,
        form: Sequence[tuple[str, str]],
        *,
        headers: dict[str, str] | None = None,
        stream: bool = True,
    ) -> Iterator[httpx.Response]:
        body = urlencode(form).encode("ascii")
        headers = {"Content-Type": FORM, **(headers or {})}
        with self._send("POST", url, body, headers, stream=stream) as response:
            yield response

    @contextlib.contextmanager
    def _send(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        params: Sequence[tuple[str, str]] = (),
        stream: bool = True,
    ) -> Iterator[httpx.Response]:
        """One request; every failure, inside the block too, as a ``ServerError``."""
        target = httpx.URL(url)
        if params:  # merged: httpx would replace the URL's own query string with ``params``
            target = target.copy_merge_params(tuple(params))
        try:
            with self._http.stream(method, target, content=body, headers=headers) as response:
                if response.is_error:
                    response.read()
                    raise _status_error(url, response)
                if not stream:
                    response.read()
                yield response
        except httpx.ConnectTimeout:
            raise ServerUnreachable(
                f"the SPARQL server at {url} did not accept a connection within "
                f"{self.connect_timeout:g} s",
                url=url,
            ) from None
        except httpx.TimeoutException:
            raise ServerTimeout(
                f"the SPARQL server at {url} did not answer within {self.timeout:g} s", url=url
            ) from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            raise ServerUnreachable(
                f"cannot reach the SPARQL server at {url}: {exc}", url=url
            ) from None
        except httpx.HTTPError as exc:
            raise ServerError(f"the SPARQL server at {url} failed: {exc}", url=url) from None


def _status_error(url: str, response: httpx.Response) -> ServerError:
    detail = _detail(response)
    status = f"{response.status_code} {response.reason_phrase}".strip()
    message = f"the SPARQL server at {url} answered {status}" + (f": {detail}" if detail else "")
    kind = RequestRejected if response.status_code == 400 else ServerError
    return kind(message, url=url, status=response.status_code, detail=detail)


def _bnode_labels(chunks: Iterable[bytes], prefix: bytes) -> Iterator[bytes]:
    """SPARQL JSON chunks with ``prefix`` removed from blank node values, also where a value
    is split between two chunks (the last ``window`` bytes wait for the next chunk)."""
    pattern = re.compile(
        rb'("type"[ \t]{0,4}:[ \t]{0,4}"bnode"[ \t]{0,4},[ \t]{0,4}"value"[ \t]{0,4}:[ \t]{0,4}")'
        + re.escape(prefix)
    )
    window = 64 + len(prefix)  # longer than any match
    carry = b""
    for chunk in chunks:
        buffer = carry + chunk
        pieces, done = [], 0
        for match in pattern.finditer(buffer):
            pieces += [buffer[done : match.start()], match.group(1)]
            done = match.end()
        keep = max(done, len(buffer) - window)
        pieces.append(buffer[done:keep])
        carry = buffer[keep:]
        yield b"".join(pieces)
    yield pattern.sub(rb"\1", carry)


def row_cap(response: httpx.Response) -> int | None:
    """The row limit at which the server cut this answer (Virtuoso's ``X-SPARQL-MaxRows``)."""
    value = response.headers.get("X-SPARQL-MaxRows")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _has_param(url: str, name: str) -> bool:
    return name in httpx.URL(url).params


# -- writing quads -----------------------------------------------------------------------------


def _has_blank_node(quad: ox.Quad) -> bool:
    return any(isinstance(t, ox.BlankNode) for t in (quad.subject, quad.object, quad.graph_name))


def _grouped(quads: Sequence[ox.Quad]) -> list[str]:
    """The quads as triples in ``GRAPH`` blocks, every term serialised by pyoxigraph."""
    graphs: dict[Any, list[str]] = {}
    for q in quads:
        graphs.setdefault(q.graph_name, []).append(f"{q.subject} {q.predicate} {q.object} .")
    parts: list[str] = []
    for graph, triples in graphs.items():
        if isinstance(graph, ox.DefaultGraph):
            parts.extend(triples)
            continue
        if not isinstance(graph, ox.NamedNode):
            raise ValueError(f"SPARQL Update cannot name a graph with {graph}")
        parts.append(f"GRAPH {graph} {{")
        parts.extend(triples)
        parts.append("}")
    return parts


def insert_data(quads: Sequence[ox.Quad]) -> str:
    """``INSERT DATA`` of ``quads``, grouped by graph."""
    return "\n".join(["INSERT DATA {", *_grouped(quads), "}"])


def insert_template(quads: Sequence[ox.Quad]) -> str:
    """``INSERT { quads } WHERE {}``: the one form that inserts blank nodes on every server
    (one solution, so each label is one fresh node)."""
    return "\n".join(["INSERT {", *_grouped(quads), "} WHERE {}"])
