"""Benchmark /sparql against a bare `oxigraph serve` and rdflib's in-memory store.

    python -m bench.sparql --data data          # a built data folder (`kg build`)
    python -m bench.sparql --synthetic 1500     # ~100k quads shaped like the real graph

The data's union of graphs is exported to N-Quads and loaded three ways: into `oxigraph
serve --union-default-graph` (the Rust server, the floor for any Oxigraph-backed endpoint),
into rdflib's in-memory `Dataset(default_union=True)`, and cloudkg's own app is started with
uvicorn on the data folder itself. Five representative queries run on each, over HTTP with one
keep-alive client for the two servers (SELECT as SPARQL JSON, CONSTRUCT as Turtle) and as
`Dataset.query` plus the same serialisation for rdflib. Reported: median and p90 of
``--runs`` timed runs after ``--warmup`` untimed ones.

Targets (docs/sparql.md): /sparql within 2x of `oxigraph serve`; at least 5x faster than
rdflib on the aggregate and the join.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import rdflib

from bench.common import free_port, stop, wait_until
from kg import vocab
from kg.datadir import DataDir
from kg.graph.oxigraph import OxigraphStore

PREFIXES = vocab.sparql_prefixes(("ckg", "rdf", "rdfs", "skos", "unit", "xsd"))

QUERIES: dict[str, str] = {
    "point lookup": """
        SELECT ?quantity ?stated ?max ?unit WHERE {
          ?s skos:altLabel "S3" ; ckg:hasLimit ?l .
          ?l ckg:quantity ?quantity ; ckg:statedAs ?stated ; ckg:unit ?unit .
          OPTIONAL { ?l ckg:maxValue ?max }
        }""",
    "join services x limits": """
        SELECT ?service ?quantity ?max ?unit WHERE {
          ?s a ckg:Service ; rdfs:label ?service ; ckg:inCategory ?c ; ckg:hasLimit ?l .
          ?c rdfs:label "Storage" .
          ?l ckg:quantity ?quantity ; ckg:unit ?unit ; ckg:maxValue ?max .
        }""",
    "aggregate": """
        SELECT ?category (COUNT(DISTINCT ?s) AS ?services) (COUNT(DISTINCT ?l) AS ?limits)
               (MAX(?max) AS ?largest)
        WHERE {
          ?s a ckg:Service ; ckg:inCategory ?c ; ckg:hasLimit ?l .
          ?c rdfs:label ?category .
          OPTIONAL { ?l ckg:maxValue ?max }
        }
        GROUP BY ?category ORDER BY DESC(?limits)""",
    "filter normalised": """
        SELECT ?service ?quantity ?stated ?max WHERE {
          ?s rdfs:label ?service ; ckg:hasLimit ?l .
          ?l ckg:unit unit:BYTE ; ckg:maxValue ?max ; ckg:quantity ?quantity ;
             ckg:statedAs ?stated .
          FILTER(?max >= 1000000000000)
        }
        ORDER BY DESC(?max) ?service LIMIT 100""",
    "construct": """
        CONSTRUCT {
          ?s rdfs:label ?label ; ckg:hasLimit ?l .
          ?l ckg:quantity ?q ; ckg:unit ?unit ; ckg:maxValue ?max .
        } WHERE {
          ?s a ckg:Service ; rdfs:label ?label ; ckg:inCategory ?c ; ckg:hasLimit ?l .
          ?c rdfs:label "Compute" .
          ?l ckg:quantity ?q ; ckg:unit ?unit .
          OPTIONAL { ?l ckg:maxValue ?max }
        }""",
}
TARGETS = {"join services x limits": 5.0, "aggregate": 5.0}  # rdflib / cloudkg, at least


# -- synthetic data -------------------------------------------------------------------------

CATEGORIES = ["Compute", "Storage", "Database", "Networking", "Analytics", "Security"]
QUANTITIES = [
    ("object size", "BYTE", 5 * 10**12, "0 Bytes to 5 TB"),
    ("message retention", "SEC", 1_209_600, "1 minute to 14 days"),
    ("timeout", "SEC", 900, "15 minutes"),
    ("throughput", "BIT-PER-SEC", 10 * 10**9, "up to 10 Gbps"),
    ("volume size", "BYTE", 16 * 10**12, "1 GB to 16 TB"),
    ("requests per second", "NUM", 5500, "5,500 GET requests per second"),
]


def synthetic_quads(services: int) -> Iterator[ox.Quad]:
    """A graph shaped like the built one: a lexicon graph of services, a document graph of
    passages, and one graph per passage holding the facts read from it."""
    n = ox.NamedNode
    a, label, alt = n(vocab.RDF + "type"), n(vocab.RDFS + "label"), n(vocab.SKOS + "altLabel")
    ckg = vocab.CKG
    lexicon, doc_graph = n(vocab.LEXICON_GRAPH), n(vocab.document_iri("synthetic"))
    for name in CATEGORIES:
        yield ox.Quad(n(vocab.category_iri(name)), label, ox.Literal(name), lexicon)
    for i in range(services):
        name = "Amazon S3" if i == 0 else f"Service {i:05d}"
        short = "S3" if i == 0 else f"SVC{i:05d}"
        s = n(vocab.service_iri(name))
        yield ox.Quad(s, a, n(ckg + "Service"), lexicon)
        yield ox.Quad(s, label, ox.Literal(name), lexicon)
        yield ox.Quad(s, alt, ox.Literal(short), lexicon)
        category = CATEGORIES[1] if i == 0 else CATEGORIES[i % len(CATEGORIES)]
        yield ox.Quad(s, n(ckg + "inCategory"), n(vocab.category_iri(category)), lexicon)
        for j in range(5):
            start = (i * 5 + j) * 100
            p = n(vocab.passage_iri("synthetic", start, start + 80))
            quantity, unit, top, stated = QUANTITIES[(i + j) % len(QUANTITIES)]
            yield ox.Quad(p, a, n(ckg + "Passage"), doc_graph)
            yield ox.Quad(
                p, n(ckg + "text"), ox.Literal(f"{name}: {quantity} {stated}."), doc_graph
            )
            yield ox.Quad(p, n(ckg + "section"), ox.Literal(name), doc_graph)
            yield ox.Quad(p, n(ckg + "document"), doc_graph, doc_graph)
            limit = n(f"{vocab.ID}limit/{vocab.slug(name)}/{j}")
            maximum = ox.Literal(str(top // (1 + (i + j) % 7)), datatype=n(vocab.XSD + "decimal"))
            yield ox.Quad(s, n(ckg + "hasLimit"), limit, p)
            yield ox.Quad(limit, a, n(ckg + "Limit"), p)
            yield ox.Quad(limit, n(ckg + "quantity"), ox.Literal(quantity), p)
            yield ox.Quad(limit, n(ckg + "statedAs"), ox.Literal(stated), p)
            yield ox.Quad(limit, n(ckg + "maxValue"), maximum, p)
            yield ox.Quad(limit, n(ckg + "unit"), n(vocab.UNIT + unit), p)
            yield ox.Quad(limit, n(vocab.PROV + "wasDerivedFrom"), p, p)
        dim = n(f"{vocab.ID}pricing/{vocab.slug(name)}/requests")
        p = n(vocab.passage_iri("synthetic", i * 500, i * 500 + 40))
        yield ox.Quad(s, n(ckg + "chargedBy"), dim, p)
        yield ox.Quad(dim, label, ox.Literal("requests"), p)


def make_synthetic(root: Path, services: int) -> int:
    data = DataDir(root)
    gen = data.new_generation()
    store = OxigraphStore(gen / "graph")
    store.store.bulk_extend(synthetic_quads(services))
    count = len(store.store)
    store.close()
    data.publish(gen)
    return count


# -- the three contenders -------------------------------------------------------------------


@contextlib.contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        stop(proc)


def oxigraph_binary() -> str:
    local = Path(sys.executable).with_name("oxigraph")
    found = str(local) if local.exists() else shutil.which("oxigraph")
    if not found:
        raise SystemExit("the oxigraph server is not installed (pip install oxigraph)")
    return found


@contextlib.contextmanager
def oxigraph_server(export: Path, workdir: Path) -> Iterator[str]:
    binary = oxigraph_binary()
    location = workdir / "oxigraph"
    subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(export)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    cmd = [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    with process([*cmd, "--union-default-graph"]):
        url = f"http://127.0.0.1:{port}/query"
        wait_until(lambda: httpx.get(url, params={"query": "ASK {}"}).is_success, "oxigraph")
        yield url


@contextlib.contextmanager
def oxigraph_memory_server(export: Path) -> Iterator[str]:
    """The same server with its in-memory store, loaded over the Graph Store Protocol."""
    port = free_port()
    cmd = [oxigraph_binary(), "serve", "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    with process(cmd):
        base = f"http://127.0.0.1:{port}"
        wait_until(
            lambda: httpx.get(f"{base}/query", params={"query": "ASK {}"}).is_success, "oxigraph"
        )
        headers = {"Content-Type": "application/n-quads"}
        httpx.post(
            f"{base}/store", content=export.read_bytes(), headers=headers, timeout=300
        ).raise_for_status()
        yield f"{base}/query"


@contextlib.contextmanager
def cloudkg_server(data: Path) -> Iterator[str]:
    port = free_port()
    # a hash embedder of the model's width: the answer routes are not measured here
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    cmd = [sys.executable, "-m", "bench.serve", "--data", str(data), "--port", str(port)]
    cmd += ["--fake-dim", "384"]
    with process(cmd, env):
        url = f"http://127.0.0.1:{port}/sparql"
        wait_until(lambda: httpx.get(url, params={"query": "ASK {}"}).is_success, "cloudkg")
        yield url


# -- timing ---------------------------------------------------------------------------------


@dataclass
class Timing:
    median: float
    p90: float
    size: int  # rows or triples, as a sanity check that every engine agrees


def timed(runs_by_name: dict[str, Callable[[], int]], warmup: int, runs: int) -> dict[str, Timing]:
    """Interleaved: each round runs every contender once, so load on the machine (two cores,
    shared) falls on all of them alike."""
    for _ in range(warmup):
        for run in runs_by_name.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs_by_name}
    sizes: dict[str, int] = {}
    for _ in range(runs):
        for name, run in runs_by_name.items():
            started = time.perf_counter()
            sizes[name] = run()
            samples[name].append(time.perf_counter() - started)
    timings = {}
    for name, values in samples.items():
        values.sort()
        p90 = values[int(0.9 * (len(values) - 1))]
        timings[name] = Timing(statistics.median(values), p90, sizes[name])
    return timings


def over_http(client: httpx.Client, url: str, query: str) -> Callable[[], int]:
    graph = query.lstrip().upper().startswith("CONSTRUCT")
    accept = "text/turtle" if graph else "application/sparql-results+json"

    def run() -> int:
        r = client.post(url, data={"query": PREFIXES + query}, headers={"Accept": accept})
        r.raise_for_status()
        if graph:
            return len(list(ox.parse(r.content, ox.RdfFormat.TURTLE)))
        return len(r.json()["results"]["bindings"])

    return run


def in_rdflib(dataset: rdflib.Dataset, query: str) -> Callable[[], int]:
    graph = query.lstrip().upper().startswith("CONSTRUCT")

    def run() -> int:
        result = dataset.query(PREFIXES + query)
        result.serialize(format="turtle" if graph else "json")
        return len(result.graph) if graph and result.graph is not None else len(result)

    return run


def measure(
    data: Path, *, runs: int = 30, warmup: int = 5, rdflib_runs: int = 5
) -> tuple[int, dict[str, dict[str, Timing]]]:
    """Time the five queries on /sparql, oxigraph serve (disk and memory) and rdflib, over
    the union of the graphs of a built data folder. Returns (quads, timings by query)."""
    with tempfile.TemporaryDirectory(prefix="bench-sparql-") as tmp:
        work = Path(tmp)
        gen = DataDir(data).current()
        if gen is None:
            raise SystemExit(f"no built graph in {data} (run `kg build` or use --synthetic)")
        export = work / "export.nq"
        store = OxigraphStore(gen / "graph", read_only=True)
        store.store.dump(str(export), ox.RdfFormat.N_QUADS)
        quads = len(store.store)
        store.close()
        started = time.perf_counter()
        dataset = rdflib.Dataset(default_union=True)
        dataset.parse(export, format="nquads")
        print(
            f"rdflib loaded {quads:,} quads in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        results: dict[str, dict[str, Timing]] = {}
        with (
            oxigraph_server(export, work) as oxigraph_url,
            oxigraph_memory_server(export) as oxigraph_memory_url,
            cloudkg_server(data) as cloudkg_url,
            httpx.Client(timeout=120) as client,
        ):
            for name, query in QUERIES.items():
                servers = {
                    "cloudkg": over_http(client, cloudkg_url, query),
                    "oxigraph": over_http(client, oxigraph_url, query),
                    "oxigraph-memory": over_http(client, oxigraph_memory_url, query),
                }
                results[name] = timed(servers, warmup, runs)
                results[name] |= timed({"rdflib": in_rdflib(dataset, query)}, 1, rdflib_runs)
                print(f"  {name}: done", file=sys.stderr)
    return quads, results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="a built data folder (default: ./data)")
    source.add_argument("--synthetic", type=int, metavar="SERVICES", help="generate this many")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rdflib-runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-sparql-data-") as tmp:
        data = args.data or Path("data")
        if args.synthetic:
            data = Path(tmp) / "data"
            made = make_synthetic(data, args.synthetic)
            print(f"synthetic data: {args.synthetic} services, {made:,} quads", file=sys.stderr)
        quads, results = measure(
            data, runs=args.runs, warmup=args.warmup, rdflib_runs=args.rdflib_runs
        )
    print(
        f"\n{quads:,} quads; median (p90) in ms over {args.runs} runs (rdflib {args.rdflib_runs})\n"
    )
    columns = ["query", "rows", "/sparql", "oxigraph serve", "oxigraph serve (memory)"]
    columns += ["rdflib", "/sparql ÷ oxigraph", "/sparql ÷ (memory)", "rdflib ÷ /sparql"]
    print("| " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * (len(columns) - 1))
    failures = []

    def ms(t: Timing) -> str:
        return f"{t.median * 1e3:.2f} ({t.p90 * 1e3:.2f})"

    for name, t in results.items():
        ours, disk, memory, rdf = t["cloudkg"], t["oxigraph"], t["oxigraph-memory"], t["rdflib"]
        sizes = {x.size for x in t.values()}
        rows = str(ours.size) if len(sizes) == 1 else "/".join(str(x.size) for x in t.values())
        vs_disk, vs_memory = ours.median / disk.median, ours.median / memory.median
        vs_rdflib = rdf.median / ours.median
        cells = [name, rows, ms(ours), ms(disk), ms(memory), f"{rdf.median * 1e3:.1f}"]
        cells += [f"{vs_disk:.2f}x", f"{vs_memory:.2f}x", f"{vs_rdflib:.1f}x"]
        print("| " + " | ".join(cells) + " |")
        if vs_disk > 2:
            failures.append(f"{name}: /sparql is {vs_disk:.2f}x oxigraph serve (target <= 2x)")
        if name in TARGETS and vs_rdflib < TARGETS[name]:
            failures.append(f"{name}: rdflib is only {vs_rdflib:.1f}x slower (target >= 5x)")
    print()
    print("\n".join(failures) if failures else "all targets met")


if __name__ == "__main__":
    main()
