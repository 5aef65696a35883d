"""Open the backends a process needs, chosen by name from settings, imported lazily."""

from __future__ import annotations

from kg.datadir import DataDir
from kg.graph.base import GraphStore
from kg.settings import Settings


class NotBuiltError(LookupError):
    """The data folder holds no published build yet."""


def open_graph_store(settings: Settings, *, read_only: bool = True) -> GraphStore:
    """The graph store of the live build (embedded) or the configured SPARQL server."""
    if settings.graph_store == "sparql":
        from kg.graph.sparql import SparqlStore

        return SparqlStore.from_settings(settings)
    from kg.graph.oxigraph import OxigraphStore

    gen = DataDir(settings.data).current()
    if gen is None:
        raise NotBuiltError(f"no build in {settings.data}: run `kg build --data {settings.data}`")
    return OxigraphStore(gen / "graph", read_only=read_only)
