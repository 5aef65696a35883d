"""Scaling out: the graph in a real SPARQL server (``oxigraph serve --union-default-graph`` and
Virtuoso 7, every server test run against each), vectors in Qdrant's local mode, and stateless
API replicas (the fake embedder throughout; the dev-set comparison with the real
model is ``bench/remote_eval.py``).

* ``/sparql`` over the remote server answers exactly what the embedded endpoint answers, with
  the same formats, row cap, SERVICE/LOAD screen and errors; a server that is down or silent
  is a quick 503.
* A backend that goes down gives 503s naming it (``/readyz``, ``/ask``, ``/search``) within a
  couple of seconds, and the same app answers again once it is back.
* Rebuilds into the server are idempotent, and replace exactly the graphs of what changed.
* Two replicas over the same stores give byte-identical answers.

Each concern has its own server (started once per module), so that stopping one or dropping
its data never disturbs another. Two replicas cannot open one Qdrant folder from two processes
(local mode locks it), so the replicas here are two apps in one process, each with its own
runtime, engine, data folder and graph-store connections; only qdrant-client's local instance
is shared, as it has to be. ``bench/remote_eval.py`` runs separate ``kg serve`` processes.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from kg import vocab
from kg.build import build
from kg.graph.base import GraphStoreError
from kg.graph.sparql import SparqlStore
from kg.serve.runtime import NotReadyError, Runtime
from kg.settings import Settings
from kg.sparql import QueryRequest, run_query
from kg.sparql.errors import Forbidden, GraphUnavailable, MalformedQuery, QueryTimeout
from kg.sparql.remote import RemoteExecutor

from .conftest import FIXTURES, http_server, recording_server
from .servers import (
    SERVER_NAMES,
    OxigraphServer,
    SparqlServer,
    free_port,
    make_server,
    skip_unless_available,
)
from .test_sparql import (
    ALL_FILLER,
    COMMENTS,
    MAX_ROWS,
    PREFIXES,
    S3_GRAPH,
    SERVICES,
    TEXTS,
    _results_rows,
    publish,
    sample_quads,
)
from .test_sparql import settings as embedded_settings

TOKEN = "remote-t0ken"
server = pytest.mark.server


SERVERS = [pytest.param(name, marks=server) for name in SERVER_NAMES]


def start_server(tmp_path_factory: pytest.TempPathFactory, kind: str, name: str) -> SparqlServer:
    skip_unless_available(kind)
    started = make_server(kind, tmp_path_factory.mktemp(f"{kind}-{name}"))
    started.start()
    return started


def drop(sparql: SparqlServer, update: str) -> None:
    store = sparql.store()
    try:
        store.update(update)
    finally:
        store.close()


@contextlib.contextmanager
def running(sparql: SparqlServer) -> Iterator[SparqlServer]:
    try:
        yield sparql
    finally:
        sparql.stop()


def remote_settings(sparql: SparqlServer | str, data: Path, **overrides: Any) -> Settings:
    """A build's settings over ``sparql`` (or over a bare URL where no server runs)."""
    if isinstance(sparql, str):
        urls = {"sparql_query_url": f"{sparql}/query", "sparql_update_url": f"{sparql}/update"}
        values: dict[str, Any] = {"graph_store": "sparql", **urls}
    else:
        values = sparql.settings_values()
    values.update(
        {"data": data, "sparql_timeout": 5.0, "sparql_max_rows": MAX_ROWS, "embedder": "fake"}
    )
    values.update(overrides)
    return Settings(**values)


# == /sparql over a remote server ============================================================


@pytest.fixture(scope="module", params=SERVERS)
def sparql_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparqlServer]:
    """A server holding the sample graph of tests/test_sparql.py."""
    with running(start_server(tmp_path_factory, request.param, "sparql")) as sparql:
        quads = sample_quads()
        if request.param == "virtuoso":  # it has no default graph of its own to write into
            default = ox.NamedNode("http://example.com/default-graph")
            quads = [
                ox.Quad(q.subject, q.predicate, q.object, default)
                if isinstance(q.graph_name, ox.DefaultGraph)
                else q
                for q in quads
            ]
        store = sparql.store()
        store.client.insert(quads)
        store.close()
        yield sparql


@pytest.fixture(scope="module")
def remote(
    sparql_server: SparqlServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("remote-endpoint")
    app = create_app(remote_settings(sparql_server, root, update_token=SecretStr(TOKEN)))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("embedded-endpoint")
    publish(root, sample_quads())
    with TestClient(create_app(embedded_settings(root))) as c:
        yield c


def get(client: TestClient, query: str, **params: str) -> Any:
    return client.get("/sparql", params={"query": query, **params})


SAME_RESULTS = [
    (PREFIXES + SERVICES, {}),
    (PREFIXES + SERVICES, {"format": "xml"}),
    (PREFIXES + SERVICES, {"format": "csv"}),
    (PREFIXES + SERVICES, {"format": "tsv"}),
    ("ASK { ?s ?p ?o }", {}),
    ("ASK { ?s <http://example.com/nothing> ?o }", {"format": "xml"}),
    ("ASK { ?s ?p ?o }", {"format": "csv"}),
    (PREFIXES + TEXTS, {}),
    (PREFIXES + COMMENTS, {}),
    (PREFIXES + ALL_FILLER, {}),  # capped: the same first rows, the same flag
    (PREFIXES + ALL_FILLER, {"format": "csv"}),
    (PREFIXES + ALL_FILLER, {"format": "tsv"}),
    (PREFIXES + ALL_FILLER, {"format": "xml"}),
    (PREFIXES + TEXTS, {"default-graph-uri": vocab.LEXICON_GRAPH}),
    (PREFIXES + TEXTS, {"default-graph-uri": vocab.passage_iri("notes", 0, 60)}),
    (PREFIXES + TEXTS, {"named-graph-uri": vocab.passage_iri("notes", 0, 60)}),
    (
        PREFIXES + f"SELECT ?label FROM <{vocab.LEXICON_GRAPH}> WHERE {{ ?s rdfs:label ?label }} "
        "ORDER BY ?label",
        {},
    ),
    (
        PREFIXES + "SELECT ?g WHERE { GRAPH ?g { ?s ckg:text ?t } } ORDER BY ?g",
        {"named-graph-uri": vocab.passage_iri("notes", 61, 120)},
    ),
    (
        PREFIXES
        + """SELECT ?sentence WHERE { GRAPH ?p { ?s ckg:hasLimit ?l }
                   ?s skos:altLabel "S3" . ?p ckg:text ?sentence }""",
        {},
    ),
]


@server
@pytest.mark.parametrize(("query", "params"), SAME_RESULTS)
def test_results_are_the_same_as_embedded(
    remote: TestClient, embedded: TestClient, query: str, params: dict[str, str]
) -> None:
    theirs, ours = get(remote, query, **params), get(embedded, query, **params)
    assert theirs.status_code == ours.status_code == 200, theirs.text
    assert theirs.headers["content-type"] == ours.headers["content-type"]
    assert theirs.headers.get("x-sparql-truncated") == ours.headers.get("x-sparql-truncated")
    assert theirs.content == ours.content


def canonical(body: bytes, fmt: ox.RdfFormat) -> set[str]:
    dataset = ox.Dataset(ox.parse(body, fmt))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {str(q) for q in dataset}


@server
@pytest.mark.parametrize(
    ("fmt", "rdf_format"),
    [
        ("ttl", ox.RdfFormat.TURTLE),
        ("nt", ox.RdfFormat.N_TRIPLES),
        ("nq", ox.RdfFormat.N_QUADS),
        ("rdfxml", ox.RdfFormat.RDF_XML),
        ("jsonld", ox.RdfFormat.JSON_LD),
    ],
)
def test_graphs_are_the_same_as_embedded(
    remote: TestClient, embedded: TestClient, fmt: str, rdf_format: ox.RdfFormat
) -> None:
    for query in (S3_GRAPH, 'DESCRIBE ?s WHERE { ?s skos:altLabel "S3" }'):
        theirs = get(remote, PREFIXES + query, format=fmt)
        ours = get(embedded, PREFIXES + query, format=fmt)
        assert theirs.status_code == ours.status_code == 200, theirs.text
        assert theirs.headers["content-type"] == ours.headers["content-type"]
        assert canonical(theirs.content, rdf_format) == canonical(ours.content, rdf_format)
    turtle = get(remote, PREFIXES + S3_GRAPH)
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert b"@prefix ckg:" in turtle.content  # the endpoint's own prefixes


@server
@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_the_row_cap(remote: TestClient, fmt: str) -> None:
    r = get(remote, PREFIXES + ALL_FILLER, format=fmt)
    assert r.status_code == 200
    assert r.headers["x-sparql-truncated"] == "true"
    assert r.headers["x-sparql-max-rows"] == str(MAX_ROWS)
    assert _results_rows(fmt, r.content) == MAX_ROWS
    if fmt == "json":
        assert r.json()["truncated"] is True and r.json()["maxRows"] == MAX_ROWS
    capped = get(remote, PREFIXES + "CONSTRUCT WHERE { ?s ckg:note ?o }", format="nt")
    assert capped.headers["x-sparql-truncated"] == "true"
    assert len(list(ox.parse(capped.content, ox.RdfFormat.N_TRIPLES))) == MAX_ROWS
    small = get(remote, PREFIXES + ALL_FILLER + " LIMIT 10")
    assert "x-sparql-truncated" not in small.headers and "truncated" not in small.json()


@server
def test_errors_are_the_same_as_embedded(remote: TestClient, embedded: TestClient) -> None:
    for query, params, headers in [
        ("SELECT ?x WHERE { ?x ", {}, {}),  # malformed: the parser's message and position
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", {}, {}),
        ("SELECT * WHERE { ?s ?p ?o FILTER(?o<?s)SERVICE#>\n<http://x/>{?a ?b ?c} }", {}, {}),
        (PREFIXES + S3_GRAPH, {}, {"Accept": "text/csv"}),  # 406
        (PREFIXES + SERVICES, {"format": "ttl"}, {}),
        ("ASK {}", {"default-graph-uri": "not an iri"}, {}),
    ]:
        theirs = remote.get("/sparql", params={"query": query, **params}, headers=headers)
        ours = embedded.get("/sparql", params={"query": query, **params}, headers=headers)
        assert theirs.status_code == ours.status_code, (query, theirs.text, ours.text)
        assert theirs.json()["error"] == ours.json()["error"], query
    malformed = get(remote, "SELECT ?x\nWHERE { ?x ?y ?z }\nLIMT 1").json()
    assert malformed["error"] == "malformed_query" and malformed["line"] == 3
    assert "\n" not in malformed["message"]


@server
def test_updates_go_to_the_server_with_the_token(
    remote: TestClient, sparql_server: SparqlServer
) -> None:
    graph = "http://example.com/updated"
    update = (
        f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.com/s> <{vocab.RDFS}label> "x" }} }}'
    )
    assert remote.post("/sparql", data={"update": update}).status_code == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    r = remote.post("/sparql", data={"update": update}, headers=bearer)
    assert r.status_code == 200 and r.json() == {"updated": True, "generation": "remote"}
    try:
        assert get(remote, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").json()["boolean"]
        for forbidden in ("LOAD <http://example.org/x.nt>", "LOADSILENT<http://x/y>"):
            r = remote.post("/sparql", data={"update": forbidden}, headers=bearer)
            assert (r.status_code, r.json()["error"]) == (400, "forbidden_operation")
        r = remote.post("/sparql", data={"update": "INSERT DAT { }"}, headers=bearer)
        assert (r.status_code, r.json()["error"]) == (400, "malformed_query")
    finally:
        drop(sparql_server, f"DROP SILENT GRAPH <{graph}>")


@server
def test_no_request_leaves_through_the_remote_server(remote: TestClient) -> None:
    """FROM, GRAPH and DESCRIBE IRIs select stored graphs on the server too; SERVICE never
    reaches it."""
    with recording_server() as (base, seen):
        for query in (
            f"SELECT * FROM <{base}/x> WHERE {{ ?s ?p ?o }}",
            f"SELECT * FROM NAMED <{base}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            f"SELECT * WHERE {{ GRAPH <{base}/x> {{ ?s ?p ?o }} }}",
            f"DESCRIBE <{base}/x>",
        ):
            assert get(remote, query).status_code == 200, query
        assert get(remote, "ASK {}", **{"default-graph-uri": f"{base}/x"}).status_code == 200
        r = get(remote, f"SELECT * WHERE {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }}")
        assert r.status_code == 400
    assert seen == []


@server
def test_run_query_from_python(sparql_server: SparqlServer, tmp_path: Path) -> None:
    settings = remote_settings(sparql_server, tmp_path)
    result = run_query(settings, PREFIXES + SERVICES, format="csv")
    assert result.media_type == "text/csv; charset=utf-8" and not result.truncated
    assert result.body.decode().splitlines()[1].endswith("AWS Lambda")


# -- time limits and a server that is down ---------------------------------------------------


@server
def test_a_server_that_is_down_is_a_quick_503(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with TestClient(create_app(remote_settings(url, tmp_path))) as c:
        started = time.monotonic()
        r = get(c, "ASK {}")
        elapsed = time.monotonic() - started
    assert (r.status_code, r.json()["error"]) == (503, "graph_unavailable")
    assert url in r.json()["message"]
    assert elapsed < 1.0


@server
def test_a_server_that_never_answers_is_a_503_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = remote_settings(url, tmp_path, sparql_timeout=0.5)
        with TestClient(create_app(settings)) as c:
            started = time.monotonic()
            r = get(c, "SELECT * WHERE { ?s ?p ?o }")
            elapsed = time.monotonic() - started
    assert (r.status_code, r.json()["error"]) == (503, "timeout")
    assert "0.5 s" in r.json()["message"]
    assert 0.4 < elapsed < 2.0


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Answers at once, then sends the body a few bytes at a time, forever."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        head = b'{"head":{"vars":["s"]},"results":{"bindings":['
        with contextlib.suppress(OSError):
            for piece in [head, *([b" "] * 200)]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.1)

    def log_message(self, *args: Any) -> None:
        pass


@server
def test_an_answer_that_trickles_in_is_cut_at_the_time_limit() -> None:
    with http_server(_Trickle) as url:
        executor = RemoteExecutor(f"{url}/query", timeout=0.6, server="generic")
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"0\.6 s limit"):
            executor.query(QueryRequest("SELECT ?s WHERE { ?s ?p ?o }"))
        assert time.monotonic() - started < 1.5
        executor.close()


# -- the forwarder over the client (fake transport; the client's HTTP: test_sparql_client.py) --


def test_the_forwarder_reformats_what_the_client_fetches() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/update"):
            return httpx.Response(204)
        if "n-triples" in request.headers["Accept"].split(",")[0]:
            body = b"<http://a> <http://p> <http://o> .\n"
            return httpx.Response(200, content=body, headers={"Content-Type": "text/plain"})
        return httpx.Response(
            200,
            content=b'{"head":{},"boolean":true}',
            headers={"Content-Type": "application/sparql-results+json; charset=utf-8"},
        )

    executor = RemoteExecutor(
        "http://sparql.test/ds/query",
        "http://sparql.test/ds/update",
        token="t0k",
        server="generic",
        transport=httpx.MockTransport(handler),
    )
    answer = executor.query(QueryRequest("ASK {}", "csv"))
    assert (answer.body, answer.kind, answer.format.name) == (b"true", "boolean", "csv")
    graph = executor.query(
        QueryRequest(
            "CONSTRUCT WHERE { ?s ?p ?o }", None, "ntriples", ("http://g1",), ("http://g2",)
        )
    )
    assert graph.body == b"<http://a> <http://p> <http://o> .\n" and graph.kind == "graph"
    dataset = executor.query(QueryRequest("ASK FROM <http://g3> FROM NAMED <http://g4> {}"))
    assert dataset.kind == "boolean"
    assert executor.update("DROP ALL") == "remote"
    ask, construct, _, update = seen
    form = [httpx.QueryParams(r.content.decode()) for r in seen]
    assert form[0]["query"] == "ASK {}" and ask.headers["Authorization"] == "Bearer t0k"
    assert construct.headers["Accept"].startswith("application/n-triples")
    assert form[1].get_list("default-graph-uri") == ["http://g1"]
    assert form[1].get_list("named-graph-uri") == ["http://g2"]
    assert form[2].get_list("default-graph-uri") == ["http://g3"]  # the query's own FROM
    assert form[2].get_list("named-graph-uri") == ["http://g4"]
    assert form[3]["update"] == "DROP ALL" and update.url.path == "/ds/update"
    executor.close()


def test_virtuoso_answers_cut_short_are_marked() -> None:
    """A partial answer (its time limit) is a timeout; one cut at its ResultSetMaxRows is
    passed on marked truncated, as the endpoint's own cap is."""
    partial = {"X-SQL-State": "S1TAT"}
    for headers, outcome in (({"X-SPARQL-MaxRows": "2"}, "truncated"), (partial, "timeout")):

        def handler(request: httpx.Request, extra: dict[str, str] = headers) -> httpx.Response:
            bindings = [{"s": {"type": "uri", "value": f"http://s{i}"}} for i in range(2)]
            body = json.dumps({"head": {"vars": ["s"]}, "results": {"bindings": bindings}})
            content_type = {"Content-Type": "application/sparql-results+json"}
            return httpx.Response(200, text=body, headers={**content_type, **extra})

        executor = RemoteExecutor(
            "http://v.test/sparql", server="generic", transport=httpx.MockTransport(handler)
        )
        if outcome == "timeout":
            with pytest.raises(QueryTimeout, match="it stopped it"):
                executor.query(QueryRequest("SELECT ?s WHERE { ?s ?p ?o }"))
        else:
            result = executor.query(QueryRequest("SELECT ?s WHERE { ?s ?p ?o }"))
            assert result.truncated and len(json.loads(result.body)["results"]["bindings"]) == 2
        executor.close()


@pytest.mark.parametrize(
    ("status", "text", "error", "match", "position"),
    [
        (400, "Parse error: error at 1:7", MalformedQuery, "Parse error: error at 1:7", (1, 7)),
        (
            400,
            "Virtuoso 37000 Error SP030: SPARQL compiler, line 3: syntax error at 'SELEC'"
            "\n\nSPARQL query:\nSELEC ?x",
            MalformedQuery,
            "line 3: syntax error at 'SELEC'$",
            (3, None),
        ),
        (500, "Parse error", GraphUnavailable, "answered 500 Internal Server Error: Parse", None),
        (503, "", GraphUnavailable, "answered 503", None),
        (401, "", GraphUnavailable, "answered 401", None),
        (404, "", GraphUnavailable, "answered 404", None),
    ],
)
def test_the_servers_errors(
    status: int,
    text: str,
    error: type[Exception],
    match: str,
    position: tuple[int, int | None] | None,
) -> None:
    answer = httpx.Response(status, text=text)
    executor = RemoteExecutor(
        "http://sparql.test/query",
        "http://sparql.test/update",
        server="generic",
        transport=httpx.MockTransport(lambda request: answer),
    )
    with pytest.raises(error, match=match) as caught:
        executor.query(QueryRequest("SELECT * WHERE { }"))
    if position is not None:
        assert isinstance(caught.value, MalformedQuery)
        assert (caught.value.line, caught.value.column) == position
    with pytest.raises(error, match=match):
        executor.update("DROP ALL")
    executor.close()


def test_an_unreadable_answer_is_graph_unavailable() -> None:
    for content_type, body in [
        ("application/sparql-results+json", b"{not json"),
        ("application/octet-stream", b"\x00\x01"),
    ]:
        executor = RemoteExecutor(
            "http://sparql.test/query",
            server="generic",
            transport=httpx.MockTransport(
                lambda request, c=content_type, b=body: httpx.Response(
                    200, content=b, headers={"Content-Type": c}
                )
            ),
        )
        with pytest.raises(GraphUnavailable, match=r"sparql\.test"):
            executor.query(QueryRequest("SELECT * WHERE { }"))
        executor.close()


def test_without_an_update_url_updates_are_forbidden() -> None:
    executor = RemoteExecutor("http://sparql.test/query")
    with pytest.raises(Forbidden, match="KG_SPARQL_UPDATE_URL") as caught:
        executor.update("DROP ALL")
    assert caught.value.status == 403
    executor.close()


# == the answering API over remote stores ====================================================


@pytest.fixture(scope="module", params=SERVERS)
def graph_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparqlServer]:
    """The server a build writes into and the outage tests stop and start."""
    with running(start_server(tmp_path_factory, request.param, "graph")) as sparql:
        yield sparql


@pytest.fixture(scope="module")
def remote_build(graph_server: SparqlServer, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The bundled notes built into the server and a Qdrant folder; the settings of a replica
    (its own empty data folder, no update URL) are derived from these."""
    root = tmp_path_factory.mktemp("remote-build")
    settings = remote_settings(
        graph_server,
        root / "builder",
        vector_store="qdrant",
        qdrant_url=str(root / "qdrant"),
    )
    report = build(settings)
    assert report.violations == [] and report.triples > 1000
    return settings


def replica(settings: Settings, data: Path, **overrides: Any) -> Settings:
    return settings.model_copy(update={"data": data, "sparql_update_url": None, **overrides})


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        yield c


def runtime_of(client: TestClient) -> Runtime:
    runtime: Runtime = cast(FastAPI, client.app).state.kg.services["runtime"]
    return runtime


@contextlib.contextmanager
def stopped(sparql: SparqlServer) -> Iterator[None]:
    """The server stopped for the block, and started again (same port and data) after it."""
    sparql.stop()
    try:
        yield
    finally:
        sparql.start()


QUESTIONS = [
    "How long does SQS keep a message by default?",
    "What is the largest object you can store in S3?",
    "Which database engines does RDS support?",
    "What is Lambda charged by?",
    "How many availability zones does Aurora replicate to?",
    "Which routing policies does Route 53 have?",
    "How do I block an IP address in a VPC?",
    "How much memory can an AWS Fargate task use?",
    "What is the capital of France?",
]


@server
def test_a_replica_over_remote_stores_answers(remote_build: Settings, tmp_path: Path) -> None:
    with serving(replica(remote_build, tmp_path / "replica")) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["backends"] == {"graph": "ok", "vectors": "ok"}
        body = c.post("/ask", json={"question": QUESTIONS[0]}).json()
        assert body["route"] in ("graph", "hybrid") and "4 days" in body["answer"]
        assert body["facts"] and body["facts"][0]["source"]["document"]
        assert c.get("/search", params={"q": "block an IP address"}).json()["passages"]
    assert not (tmp_path / "replica").exists()  # a replica keeps nothing of its own


@server
def test_graph_outage_and_recovery(
    remote_build: Settings, graph_server: SparqlServer, tmp_path: Path
) -> None:
    with serving(replica(remote_build, tmp_path / "replica")) as c:
        assert c.post("/ask", json={"question": QUESTIONS[0]}).status_code == 200
        with stopped(graph_server):
            started = time.monotonic()
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "not ready"
            backends = ready.json()["backends"]
            assert graph_server.url in backends["graph"] and backends["vectors"] == "ok"
            # a question whose graph queries have not run before (answers are cached per build)
            r = c.post("/ask", json={"question": QUESTIONS[1]})
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            body = r.json()
            assert body["backend"] == "graph" and body["error"] == "the graph store is unavailable"
            assert graph_server.url in body["message"]
            assert c.get("/ask", params={"q": QUESTIONS[2]}).status_code == 503
            assert time.monotonic() - started < 2.0
            assert c.get("/search", params={"q": "S3 object size"}).status_code == 200
        ready = c.get("/readyz")  # same app, same port and data: back without a restart
        assert ready.status_code == 200, ready.json()
        body = c.post("/ask", json={"question": QUESTIONS[1]}).json()
        assert body["route"] != "none" and "5 TB" in body["answer"]
        body = c.post("/ask", json={"question": QUESTIONS[2]}).json()  # a list: from the graph
        assert body["route"] in ("graph", "hybrid") and "MySQL" in body["answer"]


@server
def test_a_replica_started_while_the_graph_is_down(
    remote_build: Settings, graph_server: SparqlServer, tmp_path: Path
) -> None:
    with stopped(graph_server), serving(replica(remote_build, tmp_path / "r")) as c:
        started = time.monotonic()
        ready = c.get("/readyz")
        assert ready.status_code == 503 and graph_server.url in ready.json()["backends"]["graph"]
        r = c.post("/ask", json={"question": QUESTIONS[0]})
        assert (r.status_code, r.json()["backend"]) == (503, "graph")
        r = c.get("/search", params={"q": "SQS retention"})
        assert (r.status_code, r.json()["backend"]) == (503, "graph")  # no engine without it
        assert time.monotonic() - started < 2.0
        graph_server.start()
        assert c.get("/readyz").status_code == 200  # retried on the next call, not cached
        assert c.post("/ask", json={"question": QUESTIONS[0]}).json()["route"] != "none"
        graph_server.stop()


@server
@pytest.mark.filterwarnings("ignore:Failed to obtain server version:UserWarning")
def test_a_vector_store_that_is_down(remote_build: Settings, tmp_path: Path) -> None:
    """Qdrant over HTTP on a port where nothing listens."""
    qdrant = f"http://127.0.0.1:{free_port()}"
    settings = replica(remote_build, tmp_path / "r", qdrant_url=qdrant)
    with serving(settings) as c:
        started = time.monotonic()
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "Qdrant" in ready.json()["backends"]["vectors"]
        assert qdrant in ready.json()["backends"]["vectors"]
        assert ready.json()["backends"]["graph"] == "ok"
        r = c.post("/ask", json={"question": QUESTIONS[0]})
        assert r.status_code == 503
        assert r.json()["backend"] == "vectors" and r.json()["error"] == (
            "the vector store is unavailable"
        )
        assert time.monotonic() - started < 2.0
    _join_version_checks()


def _join_version_checks() -> None:
    """qdrant-client checks the server's version in a thread per client; let them end here."""
    for thread in threading.enumerate():
        if "check_compatibility" in thread.name:
            thread.join(timeout=10)


@server
def test_a_vector_failure_during_a_request_is_a_503(
    remote_build: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qdrant_client.http.exceptions import ResponseHandlingException

    runtime = Runtime(replica(remote_build, tmp_path / "r"))
    engine = runtime.engine()

    def down(*args: Any, **kwargs: Any) -> Any:
        request = httpx.Request("POST", "http://qdrant.test:6333/collections/x/points/query")
        raise ResponseHandlingException(httpx.ConnectError("Connection refused", request=request))

    monkeypatch.setattr(engine.retriever, "search", down)
    with TestClient(create_app(runtime.settings, runtime=runtime)) as c:
        for r in (
            c.post("/ask", json={"question": "How do I block an IP address?"}),
            c.get("/search", params={"q": "block an IP address"}),
        ):
            assert r.status_code == 503
            assert r.json()["backend"] == "vectors"
            assert "qdrant.test" in r.json()["message"]


def test_failures_are_named_by_backend(tmp_path: Path) -> None:
    from qdrant_client.http.exceptions import UnexpectedResponse

    from kg.graph.base import GraphStoreError

    runtime = Runtime(Settings(data=tmp_path, vector_store="qdrant", embedder="fake"))
    graph = runtime.failure(GraphStoreError("down"))
    assert graph is not None and (graph.backend, graph.message) == ("graph", "down")
    assert runtime.failure(NotReadyError("build", "none")) is not None
    missing = UnexpectedResponse(404, "Not Found", b"{}", httpx.Headers())
    failure = runtime.failure(missing)
    assert failure is not None and failure.backend == "vectors"
    assert runtime.failure(ValueError("a bug")) is None
    assert runtime.failure(KeyError("a bug")) is None
    runtime.close()


# == rebuilds into the remote store ==========================================================


@pytest.fixture(scope="module", params=SERVERS)
def scratch_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparqlServer]:
    with running(start_server(tmp_path_factory, request.param, "scratch")) as sparql:
        yield sparql


def quads_of(store: SparqlStore, prefix: str) -> set[tuple[str, str, str, str]]:
    """Every quad whose graph IRI starts with ``prefix``."""
    rows = store.select(
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER STRSTARTS(STR(?g), {ox.Literal(prefix)}) }}"
    )
    return {(str(r["s"]), str(r["p"]), str(r["o"]), str(r["g"])) for r in rows}


def graph_quads(store: Any) -> set[str]:
    """The whole dataset but the build's own graph (it names the generation), canonicalised
    (the ontology's blank nodes get fresh labels on every load)."""
    rows = store.select(
        "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(?g != <{vocab.BUILD_GRAPH}>) }}"
    )
    dataset = ox.Dataset(ox.Quad(r["s"], r["p"], by_value(r["o"]), r["g"]) for r in rows)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {str(q) for q in dataset}


NUMBERS = {vocab.XSD + "decimal", vocab.XSD + "integer"}


def by_value(term: Any) -> Any:
    """Numbers in one canonical form: Virtuoso keeps a number's value, not its spelling
    (``"70"^^xsd:decimal`` comes back as ``"70"^^xsd:integer``, ``"1.50"`` as ``"1.5"``)."""
    if not isinstance(term, ox.Literal) or term.datatype.value not in NUMBERS:
        return term
    value = Decimal(term.value).normalize()
    if value == value.to_integral_value():
        return ox.Literal(str(int(value)), datatype=ox.NamedNode(vocab.XSD + "integer"))
    return ox.Literal(format(value, "f"), datatype=ox.NamedNode(vocab.XSD + "decimal"))


def embedded_quads(notes: Path, data: Path) -> set[str]:
    from kg.graph.stores import open_graph_store

    build(Settings(data=data, embedder="fake"), [notes], search=False)
    store = open_graph_store(Settings(data=data))
    try:
        return graph_quads(store)
    finally:
        store.close()


@server
def test_rebuilds_into_the_server_are_idempotent(
    scratch_server: SparqlServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("fargate.md", "nebula-queue.md"):
        shutil.copy(FIXTURES / name, notes)
    scratch_server.wipe()
    store = scratch_server.store()
    settings = remote_settings(scratch_server, tmp_path / "a")
    fargate, nebula = vocab.document_iri("fargate.md"), vocab.document_iri("nebula-queue.md")

    first = build(settings, [notes], search=False)
    count, everything = store.count(), graph_quads(store)
    assert first.triples == count and count > 100
    assert everything == embedded_quads(notes, tmp_path / "embedded-1")  # same as embedded
    fargate_quads = quads_of(store, fargate)
    assert fargate_quads and quads_of(store, nebula)

    assert build(settings, [notes], search=False).up_to_date
    assert store.count() == count
    forced = build(settings, [notes], search=False, force=True)
    assert not forced.up_to_date and store.count() == count
    assert graph_quads(store) == everything
    # another machine, with an empty data folder, building the same notes into the same server
    build(settings.model_copy(update={"data": tmp_path / "b"}), [notes], search=False)
    assert store.count() == count and graph_quads(store) == everything

    changed = (notes / "nebula-queue.md").read_text("utf-8").replace("2 days", "3 days")
    (notes / "nebula-queue.md").write_text(changed, "utf-8")
    report = build(settings, [notes], search=False)
    assert report.extracted == 1  # only the changed note was read again
    assert quads_of(store, fargate) == fargate_quads  # the other note's graphs are untouched
    assert any("3 days" in o for _, _, o, _ in quads_of(store, nebula))
    assert not any("2 days" in o for _, _, o, _ in quads_of(store, nebula))
    assert graph_quads(store) == embedded_quads(notes, tmp_path / "embedded-2")

    (notes / "fargate.md").unlink()
    build(settings, [notes], search=False)
    assert quads_of(store, fargate) == set()
    assert store.graphs_of(fargate) == []
    assert store.documents() == {nebula: note_hash(notes / "nebula-queue.md")}
    assert graph_quads(store) == embedded_quads(notes, tmp_path / "embedded-3")
    store.close()


def kg_build(settings: Settings, *args: str) -> tuple[int, str, str]:
    """``kg build`` with ``settings`` as the environment gives them."""
    env = {f"KG_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None}
    for secret in ("sparql_store_password", "sparql_store_token"):
        value = getattr(settings, secret)
        if value is not None:
            env[f"KG_{secret.upper()}"] = value.get_secret_value()
    result = CliRunner().invoke(cli, ["build", "--graph-only", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


@server
def test_kg_build_refuses_a_default_graph_that_is_not_the_union(tmp_path: Path) -> None:
    """Checked before writing, with the message ``kg serve`` gives, not zero counts."""
    skip_unless_available("oxigraph")
    plain = OxigraphServer(tmp_path / "plain", union=False)
    plain.start()
    try:
        settings = remote_settings(plain, tmp_path / "data")
        code, out, err = kg_build(settings, str(FIXTURES / "fargate.md"))
        assert code == 1 and out == ""
        store = plain.store()
        with pytest.raises(GraphStoreError) as serve_says:
            store.check_union_default_graph(probe=True)
        assert err.strip() == f"error: {serve_says.value}"
        assert "start Oxigraph with --union-default-graph" in err
        assert store.count() == 0  # nothing was written
        store.close()
    finally:
        plain.stop()


@server
def test_kg_build_into_a_server_that_refuses_says_so_in_one_line(
    scratch_server: SparqlServer, tmp_path: Path
) -> None:
    """Updates sent where the server does not take them (its query endpoint; on Virtuoso the
    anonymous /sparql without the update grant): one line naming the server, no traceback."""
    settings = remote_settings(
        scratch_server, tmp_path / "data", sparql_update_url=scratch_server.query_url
    )
    code, out, err = kg_build(settings, str(FIXTURES / "fargate.md"))
    assert code == 1 and out == ""
    assert err.startswith(f"error: the SPARQL server at {scratch_server.query_url} answered ")
    assert len(err.strip().splitlines()) == 1 and len(err) < 500
    assert "Traceback" not in err and "INSERT DATA" not in err


def note_hash(path: Path) -> str:
    from kg.parse.notes import read_document

    return read_document(path, path.name).sha256


@server
def test_a_note_whose_extraction_changed_is_replaced(
    scratch_server: SparqlServer, tmp_path: Path
) -> None:
    """Adding the Nebula Queue note makes "Amazon Nebula Queue" a known service, which changes
    what is extracted from an unchanged note that mentions it."""
    notes = tmp_path / "notes"
    notes.mkdir()
    mention = "\nFargate tasks can publish events to Amazon Nebula Queue.\n"
    (notes / "fargate.md").write_text((FIXTURES / "fargate.md").read_text("utf-8") + mention)
    scratch_server.wipe()
    store = scratch_server.store()
    settings = remote_settings(scratch_server, tmp_path / "a")
    build(settings, [notes], search=False)
    shutil.copy(FIXTURES / "nebula-queue.md", notes)
    build(settings, [notes], search=False)
    try:
        assert graph_quads(store) == embedded_quads(notes, tmp_path / "embedded")
    finally:
        store.close()


# == replicas ================================================================================


def comparable(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True)


@server
def test_two_replicas_answer_the_same(remote_build: Settings, tmp_path: Path) -> None:
    """Two apps over the same stores, each with its own runtime, engine, graph-store client and
    empty data folder: identical answers, asked in either order, GET or POST."""
    with (
        serving(replica(remote_build, tmp_path / "one")) as one,
        serving(replica(remote_build, tmp_path / "two")) as two,
    ):
        for i, question in enumerate(QUESTIONS):
            first, second = (one, two) if i % 2 else (two, one)
            a = first.post("/ask", json={"question": question, "k": 3})
            b = second.get("/ask", params={"q": question, "k": 3})
            assert a.status_code == b.status_code == 200
            assert comparable(a.json()) == comparable(b.json()), question
            sa = one.get("/search", params={"q": question})
            sb = two.get("/search", params={"q": question})
            assert comparable(sa.json()) == comparable(sb.json())
        runtimes = [runtime_of(c) for c in (one, two)]
        assert runtimes[0] is not runtimes[1]
        engines = [r.engine() for r in runtimes]
        assert engines[0] is not engines[1] and engines[0].store is not engines[1].store


@server
def test_remote_and_embedded_give_the_same_answers(
    remote_build: Settings, corpus_embedded: Settings, tmp_path: Path
) -> None:
    """The same notes and embedder: SPARQL server + Qdrant answer what Oxigraph + FAISS do."""
    with (
        serving(replica(remote_build, tmp_path / "r")) as remote_app,
        serving(corpus_embedded) as embedded_app,
    ):
        for question in QUESTIONS:
            a = remote_app.post("/ask", json={"question": question}).json()
            b = embedded_app.post("/ask", json={"question": question}).json()
            assert (a["route"], a["answer"], a["sparql"]) == (b["route"], b["answer"], b["sparql"])
            assert rounded(a["facts"]) == rounded(b["facts"]), question
            assert [p["id"] for p in a["passages"]] == [p["id"] for p in b["passages"]], question
            assert rounded(a["passages"]) == rounded(b["passages"]), question


@pytest.fixture(scope="module")
def corpus_embedded(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data=tmp_path_factory.mktemp("embedded-corpus"), embedder="fake")
    build(settings)
    return settings


def rounded(value: Any) -> Any:
    """Scores to 4 decimals: Qdrant and FAISS sum float32 products in different orders."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


@server
def test_a_new_remote_build_is_picked_up_without_a_restart(
    scratch_server: SparqlServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    shutil.copy(FIXTURES / "fargate.md", notes)
    scratch_server.wipe()
    builder = remote_settings(
        scratch_server, tmp_path / "builder", vector_store="qdrant", qdrant_url=str(tmp_path / "q")
    )
    build(builder, [notes])
    question = {"question": "How large can a Nebula Queue message be?"}
    with serving(replica(builder, tmp_path / "replica")) as c:
        assert c.post("/ask", json=question).json()["route"] == "none"
        shutil.copy(FIXTURES / "nebula-queue.md", notes)
        build(builder, [notes])
        time.sleep(0.6)  # the runtime reads the aliases at most twice a second
        body = c.post("/ask", json=question).json()
        assert body["route"] in ("graph", "hybrid") and "1 MB" in body["answer"]
        assert c.get("/readyz").status_code == 200
