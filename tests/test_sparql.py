"""The /sparql endpoint against the real app: protocol, formats, datasets, limits, updates,
the query page, real clients (SPARQLWrapper, rdflib's SPARQLStore) and a running server."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from kg import vocab
from kg.datadir import DataDir
from kg.graph.oxigraph import OxigraphStore
from kg.settings import Settings
from kg.sparql import HttpRequest, LocalExecutor, SparqlEndpoint, run_query

from .conftest import recording_server, serving

# -- a tiny graph shaped like the real one ------------------------------------------------

CKG, RDFS, SKOS, PROV, XSD, UNIT = (
    vocab.CKG,
    vocab.RDFS,
    vocab.SKOS,
    vocab.PROV,
    vocab.XSD,
    vocab.UNIT,
)
PREFIXES = vocab.sparql_prefixes(("ckg", "rdf", "rdfs", "skos", "prov", "unit", "xsd"))
FILLER_GRAPH = vocab.GRAPH + "filler"
FILLER = 200  # enough triples for a four-way cross product to run for ages
MAX_ROWS = 100


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _dec(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=_n(XSD + "decimal"))


def sample_quads(extra_label: str | None = None) -> list[ox.Quad]:
    a = _n(vocab.RDF + "type")
    label, alt = _n(RDFS + "label"), _n(SKOS + "altLabel")
    s3, lam, sqs = (_n(vocab.service_iri(x)) for x in ("Amazon S3", "AWS Lambda", "Amazon SQS"))
    lex = _n(vocab.LEXICON_GRAPH)
    quads = [
        ox.Quad(s3, a, _n(CKG + "Service"), lex),
        ox.Quad(s3, label, ox.Literal(extra_label or "Amazon S3"), lex),
        ox.Quad(s3, alt, ox.Literal("S3"), lex),
        ox.Quad(s3, alt, ox.Literal("Simple Storage Service"), lex),
        ox.Quad(lam, a, _n(CKG + "Service"), lex),
        ox.Quad(lam, label, ox.Literal("AWS Lambda"), lex),
        ox.Quad(lam, alt, ox.Literal("Lambda"), lex),
        ox.Quad(sqs, a, _n(CKG + "Service"), lex),
        ox.Quad(sqs, label, ox.Literal("Amazon SQS"), lex),
        ox.Quad(sqs, alt, ox.Literal("SQS"), lex),
    ]
    doc = vocab.document_iri("notes")
    passages = [
        (0, 60, "S3", "Objects can be from 0 Bytes to 5 TB in size."),
        (61, 120, "Lambda", "Lambda is charged by the number of requests and the duration."),
        (121, 190, "SQS", "Messages are kept from 1 minute to 14 days, 4 days by default."),
        (191, 240, "Lambda", "A function can run for up to 15 minutes."),
    ]
    graphs = []
    for start, end, section, text in passages:
        p = _n(vocab.passage_iri("notes", start, end))
        graphs.append(p)
        quads += [
            ox.Quad(p, a, _n(CKG + "Passage"), p),
            ox.Quad(p, _n(CKG + "text"), ox.Literal(text), p),
            ox.Quad(p, _n(CKG + "section"), ox.Literal(section), p),
            ox.Quad(
                p, _n(CKG + "startChar"), ox.Literal(str(start), datatype=_n(XSD + "integer")), p
            ),
            ox.Quad(p, _n(CKG + "endChar"), ox.Literal(str(end), datatype=_n(XSD + "integer")), p),
            ox.Quad(p, _n(CKG + "document"), _n(doc), p),
        ]

    def limit(service: ox.NamedNode, g: ox.NamedNode, key: str, **values: Any) -> None:
        node = _n(f"{vocab.ID}limit/{key}")
        quads.append(ox.Quad(service, _n(CKG + "hasLimit"), node, g))
        quads.append(ox.Quad(node, a, _n(CKG + "Limit"), g))
        quads.append(ox.Quad(node, _n(PROV + "wasDerivedFrom"), g, g))
        for prop, value in values.items():
            obj = value if isinstance(value, ox.NamedNode | ox.Literal) else ox.Literal(value)
            quads.append(ox.Quad(node, _n(CKG + prop), obj, g))

    limit(s3, graphs[0], "s3-object-size", quantity="object size", statedAs="0 Bytes to 5 TB",
          minValue=_dec("0"), maxValue=_dec("5000000000000"), unit=_n(UNIT + "BYTE"))  # fmt: skip
    limit(sqs, graphs[2], "sqs-retention", quantity="message retention",
          statedAs="1 minute to 14 days, 4 days by default", minValue=_dec("60"),
          maxValue=_dec("1209600"), defaultValue=_dec("345600"), unit=_n(UNIT + "SEC"))  # fmt: skip
    limit(lam, graphs[3], "lambda-timeout", quantity="timeout", statedAs="15 minutes",
          maxValue=_dec("900"), unit=_n(UNIT + "SEC"))  # fmt: skip
    for dim in ("requests", "duration"):
        node = _n(f"{vocab.ID}pricing/lambda-{dim}")
        quads += [
            ox.Quad(lam, _n(CKG + "chargedBy"), node, graphs[1]),
            ox.Quad(node, a, _n(CKG + "PricingDimension"), graphs[1]),
            ox.Quad(node, label, ox.Literal(dim), graphs[1]),
        ]
    filler = _n(FILLER_GRAPH)
    quads += [
        ox.Quad(
            _n(f"{vocab.ID}filler/{i:03d}"), _n(CKG + "note"), ox.Literal(f"filler {i}"), filler
        )
        for i in range(FILLER)
    ]
    quads.append(ox.Quad(_n(vocab.BUILD_GRAPH), _n(RDFS + "comment"), ox.Literal("default graph")))
    return quads


def publish(root: Path, quads: list[ox.Quad]) -> str:
    data = DataDir(root)
    gen = data.new_generation()
    store = OxigraphStore(gen / "graph")
    store.store.extend(quads)
    store.close()
    manifest = '{"note": "fixture", "build_key": "k"}'
    (gen / "manifest.json").write_text(manifest, encoding="utf-8")
    data.publish(gen)
    return gen.name


def settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data": root,
        "sparql_timeout": 5.0,
        "sparql_max_rows": MAX_ROWS,
        "sparql_workers": 2,
        "update_token": None,
        "embedder": "fake",  # the app's other routes load a model otherwise
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sparql-data")
    publish(root, sample_quads())
    return root


@pytest.fixture(scope="module")
def client(data_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(data_root))) as c:
        yield c


def select(client: TestClient | httpx.Client, query: str, **params: str) -> list[dict[str, str]]:
    r = client.get("/sparql", params={"query": PREFIXES + query, **params})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


# -- protocol -----------------------------------------------------------------------------

LABELS = "SELECT ?label WHERE { ?s a ckg:Service ; rdfs:label ?label } ORDER BY ?label"
EXPECTED_LABELS = ["AWS Lambda", "Amazon S3", "Amazon SQS"]


def test_get_query(client: TestClient) -> None:
    assert [r["label"] for r in select(client, LABELS)] == EXPECTED_LABELS


def test_post_form(client: TestClient) -> None:
    r = client.post("/sparql", data={"query": PREFIXES + LABELS})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/sparql-results+json"
    assert len(r.json()["results"]["bindings"]) == 3


def test_post_sparql_query(client: TestClient) -> None:
    r = client.post(
        "/sparql",
        content=(PREFIXES + LABELS).encode(),
        headers={"Content-Type": "application/sparql-query; charset=utf-8"},
    )
    assert r.status_code == 200
    assert len(r.json()["results"]["bindings"]) == 3


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"params": {"query": ""}}, 400, "bad_request"),
        ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "bad_request"),
        ({"params": {"update": "CLEAR ALL"}}, 400, "bad_request"),
    ],
)
def test_bad_get_requests(
    client: TestClient, kwargs: dict[str, Any], status: int, code: str
) -> None:
    r = client.get("/sparql", **kwargs)
    assert (r.status_code, r.json()["error"]) == (status, code)


def test_bad_post_requests(client: TestClient) -> None:
    r = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
    assert r.status_code == 400
    r = client.post("/sparql", data={"nothing": "here"})
    assert r.status_code == 400
    r = client.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = client.post(
        "/sparql", content=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == 400
    r = client.put("/sparql", content=b"ASK {}")
    assert r.status_code == 405
    big = b"ASK {} #" + b"x" * (1 << 20)
    r = client.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert (r.status_code, r.json()["error"]) == (413, "payload_too_large")


def test_malformed_query_gets_parser_message_and_position(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "malformed_query"
    assert re.match(r"error at 3:\d+: expected ", body["message"])  # pyoxigraph's words
    assert body["line"] == 3
    assert body["message"].startswith(f"error at 3:{body['column']}")


def test_no_graph_built_yet(tmp_path: Path) -> None:
    with TestClient(create_app(settings(tmp_path))) as c:
        r = c.get("/sparql", params={"query": "ASK {}"})
    assert (r.status_code, r.json()["error"]) == (503, "graph_unavailable")


# -- formats ------------------------------------------------------------------------------

SERVICES = "SELECT ?s ?label WHERE { ?s a ckg:Service ; rdfs:label ?label } ORDER BY ?label"
S3_GRAPH = """CONSTRUCT { ?s ?p ?o } WHERE { ?s skos:altLabel "S3" ; ?p ?o }"""


def _results_rows(fmt: str, body: bytes) -> int:
    if fmt == "csv":
        return body.decode().count("\r\n") - 1
    rf = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}.get(fmt)
    return len(list(ox.parse_query_results(body, rf or ox.QueryResultsFormat.TSV)))


@pytest.mark.parametrize(
    ("accept", "fmt", "content_type"),
    [
        ("application/sparql-results+json", "json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "xml", "application/sparql-results+xml"),
        ("text/csv", "csv", "text/csv; charset=utf-8"),
        ("text/tab-separated-values", "tsv", "text/tab-separated-values; charset=utf-8"),
    ],
)
def test_select_formats(client: TestClient, accept: str, fmt: str, content_type: str) -> None:
    by_accept = client.get(
        "/sparql", params={"query": PREFIXES + SERVICES}, headers={"Accept": accept}
    )
    by_param = client.get("/sparql", params={"query": PREFIXES + SERVICES, "format": fmt})
    for r in (by_accept, by_param):
        assert r.status_code == 200
        assert r.headers["content-type"] == content_type
        assert _results_rows(fmt, r.content) == 3
    assert by_accept.content == by_param.content


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("json", b'{"head":{},"boolean":true}'),
        ("xml", b"<boolean>true</boolean>"),
        ("csv", b"true"),
        ("tsv", b"true"),
    ],
)
def test_ask_formats(client: TestClient, fmt: str, expected: bytes) -> None:
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }", "format": fmt})
    assert r.status_code == 200
    assert expected in r.content


@pytest.mark.parametrize(
    ("accept", "rdf_format"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/n-quads", ox.RdfFormat.N_QUADS),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
    ],
)
def test_construct_and_describe_formats(
    client: TestClient, accept: str, rdf_format: ox.RdfFormat
) -> None:
    for query in (S3_GRAPH, 'DESCRIBE ?s WHERE { ?s skos:altLabel "S3" }'):
        r = client.get("/sparql", params={"query": PREFIXES + query}, headers={"Accept": accept})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == accept
        triples = list(ox.parse(r.content, rdf_format))
        labels = {t.object.value for t in triples if t.predicate.value == SKOS + "altLabel"}
        assert labels == {"S3", "Simple Storage Service"}


def test_graph_defaults_to_turtle(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": PREFIXES + S3_GRAPH})
    assert r.headers["content-type"] == "text/turtle; charset=utf-8"
    assert b"@prefix ckg:" in r.content


@pytest.mark.parametrize(
    ("query", "params", "headers"),
    [
        (SERVICES, {}, {"Accept": "text/turtle"}),
        (SERVICES, {"format": "ttl"}, {}),
        ("ASK {}", {}, {"Accept": "application/ld+json"}),
        (S3_GRAPH, {}, {"Accept": "text/csv"}),
        (S3_GRAPH, {"format": "tsv"}, {}),
        (S3_GRAPH, {}, {"Accept": "application/sparql-results+json"}),
        (SERVICES, {}, {"Accept": "application/sparql-results+json;q=0, text/plain"}),
    ],
)
def test_not_acceptable(
    client: TestClient, query: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    r = client.get("/sparql", params={"query": PREFIXES + query, **params}, headers=headers)
    assert r.status_code == 406
    assert r.json()["error"] == "not_acceptable"


def test_q_values_choose(client: TestClient) -> None:
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"
    r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": accept})
    assert r.headers["content-type"].startswith("text/csv")


# -- datasets -----------------------------------------------------------------------------

COMMENTS = "SELECT ?c WHERE { ?x rdfs:comment ?c }"
TEXTS = "SELECT (COUNT(?t) AS ?n) WHERE { ?p ckg:text ?t }"


def test_default_graph_is_the_union(client: TestClient) -> None:
    assert select(client, TEXTS) == [{"n": "4"}]  # the passages are in four named graphs
    assert select(client, COMMENTS) == [{"c": "default graph"}]  # and the store's default


def test_from_selects_stored_graphs(client: TestClient) -> None:
    lexicon = f"<{vocab.LEXICON_GRAPH}>"
    rows = select(client, f"SELECT ?label FROM {lexicon} WHERE {{ ?s rdfs:label ?label }}")
    assert sorted(r["label"] for r in rows) == EXPECTED_LABELS
    # FROM replaces the union: nothing from the passages' graphs
    assert select(
        client, f"SELECT (COUNT(?t) AS ?n) FROM {lexicon} WHERE {{ ?p ckg:text ?t }}"
    ) == [{"n": "0"}]
    rows = select(client, f"SELECT ?g FROM NAMED {lexicon} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    assert {r["g"] for r in rows} == {vocab.LEXICON_GRAPH}


def test_protocol_dataset(client: TestClient) -> None:
    rows = select(client, TEXTS, **{"default-graph-uri": vocab.LEXICON_GRAPH})
    assert rows == [{"n": "0"}]
    passage = vocab.passage_iri("notes", 0, 60)
    rows = select(client, TEXTS, **{"default-graph-uri": passage})
    assert rows == [{"n": "1"}]
    r = client.get(
        "/sparql",
        params=[
            ("query", PREFIXES + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
            ("named-graph-uri", passage),
            ("named-graph-uri", vocab.LEXICON_GRAPH),
        ],
    )
    assert {b["g"]["value"] for b in r.json()["results"]["bindings"]} == {
        passage,
        vocab.LEXICON_GRAPH,
    }
    # only named graphs given: the default graph is empty
    assert select(client, TEXTS, **{"named-graph-uri": passage}) == [{"n": "0"}]
    r = client.get("/sparql", params={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert r.status_code == 400


def test_provenance_example(client: TestClient) -> None:
    query = """SELECT ?sentence WHERE { GRAPH ?p { ?s ckg:hasLimit ?l }
               ?s skos:altLabel "S3" . ?p ckg:text ?sentence }"""
    assert select(client, query) == [{"sentence": "Objects can be from 0 Bytes to 5 TB in size."}]


# -- the row cap --------------------------------------------------------------------------

ALL_FILLER = "SELECT ?s ?o WHERE { ?s ckg:note ?o } ORDER BY ?s"


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_select_is_capped(client: TestClient, fmt: str) -> None:
    r = client.get("/sparql", params={"query": PREFIXES + ALL_FILLER, "format": fmt})
    assert r.status_code == 200
    assert r.headers["x-sparql-truncated"] == "true"
    assert r.headers["x-sparql-max-rows"] == str(MAX_ROWS)
    assert _results_rows(fmt, r.content) == MAX_ROWS
    if fmt == "json":
        data = r.json()
        assert data["truncated"] is True and data["maxRows"] == MAX_ROWS
        assert data["results"]["bindings"][0]["o"]["value"] == "filler 0"


def test_small_results_are_not_marked(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": PREFIXES + ALL_FILLER + " LIMIT 100"})
    assert "x-sparql-truncated" not in r.headers
    assert "truncated" not in r.json()


def test_construct_is_capped(client: TestClient) -> None:
    query = "CONSTRUCT WHERE { ?s ckg:note ?o }"
    r = client.get("/sparql", params={"query": PREFIXES + query, "format": "nt"})
    assert r.headers["x-sparql-truncated"] == "true"
    assert len(list(ox.parse(r.content, ox.RdfFormat.N_TRIPLES))) == MAX_ROWS


# -- SERVICE, LOAD and remote IRIs --------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o<?s)SERVICE#>\n<http://example.org/>{?a ?b ?c} }",
    ],
)
def test_service_is_refused(client: TestClient, query: str) -> None:
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 400
    assert r.json()["error"] == "forbidden_operation"
    assert "SERVICE" in r.json()["message"]


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets."""
    with recording_server() as found:
        yield found


@pytest.fixture
def open_network_client(tmp_path: Path) -> Iterator[TestClient]:
    """Workers left in the host's network (no namespace), so only the screen and Oxigraph's
    own behaviour stand between a query and the recorder."""
    publish(tmp_path, sample_quads())
    app = create_app(settings(tmp_path, update_token=SecretStr("t0ken")))
    executor = LocalExecutor(DataDir(tmp_path), workers=1, timeout=5, isolate_network=False)
    app.state.kg.services["sparql"] = SparqlEndpoint(executor, update_token="t0ken")
    with TestClient(app) as c:
        yield c


def test_no_request_leaves_the_endpoint(
    open_network_client: TestClient, recorder: tuple[str, list[str]]
) -> None:
    base, seen = recorder
    c = open_network_client
    for query in (
        f"SELECT * FROM <{base}/x> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{base}/x> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ GRAPH <{base}/x> {{ ?s ?p ?o }} }}",
        "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
        f"DESCRIBE <{base}/x>",
    ):
        r = c.get("/sparql", params={"query": query})
        assert r.status_code == 200, (query, r.text)
    r = c.get("/sparql", params={"query": "ASK {}", "default-graph-uri": f"{base}/x"})
    assert r.status_code == 200
    for query in (
        f"SELECT * WHERE {{ SERVICE <{base}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICESILENT<{base}/sparql>{{ ?s ?p ?o }} }}",
    ):
        assert c.get("/sparql", params={"query": query}).status_code == 400
    token = {"Authorization": "Bearer t0ken"}
    for update in (f"LOAD <{base}/data.nt>", f"LOADSILENT<{base}/data.nt>"):
        r = c.post("/sparql", data={"update": update}, headers=token)
        assert r.status_code == 400
    r = c.post(
        "/sparql",
        data={"update": f"INSERT {{ ?s ?p ?o }} USING <{base}/x> WHERE {{ ?s ?p ?o }}"},
        headers=token,
    )
    assert r.status_code == 200
    assert seen == []


def test_workers(client: TestClient, data_root: Path) -> None:
    endpoint = client.app.state.kg.services["sparql"]  # type: ignore[attr-defined]
    infos = endpoint.executor.info()
    assert len({i["pid"] for i in infos}) == 2
    assert all(isinstance(i["isolated"], bool) for i in infos)
    assert all(i["in_memory"] for i in infos)  # a small generation is copied into memory
    assert {i["store"] for i in infos} == {str(DataDir(data_root).current() / "graph")}  # type: ignore[operator]


def test_large_generations_are_queried_on_disk(data_root: Path) -> None:
    executor = LocalExecutor(DataDir(data_root), workers=1, max_rows=MAX_ROWS, memory_limit=0)
    with executor:
        assert [i["in_memory"] for i in executor.info()] == [False]
        endpoint = SparqlEndpoint(executor)
        answer = endpoint.handle(HttpRequest("GET", [("query", PREFIXES + ALL_FILLER)], {}))
        assert answer.status == 200
        assert answer.headers["X-SPARQL-Truncated"] == "true"
        answer = endpoint.handle(HttpRequest("GET", [("query", PREFIXES + LABELS)], {}))
        labels = [b["label"]["value"] for b in json.loads(answer.body)["results"]["bindings"]]
        assert labels == EXPECTED_LABELS


# -- service description and query page ---------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.mark.parametrize(
    ("accept", "rdf_format"),
    [
        (None, ox.RdfFormat.TURTLE),
        ("*/*", ox.RdfFormat.TURTLE),
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
        ("application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ],
)
def test_service_description(
    client: TestClient, accept: str | None, rdf_format: ox.RdfFormat
) -> None:
    headers = {"Accept": accept} if accept else {}
    r = client.get("/sparql", headers=headers)
    assert r.status_code == 200
    triples = {(t.predicate.value, t.object.value) for t in ox.parse(r.content, rdf_format)}
    assert (vocab.RDF + "type", SD + "Service") in triples
    assert (SD + "endpoint", "http://testserver/sparql") in triples
    assert (SD + "supportedLanguage", SD + "SPARQL11Query") in triples
    assert (SD + "supportedLanguage", SD + "SPARQL11Update") not in triples  # no token
    assert (SD + "feature", SD + "UnionDefaultGraph") in triples
    assert (SD + "resultFormat", "http://www.w3.org/ns/formats/SPARQL_Results_JSON") in triples
    assert any(p == SD + "defaultDataset" for p, _ in triples)


def test_description_406(client: TestClient) -> None:
    r = client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 406


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_query_page(client: TestClient) -> None:
    r = client.get("/sparql", headers={"Accept": BROWSER})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.text
    assert "<textarea" in page
    # works offline: nothing is loaded from another host
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert (
        client.get("/sparql", params={"format": "html"})
        .headers["content-type"]
        .startswith("text/html")
    )


def _page_examples(client: TestClient) -> list[dict[str, str]]:
    page = client.get("/sparql", headers={"Accept": "text/html"}).text
    m = re.search(
        r'<script type="application/json" id="example-queries">(.*?)</script>', page, re.S
    )
    assert m is not None
    examples: list[dict[str, str]] = json.loads(m.group(1))
    return examples


def _check_examples(client: TestClient) -> list[dict[str, str]]:
    """Run every example of the page as the page does; each must answer something."""
    examples = _page_examples(client)
    titles = " | ".join(e["title"] for e in examples)
    for needed in ("All services", "S3", "Lambda is charged by", "Source sentence"):
        assert needed in titles
    for example in examples:
        r = client.post(
            "/sparql",
            data={"query": example["query"]},
            headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
        )
        assert r.status_code == 200, (example["title"], r.text)
        if r.headers["content-type"].startswith("application/sparql-results+json"):
            assert r.json()["results"]["bindings"], example["title"]
        else:
            assert list(ox.parse(r.content, ox.RdfFormat.TURTLE)), example["title"]
    return examples


def test_page_examples_answer_on_the_sample_graph(client: TestClient) -> None:
    examples = _check_examples(client)
    lambda_pricing = next(e for e in examples if "Lambda" in e["title"])
    rows = select(client, lambda_pricing["query"].split("\n\n", 1)[1])
    assert [r["dimension"] for r in rows] == ["duration", "requests"]


def test_page_examples_answer_on_the_bundled_notes(corpus_graph: Any) -> None:
    """The shared fixture of tests/conftest.py: the bundled notes, built."""
    with TestClient(create_app(settings(corpus_graph.settings.data))) as c:
        _check_examples(c)
        rows = select(c, 'SELECT ?stated WHERE { ?s skos:altLabel "S3" ; ckg:hasLimit ?l . '
                         '?l ckg:unit unit:BYTE ; ckg:statedAs ?stated }')  # fmt: skip
        assert rows == [{"stated": "from 0 Bytes to 5 TB"}]


def test_cors(client: TestClient) -> None:
    r = client.options(
        "/sparql",
        headers={
            "Origin": "https://yasgui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "content-type" in r.headers["access-control-allow-headers"].lower()
    for response in (
        client.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://x.example"}),
        client.get("/sparql", params={"query": "nonsense"}),
    ):
        assert response.headers["access-control-allow-origin"] == "*"
        assert "X-SPARQL-Truncated" in response.headers["access-control-expose-headers"]


def test_run_query_from_python(data_root: Path) -> None:
    result = run_query(settings(data_root), PREFIXES + SERVICES, format="csv")
    assert result.body.decode().splitlines()[0] == "s,label"
    assert not result.truncated
    result = run_query(settings(data_root), PREFIXES + S3_GRAPH)
    assert result.media_type.startswith("text/turtle")


# -- updates ------------------------------------------------------------------------------

TOKEN = "s3cret-token"
INSERT = f'INSERT DATA {{ GRAPH <{vocab.GRAPH}manual> {{ <{vocab.ID}x> <{RDFS}label> "added" }} }}'
ADDED = 'ASK { ?x rdfs:label "added" }'


@pytest.fixture
def update_root(tmp_path: Path) -> Path:
    publish(tmp_path, sample_quads())
    return tmp_path


@pytest.fixture
def update_client(update_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(update_root, update_token=SecretStr(TOKEN)))) as c:
        yield c


def ask(client: TestClient, query: str) -> bool:
    r = client.get("/sparql", params={"query": PREFIXES + query})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def test_updates_disabled_without_token(update_root: Path) -> None:
    before = DataDir(update_root).current_id()
    with TestClient(create_app(settings(update_root))) as c:
        r = c.post("/sparql", data={"update": INSERT}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert (r.status_code, r.json()["error"]) == (403, "forbidden")
        assert "read-only: updates need a token" in r.json()["message"]
        assert not ask(c, ADDED)
    assert DataDir(update_root).current_id() == before


@pytest.mark.parametrize("auth", [None, "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer "])
def test_update_needs_the_token(
    update_client: TestClient, update_root: Path, auth: str | None
) -> None:
    before = DataDir(update_root).current_id()
    headers = {"Authorization": auth} if auth else {}
    r = update_client.post("/sparql", data={"update": INSERT}, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert not ask(update_client, ADDED)
    assert DataDir(update_root).current_id() == before


def test_update_publishes_a_new_generation(update_client: TestClient, update_root: Path) -> None:
    data = DataDir(update_root)
    before = data.current()
    assert before is not None
    r = update_client.post(
        "/sparql",
        content=INSERT.encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["generation"] == data.current_id() != before.name
    assert ask(update_client, ADDED)
    manifest = data.manifest()
    assert manifest is not None and manifest["note"] == "fixture"
    assert "build_key" not in manifest  # the next `kg build` rebuilds from the notes
    assert manifest["sparql_update"]["from"] == before.name
    # the published generation it started from was not written
    old = OxigraphStore(before / "graph", read_only=True)
    try:
        assert not old.ask(PREFIXES + ADDED)
    finally:
        old.close()
    # a form-encoded update works as well, on top of the first
    r = update_client.post(
        "/sparql",
        data={"update": f'DELETE WHERE {{ GRAPH ?g {{ ?x <{RDFS}label> "added" }} }}'},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200
    assert not ask(update_client, ADDED)


@pytest.mark.parametrize(
    ("update", "code"),
    [
        ("INSERT DATA { <http://x> <http://y> }", "malformed_query"),
        ("LOAD <http://example.org/data.ttl>", "forbidden_operation"),
    ],
)
def test_failed_update_changes_nothing(
    update_client: TestClient, update_root: Path, update: str, code: str
) -> None:
    data = DataDir(update_root)
    before = sorted(p.name for p in update_root.glob("gen-*"))
    r = update_client.post(
        "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert (r.status_code, r.json()["error"]) == (400, code)
    assert sorted(p.name for p in update_root.glob("gen-*")) == before
    assert data.current_id() == before[-1]


def test_update_waits_for_no_build(update_client: TestClient, update_root: Path) -> None:
    with DataDir(update_root).lock():
        r = update_client.post(
            "/sparql", data={"update": INSERT}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert (r.status_code, r.json()["error"]) == (409, "build_running")
    assert not ask(update_client, ADDED)


def test_service_description_lists_update_when_enabled(update_client: TestClient) -> None:
    r = update_client.get("/sparql", headers={"Accept": "text/turtle"})
    assert b"sd:SPARQL11Update" in r.content


def test_new_generation_is_picked_up(update_client: TestClient, update_root: Path) -> None:
    assert ask(update_client, 'ASK { ?s rdfs:label "Amazon S3" }')
    publish(update_root, sample_quads(extra_label="Amazon Simple Storage Service"))
    assert ask(update_client, 'ASK { ?s rdfs:label "Amazon Simple Storage Service" }')
    assert not ask(update_client, 'ASK { ?s rdfs:label "Amazon S3" }')


# -- a running server: real clients, time limits, concurrency -----------------------------

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIVE_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def live(data_root: Path) -> Iterator[str]:
    app = create_app(
        settings(data_root, sparql_timeout=LIVE_TIMEOUT, update_token=SecretStr(TOKEN))
    )
    with serving(app) as url:
        yield f"{url}/sparql"


def test_sparqlwrapper_select_ask_construct(live: str) -> None:
    from SPARQLWrapper import CSV, JSON, POST, POSTDIRECTLY, TSV, TURTLE, XML, SPARQLWrapper

    for method, request_method in (("GET", None), (POST, None), (POST, POSTDIRECTLY)):
        w = SPARQLWrapper(live)
        w.setMethod(method)
        if request_method:
            w.setRequestMethod(request_method)
        w.setQuery(PREFIXES + LABELS)
        w.setReturnFormat(JSON)
        rows = w.query().convert()["results"]["bindings"]  # type: ignore[index]
        assert [r["label"]["value"] for r in rows] == EXPECTED_LABELS
    w = SPARQLWrapper(live)
    w.setQuery(PREFIXES + LABELS)
    w.setReturnFormat(XML)
    doc = w.query().convert()
    assert len(doc.getElementsByTagName("result")) == 3  # type: ignore[union-attr]
    for fmt in (CSV, TSV):
        w.setReturnFormat(fmt)
        assert len(w.query().convert().splitlines()) == 4  # type: ignore[union-attr]
    w = SPARQLWrapper(live)
    w.setQuery('ASK { ?s <http://www.w3.org/2004/02/skos/core#altLabel> "S3" }')
    w.setReturnFormat(JSON)
    assert w.query().convert()["boolean"] is True  # type: ignore[index]
    w = SPARQLWrapper(live)
    w.setQuery(PREFIXES + S3_GRAPH)
    w.setReturnFormat(TURTLE)
    triples = list(ox.parse(w.query().convert(), ox.RdfFormat.TURTLE))  # type: ignore[arg-type]
    assert len(triples) == 5


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_sparqlwrapper_rdf_conversion(live: str) -> None:
    from SPARQLWrapper import JSONLD, RDFXML, SPARQLWrapper

    for fmt in (RDFXML, JSONLD):
        w = SPARQLWrapper(live)
        w.setQuery(PREFIXES + S3_GRAPH)
        w.setReturnFormat(fmt)
        assert len(w.query().convert()) == 5  # type: ignore[arg-type]


def test_sparqlwrapper_errors_and_update(live: str) -> None:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, Unauthorized

    w = SPARQLWrapper(live)
    w.setQuery("SELECT * WHERE { ?s ?p }")
    w.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed, match="error at 1:"):
        w.query()
    w = SPARQLWrapper(live)
    w.setMethod(POST)
    w.setQuery("INSERT DATA { <http://x> <http://y> <http://z> }")
    with pytest.raises(Unauthorized):
        w.query()
    w.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    w.setQuery("INSERT DATA { <http://x> <http://y> }")  # the token passes, the syntax does not
    with pytest.raises(QueryBadFormed, match="error at 1:"):
        w.query()


def test_rdflib_sparqlstore(live: str) -> None:
    from rdflib import Graph, Literal, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    for return_format, method in (("xml", "GET"), ("json", "POST"), ("xml", "POST_FORM")):
        g = Graph(store=SPARQLStore(live, returnFormat=return_format, method=method))
        rows = list(g.query(PREFIXES + LABELS))
        assert [str(r[0]) for r in rows] == EXPECTED_LABELS  # type: ignore[index]
        assert g.query(PREFIXES + 'ASK { ?s skos:altLabel "SQS" }').askAnswer is True
        g.close()
    g = Graph(store=SPARQLStore(live))  # CONSTRUCT needs a graph type in Accept: the default
    result = g.query(PREFIXES + S3_GRAPH)
    assert result.graph is not None
    assert (None, URIRef(SKOS + "altLabel"), Literal("S3")) in result.graph
    assert len(g) == len(sample_quads())
    g.close()


@pytest.mark.parametrize(
    ("query", "accept", "content_type"),
    [
        (SERVICES, "application/sparql-results+json", "application/sparql-results+json"),
        (SERVICES, "application/sparql-results+xml", "application/sparql-results+xml"),
        (SERVICES, "text/csv", "text/csv"),
        (SERVICES, "text/tab-separated-values", "text/tab-separated-values"),
        (S3_GRAPH, "text/turtle", "text/turtle"),
        (S3_GRAPH, "application/n-triples", "application/n-triples"),
        (S3_GRAPH, "application/n-quads", "application/n-quads"),
        (S3_GRAPH, "application/rdf+xml", "application/rdf+xml"),
        (S3_GRAPH, "application/ld+json", "application/ld+json"),
    ],
)
def test_plain_http_formats(live: str, query: str, accept: str, content_type: str) -> None:
    for request in (
        httpx.Request("GET", live, params={"query": PREFIXES + query}, headers={"Accept": accept}),
        httpx.Request("POST", live, data={"query": PREFIXES + query}, headers={"Accept": accept}),
    ):
        with httpx.Client() as http:
            r = http.send(request)
        assert r.status_code == 200
        assert r.headers["content-type"].split(";")[0] == content_type
        assert len(r.content) > 50


def test_runaway_query_is_stopped_while_others_are_answered(live: str) -> None:
    outcome: dict[str, Any] = {}

    def runaway() -> None:
        started = time.monotonic()
        with httpx.Client(timeout=30) as http:
            outcome["response"] = http.get(live, params={"query": RUNAWAY})
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.3)
    with httpx.Client(timeout=30) as http:
        for _ in range(5):
            started = time.monotonic()
            r = http.get(live, params={"query": PREFIXES + LABELS})
            assert r.status_code == 200
            assert time.monotonic() - started < 1.0
        assert thread.is_alive()  # those were answered while the runaway query ran
        thread.join()
        response = outcome["response"]
        assert response.status_code == 503
        assert response.json()["error"] == "timeout"
        assert f"{LIVE_TIMEOUT:g} s" in response.json()["message"]
        assert LIVE_TIMEOUT - 0.2 < outcome["elapsed"] < LIVE_TIMEOUT + 1.5
        # the stopped worker was replaced
        for _ in range(3):
            assert http.get(live, params={"query": "ASK {}"}).status_code == 200


def test_runaway_update_is_stopped_and_changes_nothing(update_root: Path) -> None:
    app = create_app(settings(update_root, sparql_timeout=1.0, update_token=SecretStr(TOKEN)))
    before = DataDir(update_root).current_id()
    # in an update the default graph is the store's own, not the union: name the graphs
    update = (
        f"INSERT {{ GRAPH <{vocab.GRAPH}x> {{ ?a <{RDFS}label> 'x' }} }} WHERE {{ GRAPH ?w "
        "{ ?a ?b ?c } GRAPH ?x { ?d ?e ?f } GRAPH ?y { ?g ?h ?i } GRAPH ?z { ?j ?k ?l } }"
    )
    with TestClient(app) as c:
        started = time.monotonic()
        r = c.post("/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert time.monotonic() - started < 3
        assert (r.status_code, r.json()["error"]) == (503, "timeout")
        assert not ask(c, "ASK { GRAPH ?g { ?a rdfs:label 'x' } }")
    assert DataDir(update_root).current_id() == before
    assert [p.name for p in update_root.glob("gen-*")] == [before]


def test_all_workers_busy(data_root: Path) -> None:
    executor = LocalExecutor(DataDir(data_root), workers=1, timeout=1.5, queue_timeout=0.2)
    endpoint = SparqlEndpoint(executor)
    app = create_app(settings(data_root))
    app.state.kg.services["sparql"] = endpoint
    with TestClient(app) as c:
        thread = threading.Thread(
            target=c.get, args=("/sparql",), kwargs={"params": {"query": RUNAWAY}}
        )
        thread.start()
        time.sleep(0.3)
        r = c.get("/sparql", params={"query": "ASK {}"})
        assert (r.status_code, r.json()["error"]) == (503, "busy")
        thread.join()
        assert c.get("/sparql", params={"query": "ASK {}"}).status_code == 200
