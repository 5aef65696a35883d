"""Shared fixtures: the bundled notes built once per session (graph only, no model)."""

from __future__ import annotations

import contextlib
import http.server
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from kg.build import BuildReport, build
from kg.graph.oxigraph import OxigraphStore
from kg.graph.stores import open_graph_store
from kg.settings import DEFAULT_CORPUS, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = DEFAULT_CORPUS


@dataclass
class Built:
    settings: Settings
    report: BuildReport

    def store(self) -> OxigraphStore:
        store = open_graph_store(self.settings)
        assert isinstance(store, OxigraphStore)
        return store


@pytest.fixture(scope="session")
def corpus_graph(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled notes built into a graph (no search index)."""
    settings = Settings(data=tmp_path_factory.mktemp("corpus-graph"), embedder="fake")
    return Built(settings, build(settings))


@pytest.fixture
def corpus_store(corpus_graph: Built) -> Iterator[OxigraphStore]:
    store = corpus_graph.store()
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled notes and one new Markdown note, built with the real embedding model."""
    import shutil

    notes = tmp_path_factory.mktemp("real-notes")
    shutil.copy(CORPUS / "aws-solutions-architect-notes.txt", notes)
    shutil.copy(FIXTURES / "nebula-queue.md", notes)
    settings = Settings(data=tmp_path_factory.mktemp("real-data"), embedder="minilm")
    return Built(settings, build(settings, [notes]))


@contextlib.contextmanager
def http_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local HTTP server with ``handler`` on a free port, for the test's duration."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@contextlib.contextmanager
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that records every request it gets (and answers a triple)."""
    seen: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(f"{self.command} {self.path}")
            body = b"<http://example.org/a> <http://example.org/b> <http://example.org/c> ."
            self.send_response(200)
            self.send_header("Content-Type", "application/n-triples")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    with http_server(Recorder) as url:
        yield url, seen


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """An ASGI app under uvicorn on a free port in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
