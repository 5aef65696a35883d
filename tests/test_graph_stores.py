"""One contract suite run over every graph store: embedded Oxigraph in memory and on disk, and
the SPARQL store against a real ``oxigraph serve --union-default-graph`` and a real Virtuoso 7,
each started once per session (``tests/servers.py``; they skip where the binary is missing, CI
installs both). Then what only the remote store can get wrong: a server that is down, silent,
restarted or failing, and what only Virtuoso does. The HTTP the client sends is tested in
``tests/test_sparql_client.py``."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

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

from .servers import (
    SERVER_NAMES,
    OxigraphServer,
    SparqlServer,
    free_port,
    make_server,
    skip_unless_available,
)

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
    """The named graphs, empty ones included where the store keeps them apart."""
    listing = "GRAPH ?g { }"
    if isinstance(store, SparqlStore):
        listing = store.client.server.graph_listing  # Virtuoso knows no empty graph
    return {r["g"].value for r in store.select(f"SELECT DISTINCT ?g WHERE {{ {listing} }}")}


def quad_keys(quads: list[ox.Quad]) -> set[tuple[str, str, str, str]]:
    return {(str(q.subject), str(q.predicate), str(q.object), str(q.graph_name)) for q in quads}


DOC_A, DOC_B = vocab.document_iri("a"), vocab.document_iri("b")


# -- the servers, each started once per session ---------------------------------------------


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    yield from running("oxigraph", tmp_path_factory)


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    yield from running("virtuoso", tmp_path_factory)


def running(name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparqlServer]:
    skip_unless_available(name)
    server = make_server(name, tmp_path_factory.mktemp(f"{name}-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=[pytest.param(name, marks=pytest.mark.server) for name in SERVER_NAMES])
def remote_server(request: pytest.FixtureRequest) -> SparqlServer:
    """Each SPARQL server in turn, emptied of everything but its own graphs."""
    server: SparqlServer = request.getfixturevalue(f"{request.param}_server")
    server.wipe()
    return server


def _memory(_: pytest.FixtureRequest, __: Path) -> GraphStore:
    return OxigraphStore(None)


def _disk(_: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    return OxigraphStore(tmp_path / "graph")


def _remote(name: str) -> Callable[[pytest.FixtureRequest, Path], GraphStore]:
    def open_store(request: pytest.FixtureRequest, _: Path) -> GraphStore:
        server: SparqlServer = request.getfixturevalue(f"{name}_server")
        server.wipe()
        return server.store(timeout=10, batch_size=7)  # small batches: every path is exercised

    return open_store


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], GraphStore]] = {
    "memory": _memory,
    "disk": _disk,
    **{name: _remote(name) for name in SERVER_NAMES},
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.server] if name in SERVER_NAMES else [])
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
    nul_cuts = isinstance(store, SparqlStore) and not store.client.server.nul_in_literals
    if nul_cuts and isinstance(term, ox.Literal):  # Virtuoso: its strings end at U+0000
        with pytest.raises(ValueError, match="U\\+0000"):  # an error, not a shorter text
            store.select("SELECT ?o WHERE { }", o=term)
        value = term.value.replace("\x00", "")  # all but the one character it cannot hold
        term = (
            ox.Literal(value, language=term.language)
            if term.language
            else (ox.Literal(value, datatype=term.datatype))
        )
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
        bound = store.select(f"SELECT ?l WHERE {{ <{thing.value}> <{CKG}hasLimit> ?l }}")
        assert [type(r["l"]) for r in bound] == [ox.BlankNode]  # read back as a blank node


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
    # SILENT: Virtuoso refuses DROP GRAPH of a graph that was not made with CREATE GRAPH
    store.update("DROP SILENT GRAPH <http://example.com/g>")
    assert store.count() == 0


@pytest.mark.parametrize("query", ["SELEC ?x WHERE { }", "SELECT ?x WHERE { ?x ", "ASK { } }"])
def test_malformed_query_is_a_syntax_error(store: GraphStore, query: str) -> None:
    with pytest.raises(SyntaxError):
        store.query(query)


def test_malformed_update_is_a_syntax_error(store: GraphStore) -> None:
    with pytest.raises(SyntaxError):
        store.update("INSERT DAT { }")


# -- only the remote store: real servers that go away and come back ------------------------


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
        store = SparqlStore(url, timeout=0.5, server="generic")
        started = time.monotonic()
        with pytest.raises(GraphStoreError, match=r"did not answer within 0\.5 s"):
            store.select("SELECT * WHERE { }")
        assert time.monotonic() - started < 3
        store.close()


def test_the_same_store_works_again_after_a_restart(remote_server: SparqlServer) -> None:
    store = remote_server.store(timeout=10)
    try:
        store.replace_document(DOC_A, doc_quads("a"))
        count = store.count()
        remote_server.stop()
        with pytest.raises(GraphStoreError, match=remote_server.url):
            store.count()
        remote_server.start()
        assert store.count() == count  # same location: the data survived, the pool recovered
        store.replace_document(DOC_A, doc_quads("a"))
        assert store.count() == count
    finally:
        if remote_server.process is None:
            remote_server.start()
        store.close()


def test_a_malformed_query_carries_the_servers_message(remote_server: SparqlServer) -> None:
    store = remote_server.store()
    with pytest.raises(SyntaxError, match=r"error at 1:\d+|SPARQL compiler, line \d+") as caught:
        store.query("SELECT ?x WHERE { ?x ")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400  # not Virtuoso's echo of the query
    store.close()


def test_the_union_default_graph_check(remote_server: SparqlServer) -> None:
    store = remote_server.store()
    store.check_union_default_graph()  # nothing stored: nothing to check
    store.check_union_default_graph(probe=True)  # nothing stored: a probe triple, dropped again
    assert store.count() == 0
    store.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads())
    store.check_union_default_graph()
    store.close()


@pytest.mark.server
def test_a_default_graph_that_is_not_the_union_is_refused_before_writing(
    tmp_path: Path,
) -> None:
    """``oxigraph serve`` without --union-default-graph, empty: the probe finds it out."""
    skip_unless_available("oxigraph")
    server = OxigraphServer(tmp_path / "plain", union=False)
    server.start()
    store = server.store()
    try:
        store.check_union_default_graph()  # empty: nothing to compare without writing
        with pytest.raises(GraphStoreError, match="union-default-graph"):
            store.check_union_default_graph(probe=True)
        assert store.count() == 0  # the probe triple was dropped again
    finally:
        store.close()
        server.stop()


# -- what only Virtuoso does -----------------------------------------------------------------


@pytest.mark.server
def test_virtuoso_system_graphs_stay_out_of_counts_and_answers(
    virtuoso_server: SparqlServer,
) -> None:
    virtuoso_server.wipe()
    store = virtuoso_server.store()
    try:
        assert store.client.server.name == "virtuoso"
        assert len(store.client.server.system_graphs) == 5  # 3 fixed, 2 named after its host
        assert store.count() == 0
        assert store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value == "0"
        assert not store.ask("ASK { GRAPH ?g { ?s ?p ?o } }")
        store.replace_graph(vocab.LEXICON_GRAPH, lexicon_quads())
        assert store.count() == 2 and graphs(store) == {vocab.LEXICON_GRAPH}
        # the server still holds them (its own queries need them)
        raw = httpx.post(
            virtuoso_server.query_url,
            data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
            headers={"Accept": "text/csv"},
        )
        assert int(raw.text.split()[1]) > 5_000
    finally:
        store.close()


@pytest.mark.server
def test_virtuoso_takes_updates_with_digest_auth_only(virtuoso_server: SparqlServer) -> None:
    insert = "INSERT DATA { GRAPH <http://example.com/g> { <http://example.com/s> "
    insert += '<http://example.com/p> "o" } }'
    for auth, accepted in (("auto", True), ("digest", True), ("basic", False)):
        virtuoso_server.wipe()
        store = virtuoso_server.store(auth=auth)
        try:
            if accepted:
                store.update(insert)
                assert store.count() == 1
            else:
                with pytest.raises(GraphStoreError, match=r"/sparql-auth answered 401"):
                    store.update(insert)
        finally:
            store.close()
    anonymous = SparqlStore(virtuoso_server.query_url, virtuoso_server.query_url)
    with pytest.raises(GraphStoreError, match=r"answered 500 .*SR186:SECURITY: No permission"):
        anonymous.update(insert)  # /sparql without the grant: Virtuoso's message, in one line
    anonymous.close()


@pytest.mark.server
def test_virtuoso_refuses_large_batches_and_the_store_shrinks_them(
    virtuoso_server: SparqlServer,
) -> None:
    virtuoso_server.wipe()
    big = doc_quads("a", passages=300, per=5)  # 3,302 quads in 301 graphs: too many for one
    store = virtuoso_server.store(batch_size=5_000)
    try:
        store.replace_document(DOC_A, big)
        assert store.client.batch_size < 5_000
        assert store.count() == len(big)
        assert all_quads(store) == quad_keys(big)
    finally:
        store.close()


@pytest.mark.server
def test_virtuoso_partial_answers_are_timeouts(virtuoso_server: SparqlServer) -> None:
    """Virtuoso stops a query at the ``timeout`` it is sent (here the URL's own, 300 ms) and
    answers 200 with part of the answer (X-SQL-State: S1TAT): that is not the answer."""
    virtuoso_server.wipe()
    writer = virtuoso_server.store()
    graph = N("http://example.com/slow")
    values = [ox.Literal(f"v{i}") for i in range(3_000)]
    writer.replace_graph(
        graph.value,
        [ox.Quad(N(f"http://example.com/s{i}"), LABEL, v, graph) for i, v in enumerate(values)],
    )
    writer.close()
    store = SparqlStore(f"{virtuoso_server.query_url}?timeout=300", timeout=20)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) < STR(?f)) }"
    try:
        started = time.monotonic()
        with pytest.raises(GraphStoreError, match="stopped the query at its time limit"):
            store.select(slow)
        assert time.monotonic() - started < 15
    finally:
        store.close()


# -- the store over the client, with a fake transport -------------------------------------------

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


def test_a_400_is_a_syntax_error_with_the_servers_message() -> None:
    store = fake(lambda request: httpx.Response(400, text="Parse error: line 1, column 7"))
    with pytest.raises(SyntaxError, match="line 1, column 7"):
        store.select("SELECT")
    with pytest.raises(SyntaxError, match="line 1, column 7"):
        store.update("INSERT DAT {}")
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
        query = httpx.QueryParams(request.content.decode())["query"]
        if query.startswith("ASK"):  # the server's probe, then the triple in the default graph
            found = "VALUES" not in query
            return json_results(json.dumps({"head": {}, "boolean": found}))
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
