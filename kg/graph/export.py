"""Graph export and command-line query output."""

from __future__ import annotations

import io

import pyoxigraph as ox

from kg import vocab
from kg.graph.stores import open_graph_store
from kg.settings import Settings

FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def export_graph(settings: Settings, fmt: str) -> bytes:
    """The whole graph: N-Quads keeps every named graph; the triple formats merge them (each
    triple once)."""
    store = open_graph_store(settings)
    try:
        quads = list(store.query("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"))  # type: ignore[arg-type]
        if fmt == "nq":
            data = [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in quads]
            return ox.serialize(data, format=FORMATS[fmt]) or b""
        triples = list(dict.fromkeys(ox.Triple(r["s"], r["p"], r["o"]) for r in quads))
        prefixes = None if fmt == "nt" else dict(vocab.PREFIXES)
        return ox.serialize(triples, format=FORMATS[fmt], prefixes=prefixes) or b""
    finally:
        store.close()


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for name, ns in vocab.PREFIXES.items():
            if term.value.startswith(ns):
                return f"{name}:{term.value[len(ns) :]}"
        return term.value
    return str(getattr(term, "value", term))


def run_query_table(settings: Settings, query: str, fmt: str) -> str:
    """Run a read-only query with the endpoint's time limit, row cap and SERVICE/LOAD screen,
    and render it as a text table, SPARQL JSON results or CSV (graphs as Turtle)."""
    from kg.sparql import run_query

    result = run_query(settings, query, format="csv" if fmt == "csv" else None)
    note = f"\n(cut at {result.max_rows} rows: KG_SPARQL_MAX_ROWS)" if result.truncated else ""
    if result.kind == "graph" or fmt in ("json", "csv"):
        return result.body.decode("utf-8") + note
    parsed = ox.parse_query_results(result.body, format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return str(bool(parsed)).lower()
    names = [v.value for v in parsed.variables]
    rows = [[_cell(row[n]) for n in names] for row in parsed]
    return _table(names, rows) + note


def _table(names: list[str], rows: list[list[str]]) -> str:
    widths = [min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    out = io.StringIO()
    line = " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    out.write(line + "\n" + "-+-".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write(" | ".join(c[:w].ljust(w) for c, w in zip(r, widths, strict=True)) + "\n")
    out.write(f"({len(rows)} rows)")
    return out.getvalue()


__all__ = ["export_graph", "run_query_table"]
