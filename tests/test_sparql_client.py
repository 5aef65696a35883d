"""The one SPARQL client (``kg.graph.client``) over a fake transport: the HTTP it sends, the
servers it tells apart, authentication, bulk loads that fit the server, and one-line errors.
The same client against real servers: ``tests/test_graph_stores.py`` and ``test_scale.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from kg.graph.client import (
    FORM,
    RequestRejected,
    ServerError,
    ServerTimeout,
    ServerUnreachable,
    SparqlClient,
    server_of,
    summary,
)

from .servers import free_port

N = ox.NamedNode
Handler = Callable[[httpx.Request], httpx.Response]
VIRTUOSO = {"Server": "Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu"}
OXIGRAPH = {"Server": "Oxigraph/0.5.13"}
SD = "http://www.w3.org/ns/sparql-service-description#Service"


def form(request: httpx.Request) -> httpx.QueryParams:
    assert request.headers["Content-Type"] == FORM
    return httpx.QueryParams(request.content.decode("ascii"))


def boolean(value: bool = True, headers: dict[str, str] | None = None) -> httpx.Response:
    body = b'{"head":{},"boolean":%s}' % (b"true" if value else b"false")
    content_type = {"Content-Type": "application/sparql-results+json"}
    return httpx.Response(200, content=body, headers={**content_type, **(headers or {})})


def rows(graphs: list[str], headers: dict[str, str] | None = None) -> httpx.Response:
    bindings = [{"g": {"type": "uri", "value": g}} for g in graphs]
    body = json.dumps({"head": {"vars": ["g"]}, "results": {"bindings": bindings}})
    content_type = {"Content-Type": "application/sparql-results+json"}
    return httpx.Response(200, text=body, headers={**content_type, **(headers or {})})


def client(handler: Handler, **options: Any) -> SparqlClient:
    return SparqlClient(
        options.pop("query_url", "http://sparql.test/ds/query"),
        options.pop("update_url", "http://sparql.test/ds/update"),
        transport=httpx.MockTransport(handler),
        **options,
    )


def virtuoso_handler(seen: list[httpx.Request]) -> Handler:
    """A fake Virtuoso: its Server header, its service description graph, updates answered."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "PUT":
            return httpx.Response(201, headers=VIRTUOSO)
        sent = form(request)
        if "update" in sent:
            return httpx.Response(200, text="<sparql/>", headers=VIRTUOSO)
        if SD in sent["query"]:
            return rows(["http://localhost:8890/sparql"], VIRTUOSO)
        return boolean(True, VIRTUOSO)

    return handler


# -- what goes over the wire -------------------------------------------------------------------


def test_queries_and_updates_are_form_encoded_posts() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204) if request.url.path.endswith("/update") else boolean()

    c = client(handler, query_url="http://sparql.test/ds/query?key=k", server="generic")
    params = [("default-graph-uri", "http://g1"), ("named-graph-uri", "http://g2")]
    with c.query("ASK { }", accept="application/sparql-results+json", params=params) as r:
        assert r.read() == b'{"head":{},"boolean":true}'
    c.update("DROP ALL")
    query, update = seen
    assert query.method == update.method == "POST"
    assert query.url.params["key"] == "k"  # the URL's own parameters are kept
    assert query.headers["Accept"] == "application/sparql-results+json"
    assert form(query).multi_items() == [("query", "ASK { }"), *params]
    assert form(update).multi_items() == [("update", "DROP ALL")]
    assert update.url.path == "/ds/update"
    assert "Authorization" not in query.headers
    c.close()


def test_the_kind_of_server_is_read_once_from_its_server_header() -> None:
    seen: list[httpx.Request] = []
    c = client(virtuoso_handler(seen), query_url="http://dbpedia.test/sparql", timeout=7)
    for _ in range(2):
        with c.query("ASK { ?s ?p ?o }", accept="application/sparql-results+json") as r:
            r.read()
    probe, graphs, first, second = seen  # ASK {}, its own graphs, then the two queries
    assert form(probe)["query"] == "ASK {}" and SD in form(graphs)["query"]
    assert c.server.name == "virtuoso"
    assert c.server.system_graphs[-2:] == (
        "http://localhost:8890/sparql",
        "http://localhost:8890/DAV/",
    )
    sent = form(first)
    assert sent["query"].endswith(" ASK { ?s ?p ?o }") and "\n" not in sent["query"]
    for graph in c.server.system_graphs:
        assert f"define input:default-graph-exclude <{graph}>" in sent["query"]
        assert f"define input:named-graph-exclude <{graph}>" in sent["query"]
    assert sent["timeout"] == "7000"  # Virtuoso's time limit is in milliseconds
    assert form(second) == sent
    c.close()


def test_other_servers_get_the_query_as_it_is() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return boolean(True, OXIGRAPH)

    c = client(handler)
    with c.query("ASK { }", accept="application/sparql-results+json") as r:
        r.read()
    assert c.server.name == "oxigraph" and len(seen) == 2
    assert form(seen[1]).multi_items() == [("query", "ASK { }")]
    c.close()
    configured = client(handler, server="fuseki", query_url="http://f.test/ds/query?timeout=9")
    with configured.query("ASK { }", accept="application/sparql-results+json") as r:
        r.read()
    assert len(seen) == 3  # named in the settings: no probe
    assert "timeout" not in form(seen[2])  # the URL's own limit wins
    configured.close()


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu", "virtuoso"),
        ("Oxigraph/0.5.13", "oxigraph"),
        ("Apache Jena Fuseki (5.1.0)", "fuseki"),
        ("nginx/1.25.3", "generic"),
        ("", "generic"),
    ],
)
def test_server_of(header: str, name: str) -> None:
    assert server_of(header).name == name


@pytest.mark.parametrize(
    ("server", "update_url", "store_url"),
    [
        ("virtuoso", "http://v.test:8890/sparql-auth", "http://v.test:8890/sparql-graph-crud-auth"),
        ("virtuoso", "http://v.test:8890/sparql", "http://v.test:8890/sparql-graph-crud"),
        ("oxigraph", "http://o.test:7878/update", "http://o.test:7878/store"),
        ("fuseki", "http://f.test:3030/ds/update", "http://f.test:3030/ds/data"),
        ("generic", "http://g.test/update", None),
        ("oxigraph", "http://o.test/somewhere/else", None),
    ],
)
def test_the_graph_store_url_follows_from_the_update_url(
    server: str, update_url: str, store_url: str | None
) -> None:
    c = client(virtuoso_handler([]), update_url=update_url, server=server)
    assert c.graph_store_url() == store_url
    c.close()


# -- authentication ----------------------------------------------------------------------------


def test_basic_and_bearer_are_sent_at_once() -> None:
    headers: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["Authorization"])
        return boolean()

    for options in ({"user": "kg", "password": "secret", "auth": "basic"}, {"token": "t0k"}):
        c = client(handler, server="generic", **options)
        c.update("DROP ALL")
        c.close()
    assert headers == ["Basic a2c6c2VjcmV0", "Bearer t0k"]
    with pytest.raises(ValueError, match="not both"):
        client(handler, user="kg", token="t0k")


def challenging(scheme: str, seen: list[tuple[str, str]]) -> Handler:
    """A server that wants ``scheme`` on updates and lets queries through; ``seen`` gets the
    path and the Authorization header of every request as it arrived."""

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        seen.append((request.url.path, auth))
        if request.url.path.endswith("/query"):
            return boolean()
        if auth.startswith(scheme):
            return httpx.Response(200, text="done")
        challenge = (
            'Digest realm="SPARQL", nonce="abc", qop="auth", algorithm="MD5", opaque="x"'
            if scheme == "Digest"
            else 'Basic realm="SPARQL"'
        )
        return httpx.Response(401, headers={"WWW-Authenticate": challenge})

    return handler


@pytest.mark.parametrize("scheme", ["Digest", "Basic"])
def test_auto_auth_answers_the_scheme_the_server_asks_for(scheme: str) -> None:
    seen: list[tuple[str, str]] = []
    c = client(challenging(scheme, seen), server="generic", user="kg", password="secret")
    with c.query("ASK {}", accept="application/sparql-results+json") as r:
        r.read()
    c.update("DROP SILENT GRAPH <http://g>")
    c.update("DROP SILENT GRAPH <http://g>")
    query, first, answered, again = seen
    assert query == ("/ds/query", "")  # nobody asked
    assert first == ("/ds/update", "")  # nothing sent before the server asks
    assert answered[1].startswith(scheme) and again[1].startswith(scheme)  # no second 401
    if scheme == "Digest":
        assert 'username="kg"' in answered[1] and "secret" not in answered[1]
    c.close()


def test_digest_auth_when_asked_for_explicitly() -> None:
    seen: list[tuple[str, str]] = []
    c = client(
        challenging("Digest", seen), server="generic", user="kg", password="s", auth="digest"
    )
    c.update("DROP SILENT GRAPH <http://g>")
    assert [auth[:6] for _, auth in seen] == ["", "Digest"]
    c.close()


def test_wrong_credentials_are_one_clear_error() -> None:
    c = client(challenging("Nothing", []), server="generic", user="kg", password="wrong")
    with pytest.raises(ServerError, match=r"/ds/update answered 401 Unauthorized$"):
        c.update("DROP ALL")
    c.close()


# -- errors ------------------------------------------------------------------------------------


VIRTUOSO_REFUSAL = (
    "Virtuoso 37000 Error SP031: SPARQL: Internal error: The length of generated SQL text has "
    "exceeded 10000 lines of code\n\nSPARQL query:\ndefine sql:big-data-const 0 INSERT DATA {\n"
    + "<http://a> <http://b> <http://c> .\n" * 5_000
    + "}"
)


@pytest.mark.parametrize(
    ("status", "text", "kind", "message"),
    [
        (
            400,
            VIRTUOSO_REFUSAL,
            RequestRejected,
            "answered 400 Bad Request: Virtuoso 37000 Error SP031: SPARQL: Internal error: The "
            "length of generated SQL text has exceeded 10000 lines of code",
        ),
        (
            500,
            "<!DOCTYPE HTML><html><head><title>Failed</title></head>"
            "<body><h1>500</h1><p>out of\n  cheese</p></body></html>",
            ServerError,
            "answered 500 Internal Server Error: Failed 500 out of cheese",
        ),
        (503, "", ServerError, "answered 503 Service Unavailable"),
        (404, "x" * 2_000, ServerError, "answered 404 Not Found: " + "x" * 296 + " ..."),
    ],
)
def test_errors_are_one_line(status: int, text: str, kind: type[ServerError], message: str) -> None:
    c = client(lambda request: httpx.Response(status, text=text), server="generic")
    with pytest.raises(kind) as caught:
        c.update("INSERT DATA { }")
    assert str(caught.value) == f"the SPARQL server at http://sparql.test/ds/update {message}"
    assert caught.value.status == status and "\n" not in str(caught.value)
    c.close()


def test_a_server_that_is_down_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    c = SparqlClient(url, timeout=2)
    with (
        pytest.raises(ServerUnreachable, match=re.escape(url)),
        c.query("ASK {}", accept="application/sparql-results+json"),
    ):
        pass
    c.close()


def test_a_partial_answer_is_a_timeout_and_a_cut_one_an_error() -> None:
    partial = {"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning incomplete results"}
    c = client(lambda request: rows([], {**VIRTUOSO, **partial}), server="generic")
    with pytest.raises(ServerTimeout, match="sent only part of the answer") as caught:
        c.fetch("SELECT * WHERE { }", accept="application/sparql-results+json")
    assert caught.value.stopped
    c.close()
    cut = client(lambda request: rows(["http://g"], {"X-SPARQL-MaxRows": "1"}), server="generic")
    with pytest.raises(ServerError, match=r"cut the answer at 1 rows .*ResultSetMaxRows"):
        cut.fetch("SELECT * WHERE { }", accept="application/sparql-results+json")
    cut.close()


def test_virtuoso_blank_nodes_in_sparql_json_are_read() -> None:
    """Virtuoso writes ``"value": "nodeID://b10004"``, which no SPARQL JSON parser takes;
    wherever the chunks of the answer are cut, the labels come out plain."""
    answer = (
        b'{ "head": { "link": [], "vars": ["o", "l"] },\n  "results": { "bindings": [\n'
        b'    { "o": { "type": "bnode", "value": "nodeID://b10004" }\t, '
        b'"l": { "type": "literal", "value": "\\"nodeID://x\\" stays" }},\n'
        b'    { "o": { "type": "bnode", "value": "nodeID://b10005" }\t, '
        b'"l": { "type": "literal", "value": "y" }} ] } }'
    )
    c = client(virtuoso_handler([]))
    for size in (1, 7, 40, len(answer)):
        pieces = [answer[i : i + size] for i in range(0, len(answer), size)]
        response = httpx.Response(
            200,
            content=iter(pieces),
            headers={"Content-Type": "application/sparql-results+json"},
        )
        body = b"".join(c.chunks(response))
        solutions = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        assert isinstance(solutions, ox.QuerySolutions)
        found = [(row["o"], row["l"]) for row in solutions]
        assert found == [
            (ox.BlankNode("b10004"), ox.Literal('"nodeID://x" stays')),
            (ox.BlankNode("b10005"), ox.Literal("y")),
        ], size
    c.close()


def test_summary() -> None:
    assert summary("Virtuoso 37000 Error SP030: syntax\n\nSPARQL query:\nSELEC ?x") == (
        "Virtuoso 37000 Error SP030: syntax"
    )
    assert summary("error at 1:7: expected\n   DATA") == "error at 1:7: expected DATA"
    assert summary("<html><body><script>x()</script><b>Bad</b> query</body></html>") == (
        "Bad query"
    )


# -- loading -----------------------------------------------------------------------------------


def quads(n: int, graph: str = "http://example.com/g") -> list[ox.Quad]:
    return [
        ox.Quad(
            N(f"http://example.com/s{i}"), N("http://example.com/p"), ox.Literal(f"{i}"), N(graph)
        )
        for i in range(n)
    ]


def refusing_above(limit: int, seen: list[str]) -> Handler:
    """A server that refuses updates of more than ``limit`` operations and triples, as
    Virtuoso does (with its message)."""

    def handler(request: httpx.Request) -> httpx.Response:
        update = form(request)["update"]
        size = update.count(" .\n") + update.count(" .\n}") + update.count("DROP ")
        if size > limit:
            return httpx.Response(400, text=VIRTUOSO_REFUSAL)
        seen.append(update)
        return httpx.Response(200)

    return handler


def test_a_batch_refused_as_too_large_is_halved_and_the_size_kept() -> None:
    seen: list[str] = []
    c = client(refusing_above(1_000, seen), server="generic", batch_size=5_000)
    drops = [f"DROP SILENT GRAPH <http://example.com/old{i}>" for i in range(3)]
    c.insert(quads(2_200), before=drops)
    assert 500 < c.batch_size <= 1_000  # halved until it passed: 2,203 -> 1,101 -> 550
    sent = "\n".join(seen)
    assert seen[0].startswith(drops[0])  # the drops went with the first quads
    assert all(sent.count(f"<http://example.com/s{i}> ") == 1 for i in range(2_200))
    assert sum(u.count(" .\n") for u in seen) == 2_200 and sent.count("DROP ") == 3
    requests = len(seen)
    c.insert(quads(10))
    assert len(seen) == requests + 1  # no refusal the second time
    c.close()


def test_a_refusal_that_is_not_about_size_is_not_retried() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, text="Virtuoso 42000 Error SR186:SECURITY: No permission")

    c = client(handler, server="generic")
    with pytest.raises(ServerError, match="SR186"):
        c.insert(quads(100))
    assert len(calls) == 1
    c.close()
    one: list[str] = []
    c = client(refusing_above(0, one), server="generic")
    with pytest.raises(RequestRejected, match="exceeded"):  # one quad cannot be split
        c.insert(quads(4))
    assert c.batch_size == 1 and one == []
    c.close()


def test_blank_nodes_go_last_in_one_insert_where() -> None:
    seen: list[str] = []
    c = client(refusing_above(10_000, seen), server="generic", batch_size=3)
    graph = N("http://example.com/g")
    limit = ox.BlankNode()
    blank = [
        ox.Quad(N("http://example.com/s"), N("http://example.com/has"), limit, graph),
        ox.Quad(limit, N("http://example.com/max"), ox.Literal("5"), graph),
    ]
    c.insert([*quads(4), *blank])
    assert len(seen) == 3
    assert seen[0].startswith("INSERT DATA {") and seen[1].startswith("INSERT DATA {")
    last = seen[2]
    assert last.startswith("INSERT {") and last.endswith("} WHERE {}")
    assert last.count(f"_:{limit.value}") == 2
    c.close()


def test_put_graph_uses_the_graph_store_protocol() -> None:
    seen: list[httpx.Request] = []
    c = client(
        virtuoso_handler(seen),
        query_url="http://v.test/sparql",
        update_url="http://v.test/sparql-auth",
    )
    blank = ox.BlankNode()
    graph = [
        ox.Quad(N("http://example.com/s"), N("http://example.com/p"), blank, N("http://g")),
        ox.Quad(blank, N("http://example.com/p"), ox.Literal('a "b"'), N("http://g")),
    ]
    assert c.put_graph("http://g", graph)
    put = seen[-1]
    assert put.method == "PUT" and put.url.path == "/sparql-graph-crud-auth"
    assert put.url.params["graph"] == "http://g"
    assert put.headers["Content-Type"] == "application/n-triples"
    parsed = list(ox.parse(put.content, ox.RdfFormat.N_TRIPLES))
    assert len(parsed) == 2 and parsed[0].object == parsed[1].subject
    assert not c.put_graph("http://g", [])  # nothing to put: the caller drops the graph
    c.close()


def test_a_put_whose_connection_drops_before_an_answer_is_sent_once_more() -> None:
    seen: list[httpx.Request] = []
    answer = virtuoso_handler(seen)
    drops = 1  # how many PUTs in a row lose their connection (Virtuoso resets a kept-alive one)

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal drops
        if request.method == "PUT" and drops > 0:
            drops -= 1
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        return answer(request)

    c = client(handler, query_url="http://v.test/sparql", update_url="http://v.test/sparql-auth")
    assert c.put_graph("http://g", quads(2))
    assert [r.method for r in seen].count("PUT") == 1  # the second try went through
    drops = 2  # it drops again: the caller hears of it
    with pytest.raises(ServerError, match="Connection reset"):
        c.put_graph("http://g", quads(2))
    c.close()


def test_a_graph_store_that_refuses_is_not_asked_again() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(405) if request.method == "PUT" else boolean(True, OXIGRAPH)

    c = client(handler, query_url="http://o.test/query", update_url="http://o.test/update")
    assert not c.put_graph("http://g", quads(2))
    assert not c.put_graph("http://g", quads(2))
    assert [r.method for r in seen] == ["POST", "PUT"]  # the probe, one PUT, then no more
    c.close()


def test_virtuoso_cannot_hold_nul_in_a_literal() -> None:
    c = client(virtuoso_handler([]), update_url="http://v.test/sparql-auth")
    bad = [ox.Quad(N("http://s"), N("http://p"), ox.Literal("a\x00b"), N("http://g"))]
    with pytest.raises(ValueError, match=r"virtuoso cuts a literal short at U\+0000"):
        c.insert(bad)
    with pytest.raises(ValueError, match="U\\+0000"):
        c.put_graph("http://g", bad)
    c.close()
