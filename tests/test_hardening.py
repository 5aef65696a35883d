"""Regression tests for the attacks and malformed input of issue 13: nothing stalls the server,
exhausts it, reads outside the notes, or gets a 500."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.guards import BodyLimit, lone_surrogate
from kg.build import build
from kg.graph.oxigraph import OxigraphStore
from kg.serve.runtime import Runtime
from kg.settings import Settings
from kg.sparql import scanner

from .conftest import Built
from .test_sparql import PREFIXES, publish, sample_quads

# -- the scanner: linear time ------------------------------------------------------------------

CRAFTED = "SELECT * WHERE { ?s ?p " + "a." * 20_000 + " }"  # the 40 KB probe


class _CountingPattern:
    """Stands in for a compiled pattern and adds up how many characters its matches span."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern
        self.scanned = 0

    def match(self, text: str, pos: int = 0) -> Any:
        m = self.pattern.match(text, pos)
        self.scanned += (m.end() - pos) if m else 0
        return m


def test_a_run_of_name_characters_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The old lexer looked for a prefixed name at every character of ``a.a.a…`` and read the
    rest of the run each time (quadratic: 40 KB took seconds)."""
    counting = _CountingPattern(scanner._NAME_RUN)
    monkeypatch.setattr(scanner, "_NAME_RUN", counting)
    toks = list(scanner.tokens(CRAFTED))
    assert len(toks) > 40_000
    assert counting.scanned <= 2 * len(CRAFTED)


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "' + '\\"' * 5_000 + "\n}",
        "SELECT * WHERE { ?s ?p '" + "\\'" * 5_000 + "\n}",
        'SELECT * WHERE { ?s ?p """' + '\\"""' * 5_000,
    ],
)
def test_an_unterminated_string_is_one_token(text: str) -> None:
    """A string without its closing quote runs to the end of its line (a long string to the
    end of the text) instead of being tried again from every escaped quote inside it."""
    strings = [t for t in scanner.tokens(text) if t.kind == "str"]
    assert len(strings) == 1 and len(strings[0].text) > 10_000


def test_nesting_is_measured_and_refused() -> None:
    found = scanner.inspect("SELECT * WHERE " + "{" * 20_000 + "}" * 20_000)
    assert found.depth > scanner.MAX_DEPTH
    assert scanner.inspect("SELECT * WHERE { { ?s ?p ?o } }").depth == 2


# -- the endpoint: the event loop never reads a query; limits answer clearly -------------------


@pytest.fixture(scope="module")
def graph_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hardening-graph")
    publish(root, sample_quads())
    return root


def _settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data": root, "embedder": "fake", "sparql_timeout": 10}
    return Settings(**(values | overrides))


@pytest.fixture(scope="module")
def client(graph_root: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(graph_root, sparql_max_memory="256MiB"))) as c:
        yield c


def test_the_server_process_never_scans_a_query(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Screening, parsing and running all happen in the worker under the time limit: a crafted
    query costs the event loop nothing."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the server scanned a query")

    monkeypatch.setattr(scanner, "inspect", refuse)
    monkeypatch.setattr(scanner, "tokens", refuse)
    r = client.get("/sparql", params={"query": PREFIXES + "SELECT ?s WHERE { ?s a ckg:Service }"})
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3
    r = client.get("/sparql", params={"query": CRAFTED})
    assert r.status_code == 400 and r.json()["error"] == "malformed_query"
    r = client.get("/sparql", params={"query": "SELECT * { SERVICE <http://x.example/> {} }"})
    assert r.status_code == 400 and r.json()["error"] == "forbidden_operation"


DOUBLING = (
    'SELECT (STRLEN(?v24) AS ?n) WHERE { BIND("0123456789" AS ?v0) '
    + " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(24))
    + " }"
)


def test_a_value_doubling_query_hits_the_memory_limit(client: TestClient) -> None:
    started = time.monotonic()
    r = client.get("/sparql", params={"query": DOUBLING})
    assert (r.status_code, r.json()["error"]) == (503, "memory_limit")
    assert "256 MiB" in r.json()["message"]
    assert time.monotonic() - started < 10  # within the time limit, not stopped by it
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})  # a fresh worker answers
    assert r.status_code == 200


def test_an_answer_over_the_byte_cap_is_refused(graph_root: Path) -> None:
    query = 'SELECT ?v WHERE { VALUES ?n { 1 } BIND(CONCAT("' + "x" * 5_000 + '", STR(?n)) AS ?v) }'
    with TestClient(create_app(_settings(graph_root, sparql_max_bytes=2_000))) as c:
        r = c.get("/sparql", params={"query": query})
        assert (r.status_code, r.json()["error"]) == (503, "result_too_large")
        assert "2,000-byte" in r.json()["message"]
        small = c.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"})
        assert small.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 20_000 + "}" * 20_000,  # refused by the screen
        "SELECT * WHERE { " + " UNION ".join(["{}"] * 60_000) + " }",  # overflows the stack
    ],
    ids=["nested", "chained"],
)
def test_structure_the_engine_cannot_take_is_a_400(client: TestClient, query: str) -> None:
    r = client.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})
    assert (r.status_code, r.json()["error"]) == (400, "query_too_complex")
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * WHERE { ?s a foo:Service }", "unknown prefix foo: at line 1, column 23"),
        ("SELEC * WHERE { ?s ?p ?o }", "unknown word SELEC at line 1, column 1: did you mean"),
        ("SELECT * WHER { ?s ?p ?o }", "did you mean WHERE?"),
        ("INSERT DATA { <a> <b> <c> }", "the endpoint is read-only: updates need a token"),
    ],
)
def test_errors_speak_the_users_language(client: TestClient, query: str, message: str) -> None:
    body = client.get("/sparql", params={"query": query}).json()
    assert message in body["message"]


def test_predeclared_prefixes_and_the_base(client: TestClient) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s a ckg:Service } LIMIT 1"})
    assert r.status_code == 200 and r.json()["results"]["bindings"]
    r = client.get("/sparql", params={"query": "SELECT (<a> AS ?x) WHERE {}"})
    assert r.json()["results"]["bindings"][0]["x"]["value"] == "http://testserver/a"
    description = client.get("/sparql", headers={"Accept": "text/turtle"}).text
    assert 'sh:prefix "ckg"' in description and 'sh:prefix "unit"' in description


def _worker_processes() -> set[int]:
    """Query workers started by this process."""
    me, found = str(os.getpid()), set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = stat.rsplit(")", 1)[1].split()[1]
        if ppid == me and b"worker.py" in cmdline:
            found.add(int(proc.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes in /proc")
def test_runaway_tool_queries_share_the_pool(graph_root: Path) -> None:
    """Six concurrent runaway sparql tool calls use the two workers of /sparql's pool; before,
    each call started its own worker (eight processes for a pool of two)."""
    runaway = (
        PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?a ckg:note ?x . ?b ckg:note ?y . "
        "?c ckg:note ?z . ?d ckg:note ?w }"
    )
    settings = _settings(graph_root, sparql_timeout=1.5, sparql_workers=2)
    seen: list[int] = []
    others = _worker_processes()  # workers of the other apps of this module
    with TestClient(create_app(settings)) as c:
        c.get("/sparql", params={"query": "ASK {}"})  # the pool is up
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.append(len(_worker_processes() - others))
                time.sleep(0.05)

        def call() -> int:
            return c.post("/v1/tools/sparql", json={"query": runaway}).status_code

        watcher = threading.Thread(target=watch)
        watcher.start()
        results: list[int] = []
        threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        watcher.join()
    assert results and set(results) <= {503}
    assert max(seen) <= 2


# -- request bodies -------------------------------------------------------------------------


async def _run_asgi(
    limit: int, chunks: list[bytes], content_length: int | None
) -> tuple[int, int, int]:
    """Drive BodyLimit around an app that reads the whole body; (status, bytes the client
    gave, bytes the app saw)."""
    given = 0
    seen = 0
    status = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal seen
        more = True
        while more:
            message = await receive()
            seen += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal given
        body = queue.pop(0) if queue else b""
        given += len(body)
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    scope = {"type": "http", "path": "/sparql", "headers": headers, "method": "POST"}
    await BodyLimit(app, limit=lambda path: limit)(scope, receive, send)
    return status, given, seen


def test_a_declared_oversized_body_is_refused_before_it_is_read() -> None:
    chunks = [b"x" * 65_536] * 3_200  # 200 MiB
    status, given, seen = asyncio.run(_run_asgi(1 << 20, chunks, 200 << 20))
    assert (status, given, seen) == (413, 0, 0)


def test_a_streamed_oversized_body_is_cut_off_at_the_limit() -> None:
    chunks = [b"x" * 65_536] * 3_200
    status, given, seen = asyncio.run(_run_asgi(1 << 20, chunks, None))
    assert status == 413
    assert given <= (1 << 20) + 65_536 and seen <= (1 << 20)


def test_a_body_under_the_limit_passes() -> None:
    assert asyncio.run(_run_asgi(1 << 20, [b"x" * 1000] * 3, None)) == (200, 3000, 3000)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/sparql", "sparql"),
        ("/v1/chat/completions", "openai"),
        ("/v1/tools/sparql", "openai"),
        ("/ask", "api"),
    ],
)
def test_oversized_bodies_get_413_in_each_surfaces_shape(
    client: TestClient, path: str, kind: str
) -> None:
    r = client.post(path, content=b"x" * (2 << 20), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    body = r.json()
    if kind == "openai":
        assert body["error"]["code"] == "request_too_large"
    elif kind == "sparql":
        assert body["error"] == "payload_too_large"
    else:
        assert "too large" in body["error"]


# -- malformed input never gets a 500 --------------------------------------------------------


@pytest.fixture(scope="module")
def api(corpus_graph: Built) -> Iterator[TestClient]:
    settings = corpus_graph.settings
    with TestClient(create_app(settings, runtime=Runtime(settings))) as c:
        yield c


def test_lone_surrogates_are_refused(api: TestClient) -> None:
    question = json.dumps({"question": "S3 \ud800"})
    r = api.post("/ask", content=question, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "surrogate" in r.json()["error"]
    chat = json.dumps({"model": "cloudkg", "messages": [{"role": "user", "content": "S3 \ud800"}]})
    r = api.post("/v1/chat/completions", content=chat, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages.0.content"
    r = api.post("/v1/tools/ask", content=question, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["param"] == "arguments.question"


def test_lone_surrogate_finds_the_place() -> None:
    assert lone_surrogate({"a": [1, {"b": "ok", "c": "x\udc00"}]}) == "a.1.c"
    assert lone_surrogate({"a": ["ok", "😀"]}) is None
    deep: Any = "\ud800"
    for _ in range(5_000):
        deep = [deep]
    assert lone_surrogate(deep) == ".".join(["0"] * 5_000)


@pytest.mark.parametrize("path", ["/v1/tools/ask", "/v1/chat/completions"])
def test_deeply_nested_json_is_a_4xx(api: TestClient, path: str) -> None:
    body = b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    r = api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422)
    assert set(r.json()["error"]) >= {"message", "type", "code"}  # the OpenAI error shape


def test_unparseable_chat_bodies_get_the_openai_error_shape(api: TestClient) -> None:
    r = api.post(
        "/v1/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_json"


# -- MCP over HTTP ------------------------------------------------------------------------------

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "sparql", "arguments": {"query": "ASK {}"}},
}


def test_mcp_refuses_a_foreign_origin(api: TestClient) -> None:
    r = api.post("/mcp", json=CALL, headers={**MCP_HEADERS, "Origin": "http://evil.example"})
    assert r.status_code == 403 and "evil.example" in r.json()["error"]["message"]
    r = api.post("/mcp", json=CALL, headers={**MCP_HEADERS, "Origin": "http://localhost:6274"})
    assert r.status_code == 200 and r.json()["result"]["structuredContent"]["boolean"] is True
    r = api.post("/mcp", json=CALL, headers=MCP_HEADERS)  # not a browser: no Origin
    assert r.status_code == 200


def test_mcp_has_no_idle_event_streams(api: TestClient) -> None:
    r = api.get("/mcp", headers={"Accept": "text/event-stream"})
    assert r.status_code == 405 and r.headers["allow"] == "POST"


# -- notes folders -----------------------------------------------------------------------------


def test_links_out_of_the_notes_folder_are_never_indexed(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("Amazon S3 root password is hunter2-do-not-share.\n", encoding="utf-8")
    notes = tmp_path / "notes"
    (notes / "linked").parent.mkdir()
    (notes / "sqs.md").write_text(
        "# Amazon SQS\n\nSQS messages can be up to 256 KB.\n", encoding="utf-8"
    )
    (notes / "passwd.txt").symlink_to(secret)
    (notes / "linked").symlink_to(secret.parent, target_is_directory=True)
    settings = Settings(data=tmp_path / "data", embedder="fake")
    report = build(settings, [notes])
    assert report.documents == 1
    assert any("passwd.txt" in w and "outside" in w for w in report.skipped)
    assert any("linked" in w and "outside" in w for w in report.skipped)
    gen = Path(settings.data) / (Path(settings.data) / "CURRENT").read_text().strip()
    payloads = [p.read_text(encoding="utf-8") for p in gen.rglob("*.jsonl")]
    assert payloads and not any("hunter2" in text for text in payloads)
    assert any("256 KB" in text for text in payloads)
    store = OxigraphStore(gen / "graph", read_only=True)
    try:
        assert not store.store.query(
            'ASK { GRAPH ?g { ?s ?p ?o FILTER CONTAINS(STR(?o), "hunter2") } }'
        )
    finally:
        store.close()


# -- updates that scale ------------------------------------------------------------------------


def test_updates_link_the_store_instead_of_copying_it(tmp_path: Path) -> None:
    """Each update used to copy the whole graph folder, RocksDB's LOG.old files included: after
    300 one-triple updates there were 300 log files. Now a new generation links the live one's
    files, and the folder stays the same size whatever the number of updates before."""
    from pydantic import SecretStr

    publish(tmp_path, sample_quads())
    settings = _settings(tmp_path, update_token=SecretStr("t0ken"))
    counts = []
    with TestClient(create_app(settings)) as c:
        for i in range(25):
            triple = f'<http://s.example/{i}> <http://p.example/> "{i}"'
            update = f"INSERT DATA {{ GRAPH <http://g.example/u> {{ {triple} }} }}"
            r = c.post(
                "/sparql", data={"update": update}, headers={"Authorization": "Bearer t0ken"}
            )
            assert r.status_code == 200, r.text
            graph = Path(settings.data) / r.json()["generation"] / "graph"
            counts.append(len(list(graph.iterdir())))
        count = c.get(
            "/sparql",
            params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH <http://g.example/u> { ?s ?p ?o } }"},
        )
        assert count.json()["results"]["bindings"][0]["n"]["value"] == "25"
    # Flat, give or take RocksDB's compactions landing between updates (the copies grew by a
    # file each update: 15 more files between the two windows).
    assert max(counts[-10:]) <= max(counts[:10]) + 5
    assert not list(graph.glob("LOG.old*"))
    shared = [f for f in graph.glob("*.sst") if f.stat().st_nlink > 1]
    assert shared  # the generation before still holds the same immutable files


# -- passages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["block", "window", "section"])
def test_a_note_without_paragraphs_still_makes_small_passages(strategy: str) -> None:
    """A 100,000-line file without blank lines is one block and one sentence: it became one
    4 MB passage, which /search returned whole."""
    from kg.model import Document
    from kg.parse.notes import parse_document
    from kg.search.passages import MAX_CHARS, SECTION_CHARS, chunk

    text = "\n".join(f"line {i} of the export, value {i * 7}" for i in range(100_000))
    text += "\n" + "x" * 5_000  # and a word longer than any passage
    parsed = parse_document(Document(id="big.txt", path="big.txt", text=text, format="text"))
    passages = chunk(parsed, strategy)
    assert len(passages) > 1_000
    assert max(len(p.text) for p in passages) <= SECTION_CHARS + 2 * MAX_CHARS
    assert all(p.text == text[p.start : p.end] for p in passages)
    covered = sum(len(p.text) for p in passages if strategy != "window")
    assert strategy == "window" or covered >= len(text) - 100_000  # only line breaks are left out


def test_lookups_by_bisection_match_the_scans() -> None:
    """A note's sentences of a block, sentences of a span and blocks of a section are found by
    binary search (a scan per call made one big note's build quadratic)."""
    from kg.parse.notes import parse_document, read_document
    from kg.settings import DEFAULT_CORPUS

    notes = [
        *DEFAULT_CORPUS.glob("*.txt"),
        *Path(__file__).parent.joinpath("fixtures").glob("*.md"),
    ]
    assert notes
    for note in notes:
        parsed = parse_document(read_document(note, note.name))
        for block in parsed.blocks:
            assert parsed.sentences_of(block) == [
                s for s in parsed.sentences if s.block == block.index
            ]
        for section in parsed.sections:
            assert parsed.blocks_of(section) == [
                b for b in parsed.blocks if b.section == section.index
            ]
            assert parsed.sentences_in(section.start, section.end) == [
                s for s in parsed.sentences if section.start <= s.start < section.end
            ]


def test_many_notes_are_loaded_in_one_bulk_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bulk load writes and ingests its own files: one per note made 2,000 small notes take
    55 s (and leave thousands of files in the graph folder) instead of 10 s."""
    import kg.build

    loads: list[int] = []

    class Counting(OxigraphStore):
        @property
        def store(self) -> Any:
            real = super().store

            class Proxy:
                def bulk_extend(self, quads: Any) -> None:
                    batch = list(quads)
                    loads.append(len(batch))
                    real.bulk_extend(batch)

                def __getattr__(self, name: str) -> Any:
                    return getattr(real, name)

            return Proxy()

    monkeypatch.setattr(kg.build, "OxigraphStore", Counting)
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(150):
        (notes / f"note-{i:03d}.md").write_text(
            f"# Amazon SQS {i}\n\nSQS messages can be up to {i + 1} KB.\n", encoding="utf-8"
        )
    report = build(Settings(data=tmp_path / "data", embedder="fake"), [notes], search=False)
    assert report.documents == 150
    assert len(loads) == 1 and loads[0] == report.triples
