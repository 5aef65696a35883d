"""The graph store interface: a quad store that answers SPARQL 1.1.

Stores speak pyoxigraph terms and results in both directions, whatever engine is behind them:
the remote store parses the server's SPARQL results with pyoxigraph, so callers never care.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

import pyoxigraph as ox

from kg import vocab

Term: TypeAlias = ox.NamedNode | ox.BlankNode | ox.Literal
QueryResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples


class GraphStoreError(RuntimeError):
    """The store failed or cannot be reached (not a problem with the query itself)."""


class GraphStore(ABC):
    """Few abstract methods; everything else is a convenience built on them."""

    name: str = "graph"

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> QueryResult:
        """Run a query. The default graph is the union of all graphs unless ``default_graph``
        names some. ``bindings`` substitute variables safely (never by string splicing).
        Raises SyntaxError for a malformed query."""

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update."""

    @abstractmethod
    def replace_document(self, doc_iri: str, quads: Iterable[ox.Quad]) -> None:
        """Make the graphs of one document exactly ``quads``: the document's graph and every
        graph under ``doc_iri + "/"`` are dropped first, so a rebuild never duplicates anything."""

    @abstractmethod
    def replace_graph(self, graph_iri: str, quads: Iterable[ox.Quad]) -> None:
        """Make one named graph exactly ``quads`` (the ontology and lexicon graphs)."""

    @abstractmethod
    def remove_document(self, doc_iri: str) -> None:
        """Drop every graph of a document."""

    def close(self) -> None:  # noqa: B027 - optional for stores that hold nothing open
        """Release files or connections."""

    def ping(self) -> None:
        """Raise GraphStoreError when the store cannot answer."""
        self.ask("ASK { }")

    # Conveniences built on query().

    def select(self, sparql: str, **bindings: Term) -> list[dict[str, Any]]:
        """Rows of a SELECT as dicts of variable name -> term (missing when unbound)."""
        result = self.query(sparql, bindings=bindings or None)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError("select() needs a SELECT query")
        names = [v.value for v in result.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in result]

    def ask(self, sparql: str, **bindings: Term) -> bool:
        result = self.query(sparql, bindings=bindings or None)
        if not isinstance(result, ox.QueryBoolean):
            raise TypeError("ask() needs an ASK query")
        return bool(result)

    def count(self, pattern: str = "?s ?p ?o") -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ {pattern} }} }}")
        return int(rows[0]["n"].value) if rows else 0

    def documents(self) -> dict[str, str]:
        """Document IRI -> content hash of every document the store holds."""
        rows = self.select(
            vocab.sparql_prefixes(("ckg",))
            + "SELECT ?doc ?hash WHERE { ?doc a ckg:Document ; ckg:contentHash ?hash }"
        )
        return {r["doc"].value: r["hash"].value for r in rows}
