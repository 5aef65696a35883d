"""The remote graph store's operations against each SPARQL server, and the choices they decide.

    python -m bench.remote_stores [--servers oxigraph,virtuoso] [--rounds 5]

Starts each server on a free port in a throwaway folder (``tests/servers.py``), loads the
bundled notes' quads (built once into an in-memory store, no model) and times, as medians over
``--rounds``: replacing the notes' document (its graphs dropped and its quads inserted) first
and again, replacing the lexicon graph (one Graph Store Protocol PUT, and by drop + INSERT DATA
for comparison), a query as the answer engine sends it (LIMITS for SQS), ``ASK {}``, and the
same query sent as a form-encoded POST and as a direct ``application/sparql-query`` POST
(Virtuoso never answers the latter: it is skipped there).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pyoxigraph as ox

from kg import vocab
from kg.answer import templates
from kg.build import build
from kg.graph.oxigraph import OxigraphStore
from kg.graph.sparql import SparqlStore
from kg.graph.stores import open_graph_store
from kg.settings import Settings
from tests.servers import SERVER_NAMES, available, make_server

SQS = vocab.service_iri("Amazon SQS")


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def corpus_quads(work: Path) -> list[ox.Quad]:
    settings = Settings(data=work / "embedded", embedder="fake")
    build(settings, search=False)
    store = open_graph_store(settings)
    assert isinstance(store, OxigraphStore)
    try:
        return list(store.store)
    finally:
        store.close()


def measure(name: str, quads: list[ox.Quad], work: Path, rounds: int) -> dict[str, float]:
    server = make_server(name, work / name)
    server.start()
    store: SparqlStore = server.store()
    out: dict[str, float] = {}
    try:
        doc = vocab.document_iri("aws-solutions-architect-notes.txt")
        mine = [q for q in quads if q.graph_name.value.startswith(doc)]  # type: ignore[union-attr]
        lexicon = [q for q in quads if q.graph_name == ox.NamedNode(vocab.LEXICON_GRAPH)]
        out["document_quads"] = len(mine)
        started = time.perf_counter()
        store.replace_document(doc, mine)
        out["replace_document_first_ms"] = (time.perf_counter() - started) * 1e3
        out["replace_document_again_ms"] = median_ms(
            lambda: store.replace_document(doc, mine), rounds
        )
        out["batch_size_kept"] = store.client.batch_size
        out["lexicon_quads"] = len(lexicon)
        out["replace_graph_put_ms"] = median_ms(
            lambda: store.replace_graph(vocab.LEXICON_GRAPH, lexicon), rounds
        )
        drop = f"DROP SILENT GRAPH <{vocab.LEXICON_GRAPH}>"
        out["replace_graph_update_ms"] = median_ms(
            lambda: store.client.insert(lexicon, before=[drop]), rounds
        )
        query = templates.shown(templates.LIMITS, [SQS])
        store.select(query)
        out["limits_query_ms"] = median_ms(lambda: store.select(query), rounds * 4)
        out["ask_ms"] = median_ms(lambda: store.ask("ASK {}"), rounds * 4)
        text = store.client.prologue() + query
        accept = {"Accept": "application/sparql-results+json"}
        with httpx.Client(timeout=30) as http:
            out["form_post_ms"] = median_ms(
                lambda: http.post(server.query_url, data={"query": text}, headers=accept),
                rounds * 4,
            )
            if name != "virtuoso":
                direct = {**accept, "Content-Type": "application/sparql-query"}
                out["direct_post_ms"] = median_ms(
                    lambda: http.post(server.query_url, content=text.encode(), headers=direct),
                    rounds * 4,
                )
    finally:
        store.close()
        server.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--servers", default=",".join(SERVER_NAMES))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    for name in servers:
        missing = available(name)
        if missing:
            raise SystemExit(missing)
    with tempfile.TemporaryDirectory(prefix="cloudkg-stores-") as tmp:
        work = Path(tmp)
        quads = corpus_quads(work)
        results = {name: measure(name, quads, work, args.rounds) for name in servers}
    keys = list(results[servers[0]])
    print("| | " + " | ".join(servers) + " |")
    print("|---|" + "---|" * len(servers))
    for key in keys:
        cells = []
        for name in servers:
            value = results[name].get(key)
            cells.append("-" if value is None else f"{value:,.1f}".removesuffix(".0"))
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
