"""What the graph says about one entity: labels, kind, features, limits, relations, a
definition and the source passages. Used by the ``describe`` tool, the chat's "what the notes
cover" and the entity pages."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from kg import vocab
from kg.answer import templates
from kg.answer.catalog import Catalog
from kg.answer.compose import amount
from kg.answer.engine import AnswerEngine
from kg.answer.rows import UNIT_DIMENSION
from kg.text.words import squash

MAX_SOURCES = 12  # passages listed on an entity card


def link_entity(engine: AnswerEngine, name: str) -> str | None:
    """The IRI of the entity ``name`` names: an IRI itself, an exact label or alias (services
    first), or the best entity the question linker finds in it."""
    catalog = engine.catalog
    name = name.strip()
    if name in catalog.entries:
        return name
    exact = catalog.named(name)
    if exact:
        return exact[0].iri
    linked = catalog.link(name)
    return linked[0].iri if linked else None


# Written like kg/answer/templates.py, for Oxigraph's planner: each query starts from the bound
# entity; labels, kinds and types come from the catalog rather than joins (an rdfs:label join
# there took minutes on a graph 100 times the bundled notes), and the source passages of the
# statements found are read by a second query that binds them (as an OPTIONAL group, Oxigraph
# reads every passage of the store first: 1 s at that size).
_CARD_OUT = (
    vocab.sparql_prefixes(("ckg",))
    + """
SELECT DISTINCT ?entity ?p ?o ?g WHERE {
  GRAPH ?g { ?entity ?p ?o }
}"""
)


_CARD_IN = (
    vocab.sparql_prefixes(("ckg", "rdf"))
    + """
SELECT DISTINCT ?entity ?s ?p ?g WHERE {
  GRAPH ?g { ?s ?p ?entity }
  FILTER(?p != rdf:type)
}"""
)


_PASSAGES = (
    vocab.sparql_prefixes(("ckg",))
    + """
SELECT DISTINCT ?g ?text ?start ?end ?doc ?section WHERE {
  ?g ckg:text ?text ; ckg:startChar ?start ; ckg:endChar ?end ; ckg:document ?dn .
  ?dn ckg:path ?doc .
  OPTIONAL { ?g ckg:section ?section }
}"""
)


_CARD_SOURCES = (
    vocab.sparql_prefixes(("ckg", "prov"))
    + """
SELECT DISTINCT ?entity ?g ?text ?start ?end ?doc ?section WHERE {
  ?entity prov:wasDerivedFrom ?g .
  ?g ckg:text ?text ; ckg:startChar ?start ; ckg:endChar ?end ; ckg:document ?dn .
  ?dn ckg:path ?doc .
  OPTIONAL { ?g ckg:section ?section }
}"""
)


_KINDS = {
    vocab.CKG + "Service": "service",
    vocab.CKG + "Feature": "feature",
    vocab.CKG + "Topic": "topic",
    vocab.CKG + "Category": "category",
    vocab.CKG + "PricingDimension": "pricing dimension",
    vocab.CKG + "Location": "location",
}


_CATALOG_KINDS = {"pricing": "pricing dimension"}  # the catalog's kind -> the card's


_RELATIONS = ("supports", "replicatesTo", "chargedBy", "worksWith", "usedFor", "partOf")


_BOUND_KEYS = ("min", "max", "default", "value")


def entity_card(engine: AnswerEngine, iri: str) -> dict[str, Any]:
    """Everything the graph says about one entity, each statement with its source passage."""
    entry = engine.catalog.entries.get(iri)
    card: dict[str, Any] = {
        "iri": iri,
        "label": entry.label if entry else None,
        "aliases": sorted(entry.names - {entry.label}) if entry else [],
        "kind": entry.kind if entry else None,
        "feature_kind": entry.feature_kind if entry else None,
        "categories": [],
        "feature_of": [],
        "features": [],
        "limits": [],
        "relations": [],
        "referenced_by": [],
        "definition": None,
        "sources": [],
    }
    store = engine.store
    catalog = engine.catalog
    features: dict[str, dict[str, Any]] = {}
    relations: dict[tuple[str, str], dict[str, Any]] = {}
    for row in _with_sources(store, store.select(templates.shown(_CARD_OUT, [iri]))):
        p, o = row["p"].value, row["o"].value
        local = p.rsplit("#", 1)[-1]
        target = catalog.entries.get(o)
        label = target.label if target else None
        if p == vocab.RDFS + "label" and card["label"] is None:
            card["label"] = o
        elif p == vocab.SKOS + "altLabel":
            if o not in card["aliases"] and o != card["label"]:
                card["aliases"].append(o)
        elif p == vocab.RDF + "type" and o in _KINDS and card["kind"] is None:
            card["kind"] = _KINDS[o]
        elif local == "inCategory":
            if label and label not in card["categories"]:
                card["categories"].append(label)
        elif local == "hasFeature":
            feature = features.setdefault(
                o,
                {
                    "iri": o,
                    "label": label or o,
                    "kind": target.feature_kind if target else None,
                    "source": None,
                },
            )
            feature["source"] = feature["source"] or _source(row)
        elif p.startswith(vocab.CKG) and local in _RELATIONS:
            rel = relations.setdefault(
                (local, o),
                {
                    "predicate": local,
                    "object": {
                        "iri": o if isinstance(row["o"], ox.NamedNode) else None,
                        "label": label or o,
                    },
                    "object_kind": _CATALOG_KINDS.get(target.kind, target.kind) if target else None,
                    "source": None,
                },
            )
            rel["source"] = rel["source"] or _source(row)
    card["features"] = list(features.values())
    card["relations"] = list(relations.values())
    card["limits"] = _limits(store, catalog, iri)
    seen_in: set[tuple[str, str]] = set()
    for row in _with_sources(store, store.select(templates.shown(_CARD_IN, [iri]))):
        p = row["p"].value
        s = row["s"].value
        local = p.rsplit("#", 1)[-1]
        subject = catalog.entries.get(s)
        if subject is None or (s, local) in seen_in or not p.startswith(vocab.CKG):
            continue
        seen_in.add((s, local))
        item = {"subject": {"iri": s, "label": subject.label}, "predicate": local}
        if local == "hasFeature":
            card["feature_of"].append(item["subject"])
        else:
            card["referenced_by"].append(item | {"source": _source(row)})
    sources = [_source(row) for row in store.select(templates.shown(_CARD_SOURCES, [iri]))]
    unique = {(s["document"], s["start"]): s for s in sources if s is not None}
    card["sources"] = [unique[k] for k in sorted(unique)][:MAX_SOURCES]
    card["definition"] = _definition(engine, card, list(unique.values()))
    return card


def _with_sources(store: Any, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (each with its named graph ``?g``) with the source passage of that graph:
    ``text``, ``start``, ``end``, ``doc``, ``section`` (none for the lexicon's graph)."""
    graphs = sorted({row["g"].value for row in rows})
    passages: dict[str, Mapping[str, Any]] = {}
    for start in range(0, len(graphs), 500):
        values = " ".join(f"<{g}>" for g in graphs[start : start + 500])
        head, brace, body = _PASSAGES.partition("WHERE {")
        for passage in store.select(f"{head}{brace}\n  VALUES ?g {{ {values} }}{body}"):
            passages.setdefault(passage["g"].value, passage)
    return [{**passages.get(row["g"].value, {}), **row} for row in rows]


def _limits(store: Any, catalog: Catalog, iri: str) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    rows = store.select(templates.shown(templates.LIMITS, [iri]))
    rows += store.select(templates.shown(templates.FEATURE_LIMITS, [iri]))
    for row in rows:
        limit = row["limit"].value
        if limit in out:
            continue
        unit = row["unit"].value
        dimension = UNIT_DIMENSION.get(unit)
        per = _value(row, "per")
        item: dict[str, Any] = {
            "iri": limit,
            "subject": {"iri": row["subject"].value, "label": catalog.label(row["subject"].value)},
            "quantity": row["quantity"].value,
            "stated": row["stated"].value,
            "unit": unit,
            "dimension": dimension.value if dimension else None,
            "per": per,
        }
        for key in _BOUND_KEYS:
            raw = _value(row, key)
            if raw is None:
                continue
            value = Decimal(raw)
            item[key] = {
                "value": float(value),
                "text": amount(value, dimension, per) if dimension else raw,
            }
        item["source"] = _source(row)
        out[limit] = item
    return sorted(out.values(), key=lambda x: (x["subject"]["iri"] != iri, x["source"]["start"]))


def _definition(
    engine: AnswerEngine, card: dict[str, Any], sources: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """A sentence that says what the entity is: "<name> is/are/provides ..." from its passages,
    else the search answer to "What is <label>?"."""
    names = sorted({card["label"] or "", *card["aliases"]} - {""}, key=len, reverse=True)
    if names:
        pattern = re.compile(
            r"^(?:the\s+|an?\s+)?(?:amazon\s+|aws\s+)?(?:"
            + "|".join(re.escape(n) for n in names)
            + r")\b(?:\s*\([^)]*\))?(?:\s*[:\u2013\u2014]\s|[^.:]{0,40}?\b(?:is|are|provides|gives|"
            r"lets|allows|offers|enables)\b)",
            re.I,
        )
        for s in sorted(sources, key=lambda s: (s["document"], s["start"])):
            if pattern.search(s["text"]):
                return {"text": s["text"], "source": s}
    if not card["label"]:
        return None
    answer = engine.ask(f"What is {card['label']}?", 3)
    if answer.route in ("search", "hybrid") and answer.passages:
        sentence = squash(answer.answer)
        named = [n for n in names if re.search(rf"\b{re.escape(n)}\b", sentence, re.I)]
        for hit in answer.passages if named else ():
            if sentence in squash(hit.text):
                source = {
                    "document": hit.document,
                    "section": hit.section,
                    "start": hit.start,
                    "end": hit.end,
                    "text": squash(hit.text),
                }
                return {"text": sentence, "source": source}
    return None


def _value(row: Mapping[str, Any], key: str) -> str | None:
    term = row.get(key)
    return None if term is None else str(term.value)


def _source(row: Mapping[str, Any]) -> dict[str, Any] | None:
    if row.get("text") is None:
        return None
    return {
        "document": _value(row, "doc") or "",
        "section": _value(row, "section"),
        "start": int(_value(row, "start") or 0),
        "end": int(_value(row, "end") or 0),
        "text": squash(_value(row, "text") or ""),
    }
