"""One contract suite run over every graph store: embedded Oxigraph in memory and on disk, and
the SPARQL store against a real ``oxigraph serve`` started once per session. Then what only the
remote store can get wrong: a server that is down, silent, restarted or failing."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from shutil import which

import httpx
import pyoxigraph as ox
import pytest
from pydantic import SecretStr

from kg import vocab
from kg.graph.base import GraphStore, GraphStoreError
from kg.graph.oxigraph import OxigraphStore
from kg.graph.sparql import SparqlStore, bind_values, scan_query
from kg.graph.stores import open_graph_store
from kg.settings import Settings

N = ox.NamedNode
CKG = vocab.CKG
RDF_TYPE = N(vocab.RDF + "type")
LABEL = N(vocab.RDFS + "label")
MENTIONS = N(CKG + "mentions")
HOSTILE = 'a "quoted" \\ back\\u0022slash } ; DROP ALL ; {\n} \r\t\x00\x0b\x7f \'\'\' """ é 😀'

# -- the data: two documents (a document graph and passage graphs each) and a lexicon ---------


def doc_quads(
    name: str, passages: int = 2, *, content_hash: str = "h", per: int = 2
) -> list[ox.Quad]:
    """A document shaped like the build's: its graph describes it, one graph per passage."""
    doc = vocab.document_iri(name)
    quads = [
        ox.Quad(N(doc), RDF_TYPE, N(CKG + "Document"), N(doc)),
        ox.Quad(N(doc), N(CKG + "contentHash"), ox.Literal(content_hash), N(doc)),
    ]
    for i in range(passages):
        passage = N(vocab.passage_iri(name, 10 * i, 10 * i + 9))
        quads.append(ox.Quad(passage, RDF_TYPE, N(CKG + "Passage"), N(doc)))
        for j in range(per):
            thing = N(f"{vocab.ID}thing/{name}-{i}-{j}")
            quads.append(ox.Quad(passage, MENTIONS, thing, passage))
            quads.append(ox.Quad(thing, LABEL, ox.Literal(f"{name} {i} {j}"), passage))
    return quads


def lexicon_quads(label: str = "Amazon S3") -> list[ox.Quad]:
    s3 = N(vocab.service_iri("Amazon S3"))
    return [
        ox.Quad(s3, RDF_TYPE, N(CKG + "Service"), N(vocab.LEXICON_GRAPH)),
        ox.Quad(s3, LABEL, ox.Literal(label), N(vocab.LEXICON_GRAPH)),
    ]


def all_quads(store: GraphStore) -> set[tuple[str, str, str, str]]:
    rows = store.select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {(str(r["s"]), str(r["p"]), str(r["o"]), str(r["g"])) for r in rows}


def graphs(store: GraphStore) -> set[str]:
    return {r["g"].value for r in store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")}


def quad_keys(quads: list[ox.Quad]) -> set[tuple[str, str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name)) for q in quads}


DOC_A, DOC_B = vocab.document_iri("a"), vocab.document_iri("b")


# -- an Oxigraph server, started once per session -------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oxigraph_binary() -> str | None:
    return which("oxigraph", path=str(Path(sys.executable).parent)) or which("oxigraph")


class OxigraphServer:
    """``oxigraph serve`` on a free port, with the union default graph, stoppable."""

    def __init__(self, binary: str, location: Path) -> None:
        self.binary, self.location, self.port = binary, location, free_port()
        self.log = location.parent / f"{location.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def store(self, **kwargs: float | int) -> SparqlStore:
        return SparqlStore(f"{self.url}/query", f"{self.url}/update", **kwargs)  # type: ignore[arg-type]

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "serve", "--location", str(self.location)),
                    *("--bind", f"127.0.0.1:{self.port}", "--union-default-graph"),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"{self.url}/query", params={"query": "ASK {}"}, timeout=1)
                if answer.status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oxigraph serve did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("no `oxigraph` server binary (pip install oxigraph)")
    server = OxigraphServer(binary, tmp_path_factory.mktemp("oxigraph-server") / "data")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _memory(_: pytest.FixtureRequest, __: Path) -> GraphStore:
    return OxigraphStore(None)


def _disk(_: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    return OxigraphStore(tmp_path / "graph")


def _sparql(request: pytest.FixtureRequest, _: Path) -> GraphStore:
    server: OxigraphServer = request.getfixturevalue("oxigraph_server")
    store = server.store(timeout=10, batch_size=7)  # small batches: every path is exercised
    store.update("DROP ALL")
    return store


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], GraphStore]] = {
    "memory": _memory,
    "disk": _disk,
    "sparql": _sparql,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.server] if name == "sparql" else [])
        for name in STORES
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    graph_store = STORES[request.param](request, tmp_path)
    try:
        yield graph_store
    finally:
        graph_store.close()


@pytest.fixture
def loaded(store: GraphStore) -> GraphStore:
    store.replace_document(DOC_A, doc_quads("a", content_hash="ha"))
    store.replace_document(DOC_B, doc_quads("b", content_hash="hb"))
    store.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads())
    return store


# -- the contract ----------------------------------------------------------------------------


def test_select_ask_count(loaded: GraphStore) -> None:
    expected = len(doc_quads("a")) + len(doc_quads("b")) + len(lexicon_quads())
    assert loaded.count() == expected
    assert loaded.count("?s a ?type") == 2 + 4 + 1
    rows = loaded.select(
        "SELECT ?label WHERE { ?s ?p ?label FILTER(isLiteral(?label)) } ORDER BY ?label"
    )
    labels = [r["label"].value for r in rows]
    assert labels[:3] == ["Amazon S3", "a 0 0", "a 0 1"]
    assert loaded.ask(f"ASK {{ ?s a <{CKG}Service> }}")
    assert not loaded.ask(f"ASK {{ ?s a <{CKG}Nothing> }}")
    assert loaded.select("SELECT ?x WHERE { ?x a ?nothing } LIMIT 0") == []
    loaded.ping()


def test_unbound_variables_are_left_out(loaded: GraphStore) -> None:
    rows = loaded.select(
        f"SELECT ?s ?hash WHERE {{ ?s a <{CKG}Document> OPTIONAL {{ ?s <{CKG}nothing> ?hash }} }}"
    )
    assert len(rows) == 2
    assert all(set(r) == {"s"} for r in rows)


def test_select_and_ask_refuse_other_forms(loaded: GraphStore) -> None:
    with pytest.raises(TypeError):
        loaded.select("ASK {}")
    with pytest.raises(TypeError):
        loaded.ask("SELECT * WHERE {}")


def test_construct_and_describe_return_query_triples(loaded: GraphStore) -> None:
    result = loaded.query(
        f"CONSTRUCT {{ ?s a ?t }} WHERE {{ ?s a ?t FILTER(?t = <{CKG}Service>) }}"
    )
    assert isinstance(result, ox.QueryTriples)
    s3 = N(vocab.service_iri("Amazon S3"))
    assert list(result) == [ox.Triple(s3, RDF_TYPE, N(CKG + "Service"))]
    described = loaded.query(f"DESCRIBE <{s3.value}>")
    assert isinstance(described, ox.QueryTriples)
    assert {t.predicate for t in described} == {RDF_TYPE, LABEL}


@pytest.mark.parametrize(
    "term",
    [
        ox.Literal(HOSTILE),
        ox.Literal(HOSTILE, language="en"),
        ox.Literal(HOSTILE, datatype=N("http://example.com/type#x")),
        N("http://example.com/x?a=1&b=%22#frag"),
    ],
    ids=["plain", "language", "datatype", "iri"],
)
def test_bindings_are_safe_with_a_hostile_term(
    store: GraphStore, term: ox.NamedNode | ox.Literal
) -> None:
    graph = N("http://example.com/g")
    subject, other = N("http://example.com/s"), N("http://example.com/other")
    store.replace_graph(
        graph.value,
        [ox.Quad(subject, LABEL, term, graph), ox.Quad(other, LABEL, ox.Literal("x"), graph)],
    )
    assert store.select("SELECT ?o WHERE { }", o=term) == [{"o": term}]
    rows = store.select("SELECT ?s ?o WHERE { ?s ?p ?o }", o=term)
    assert rows == [{"s": subject, "o": term}]
    filtered = store.select("SELECT ?o ?s WHERE { ?s ?p ?x FILTER(?x = ?o) }", o=term)
    assert filtered == [{"o": term, "s": subject}]
    assert store.ask("ASK { ?s ?p ?o }", o=term)
    assert store.count() == 2  # nothing was dropped or added by the term


def test_bindings_join_before_grouping_and_sub_selects(loaded: GraphStore) -> None:
    passage = N(vocab.passage_iri("a", 0, 9))
    counted = loaded.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?p ?q ?o } } GROUP BY ?p", p=passage
    )
    assert [(r["p"], int(r["n"].value)) for r in counted] == [(passage, 3)]
    sub = loaded.select(
        f"SELECT ?p ?o WHERE {{ SELECT ?p ?o WHERE {{ ?p <{MENTIONS.value}> ?o }} }}", p=passage
    )
    assert len(sub) == 2


def test_a_variable_name_cannot_carry_text(store: GraphStore) -> None:
    with pytest.raises(ValueError):
        store.query("SELECT ?x WHERE { }", bindings={"x) { } DROP ALL #": ox.Literal("1")})


def test_default_graph_is_the_union(loaded: GraphStore) -> None:
    """Without GRAPH a query sees every named graph, as the endpoint and the docs promise."""
    s3 = vocab.service_iri("Amazon S3")
    assert loaded.ask(f"ASK {{ <{s3}> a <{CKG}Service> }}")
    rows = loaded.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(rows[0]["n"].value) == loaded.count()
    documents = loaded.select(f"SELECT ?d WHERE {{ ?d a <{CKG}Document> }}")
    assert {r["d"].value for r in documents} == {DOC_A, DOC_B}


def test_default_graph_and_named_graphs_select_the_dataset(loaded: GraphStore) -> None:
    query = f"SELECT ?d WHERE {{ ?d a <{CKG}Document> }}"
    picked = loaded.query(query, default_graph=[DOC_A])
    assert isinstance(picked, ox.QuerySolutions)
    assert [r["d"].value for r in picked] == [DOC_A]
    both = loaded.query(query, default_graph=[DOC_A, DOC_B])
    assert isinstance(both, ox.QuerySolutions)
    assert sorted(r["d"].value for r in both) == [DOC_A, DOC_B]

    in_graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    named = loaded.query(in_graphs, named_graphs=[vocab.LEXICON_GRAPH, DOC_B])
    assert isinstance(named, ox.QuerySolutions)
    assert sorted(r["g"].value for r in named) == sorted([vocab.LEXICON_GRAPH, DOC_B])

    dataset = loaded.query(
        f"SELECT ?d ?g WHERE {{ ?d a <{CKG}Document> GRAPH ?g {{ ?s a <{CKG}Service> }} }}",
        default_graph=[DOC_B],
        named_graphs=[vocab.LEXICON_GRAPH],
    )
    assert isinstance(dataset, ox.QuerySolutions)
    assert [(r["d"].value, r["g"].value) for r in dataset] == [(DOC_B, vocab.LEXICON_GRAPH)]


def test_replace_document_is_idempotent(loaded: GraphStore) -> None:
    before, count = all_quads(loaded), loaded.count()
    loaded.replace_document(DOC_A, doc_quads("a", content_hash="ha"))
    assert loaded.count() == count
    assert all_quads(loaded) == before
    loaded.replace_document(DOC_A, doc_quads("a", content_hash="ha"))
    assert loaded.count() == count


def test_replace_document_drops_what_is_gone_and_leaves_other_documents(loaded: GraphStore) -> None:
    b_and_lexicon = quad_keys(doc_quads("b", content_hash="hb") + lexicon_quads())
    loaded.replace_document(DOC_A, doc_quads("a", passages=1, content_hash="ha2"))
    assert all_quads(loaded) == b_and_lexicon | quad_keys(doc_quads("a", 1, content_hash="ha2"))
    assert vocab.passage_iri("a", 10, 19) not in graphs(loaded)
    assert loaded.documents() == {DOC_A: "ha2", DOC_B: "hb"}


def test_replace_document_larger_than_a_batch(loaded: GraphStore) -> None:
    big = doc_quads("a", passages=40, per=5)  # 442 quads: many batches on the remote store
    loaded.replace_document(DOC_A, big)
    count = loaded.count()
    assert count == len(big) + len(doc_quads("b")) + len(lexicon_quads())
    loaded.replace_document(DOC_A, big)
    assert loaded.count() == count
    assert len([g for g in graphs(loaded) if g.startswith(DOC_A)]) == 41


def test_replace_graph(loaded: GraphStore) -> None:
    documents = all_quads(loaded) - quad_keys(lexicon_quads())
    loaded.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads("Simple Storage Service"))
    loaded.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads("Simple Storage Service"))
    assert all_quads(loaded) == documents | quad_keys(lexicon_quads("Simple Storage Service"))
    loaded.replace_graph(vocab.LEXICON_GRAPH, [])
    assert vocab.LEXICON_GRAPH not in graphs(loaded)
    assert all_quads(loaded) == documents


def test_blank_nodes_keep_their_identity(store: GraphStore) -> None:
    graph, thing = N("http://example.com/g"), N("http://example.com/thing")
    limit, unit = ox.BlankNode(), ox.BlankNode()
    quads = [
        ox.Quad(thing, N(CKG + "hasLimit"), limit, graph),
        ox.Quad(limit, N(CKG + "unit"), unit, graph),
        ox.Quad(unit, LABEL, ox.Literal("byte"), graph),
        ox.Quad(N("http://example.com/other"), LABEL, ox.Literal("other"), graph),
    ]
    for _ in range(2):
        store.replace_graph(graph.value, quads)
        rows = store.select(
            f"SELECT ?label WHERE {{ <{thing.value}> <{CKG}hasLimit>/<{CKG}unit> ?u . "
            "?u ?p ?label }"
        )
        assert [r["label"].value for r in rows] == ["byte"]
        assert store.count() == 4


def test_remove_document(loaded: GraphStore) -> None:
    b_and_lexicon = quad_keys(doc_quads("b", content_hash="hb") + lexicon_quads())
    loaded.remove_document(DOC_A)
    assert all_quads(loaded) == b_and_lexicon
    assert not [g for g in graphs(loaded) if g.startswith(DOC_A)]
    loaded.remove_document(DOC_A)  # nothing left to remove is fine
    assert loaded.documents() == {DOC_B: "hb"}


def test_documents(loaded: GraphStore) -> None:
    assert loaded.documents() == {DOC_A: "ha", DOC_B: "hb"}


def test_update(store: GraphStore) -> None:
    store.update(
        "INSERT DATA { GRAPH <http://example.com/g> "
        '{ <http://example.com/s> <http://example.com/p> "o" } }'
    )
    assert store.count() == 1
    store.update("DROP GRAPH <http://example.com/g>")
    assert store.count() == 0


@pytest.mark.parametrize("query", ["SELEC ?x WHERE { }", "SELECT ?x WHERE { ?x ", "ASK { } }"])
def test_malformed_query_is_a_syntax_error(store: GraphStore, query: str) -> None:
    with pytest.raises(SyntaxError):
        store.query(query)


def test_malformed_update_is_a_syntax_error(store: GraphStore) -> None:
    with pytest.raises(SyntaxError):
        store.update("INSERT DAT { }")


# -- only the remote store: a real server that goes away and comes back ----------------------


@pytest.mark.server
def test_server_down_is_a_graph_store_error_not_a_hang() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = SparqlStore(f"{url}/query", f"{url}/update", timeout=5)
    started = time.monotonic()
    with pytest.raises(GraphStoreError, match=r"127\.0\.0\.1.*/query"):
        store.ping()
    with pytest.raises(GraphStoreError, match="/update"):
        store.update("DROP ALL")
    assert time.monotonic() - started < 2
    store.close()


@pytest.mark.server
def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/query"
        store = SparqlStore(url, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(GraphStoreError, match=r"did not answer within 0\.5 s"):
            store.select("SELECT * WHERE { }")
        assert time.monotonic() - started < 3
        store.close()


@pytest.mark.server
def test_the_same_store_works_again_after_a_restart(oxigraph_server: OxigraphServer) -> None:
    store = oxigraph_server.store(timeout=10)
    try:
        store.update("DROP ALL")
        store.replace_document(DOC_A, doc_quads("a"))
        count = store.count()
        oxigraph_server.stop()
        with pytest.raises(GraphStoreError, match=oxigraph_server.url):
            store.count()
        oxigraph_server.start()
        assert store.count() == count  # same location: the data survived, the pool recovered
        store.replace_document(DOC_A, doc_quads("a"))
        assert store.count() == count
    finally:
        if oxigraph_server.process is None:
            oxigraph_server.start()
        store.close()


@pytest.mark.server
def test_a_malformed_query_carries_the_servers_message(oxigraph_server: OxigraphServer) -> None:
    store = oxigraph_server.store()
    with pytest.raises(SyntaxError, match=r"error at 1:\d+"):
        store.query("SELECT ?x WHERE { ?x ")
    store.close()


@pytest.mark.server
def test_the_union_default_graph_check(oxigraph_server: OxigraphServer) -> None:
    store = oxigraph_server.store()
    store.update("DROP ALL")
    store.check_union_default_graph()  # nothing stored: nothing to check
    store.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads())
    store.check_union_default_graph()
    store.close()


# -- the remote store's HTTP, with a fake transport -------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def fake(handler: Handler, **kwargs: str) -> SparqlStore:
    return SparqlStore(
        "http://sparql.test/ds/query",
        "http://sparql.test/ds/update",
        transport=httpx.MockTransport(handler),
        **kwargs,  # type: ignore[arg-type]
    )


def json_results(body: str) -> httpx.Response:
    return httpx.Response(
        200, content=body.encode(), headers={"Content-Type": "application/sparql-results+json"}
    )


def test_requests_follow_the_protocol() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/update"):
            return httpx.Response(204)
        if request.headers["Accept"] == "application/n-triples":
            return httpx.Response(
                200,
                content=b"<http://a> <http://p> <http://o> .\n",
                headers={"Content-Type": "application/n-triples"},
            )
        return json_results('{"head": {}, "boolean": true}')

    store = fake(handler)
    assert store.ask("ASK { }")
    result = store.query(
        "CONSTRUCT WHERE { ?s ?p ?o }", default_graph=["http://g1"], named_graphs=["http://g2"]
    )
    assert isinstance(result, ox.QueryTriples)
    assert list(result) == [ox.Triple(N("http://a"), N("http://p"), N("http://o"))]
    store.update("DROP ALL")
    ask, construct, update = seen
    assert ask.method == "POST" and ask.headers["Content-Type"] == "application/sparql-query"
    assert ask.headers["Accept"] == "application/sparql-results+json"
    assert ask.content == b"ASK { }" and not ask.url.params
    assert construct.url.params.get_list("default-graph-uri") == ["http://g1"]
    assert construct.url.params.get_list("named-graph-uri") == ["http://g2"]
    assert update.url.path == "/ds/update" and update.content == b"DROP ALL"
    assert update.headers["Content-Type"] == "application/sparql-update"
    assert "Authorization" not in ask.headers
    store.close()


def test_basic_auth_and_bearer_token() -> None:
    headers: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["Authorization"])
        return json_results('{"head": {}, "boolean": true}')

    for kwargs in ({"user": "kg", "password": "secret"}, {"token": "t0k"}):
        store = fake(handler, **kwargs)
        store.ping()
        store.close()
    assert headers == ["Basic a2c6c2VjcmV0", "Bearer t0k"]
    with pytest.raises(ValueError, match="not both"):
        fake(handler, user="kg", token="t0k")


@pytest.mark.parametrize(
    ("status", "match"),
    [
        (500, "answered 500 Internal Server Error: boom"),
        (503, "answered 503"),
        (401, "401"),
        (404, "404"),
    ],
)
def test_error_statuses_are_graph_store_errors(status: int, match: str) -> None:
    store = fake(lambda request: httpx.Response(status, text="boom"))
    with pytest.raises(GraphStoreError, match=match) as caught:
        store.select("SELECT * WHERE { }")
    assert "http://sparql.test/ds/query" in str(caught.value)
    with pytest.raises(GraphStoreError, match="/ds/update"):
        store.update("DROP ALL")
    store.close()


def test_a_400_is_a_syntax_error_with_the_servers_message() -> None:
    store = fake(lambda request: httpx.Response(400, text="Parse error: line 1, column 7"))
    with pytest.raises(SyntaxError, match="line 1, column 7"):
        store.select("SELECT")
    store.close()


def test_an_unreadable_answer_is_a_graph_store_error() -> None:
    store = fake(lambda request: json_results("{not json"))
    with pytest.raises(GraphStoreError, match="unreadable answer"):
        store.select("SELECT * WHERE { }")
    store.close()


def test_without_an_update_url_the_store_is_read_only() -> None:
    store = SparqlStore(
        "http://sparql.test/query", transport=httpx.MockTransport(lambda r: httpx.Response(204))
    )
    with pytest.raises(GraphStoreError, match="read-only"):
        store.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads())
    store.close()


def test_a_default_graph_that_is_not_the_union_is_reported() -> None:
    term = {"type": "uri", "value": "http://a"}
    row = {"s": term, "p": term, "o": {"type": "literal", "value": "x"}}
    rows = json.dumps({"head": {"vars": ["s", "p", "o"]}, "results": {"bindings": [row]}})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.content.startswith(b"ASK"):
            return json_results('{"head": {}, "boolean": false}')
        return json_results(rows)

    store = fake(handler)
    with pytest.raises(GraphStoreError, match="union-default-graph"):
        store.check_union_default_graph()
    store.close()


def test_open_graph_store_reads_the_settings() -> None:
    settings = Settings(
        graph_store="sparql",
        sparql_query_url="http://oxigraph:7878/query",
        sparql_update_url="http://oxigraph:7878/update",
        sparql_store_user="kg",
        sparql_store_password=SecretStr("pw"),
        sparql_timeout=7.5,
    )
    store = open_graph_store(settings)
    assert isinstance(store, SparqlStore)
    assert (store.query_url, store.update_url, store.timeout) == (
        "http://oxigraph:7878/query",
        "http://oxigraph:7878/update",
        7.5,
    )
    store.close()
    with pytest.raises(GraphStoreError, match="KG_SPARQL_QUERY_URL"):
        SparqlStore.from_settings(Settings(graph_store="sparql"))


# -- reading the shape of a query (where the VALUES block goes) ------------------------------


@pytest.mark.parametrize(
    ("query", "form", "kind"),
    [
        ("SELECT * WHERE { }", "SELECT", "results"),
        ("# a comment { SELECT\nask { }", "ASK", "results"),
        (
            "PREFIX : <http://x/#> PREFIX ex: <http://e/> BASE <b> construct { } where { }",
            "CONSTRUCT",
            "graph",
        ),
        ("DESCRIBE <x>", "DESCRIBE", "graph"),
        ("INSERT DATA { }", None, None),
        ("PREFIX select: <x> LOAD <y>", None, None),
    ],
)
def test_scan_query_finds_the_form(query: str, form: str | None, kind: str | None) -> None:
    scan = scan_query(query)
    assert (scan.form, scan.kind) == (form, kind)


X = {"x": ox.Literal("}")}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            'SELECT ("{" AS ?b) ?x # {\nFROM <http://g#x> WHERE { ?x ?p ?o }',
            'SELECT ("{" AS ?b) ?x # {\nFROM <http://g#x> WHERE { VALUES (?x) { ("}") }\n'
            " ?x ?p ?o }",
        ),
        (
            "SELECT (EXISTS { ?x ?p ?o } AS ?e) ?x { ?x ?p ?o }",
            'SELECT (EXISTS { ?x ?p ?o } AS ?e) ?x { VALUES (?x) { ("}") }\n ?x ?p ?o }',
        ),
        (
            "SELECT ?x WHERE { SELECT ?x WHERE { ?x ?p '}' } }",
            "SELECT ?x WHERE { VALUES (?x) { (\"}\") } {  SELECT ?x WHERE { ?x ?p '}' } \n} }",
        ),
        (
            "CONSTRUCT { ?x ?p ?o } WHERE { ?x ?p ?o }",
            'CONSTRUCT { ?x ?p ?o } WHERE { VALUES (?x) { ("}") }\n ?x ?p ?o }',
        ),
        ("CONSTRUCT WHERE { ?x ?p ?o }", 'CONSTRUCT WHERE { ?x ?p ?o }\nVALUES (?x) { ("}") }\n'),
        ("DESCRIBE ?x # the end", 'DESCRIBE ?x # the end\nVALUES (?x) { ("}") }\n'),
    ],
)
def test_the_values_block_goes_first_in_the_where_group(query: str, expected: str) -> None:
    assert bind_values(query, X) == expected


def test_blank_nodes_cannot_be_bound() -> None:
    with pytest.raises(ValueError, match="blank node"):
        bind_values("SELECT ?x WHERE { }", {"x": ox.BlankNode()})
