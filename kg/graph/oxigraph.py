"""The embedded graph store: Oxigraph in-process, on disk under the data folder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pyoxigraph as ox

from kg.graph.base import GraphStore, GraphStoreError, QueryResult, Term


class OxigraphStore(GraphStore):
    """pyoxigraph ``Store``: on disk when given a path, in memory otherwise.

    ``read_only`` opens a store that no process writes any more (a published build); any number
    of processes may open it that way at once.
    """

    name = "oxigraph"

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise GraphStoreError(f"cannot open the graph store at {path}: {exc}") from exc
        self.read_only = read_only

    @property
    def store(self) -> ox.Store:
        """The pyoxigraph store itself, for bulk work (export, loading files)."""
        return self._store

    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> QueryResult:
        kwargs: dict[str, object] = {}
        if default_graph:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        if bindings:
            kwargs["substitutions"] = {ox.Variable(k): v for k, v in bindings.items()}
        try:
            return self._store.query(sparql, **kwargs)  # type: ignore[arg-type]
        except OSError as exc:
            raise GraphStoreError(str(exc)) from exc

    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except OSError as exc:
            raise GraphStoreError(str(exc)) from exc

    def replace_document(self, doc_iri: str, quads: Iterable[ox.Quad]) -> None:
        self.remove_document(doc_iri)
        self._store.bulk_extend(quads)

    def replace_graph(self, graph_iri: str, quads: Iterable[ox.Quad]) -> None:
        graph = ox.NamedNode(graph_iri)
        if self._store.contains_named_graph(graph):
            self._store.remove_graph(graph)
        self._store.bulk_extend(quads)

    def remove_document(self, doc_iri: str) -> None:
        for graph in list(self._store.named_graphs()):
            if isinstance(graph, ox.NamedNode) and _in_document(graph.value, doc_iri):
                self._store.remove_graph(graph)

    def close(self) -> None:
        if not self.read_only and self.path is not None:
            self._store.flush()
        del self._store


def _in_document(graph: str, doc_iri: str) -> bool:
    """A document's own graph and its passages' graphs (``<doc>/<start>-<end>``), not those of
    another document whose IRI merely starts the same (``<doc>-2``)."""
    return graph == doc_iri or graph.startswith(doc_iri + "/")
