"""Graph export and command-line query output."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox

from kg import vocab
from kg.settings import Settings
from kg.stores import open_graph_store

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
    """Run a read-only query and render it as a text table, SPARQL JSON results or CSV."""
    store = open_graph_store(settings)
    try:
        result = store.query(query)
        if isinstance(result, ox.QueryBoolean):
            return (
                json.dumps({"head": {}, "boolean": bool(result)})
                if fmt == "json"
                else str(bool(result)).lower()
            )
        if isinstance(result, ox.QueryTriples):
            return ox.serialize(
                list(result), format=ox.RdfFormat.TURTLE, prefixes=dict(vocab.PREFIXES)
            ).decode()  # type: ignore[union-attr]
        if fmt == "json":
            return result.serialize(format=ox.QueryResultsFormat.JSON).decode()  # type: ignore[union-attr]
        if fmt == "csv":
            return result.serialize(format=ox.QueryResultsFormat.CSV).decode()  # type: ignore[union-attr]
        names = [v.value for v in result.variables]
        rows = [[_cell(row[n]) for n in names] for row in result]
        return _table(names, rows)
    finally:
        store.close()


def _table(names: list[str], rows: list[list[str]]) -> str:
    widths = [min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    out = io.StringIO()
    line = " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    out.write(line + "\n" + "-+-".join("-" * w for w in widths) + "\n")
    for r in rows:
        out.write(" | ".join(c[:w].ljust(w) for c, w in zip(r, widths, strict=True)) + "\n")
    out.write(f"({len(rows)} rows)")
    return out.getvalue()


__all__ = ["csv", "export_graph", "run_query_table"]
