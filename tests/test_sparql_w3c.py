"""The W3C SPARQL 1.0 and 1.1 test suites through /sparql (tests/w3c/README.md).

Every syntax and evaluation test runs twice: on the bare engine (pyoxigraph, in process) and
through the endpoint over HTTP. A test the engine passes must pass through /sparql; one the
engine fails is skipped with that reason. Texts with SERVICE or LOAD are skipped as refused by
design (the endpoint never reaches outside its store), and the skip reasons name them. Every
protocol test must pass. ``pytest -ra`` prints the counts of each reason.

How the endpoint is given each test's dataset: all the data files of the query tests are loaded
once into one store, each file in the named graph of its IRI; a test then names its default
graph and named graphs with the protocol's ``default-graph-uri`` / ``named-graph-uri`` (or its
own FROM clauses select them). Update tests each start from a generation holding their data.
The endpoint's base IRI is the URL it is asked at; requests are sent with the ``Host`` of the
test's folder, so relative IRIs resolve as they do for the engine (tests/w3c/suite.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from kg.datadir import DataDir
from kg.graph.oxigraph import OxigraphStore
from kg.settings import Settings
from kg.sparql import scanner

from .w3c import suite
from .w3c.suite import W3CTest

TESTS = suite.load_tests()
TOKEN = "w3c-t0ken"
EMPTY = "urn:w3c:empty"  # a graph no store holds: an empty default graph
ENGINE_FAILS = "the bare engine (pyoxigraph) fails this test too"


def _of(*kinds: str) -> list[Any]:
    return [pytest.param(t, id=t.id) for t in TESTS if t.kind in kinds]


def _refused(text: str, *, update: bool) -> str | None:
    found = scanner.inspect(text, update=update).forbidden
    return (
        f"refused by design: {' and '.join(found)} (the endpoint never leaves its store)"
        if found
        else None
    )


def _settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data": root,
        "embedder": "fake",
        "sparql_timeout": 20,
        "sparql_max_rows": 1_000_000,
        "sparql_workers": 2,
    }
    return Settings(**(values | overrides))


def _publish(root: Path, quads: list[ox.Quad]) -> None:
    data = DataDir(root)
    gen = data.new_generation()
    store = OxigraphStore(gen / "graph")
    store.store.extend(quads)
    store.close()
    data.publish(gen)


@pytest.fixture(scope="module")
def queries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The endpoint over one store holding every data file of the query tests."""
    root = tmp_path_factory.mktemp("w3c-queries")
    files: set[str] = set()
    for test in TESTS:
        if test.kind in ("query", "csv"):
            default, named = suite.dataset_iris(test)
            files |= {*test.data, *(f for _, f in test.graphs), *default, *named}
    quads: list[ox.Quad] = []
    for iri in sorted(files):
        with contextlib.suppress(OSError, SyntaxError, ValueError):  # then the engine fails too
            quads += suite.file_quads(iri, iri)
    _publish(root, quads)
    with TestClient(create_app(_settings(root))) as client:
        yield client


@pytest.fixture(scope="module")
def updates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("w3c-updates")
    _publish(root, [])
    with TestClient(create_app(_settings(root, update_token=SecretStr(TOKEN)))) as client:
        yield client, root


def _answer(response: Any, test: W3CTest) -> suite.Answer:
    media = response.headers["content-type"].split(";")[0]
    if test.kind == "csv":
        return frozenset({response.text.replace("\r\n", "\n").strip()})
    if media == "application/sparql-results+json":
        return suite.solutions_answer(
            ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        )
    return suite.graph_answer(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))


# -- syntax ----------------------------------------------------------------------------------


@pytest.mark.parametrize("test", _of("query-syntax+", "query-syntax-"))
def test_query_syntax(test: W3CTest, queries: TestClient) -> None:
    text, positive = test.text(), test.kind.endswith("+")
    refused = _refused(text, update=False)
    if refused and positive:
        pytest.skip(refused)
    if not refused and suite.engine_syntax(test) != positive:
        pytest.skip(ENGINE_FAILS)
    r = queries.post(
        "/sparql",
        params={"default-graph-uri": EMPTY},
        content=text.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Host": test.host},
    )
    if positive:  # parsed: an answer, or an evaluation error (an unsupported function)
        assert r.status_code == 200 or r.json()["error"] == "query_failed", r.text
    else:
        assert r.status_code == 400, r.text


@pytest.mark.parametrize("test", _of("update-syntax+", "update-syntax-"))
def test_update_syntax(test: W3CTest, updates: tuple[TestClient, Path]) -> None:
    client, _ = updates
    text, positive = test.text(), test.kind.endswith("+")
    refused = _refused(text, update=True)
    if refused and positive:
        pytest.skip(refused)
    if not refused and suite.engine_syntax(test) != positive:
        pytest.skip(ENGINE_FAILS)
    r = _update(client, test.host, text)
    if positive:  # parsed: applied, or refused by the engine (DROP of a missing graph)
        assert r.status_code == 200 or r.json()["error"] == "query_failed", r.text
    else:
        assert r.status_code == 400, r.text


def _update(client: TestClient, host: str, text: str) -> Any:
    headers = {
        "Content-Type": "application/sparql-update",
        "Authorization": f"Bearer {TOKEN}",
        "Host": host,
    }
    return client.post("/sparql", content=text.encode("utf-8"), headers=headers)


# -- evaluation -------------------------------------------------------------------------------


@pytest.mark.parametrize("test", _of("query", "csv"))
def test_query_evaluation(test: W3CTest, queries: TestClient) -> None:
    text = test.text()
    refused = _refused(text, update=False)
    if refused:
        pytest.skip(refused)
    expected = suite.expected(test)
    engine = suite.engine_query(test)
    if engine.answer != expected:
        pytest.skip(ENGINE_FAILS)
    params: list[tuple[str, str]] = []
    if not any(suite.dataset_iris(test)):
        params += [("default-graph-uri", f) for f in test.data] or [("default-graph-uri", EMPTY)]
        params += [("named-graph-uri", name) for name, _ in test.graphs]
    accept = (
        "text/csv"
        if test.kind == "csv"
        else "application/sparql-results+json, application/n-triples"
    )
    r = queries.post(
        "/sparql",
        params=params,
        content=text.encode("utf-8"),
        headers={"Content-Type": "application/sparql-query", "Accept": accept, "Host": test.host},
    )
    assert r.status_code == 200, r.text
    assert r.headers.get("x-sparql-truncated") is None
    assert _answer(r, test) == expected


@pytest.mark.parametrize("test", _of("update"))
def test_update_evaluation(test: W3CTest, updates: tuple[TestClient, Path]) -> None:
    client, root = updates
    text = test.text()
    refused = _refused(text, update=True)
    if refused:
        pytest.skip(refused)
    expected = suite.expected(test)
    if suite.engine_update(test).answer != expected:
        pytest.skip(ENGINE_FAILS)
    _publish(root, suite.initial_quads(test))
    r = _update(client, test.host, text)
    assert r.status_code == 200, r.text
    gen = DataDir(root).current()
    assert gen is not None and gen.name == r.json()["generation"]
    store = ox.Store.read_only(str(gen / "graph"))
    assert suite.store_answer(store) == expected


# -- protocol -----------------------------------------------------------------------------------

PROTOCOL_GRAPHS = {
    f"http://kasei.us/2009/09/sparql/data/data{i}.rdf": f"http://protocol.sparql11.test/data{i}.nt"
    for i in (1, 2, 3)
}


@pytest.fixture(scope="module")
def protocol_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path_factory.mktemp("w3c-protocol")
    _publish(root, [])
    with TestClient(create_app(_settings(root, update_token=SecretStr(TOKEN)))) as client:
        yield client, root


@pytest.fixture
def protocol(protocol_app: tuple[TestClient, Path]) -> TestClient:
    """The endpoint over the protocol tests' three graphs, as each test starts."""
    client, root = protocol_app
    _publish(root, [q for name, f in PROTOCOL_GRAPHS.items() for q in suite.file_quads(f, name)])
    return client


@pytest.mark.parametrize("test", _of("protocol"))
def test_protocol(test: W3CTest, protocol: TestClient) -> None:
    """Every request of the test, in order, as the manifest writes it (``/sparql/`` is
    ``/sparql``); updates carry the token, as this endpoint's updates need one."""
    for request in test.requests:
        parts = urlsplit(request.path)
        headers = dict(request.headers)
        if _is_update(request):
            headers["Authorization"] = f"Bearer {TOKEN}"
        r = protocol.request(
            request.method,
            "/sparql",
            params=parse_qsl(parts.query, keep_blank_values=True),
            content=request.body or None,
            headers=headers,
        )
        assert f"{r.status_code // 100}xx" in request.statuses, (
            request.path,
            r.status_code,
            r.text,
        )
        if request.boolean is not None:
            assert r.json()["boolean"] is request.boolean
        if request.format is not None:
            media = r.headers["content-type"].split(";")[0].strip()
            assert media in FORMATS[request.format], (request.format, media)


def _is_update(request: suite.Request) -> bool:
    ctype = {k.lower(): v for k, v in request.headers}.get("content-type", "")
    query = urlsplit(request.path).query
    return (
        "sparql-update" in ctype
        or request.body.startswith(b"update=")
        or b"&update=" in request.body
        or "update=" in query
    )


RESULTS = {"application/sparql-results+json", "application/sparql-results+xml"}
FORMATS = {
    "boolean": RESULTS,
    "tabular": RESULTS | {"text/csv", "text/tab-separated-values"},
    "RDF": {"text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"},
}
