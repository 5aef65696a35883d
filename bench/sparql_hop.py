"""Where a /sparql point lookup spends its time, layer by layer, against `oxigraph serve`.

    python -m bench.sparql_hop --data data [--runs 300]

Each layer is timed on its own, in process where it can be, so that the differences between
consecutive rows are the cost of one layer:

- the query in pyoxigraph (``Store.query`` and reading the rows), and with the SPARQL JSON
  serialisation and the row cap the worker applies (``Engine.handle``);
- the worker round trip (``LocalExecutor.query_async``: screening the query, pickling the
  request, the pipe to the worker process and back, unpickling the reply), and the same
  round trip with an empty request (the two process wake-ups alone);
- the SPARQL protocol (``SparqlEndpoint.handle_async``: parameters, content negotiation);
- the whole app in process: ``kg serve``'s ASGI app called as uvicorn calls it, with the
  request already read (``CloudKG``, ``BodyLimit``, ``SparqlFastPath``, the answer's headers);
- over HTTP: a constant answer from a bare Starlette route under the same uvicorn (the floor of
  any Python endpoint), the whole ``/sparql`` of ``kg serve``, and ``oxigraph serve``.

Rows are medians over ``--runs`` (interleaved rounds for the HTTP rows, which share the
machine alike). docs/performance.md has the breakdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

from bench.common import ROOT, free_port, wait_until
from bench.sparql import PREFIXES, QUERIES, cloudkg_server, oxigraph_server, process
from kg.datadir import DataDir
from kg.graph.oxigraph import OxigraphStore
from kg.sparql import HttpRequest, LocalExecutor, QueryRequest, SparqlEndpoint, check_allowed
from kg.sparql.executor import MEMORY_LIMIT, OUTPUT_PREFIXES
from kg.sparql.worker import Engine

QUERY = PREFIXES + QUERIES["point lookup"]
ACCEPT = "application/sparql-results+json"


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def async_median_ms(fn: Callable[[], Any], runs: int, warmup: int = 20) -> float:
    async def main() -> float:
        for _ in range(warmup):
            await fn()
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            await fn()
            samples.append(time.perf_counter() - started)
        return statistics.median(samples) * 1e3

    try:
        import uvloop

        return uvloop.run(main())  # the loop uvicorn uses
    except ImportError:
        return asyncio.run(main())


@contextlib.contextmanager
def floor_server() -> Iterator[str]:
    """``floor_app`` under uvicorn as ``kg serve`` runs it (uvloop, httptools), in its own
    process like every server measured here."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.sparql_hop", "--serve-floor", str(port)]
    with process(cmd, {**os.environ, "PYTHONPATH": str(ROOT)}):
        url = f"http://127.0.0.1:{port}/sparql"
        wait_until(lambda: httpx.post(url).is_success, "floor")
        yield url


def floor_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'

    async def constant(request: Any) -> Response:
        await request.body()
        return Response(body, media_type=ACCEPT)

    return Starlette(routes=[Route("/sparql", constant, methods=["GET", "POST"])])


def app_in_process(data: Path, runs: int) -> float:
    """Median of a POST /sparql through ``create_app``'s ASGI app, no server in between."""
    from api.app import create_app
    from kg.search.embedder import FakeEmbedder
    from kg.serve.runtime import Runtime
    from kg.settings import Settings

    settings = Settings(data=data, embedder="fake")
    app = create_app(settings, runtime=Runtime(settings, embedder=FakeEmbedder(384)))
    body = httpx.QueryParams({"query": QUERY}).__str__().encode()
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"accept", ACCEPT.encode()),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/sparql",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise RuntimeError(f"/sparql answered {message['status']}")

    try:
        return async_median_ms(lambda: app(dict(scope), receive, send), runs)
    finally:
        app.state.kg.services["sparql"].close()


def measure(data: Path, runs: int) -> dict[str, float]:
    gen = DataDir(data).current()
    if gen is None:
        raise SystemExit(f"no build in {data}")
    graph = str(gen / "graph")
    out: dict[str, float] = {}

    engine = Engine(MEMORY_LIMIT)
    store = engine.open(graph)
    out["pyoxigraph query, rows read"] = median_ms(
        lambda: list(store.query(QUERY, use_default_graph_as_union=True)), runs
    )
    request = {
        "op": "query",
        "path": graph,
        "query": QUERY,
        "results_format": "json",
        "graph_format": "turtle",
        "max_rows": 10_000,
        "union": True,
        "prefixes": OUTPUT_PREFIXES,
    }
    out["+ SPARQL JSON, row cap (the worker's work)"] = median_ms(
        lambda: engine.handle(request), runs
    )
    out["screening the query (lexer)"] = median_ms(lambda: check_allowed(QUERY), runs)

    executor = LocalExecutor(DataDir(data), workers=2)
    executor.start()
    endpoint = SparqlEndpoint(executor)
    try:
        query = QueryRequest(QUERY, "json", "turtle")

        async def empty_round_trip() -> None:
            worker = await executor._acquire_async()
            try:
                await worker.call_async({"op": "info"}, time.monotonic() + 30)
            finally:
                executor._release(worker, True)

        out["worker round trip of an empty request (the pipes alone)"] = async_median_ms(
            empty_round_trip, runs
        )
        out["+ worker round trip (LocalExecutor.query_async)"] = async_median_ms(
            lambda: executor.query_async(query), runs
        )
        http = HttpRequest(
            "POST",
            [],
            {"content-type": "application/x-www-form-urlencoded", "accept": ACCEPT},
            httpx.QueryParams({"query": QUERY}).__str__().encode(),
        )
        out["+ SPARQL protocol (SparqlEndpoint.handle_async)"] = async_median_ms(
            lambda: endpoint.handle_async(http), runs
        )
    finally:
        executor.close()
    out["+ the app (kg serve's ASGI app, in process)"] = app_in_process(data, runs)

    with tempfile.TemporaryDirectory(prefix="bench-hop-") as tmp:
        export = Path(tmp) / "export.nq"
        ox_store = OxigraphStore(gen / "graph", read_only=True)
        ox_store.store.dump(str(export), ox.RdfFormat.N_QUADS)
        ox_store.close()
        with (
            floor_server() as floor,
            cloudkg_server(data) as ours,
            oxigraph_server(export, Path(tmp)) as oxigraph,
            httpx.Client(timeout=30) as client,
        ):
            targets = {
                "HTTP: constant answer, bare Starlette under uvicorn": floor,
                "HTTP: /sparql of kg serve": ours,
                "HTTP: oxigraph serve": oxigraph,
            }
            samples: dict[str, list[float]] = {name: [] for name in targets}

            def post(url: str) -> None:
                r = client.post(url, data={"query": QUERY}, headers={"Accept": ACCEPT})
                r.raise_for_status()

            for url in targets.values():
                for _ in range(20):
                    post(url)
            for _ in range(runs):
                for name, url in targets.items():
                    started = time.perf_counter()
                    post(url)
                    samples[name].append(time.perf_counter() - started)
            for name, values in samples.items():
                out[name] = statistics.median(values) * 1e3
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_floor:
        from api.server import run

        run(floor_app(), "127.0.0.1", args.serve_floor, access_log=False)
        return
    for name, ms in measure(args.data, args.runs).items():
        print(f"{ms:8.3f} ms  {name}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
