"""The SPARQL endpoint's pure parts: the SERVICE/LOAD screen, content negotiation, row caps,
form decoding."""

from __future__ import annotations

import csv
import io
import json
import random
from urllib.parse import parse_qsl, urlencode

import pyoxigraph as ox
import pytest

from kg.sparql import ForbiddenOperation, check_allowed, formats
from kg.sparql.errors import MalformedQuery
from kg.sparql.protocol import decode_form
from kg.sparql.scanner import inspect
from kg.sparql.worker import RESULT_FORMATS, serialize_solutions, serialize_triples

# -- the screen ---------------------------------------------------------------------------

REFUSED_QUERIES = [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    # Oxigraph reads keywords without a word boundary:
    "SELECT * WHERE { SERVICESILENT<http://example.org/>{?s ?p ?o} }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { SERVICEex:x {?s ?p ?o} }",
    "PREFIX : <http://example.org/> SELECT * WHERE { service:x {} }",
    "SELECT * WHERE { ?s ?p 1e5SERVICE<http://example.org/>{} }",
    # a less-than that must not be read as the start of an IRI hiding the keyword:
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<?s)SERVICE#>\n<http://example.org/>{?a ?b ?c} }",
    "SELECT * WHERE { ?s ?p ?o FILTER(1<2)SERVICE#>\n<http://example.org/>{} }",
    "SELECT * WHERE { ?s ?p ?o FILTER ex:f(?a<?b)SERVICE#>\n<http://example.org/>{} }",
    "SELECT * WHERE { ?s ?p ?o BIND((?a<?b) AS ?c)SERVICE#>\n<http://example.org/>{} }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://example.org/> { ?s ?p ?o } } } }",
]

ALLOWED_QUERIES = [
    "SELECT * WHERE { ?s ?p ?o FILTER(?o = <http://example.org/service>) } # SERVICE LOAD",
    "SELECT * WHERE { ?s <http://ex.org/service/load> 'SERVICE' , \"LOAD\" , '''SERVICE\n''' }",
    "SELECT ?service ?load WHERE { ?service ?p ?load }",
    "PREFIX service: <http://example.org/> SELECT * WHERE { service:x ?p service:y }",
    'SELECT * WHERE { ?s ?p "x"@service . _:load ?p ?o }',
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<<http://example.org/service>) }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (<http://x.org/service>, <http://y.org/load>)) }",
    "SELECT * WHERE { VALUES (?a ?b) { (<http://x.org/a> <http://x.org/service/b>) } }",
    "SELECT (?a<?b AS ?c) WHERE { ?s ?p ?o FILTER(?a<?b||?c) }",
    "SELECT*WHERE{?s?p?o}",
]


@pytest.mark.parametrize("query", REFUSED_QUERIES)
def test_service_is_refused(query: str) -> None:
    with pytest.raises(ForbiddenOperation, match="SERVICE"):
        check_allowed(query)


@pytest.mark.parametrize("query", ALLOWED_QUERIES)
def test_ordinary_queries_pass_the_screen(query: str) -> None:
    assert check_allowed(query).forbidden == ()


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <http://example.org/data.ttl>",
        "load silent <http://example.org/data.ttl> INTO GRAPH <http://g>",
        "LOADSILENT<http://example.org/>",
        "PREFIX ex: <http://example.org/> LOADex:x",
        "CLEAR ALL ; LOAD <file:///etc/passwd>",
        "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }",
    ],
)
def test_load_and_service_are_refused_in_updates(update: str) -> None:
    with pytest.raises(ForbiddenOperation):
        check_allowed(update, update=True)


def test_update_without_load_passes() -> None:
    update = "PREFIX load: <http://x.org/> INSERT DATA { load:a load:b 'LOAD' }"
    assert check_allowed(update, update=True).forbidden == ()


def test_the_screen_tells_the_form_and_the_dataset() -> None:
    found = inspect("PREFIX a: <http://x/> BASE <http://b/> select ?x FROM <http://g> WHERE {}")
    assert (found.form, found.kind, found.has_dataset) == ("SELECT", "results", True)
    assert inspect("ASK{}").kind == "results"
    assert inspect("CONSTRUCT WHERE { ?s ?p ?o }").kind == "graph"
    assert inspect("DESCRIBE <http://x>").kind == "graph"
    assert not inspect("SELECT * WHERE { GRAPH <http://g> { ?s ?p ?o } }").has_dataset
    assert inspect("SELEC * WHERE {}").kind is None


def test_parser_position_is_extracted() -> None:
    err = MalformedQuery.from_parser("error at 3:14: expected one of LATERAL, SERVICE")
    assert (err.line, err.column) == (3, 14)
    assert err.to_json()["line"] == 3


# -- content negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
        ("application/json", "json"),
        ("text/*", "csv"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml"),
        ("text/csv, */*;q=0.1", "csv"),
        ("*/*;q=0.1, text/tab-separated-values", "tsv"),
        ("text/csv;q=0, */*", "json"),
        ("application/sparql-results+json;q=0.2,application/sparql-results+xml;q=0.8", "xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
        ("text/turtle", None),
        ("application/sparql-results+json;q=0", None),
        ("garbage", "json"),
    ],
)
def test_negotiate_results(accept: str | None, expected: str | None) -> None:
    chosen = formats.negotiate(accept, formats.RESULT_FORMATS)
    assert (chosen.name if chosen else None) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("*/*", "turtle"),
        ("application/rdf+xml", "rdfxml"),
        ("application/ld+json", "jsonld"),
        ("application/n-triples", "ntriples"),
        ("application/n-quads", "nquads"),
        ("application/json", "jsonld"),
        ("text/rdf+n3,application/n-triples,application/turtle,text/turtle", "ntriples"),
        ("application/n-triples,text/turtle;q=0.9", "ntriples"),
        ("application/sparql-results+json", None),
    ],
)
def test_negotiate_graphs(accept: str, expected: str | None) -> None:
    chosen = formats.negotiate(accept, formats.GRAPH_FORMATS)
    assert (chosen.name if chosen else None) == expected


def test_format_parameter_values() -> None:
    pick = formats.from_parameters
    assert pick(["csv"], formats.RESULT_FORMATS) is formats.BY_NAME["csv"]
    assert pick(["text/csv"], formats.RESULT_FORMATS) is formats.BY_NAME["csv"]
    assert pick(["json"], formats.GRAPH_FORMATS) is formats.BY_NAME["jsonld"]
    assert pick(["xml"], formats.GRAPH_FORMATS) is formats.BY_NAME["rdfxml"]
    assert pick(["csv"], formats.GRAPH_FORMATS) is None
    # SPARQLWrapper sends a token and then its Accept header as a list
    assert pick(["json-ld", "application/ld+json,application/x-json+ld"], formats.GRAPH_FORMATS)
    assert pick(["nonsense"], formats.ALL_FORMATS) is None


# -- row caps on pyoxigraph's writers -----------------------------------------------------

NASTY = ['"', "\\", "\\\\", '\\"', ",{", "[{", "},{", "\n", "\r\n", "\t", "<result>", "&", "ü",
         '"",', ",", " ", "x" * 40, "{", "}"]  # fmt: skip


@pytest.fixture(scope="module")
def nasty_store() -> ox.Store:
    """Literals full of what the row counters look for, so cuts land in awkward places."""
    rng = random.Random(7)
    store = ox.Store()
    ex = "http://example.org/"
    quads = []
    for i in range(1500):
        text = "".join(rng.choice(NASTY) for _ in range(rng.randint(0, 12)))
        obj = ox.Literal(text, language="en") if i % 7 == 0 else ox.Literal(text)
        quads.append(ox.Quad(ox.NamedNode(f"{ex}s{i:04d}"), ox.NamedNode(ex + "p"), obj))
        if i % 5 == 0:
            quads.append(
                ox.Quad(ox.NamedNode(f"{ex}s{i:04d}"), ox.NamedNode(ex + "q"), ox.BlankNode())
            )
    store.extend(quads)
    return store


NASTY_QUERY = """SELECT ?s ?o ?b WHERE { ?s <http://example.org/p> ?o
                 OPTIONAL { ?s <http://example.org/q> ?b } } ORDER BY ?s"""


def _rows(body: bytes, fmt: str) -> list[tuple[object, ...]]:
    if fmt == "csv":
        return [tuple(r) for r in csv.reader(io.StringIO(body.decode(), newline=""))][1:]
    return [tuple(r) for r in ox.parse_query_results(body, RESULT_FORMATS[fmt])]


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
@pytest.mark.parametrize("limit", [1, 2, 37, 999, 1499, 1500, 1501])
def test_capped_results_are_the_first_rows_and_valid(
    nasty_store: ox.Store, fmt: str, limit: int
) -> None:
    full = nasty_store.query(NASTY_QUERY).serialize(format=RESULT_FORMATS[fmt])
    assert full is not None
    body, truncated = serialize_solutions(nasty_store.query(NASTY_QUERY), fmt, limit)
    assert truncated == (limit < 1500)
    assert _rows(body, fmt) == _rows(full, fmt)[:limit]
    if fmt == "json":
        data = json.loads(body)
        assert data.get("truncated", False) == truncated
        assert len(data["results"]["bindings"]) == min(limit, 1500)


def test_capped_results_without_variables() -> None:
    store = ox.Store()
    for fmt in ("json", "xml", "csv", "tsv"):
        body, truncated = serialize_solutions(store.query("SELECT * WHERE {}"), fmt, 5)
        assert not truncated
        assert body == store.query("SELECT * WHERE {}").serialize(format=RESULT_FORMATS[fmt])


def test_capped_triples(nasty_store: ox.Store) -> None:
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    body, count, truncated = serialize_triples(nasty_store.query(query), "ntriples", 10, {})
    assert (count, truncated) == (10, True)
    assert len(list(ox.parse(body, ox.RdfFormat.N_TRIPLES))) == 10
    body, count, truncated = serialize_triples(nasty_store.query(query), "turtle", 10_000, {})
    assert not truncated
    assert count == len(list(ox.parse(body, ox.RdfFormat.TURTLE))) == 1800


# -- form decoding ----------------------------------------------------------------------------


def test_form_decoding_is_parse_qsl_or_declines() -> None:
    """``decode_form`` answers exactly as ``parse_qsl`` does, or None (the caller then asks
    ``parse_qsl``): random bytes of the characters that matter, and urlencoded Unicode."""
    rng = random.Random(15)
    alphabet = b"ab=&%+ 09AFaf\\g\xc3\xa9;?"
    declined = 0
    for _ in range(20_000):
        data = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for errors in ("strict", "replace"):
            fast = decode_form(data, errors)
            if fast is None:
                declined += 1
                continue
            assert fast == parse_qsl(data.decode(), keep_blank_values=True, errors=errors), data
    assert 0 < declined < 40_000
    for _ in range(500):
        text = "".join(
            chr(rng.choice((rng.randint(32, 126), rng.randint(160, 0xD7FF)))) for _ in range(9)
        )
        data = urlencode({"query": text, "x y": "+&="}).encode()
        assert decode_form(data) == [("query", text), ("x y", "+&=")]
    assert decode_form(b"query=%zz") is None  # parse_qsl keeps a malformed escape as it is
    assert decode_form(b"query=%C3") is None  # not UTF-8: parse_qsl says how
    assert decode_form(b"query=%C3", "replace") == [("query", "\ufffd")]
