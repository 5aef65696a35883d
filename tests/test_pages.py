"""The pages for people (fake embedder, the bundled notes): the ask page, resource pages and
their RDF by content negotiation, the services list, the vocabulary, offline API docs, and the
query page for a browser's /sparql?query=. The browser itself is driven in test_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.neighbourhood import Edge, Node, neighbourhood_svg
from api.web import highlight
from kg import vocab
from kg.build import build
from kg.serve.runtime import Runtime
from kg.settings import Settings

from .conftest import Built

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
SQS = vocab.ID + "service/amazon-sqs"
SQS_QUESTION = "How large can an SQS message be?"
FARGATE_QUESTION = "How much memory can an AWS Fargate task use?"


@pytest.fixture(scope="module")
def client(corpus_graph: Built) -> Iterator[TestClient]:
    settings = corpus_graph.settings
    app = create_app(settings, runtime=Runtime(settings))
    with TestClient(app, headers={"Accept": BROWSER}) as c:
        yield c


def page(client: TestClient, path: str, **params: str) -> str:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    return r.text


def section(html: str, id_: str) -> str:
    """The element with ``id_`` (up to the next sibling section), as text without tags."""
    m = re.search(rf'<(section|details)[^>]*id="{id_}".*?</\1>', html, re.S)
    assert m is not None, f"no #{id_}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", m.group(0))).split())


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_the_ask_page_without_a_question(client: TestClient) -> None:
    html = page(client, "/")
    assert re.search(r'<form class="askform" method="get" action="/"', html)
    assert 'name="q"' in html
    examples = [h for h in links(html) if h.startswith("/?q=")]
    assert examples, "example questions link to their answers"
    assert "/id/service/amazon-s3" in links(html)  # the services the notes cover


def test_a_question_answered_with_its_sources(client: TestClient) -> None:
    html = page(client, "/", q=SQS_QUESTION)
    answer = section(html, "answer")
    assert "256 KB" in answer and "graph" in answer and "confidence" in answer
    facts = section(html, "facts")
    assert "aws-solutions-architect-notes.txt › SQS: Distributed Queue System" in facts
    assert "Messages can obtain up to 256 KB of text in any format." in facts
    assert "<mark>256 KB</mark>" in html  # the answering span of the quoted sentence
    # the SPARQL that ran, and a link that opens it in the query page
    sparql_link = next(h for h in links(html) if h.startswith("/sparql?query="))
    query = parse_qs(urlsplit(sparql_link).query)["query"][0]
    assert "ckg:hasLimit" in query and SQS in query
    # the card of the service: limits as a table with units, features, relations
    card = section(html, "card")
    assert "Amazon SQS" in card and "message retention period" in card
    assert re.search(r"<td[^>]*>14 days</td>", html)
    assert ">seconds</a>" in html and ">bytes</a>" in html
    assert "/id/feature/amazon-sqs/fifo" in links(html)


def test_the_shared_link_runs_the_query_it_links(client: TestClient) -> None:
    html = page(client, "/", q=SQS_QUESTION)
    sparql_link = next(h for h in links(html) if h.startswith("/sparql?query="))
    shown = client.get(sparql_link).text
    assert re.search(r"<table><thead><tr><th>#</th>.*<th>\?limit</th>", shown, re.S)
    assert "256 KB" in shown  # the statedAs of the limit, in the results table


def test_an_out_of_scope_question_says_so_and_what_is_covered(client: TestClient) -> None:
    html = page(client, "/", q=FARGATE_QUESTION)
    answer = section(html, "answer")
    assert "The notes don't cover that." in answer
    assert "never mention AWS Fargate" in answer
    assert "confidence" not in answer
    covered = section(html, "covered")
    assert re.search(r"The notes cover \d+ services", covered)
    assert "Amazon S3" in covered
    assert 'id="facts"' not in html


def test_the_question_is_escaped_and_bounded(client: TestClient) -> None:
    html = page(client, "/", q='<script>alert("x")</script> SQS?')
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html
    r = client.get("/", params={"q": "x" * 2001})
    assert r.status_code == 413 and "the limit is 2000" in r.text


def test_a_resource_page_for_a_browser(client: TestClient) -> None:
    r = client.get("/id/service/amazon-sqs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["vary"] == "Accept"
    assert f'<{SQS}>; rel="canonical"' in r.headers["link"]
    assert 'type="text/turtle"' in r.headers["link"]
    html = r.text
    assert re.search(r"<h1>Amazon SQS", html)
    limits = section(html, "limits")
    assert "message size" in limits and "256 KB" in limits and "bytes" in limits
    assert "Messages can obtain up to 256 KB" in limits  # each limit with its source
    assert "aws-solutions-architect-notes.txt › SQS: Distributed Queue System" in limits
    picture = re.search(r'<svg class="neighbourhood".*?</svg>', html, re.S)
    assert picture is not None
    assert '<a href="/id/feature/amazon-sqs/fifo">' in picture.group(0)
    assert "has limit" in picture.group(0)


def test_every_resource_a_page_links_to_resolves(client: TestClient) -> None:
    html = page(client, "/id/service/amazon-sqs")
    targets = sorted({h.split("?")[0] for h in links(html) if h.startswith("/id/")})
    kinds = {t.split("/")[2] for t in targets}
    assert {"service", "feature", "limit", "category", "doc"} <= kinds, kinds
    for target in targets:
        assert client.get(target).status_code == 200, target
        r = client.get(target, headers={"Accept": "text/turtle"})
        assert r.status_code == 200 and list(ox.parse(r.content, ox.RdfFormat.TURTLE)), target


@pytest.mark.parametrize(
    ("headers", "params", "rdf_format"),
    [
        ({"Accept": "text/turtle"}, {}, ox.RdfFormat.TURTLE),
        ({"Accept": "*/*"}, {}, ox.RdfFormat.TURTLE),
        ({"Accept": "application/ld+json"}, {}, ox.RdfFormat.JSON_LD),
        ({"Accept": "application/n-triples"}, {}, ox.RdfFormat.N_TRIPLES),
        ({"Accept": "application/rdf+xml"}, {}, ox.RdfFormat.RDF_XML),
        ({"Accept": BROWSER}, {"format": "nt"}, ox.RdfFormat.N_TRIPLES),
    ],
)
def test_a_resource_as_rdf(
    client: TestClient, headers: dict[str, str], params: dict[str, str], rdf_format: ox.RdfFormat
) -> None:
    r = client.get("/id/service/amazon-sqs", headers=headers, params=params)
    assert r.status_code == 200
    assert r.headers["vary"] == "Accept"
    triples = list(ox.parse(r.content, rdf_format))
    sqs = ox.NamedNode(SQS)
    limits = [
        t.object for t in triples if t.subject == sqs and t.predicate.value.endswith("#hasLimit")
    ]
    assert limits
    sizes = [
        t.object.value
        for t in triples
        if t.subject in limits and t.predicate == ox.NamedNode(vocab.CKG + "maxValue")
    ]
    assert "256000" in sizes
    labels = {t.object.value for t in triples if t.predicate == ox.NamedNode(vocab.RDFS + "label")}
    assert {"Amazon SQS", "FIFO"} <= labels  # neighbours come with their names


def test_unknown_resources_and_formats(client: TestClient) -> None:
    r = client.get("/id/service/no-such-thing")
    assert r.status_code == 404 and "says nothing about" in r.text
    assert r.headers["content-type"].startswith("text/html")
    r = client.get("/id/service/no-such-thing", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/plain")
    r = client.get("/id/service/amazon-sqs", headers={"Accept": "application/pdf"})
    assert r.status_code == 406 and "text/turtle" in r.text
    r = client.get("/id/service/a>b{c}")
    assert r.status_code == 404
    r = client.get("/id/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/services"


def test_the_services_page_and_the_vocabulary(client: TestClient) -> None:
    html = page(client, "/services")
    assert '<a href="/id/service/amazon-sqs">Amazon SQS</a>' in html
    html = page(client, "/ontology")
    assert 'id="hasLimit"' in html and "ckg:Service" in html
    r = client.get("/ontology", headers={"Accept": "text/turtle"})
    triples = list(ox.parse(r.content, ox.RdfFormat.TURTLE))
    assert any(t.subject == ox.NamedNode(vocab.CKG + "hasLimit") for t in triples)


def test_the_public_base_names_where_resources_resolve(corpus_graph: Built) -> None:
    settings = corpus_graph.settings.model_copy(update={"public_base": "https://kg.example.org/"})
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        html = c.get("/id/service/amazon-sqs", headers={"Accept": "text/html"}).text
        assert 'href="https://kg.example.org/id/feature/amazon-sqs/fifo"' in html
        assert 'rel="canonical" href="https://kg.example.org/id/service/amazon-sqs"' in html
        assert 'href="https://kg.example.org/static/site.css"' in html
        turtle = c.get("/id/service/amazon-sqs", headers={"Accept": "text/turtle"}).content
        subjects = {t.subject for t in ox.parse(turtle, ox.RdfFormat.TURTLE)}
        assert ox.NamedNode(SQS) in subjects  # the IRIs themselves never change


def test_cross_cloud_equivalents_show_on_the_card(tmp_path, corpus_graph: Built) -> None:
    """Once the graph links services across providers (skos:closeMatch), the card shows them."""
    settings = Settings(data=tmp_path / "data", embedder="fake", update_token=SecretStr("tok"))
    build(settings)
    azure = vocab.ID + "service/azure-queue-storage"
    update = f"""INSERT DATA {{ GRAPH <{vocab.GRAPH}catalog> {{
        <{SQS}> <{vocab.SKOS}closeMatch> <{azure}> .
        <{azure}> <{vocab.RDFS}label> "Azure Queue Storage" ;
                  <{vocab.CKG}provider> <{vocab.ID}provider/azure> .
        <{vocab.ID}provider/azure> <{vocab.RDFS}label> "Microsoft Azure" . }} }}"""
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        r = c.post("/sparql", data={"update": update}, headers={"Authorization": "Bearer tok"})
        assert r.status_code == 200, r.text
        html = c.get("/id/service/amazon-sqs", headers={"Accept": "text/html"}).text
        shown = section(html, "equivalents")
        assert "Azure Queue Storage (Microsoft Azure)" in shown
        asked = c.get("/", params={"q": SQS_QUESTION}, headers={"Accept": "text/html"}).text
        assert (
            "equivalents in other clouds" in asked
            and 'href="/id/service/azure-queue-storage"' in asked
        )


def test_api_docs_work_offline(client: TestClient) -> None:
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = page(client, path)
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path
        assert "fonts.googleapis" not in html
        script = re.search(rf'src="([^"]*{asset})"', html)
        assert script is not None
        r = client.get(script.group(1))
        assert r.status_code == 200 and len(r.content) > 100_000
    assert "validatorUrl" in page(client, "/docs")  # no badge that calls validator.swagger.io


@pytest.mark.parametrize("path", ["/", "/?q=How+large+can+an+SQS+message+be%3F", "/services"])
def test_pages_load_nothing_from_another_host(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", r.text)


def test_a_browser_opening_a_query_link_gets_the_query_run(client: TestClient) -> None:
    query = f"SELECT ?label WHERE {{ <{SQS}> <{vocab.RDFS}label> ?label }}"
    r = client.get("/sparql", params={"query": query})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    editor = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S)
    assert editor is not None and unescape(editor.group(1)) == query
    assert re.search(r"<td>Amazon SQS</td>", html)
    assert "1 row" in html
    assert "/sparql?query=" in html and "format=csv" in html  # downloads
    # SPARQL clients keep getting results
    for accept, media_type in (
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("*/*", "application/sparql-results+json"),
        (None, "application/sparql-results+json"),
    ):
        headers = {"Accept": accept} if accept else {"Accept": ""}
        r = client.get("/sparql", params={"query": query}, headers=headers)
        assert r.headers["content-type"].startswith(media_type), accept
    r = client.get("/sparql", params={"query": query, "format": "csv"})
    assert r.headers["content-type"].startswith("text/csv")  # a download link, from a browser


def test_the_query_page_shows_errors_and_graphs(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert re.search(r'<div id="error" role="alert" data-line="1" data-column="\d+">\S', r.text)
    r = client.get(
        "/sparql", params={"query": f"CONSTRUCT {{ <{SQS}> ?p ?o }} WHERE {{ <{SQS}> ?p ?o }}"}
    )
    assert r.status_code == 200 and '<pre class="graph">' in r.text and "Turtle" in r.text


def test_highlight_marks_spans_whole_words_and_escapes() -> None:
    text = "Messages can obtain up to 256 KB of <text>; 256 KBs are not marked."
    assert str(highlight(text, ["256  kb", None, ""])) == (
        "Messages can obtain up to <mark>256 KB</mark> of &lt;text&gt;; 256 KBs are not marked."
    )
    assert str(highlight("SQS and SQS-FIFO", ["SQS", "SQS and"])) == (
        "<mark>SQS and</mark> <mark>SQS</mark>-FIFO"
    )


def test_the_neighbourhood_picture() -> None:
    assert neighbourhood_svg(Node("alone"), []) == ""
    edges = [
        Edge("has feature", Node(f"f{i} <b>", f"/id/feature/x/f{i}", "feature")) for i in range(20)
    ]
    svg = str(neighbourhood_svg(Node("Amazon SQS", kind="service"), edges))
    assert svg.count("<a href=") == 14  # at most 14 neighbours, then "+ 6 more"
    assert "+ 6 more" in svg and "<b>" not in svg and "f0 &lt;b&gt;" in svg
    assert ElementTree.fromstring(svg).tag.endswith("svg")  # well-formed XML


def test_limit_and_passage_pages_cite_their_source(client: TestClient) -> None:
    html = page(client, "/id/service/amazon-sqs")
    limit = next(h for h in links(html) if h.startswith("/id/limit/") and "message-size" in h)
    shown = page(client, limit)
    assert re.search(r"<h1>message size of Amazon SQS", shown)
    assert "256 KB" in section(shown, "limits") and "bytes" in section(shown, "limits")
    passage = next(h for h in links(shown) if h.startswith("/id/doc/") and h.count("/") == 4)
    shown = page(client, passage)
    assert "Messages can obtain up to 256 KB of text in any format." in section(shown, "passage")
    read = section(shown, "read-from")
    assert "Amazon SQS" in read and "ckg:hasLimit" in read and "message size" in read


def test_a_question_before_anything_is_built_is_a_503_page(tmp_path) -> None:
    settings = Settings(data=tmp_path / "data", embedder="fake")
    app = create_app(settings, runtime=Runtime(settings))
    with TestClient(app, headers={"Accept": BROWSER}) as c:
        r = c.get("/", params={"q": SQS_QUESTION})
    assert r.status_code == 503
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "Nothing has been built yet" in r.text
