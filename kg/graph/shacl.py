"""SHACL validation compiled to SPARQL, run inside the graph store.

The build validates its output against ``ontology/shapes.ttl`` on every run. pyshacl, the
reference implementation, takes over a minute on a graph of 100 notes; the shapes use only a
small part of SHACL Core, which this module turns into one SPARQL query per constraint, run
in Oxigraph (about a second at that size). A test checks that both validators agree.

Supported: node shapes with ``sh:targetClass``; property shapes whose ``sh:path`` is one IRI,
with ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``, ``sh:class``, ``sh:nodeKind``
(IRI / Literal / BlankNode), ``sh:pattern``, ``sh:minInclusive``, ``sh:lessThan``,
``sh:lessThanOrEquals``; and ``sh:or`` of property shapes that each require a value.
Anything else raises ``UnsupportedShape`` rather than being silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import vocab
from kg.graph.base import GraphStore

SH = vocab.SH
_ANNOTATIONS = {"message", "name", "description", "order", "group", "severity"}
_CONSTRAINTS = {
    "path", "minCount", "maxCount", "datatype", "class", "nodeKind", "pattern", "minInclusive",
    "lessThan", "lessThanOrEquals",
}  # fmt: skip
_NODE_KIND_TESTS = {"IRI": "isIRI", "Literal": "isLiteral", "BlankNode": "isBlank"}

Node = ox.NamedNode | ox.BlankNode
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class UnsupportedShape(ValueError):
    """The shapes use a SHACL feature this validator does not implement."""


@dataclass(frozen=True)
class Check:
    """One constraint as a query: each solution binds ``?focus`` (and maybe ``?value``)."""

    query: str
    message: str
    path: str | None


class _Shapes:
    """Reads a shapes graph and turns each constraint into a check."""

    def __init__(self, path: Path) -> None:
        self.g = ox.Store()
        self.g.load(path=str(path), format=ox.RdfFormat.TURTLE)

    def objects(self, s: Term, p: str) -> list[Term]:
        assert not isinstance(s, ox.Literal)
        return [q.object for q in self.g.quads_for_pattern(s, ox.NamedNode(SH + p), None)]  # type: ignore[misc]

    def used(self, s: Term) -> set[str]:
        assert not isinstance(s, ox.Literal)
        return {q.predicate.value.removeprefix(SH) for q in self.g.quads_for_pattern(s, None, None)}

    def items(self, head: Term) -> Iterator[Term]:
        first, rest = ox.NamedNode(vocab.RDF + "first"), ox.NamedNode(vocab.RDF + "rest")
        node = head
        while node != ox.NamedNode(vocab.RDF + "nil"):
            assert not isinstance(node, ox.Literal)
            yield next(self.g.quads_for_pattern(node, first, None)).object  # type: ignore[misc]
            node = next(self.g.quads_for_pattern(node, rest, None)).object  # type: ignore[assignment]

    def checks(self) -> list[Check]:
        out: list[Check] = []
        kind = ox.NamedNode(vocab.RDF + "type")
        for quad in self.g.quads_for_pattern(None, kind, ox.NamedNode(SH + "NodeShape")):
            shape = quad.subject
            for target in self.objects(shape, "targetClass"):  # type: ignore[arg-type]
                focus = f"VALUES ?focusType {{ {_subclasses(target)} }} ?focus a ?focusType ."
                for prop in self.objects(shape, "property"):  # type: ignore[arg-type]
                    out += self.property_checks(prop, focus)
                for alternatives in self.objects(shape, "or"):  # type: ignore[arg-type]
                    out.append(self.or_check(alternatives, focus))
        return out

    def property_checks(self, prop: Term, focus: str) -> list[Check]:
        unknown = self.used(prop) - _CONSTRAINTS - _ANNOTATIONS
        if unknown:
            raise UnsupportedShape(f"property shape uses sh:{', sh:'.join(sorted(unknown))}")
        paths = self.objects(prop, "path")
        if len(paths) != 1 or not isinstance(paths[0], ox.NamedNode):
            raise UnsupportedShape("only a single IRI is supported as sh:path")
        p = paths[0]
        messages = self.objects(prop, "message")
        message = messages[0].value if messages else f"constraint on {p.value}"
        out: list[Check] = []

        def check(where: str) -> None:
            # The property first: it is usually more selective than the type.
            query = f"SELECT DISTINCT ?focus ?value WHERE {{ ?focus {p} ?value . {focus} {where} }}"
            out.append(Check(query, message, p.value))

        def count(test: str) -> None:
            query = (
                f"SELECT ?focus WHERE {{ {focus} OPTIONAL {{ ?focus {p} ?value }} }} "
                f"GROUP BY ?focus HAVING (COUNT(DISTINCT ?value) {test})"
            )
            out.append(Check(query, message, p.value))

        for n in self.objects(prop, "minCount"):
            count(f"< {int(n.value)}")
        for n in self.objects(prop, "maxCount"):
            count(f"> {int(n.value)}")
        for dt in self.objects(prop, "datatype"):
            check(f"FILTER(!isLiteral(?value) || datatype(?value) != {dt})")
        for cls in self.objects(prop, "class"):
            typed = f"VALUES ?valueType {{ {_subclasses(cls)} }} ?value a ?valueType"
            check(f"FILTER NOT EXISTS {{ {typed} }}")
        for kind in self.objects(prop, "nodeKind"):
            test = _NODE_KIND_TESTS.get(kind.value.removeprefix(SH))
            if test is None:
                raise UnsupportedShape(f"sh:nodeKind {kind.value}")
            check(f"FILTER(!{test}(?value))")
        for pattern in self.objects(prop, "pattern"):
            regex = ox.Literal(pattern.value)
            check(f"FILTER(isBlank(?value) || !REGEX(STR(?value), {regex}))")
        for low in self.objects(prop, "minInclusive"):
            check(f"FILTER(!(?value >= {low}))")
        for other in self.objects(prop, "lessThan"):
            check(f"?focus {other} ?other FILTER(!(?value < ?other))")
        for other in self.objects(prop, "lessThanOrEquals"):
            check(f"?focus {other} ?other FILTER(!(?value <= ?other))")
        return out

    def or_check(self, head: Term, focus: str) -> Check:
        """``sh:or`` of "has a value for P" alternatives: a focus node with none violates."""
        missing, names = [], []
        for alt in self.items(head):
            paths, counts = self.objects(alt, "path"), self.objects(alt, "minCount")
            if (
                len(paths) != 1
                or [c.value for c in counts] != ["1"]
                or self.used(alt) != {"path", "minCount"}
            ):
                raise UnsupportedShape("sh:or is supported only over [sh:path P; sh:minCount 1]")
            missing.append(f"FILTER NOT EXISTS {{ ?focus {paths[0]} ?any }}")
            names.append(paths[0].value.rsplit("#", 1)[-1])
        query = f"SELECT DISTINCT ?focus WHERE {{ {focus} {' '.join(missing)} }}"
        return Check(query, f"needs one of {', '.join(names)}", None)


def _subclasses(cls: Term) -> str:
    """A placeholder that ``validate`` replaces by the class and its subclasses in the data
    (rdfs:subClassOf*), so queries match types by index instead of walking a path."""
    return f"«{cls.value}»"


def _expand(query: str, store: GraphStore, cache: dict[str, str]) -> str:
    def classes(iri: str) -> str:
        if iri not in cache:
            rows = store.select(
                f"SELECT DISTINCT ?c WHERE {{ ?c <{vocab.RDFS}subClassOf>* <{iri}> }}"
            )
            found = {iri, *(r["c"].value for r in rows if isinstance(r["c"], ox.NamedNode))}
            cache[iri] = " ".join(f"<{c}>" for c in sorted(found))
        return cache[iri]

    return re.sub(r"«([^»]+)»", lambda m: classes(m.group(1)), query)


def compile_shapes(path: Path) -> list[Check]:
    """The checks of a Turtle shapes file."""
    return _Shapes(path).checks()


def validate(store: GraphStore, checks: list[Check]) -> list[str]:
    """Violations as "focus path[ = value]: message", sorted; [] when the data conforms."""
    out = set()
    cache: dict[str, str] = {}
    for check in checks:
        for row in store.select(_expand(check.query, store, cache)):
            value = f" = {row['value']}" if "value" in row else ""
            out.add(f"{row['focus'].value} {check.path or ''}{value}: {check.message}")
    return sorted(out)
