"""The W3C SPARQL 1.0 and 1.1 test suites: reading their manifests, running a test on the bare
engine (pyoxigraph), and comparing answers.

The files live beside this module (``tests/w3c/sparql10``, ``tests/w3c/sparql11``): the subset
of the W3C rdf-tests repository that the tests use, copied by ``python -m tests.w3c.suite
--copy SOURCE`` (see README.md). Nothing here reads anything else.

**IRIs.** Every file gets an IRI whose host names its folder and whose path is its name:
``sparql11/bind/data.ttl`` is ``http://bind.sparql11.test/data.ttl``. Manifests, queries, data
and expected results are read with those IRIs as their base. Relative IRIs in a query then
resolve alike whether the query is read from ``http://bind.sparql11.test/bind01.rq`` (the bare
engine) or sent to ``http://bind.sparql11.test/sparql`` (the endpoint, whose base is the URL it
was asked at): both sit in the same folder.

**Comparing answers.** Results become canonical sets of N-Quads strings: a graph's triples, or
for solutions one blank node per row with one triple per binding, canonicalised by pyoxigraph
(blank nodes renamed the same way in isomorphic datasets), so that blank nodes and row order do
not matter. A boolean is a one-element set.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent
SUITES = ("sparql10", "sparql11")

# Folders left out, and why (README.md repeats this).
LEFT_OUT = {
    "entailment": "entailment regimes: Oxigraph implements simple entailment only",
    "service": "federated evaluation needs the remote endpoints the tests name",
    "service-description": "tests of a description document, not of answers",
    "graph-store-protocol": "the Graph Store Protocol, which /sparql does not offer",
    "http-rdf-update": "the Graph Store Protocol, which /sparql does not offer",
}

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

KINDS = {
    MF + "PositiveSyntaxTest": "query-syntax+",
    MF + "PositiveSyntaxTest11": "query-syntax+",
    MF + "NegativeSyntaxTest": "query-syntax-",
    MF + "NegativeSyntaxTest11": "query-syntax-",
    MF + "PositiveUpdateSyntaxTest11": "update-syntax+",
    MF + "NegativeUpdateSyntaxTest11": "update-syntax-",
    MF + "QueryEvaluationTest": "query",
    MF + "CSVResultFormatTest": "csv",
    MF + "UpdateEvaluationTest": "update",
    MF + "ProtocolTest": "protocol",
}

_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".n3": ox.RdfFormat.TURTLE,
}
_RESULT_FORMATS = {
    ".srx": ox.QueryResultsFormat.XML,
    ".srj": ox.QueryResultsFormat.JSON,
    ".tsv": ox.QueryResultsFormat.TSV,
}


# -- files and IRIs ------------------------------------------------------------------------------


def iri_of(path: Path, root: Path = ROOT) -> str:
    """``sparql11/bind/data.ttl`` -> ``http://bind.sparql11.test/data.ttl``."""
    parts = path.resolve().relative_to(root).parts
    if len(parts) < 3:
        return f"http://{parts[0]}.test/{'/'.join(parts[1:])}"
    return f"http://{parts[1]}.{parts[0]}.test/{'/'.join(parts[2:])}"


def path_of(iri: str, root: Path = ROOT) -> Path:
    """The file an IRI of ``iri_of`` names."""
    parts = urlsplit(iri)
    labels = (parts.hostname or "").removesuffix(".test").split(".")
    return root.joinpath(*reversed(labels), *parts.path.lstrip("/").split("/"))


def host_of(iri: str) -> str:
    return urlsplit(iri).hostname or ""


def read_text(iri: str, root: Path = ROOT) -> str:
    return path_of(iri, root).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4096)
def file_quads(iri: str, graph: str | None = None, root: Path = ROOT) -> tuple[ox.Quad, ...]:
    """The triples of an RDF file, in ``graph`` (None: the default graph). Blank nodes are
    fresh per (file, graph) pair, as when a harness loads a file once into a store."""
    path = path_of(iri, root)
    fmt = _FORMATS.get(path.suffix)
    if fmt is None:
        raise ValueError(f"no RDF format for {path.name}")
    target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    fresh: dict[str, ox.BlankNode] = {}  # the parser keeps the file's labels: two files that
    # both say _:a must not share a node

    def term(t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            return fresh.setdefault(t.value, ox.BlankNode())
        return t

    return tuple(
        ox.Quad(term(q.subject), q.predicate, term(q.object), target)
        for q in ox.parse(path=str(path), format=fmt, base_iri=iri)
    )


# -- the tests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """One HTTP request of a protocol test and what its response must show."""

    method: str
    path: str  # with the query string; /sparql/ is the endpoint's path
    headers: tuple[tuple[str, str], ...]
    body: bytes
    statuses: tuple[str, ...]  # "2xx", "4xx", ...
    boolean: bool | None = None
    format: str | None = None  # "boolean", "tabular", "RDF"


@dataclass(frozen=True)
class W3CTest:
    id: str  # "sparql11/bind/bind01"
    kind: str  # a value of KINDS
    name: str
    action: str | None = None  # the query or update file's IRI
    data: tuple[str, ...] = ()  # files of the default graph
    graphs: tuple[tuple[str, str], ...] = ()  # (graph name, file)
    result: str | None = None  # expected results (queries)
    result_data: tuple[str, ...] = ()  # expected default graph (updates)
    result_graphs: tuple[tuple[str, str], ...] = ()  # expected named graphs (updates)
    requests: tuple[Request, ...] = ()  # protocol tests
    approval: str = ""

    @property
    def host(self) -> str:
        return host_of(self.action or "") or ""

    def text(self) -> str:
        assert self.action is not None
        return read_text(self.action)

    def files(self) -> set[str]:
        """Every file the test reads, as IRIs."""
        found = {*self.data, *(f for _, f in self.graphs)}
        found |= {*self.result_data, *(f for _, f in self.result_graphs)}
        found |= {f for f in (self.action, self.result) if f}
        return found


def manifests(root: Path = ROOT) -> list[Path]:
    return sorted(
        p
        for suite in SUITES
        for p in (root / suite).glob("*/manifest.ttl")
        if p.parent.name not in LEFT_OUT
    )


def load_tests(root: Path = ROOT) -> list[W3CTest]:
    """Every test of the suites' manifests (the folders of LEFT_OUT aside), in order."""
    tests: list[W3CTest] = []
    for manifest in manifests(root):
        tests += _read_manifest(manifest, root)
    return tests


def _read_manifest(path: Path, root: Path) -> list[W3CTest]:
    base = iri_of(path, root)
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=base)
    entries = store.query(
        f"""PREFIX mf: <{MF}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        SELECT ?test WHERE {{ ?m mf:entries/rdf:rest*/rdf:first ?test }}"""
    )
    assert isinstance(entries, ox.QuerySolutions)
    out = []
    suite_dir = path.parent.relative_to(root).as_posix()
    for row in entries:
        test = row["test"]
        assert isinstance(test, ox.NamedNode | ox.BlankNode)
        kind = _one(store, test, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        if kind is None or kind.value not in KINDS:
            continue
        name = _one(store, test, MF + "name")
        local = test.value.rsplit("#", 1)[-1] if isinstance(test, ox.NamedNode) else str(test)
        approval = _one(
            store, test, "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#approval"
        )
        common = {
            "id": f"{suite_dir}/{local}",
            "kind": KINDS[kind.value],
            "name": name.value if name is not None else local,
            "approval": approval.value.rsplit("#", 1)[-1] if approval is not None else "",
        }
        out.append(_test(store, test, common))
    return out


def _test(store: ox.Store, test: ox.NamedNode | ox.BlankNode, common: dict[str, str]) -> W3CTest:
    kind = common["kind"]
    action = _one(store, test, MF + "action")
    if kind == "protocol":
        return W3CTest(**common, requests=tuple(_requests(store, action)))
    if kind in ("query-syntax+", "query-syntax-", "update-syntax+", "update-syntax-"):
        return W3CTest(**common, action=action.value if action is not None else None)
    assert isinstance(action, ox.NamedNode | ox.BlankNode)
    result = _one(store, test, MF + "result")
    if kind == "update":
        assert isinstance(result, ox.NamedNode | ox.BlankNode)
        request = _one(store, action, UT + "request")
        return W3CTest(
            **common,
            action=request.value if request is not None else None,
            data=_values(store, action, UT + "data"),
            graphs=_update_graphs(store, action),
            result_data=_values(store, result, UT + "data"),
            result_graphs=_update_graphs(store, result),
        )
    query = _one(store, action, QT + "query")
    graphs = []
    for g in _all(store, action, QT + "graphData"):
        if isinstance(g, ox.NamedNode):
            graphs.append((g.value, g.value))
        else:  # [ qt:graph <file> ; rdfs:label "name" ]
            file, label = _one(store, g, QT + "graph"), _one(store, g, RDFS + "label")
            if file is not None:
                graphs.append((label.value if label is not None else file.value, file.value))
    return W3CTest(
        **common,
        action=query.value if query is not None else None,
        data=_values(store, action, QT + "data"),
        graphs=tuple(graphs),
        result=result.value if result is not None else None,
    )


def _update_graphs(
    store: ox.Store, node: ox.NamedNode | ox.BlankNode
) -> tuple[tuple[str, str], ...]:
    out = []
    for g in _all(store, node, UT + "graphData"):
        assert isinstance(g, ox.NamedNode | ox.BlankNode)
        file, label = _one(store, g, UT + "graph"), _one(store, g, RDFS + "label")
        if file is not None and label is not None:
            out.append((label.value, file.value))
    return tuple(out)


def _requests(store: ox.Store, connection: object) -> Iterator[Request]:
    ht, cnt = "http://www.w3.org/2011/http#", "http://www.w3.org/2011/content#"
    assert isinstance(connection, ox.NamedNode | ox.BlankNode)
    for node in _list(store, _one(store, connection, ht + "requests")):
        assert isinstance(node, ox.NamedNode | ox.BlankNode)
        headers = []
        for h in _list(store, _one(store, node, ht + "headers")):
            assert isinstance(h, ox.NamedNode | ox.BlankNode)
            name, value = _one(store, h, ht + "fieldName"), _one(store, h, ht + "fieldValue")
            if name is not None and value is not None:
                headers.append((name.value, value.value))
        body = b""
        content = _one(store, node, ht + "body")
        if isinstance(content, ox.BlankNode | ox.NamedNode):
            chars = _one(store, content, cnt + "chars")
            encoding = _one(store, content, cnt + "characterEncoding")
            codec = encoding.value if encoding is not None else "utf-8"
            body = chars.value.encode(codec) if chars is not None else b""
        response = _one(store, node, ht + "resp")
        assert isinstance(response, ox.NamedNode | ox.BlankNode)
        boolean = _one(store, response, MF + "expectedBoolean")
        fmt = _one(store, response, MF + "expectedFormat")
        method, path = _one(store, node, ht + "methodName"), _one(store, node, ht + "absolutePath")
        assert method is not None and path is not None
        yield Request(
            method=method.value,
            path=path.value,
            headers=tuple(headers),
            body=body,
            statuses=tuple(
                sorted(
                    s.value.rsplit("StatusCode", 1)[-1]
                    for s in _all(store, response, MF + "expectedStatus")
                )
            ),
            boolean=(boolean.value == "true") if boolean is not None else None,
            format=fmt.value if fmt is not None else None,
        )


def _all(store: ox.Store, subject: object, predicate: str) -> list[object]:
    if not isinstance(subject, ox.NamedNode | ox.BlankNode):
        return []
    return [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]


def _one(
    store: ox.Store, subject: object, predicate: str
) -> ox.NamedNode | ox.Literal | ox.BlankNode | None:
    found = _all(store, subject, predicate)
    value = found[0] if found else None
    assert value is None or isinstance(value, ox.NamedNode | ox.Literal | ox.BlankNode)
    return value


def _values(store: ox.Store, subject: object, predicate: str) -> tuple[str, ...]:
    return tuple(v.value for v in _all(store, subject, predicate) if isinstance(v, ox.NamedNode))


def _list(store: ox.Store, head: object) -> Iterator[object]:
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    while isinstance(head, ox.BlankNode | ox.NamedNode) and head.value != rdf + "nil":
        first = _one(store, head, rdf + "first")
        if first is not None:
            yield first
        head = _one(store, head, rdf + "rest")


# -- answers as comparable sets -------------------------------------------------------------


Answer = frozenset[str]

_ROW = ox.NamedNode("urn:w3c:row")


XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "boolean")}


def _value(term: Any) -> Any:
    """Numbers and booleans by value ("01" and "1", "3.0E4" and "30000.0"): the engine keeps
    literals in canonical form, the expected results as the test authors wrote them."""
    if not isinstance(term, ox.Literal) or term.datatype.value not in _NUMERIC:
        return term
    kind, lexical = term.datatype.value.removeprefix(XSD), term.value.strip()
    try:
        if kind == "integer":
            value = str(int(lexical))
        elif kind == "decimal":
            value = format(Decimal(lexical).normalize(), "f")
        elif kind == "boolean":
            value = {"1": "true", "0": "false"}.get(lexical, lexical)
        else:
            value = repr(float(lexical))
    except (ValueError, ArithmeticError):
        return term
    return ox.Literal(value, datatype=term.datatype)


def canonical(quads: Iterable[ox.Quad]) -> Answer:
    quads = (ox.Quad(q.subject, q.predicate, _value(q.object), q.graph_name) for q in quads)
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(q) for q in dataset)


def solutions_answer(solutions: ox.QuerySolutions | ox.QueryBoolean) -> Answer:
    if isinstance(solutions, ox.QueryBoolean):
        return frozenset({f"boolean {bool(solutions)}"})
    names = [v.value for v in solutions.variables]
    quads = []
    for row in solutions:
        node = ox.BlankNode()
        quads.append(ox.Quad(node, _ROW, ox.Literal("")))
        for name in names:
            value = row[name]
            if value is not None:
                quads.append(ox.Quad(node, ox.NamedNode(f"urn:w3c:var:{name}"), value))
    return canonical(quads)


def graph_answer(triples: Iterable[ox.Triple | ox.Quad]) -> Answer:
    return canonical(ox.Quad(t.subject, t.predicate, t.object) for t in triples)


def expected_answer(test: W3CTest) -> Answer:
    """The expected results of a query evaluation test."""
    assert test.result is not None
    path = path_of(test.result)
    if path.suffix in _RESULT_FORMATS:
        return solutions_answer(
            ox.parse_query_results(path=str(path), format=_RESULT_FORMATS[path.suffix])
        )
    quads = file_quads(test.result)
    if any(q.object == ox.NamedNode(RS + "ResultSet") for q in quads):
        return _result_set(quads)
    return graph_answer(quads)


def _result_set(quads: Iterable[ox.Quad]) -> Answer:
    """Solutions written in the DAWG result-set vocabulary (rs:ResultSet)."""
    store = ox.Store()
    store.extend(quads)
    boolean = store.query(f"SELECT ?b WHERE {{ ?r <{RS}boolean> ?b }}")
    assert isinstance(boolean, ox.QuerySolutions)
    for row in boolean:
        value = row["b"]
        assert value is not None
        return frozenset({f"boolean {value.value == 'true'}"})
    rows = store.query(
        f"""SELECT ?s ?var ?value WHERE {{ ?r <{RS}solution> ?s .
            OPTIONAL {{ ?s <{RS}binding> ?b . ?b <{RS}variable> ?var ; <{RS}value> ?value }} }}"""
    )
    assert isinstance(rows, ox.QuerySolutions)
    nodes: dict[str, ox.BlankNode] = {}
    out = []
    for row in rows:
        key = str(row["s"])
        if key not in nodes:
            nodes[key] = ox.BlankNode()
            out.append(ox.Quad(nodes[key], _ROW, ox.Literal("")))
        var, value = row["var"], row["value"]
        if var is not None and value is not None:
            out.append(ox.Quad(nodes[key], ox.NamedNode(f"urn:w3c:var:{var.value}"), value))
    return canonical(out)


def store_answer(store: ox.Store) -> Answer:
    return canonical(store)


def expected_store(test: W3CTest) -> Answer:
    quads = [q for f in test.result_data for q in file_quads(f)]
    quads += [q for name, f in test.result_graphs for q in file_quads(f, name)]
    return canonical(quads)


def initial_quads(test: W3CTest) -> list[ox.Quad]:
    """The dataset an evaluation test starts from: its data in the default graph, its graph
    data in named graphs (and, for queries, the graphs its FROM clauses name)."""
    quads = [q for f in test.data for q in file_quads(f)]
    quads += [q for name, f in test.graphs for q in file_quads(f, name)]
    return quads


# -- the bare engine --------------------------------------------------------------------------


@dataclass
class Outcome:
    """What running a test produced: an answer, or the error instead."""

    answer: Answer | None = None
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def engine_syntax(test: W3CTest) -> bool:
    """Whether the engine parses the test's query or update."""
    text = test.text()
    try:
        if test.kind.startswith("query"):
            ox.Store().query(text, base_iri=test.action)
        else:
            ox.Store().update(text, base_iri=test.action)
    except SyntaxError:
        return False
    except (OSError, ValueError, RuntimeError):
        return True  # parsed; evaluation on an empty store failed
    return True


def dataset_iris(test: W3CTest, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """The IRIs a query's FROM and FROM NAMED clauses name (resolved against the query's)."""
    from kg.sparql import scanner

    text = path_of(test.action or "", root).read_text(encoding="utf-8")
    default: list[str] = []
    named: list[str] = []
    toks = list(scanner.tokens(text))
    for i, tok in enumerate(toks[:-1]):
        if tok.kind != "word" or tok.text.upper() != "FROM":
            continue
        target, into = toks[i + 1], default
        if target.kind == "word" and target.text.upper() == "NAMED" and i + 2 < len(toks):
            target, into = toks[i + 2], named
        if target.kind == "iri":
            into.append(_resolve(test.action or "", target.text[1:-1]))
    return default, named


def _resolve(base: str, ref: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, ref)


def engine_query(test: W3CTest) -> Outcome:
    store = ox.Store()
    try:
        store.extend(initial_quads(test))
        default, named = dataset_iris(test)
        for iri in {*default, *named}:
            store.extend(file_quads(iri, iri))
        result = store.query(test.text(), base_iri=test.action)
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            if test.kind == "csv":
                return Outcome(answer=frozenset({_csv(result)}))
            return Outcome(answer=solutions_answer(result))
        return Outcome(answer=graph_answer(result))
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")


def _csv(result: ox.QuerySolutions | ox.QueryBoolean) -> str:
    body = result.serialize(format=ox.QueryResultsFormat.CSV) or b""
    return body.decode("utf-8").replace("\r\n", "\n").strip()


def expected_csv(test: W3CTest) -> Answer:
    assert test.result is not None
    return frozenset({read_text(test.result).replace("\r\n", "\n").strip()})


def engine_update(test: W3CTest) -> Outcome:
    store = ox.Store()
    try:
        store.extend(initial_quads(test))
        store.update(test.text(), base_iri=test.action)
        return Outcome(answer=store_answer(store))
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")


def expected(test: W3CTest) -> Answer:
    if test.kind == "csv":
        return expected_csv(test)
    if test.kind == "update":
        return expected_store(test)
    return expected_answer(test)


# -- copying the suites ------------------------------------------------------------------------


_REFERENCE = re.compile(r"<([^<>\s]+)>")


def copy_suites(source: Path, target: Path = ROOT) -> int:
    """Copy from a checkout of the W3C suites the manifests of the folders that run and every
    file their tests read; returns the number of files copied."""
    copied = 0
    for suite in SUITES:
        for manifest in sorted((source / suite).glob("*/manifest.ttl")):
            if manifest.parent.name in LEFT_OUT:
                continue
            files = {manifest}
            if manifest.parent.name == "protocol":  # the data the protocol tests' requests name
                files |= set(manifest.parent.glob("data*.nt"))
            for test in _read_manifest(manifest, source):
                files |= {path_of(iri, source) for iri in test.files()}
                if test.kind in ("query", "csv") and test.action:
                    default, named = dataset_iris(test, source)
                    files |= {path_of(iri, source) for iri in (*default, *named)}
            for file in sorted(files):
                if not file.is_file() or not file.resolve().is_relative_to(source.resolve()):
                    continue
                dest = target / file.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(file, dest)
                copied += 1
    for name in ("LICENSE.md", "README.md"):
        if (source / name).exists():
            shutil.copyfile(source / name, target / f"W3C-{name}")
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description="copy the W3C SPARQL tests the suite uses")
    parser.add_argument("--copy", type=Path, required=True, help="checkout of rdf-tests/sparql")
    args = parser.parse_args()
    for suite in SUITES:
        shutil.rmtree(ROOT / suite, ignore_errors=True)
    print(f"copied {copy_suites(args.copy)} files into {ROOT}")


if __name__ == "__main__":
    main()
