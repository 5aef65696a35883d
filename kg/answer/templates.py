"""Parameterised SPARQL for each intent.

Entities are catalog IRIs bound with a VALUES block (``shown``); no text from a question ever
enters a query. Every template returns, for each fact, its source passage (``?p`` with
``?text``, ``?start``, ``?end``, ``?doc``, ``?section``), so answers cite their sentence.

Written for Oxigraph's planner, measured on a graph 100 times the bundled notes
(docs/benchmarks.md): every triple pattern forms one group that starts from the bound entity,
with BIND and OPTIONAL only after it (a BIND or an OPTIONAL in the middle splits the group,
and the second half is read for the whole store: 150 s instead of milliseconds); predicates
are constants; labels, types and kinds come from the in-memory catalog rather than joins
(two rdfs:label patterns in one group also misled the planner).
"""

from __future__ import annotations

from kg import vocab

_PREFIXES = vocab.sparql_prefixes(("ckg", "rdfs", "skos", "prov"))

_SOURCE = """
  ?p ckg:text ?text ; ckg:startChar ?start ; ckg:endChar ?end ; ckg:document ?docnode .
  ?docnode ckg:path ?doc ."""
_SECTION = """
  OPTIONAL { ?p ckg:section ?section }"""

_LIMIT_VARS = """?entity ?subject ?limit ?quantity ?min ?max ?default ?value
       ?unit ?stated ?per ?p ?text ?start ?end ?doc ?section"""
_LIMIT_OPTIONALS = (
    """
  OPTIONAL { ?limit ckg:minValue ?min }
  OPTIONAL { ?limit ckg:maxValue ?max }
  OPTIONAL { ?limit ckg:defaultValue ?default }
  OPTIONAL { ?limit ckg:value ?value }
  OPTIONAL { ?limit ckg:per ?per }"""
    + _SECTION
)
_LIMIT_BODY = (
    """
  ?limit ckg:quantity ?quantity ; ckg:unit ?unit ; ckg:statedAs ?stated ."""
    + _SOURCE
    + _LIMIT_OPTIONALS
)

# Limits of an entity itself.
LIMITS = (
    _PREFIXES
    + f"""
SELECT DISTINCT {_LIMIT_VARS} WHERE {{
  GRAPH ?p {{ ?entity ckg:hasLimit ?limit }}
  ?limit ckg:quantity ?quantity ; ckg:unit ?unit ; ckg:statedAs ?stated ."""
    + _SOURCE
    + """
  BIND(?entity AS ?subject)"""
    + _LIMIT_OPTIONALS
    + """
}"""
)

# Limits of an entity's features (storage classes, volume types ...).
FEATURE_LIMITS = (
    _PREFIXES
    + f"""
SELECT DISTINCT {_LIMIT_VARS} WHERE {{
  ?entity ckg:hasFeature ?subject .
  GRAPH ?p {{ ?subject ckg:hasLimit ?limit }}"""
    + _LIMIT_BODY
    + """
}"""
)

LIST_PREDICATES = ("supports", "hasFeature", "chargedBy", "replicatesTo", "worksWith", "inCategory")


def _related(predicate: str) -> str:
    return (
        _PREFIXES
        + f"""
SELECT DISTINCT ?entity ?predicate ?object ?p ?text ?start ?end ?doc ?section
WHERE {{
  GRAPH ?p {{ ?entity ckg:{predicate} ?object }}"""
        + _SOURCE
        + f"""
  BIND(ckg:{predicate} AS ?predicate)"""
        + _SECTION
        + """
}"""
    )


# The objects an entity is related to, one query per list-like predicate (a UNION of them,
# or a variable predicate, makes Oxigraph read every such triple of the store first).
RELATED = {p: _related(p) for p in LIST_PREDICATES}

# What supports an entity: "Which FSx flavour supports SMB?".
SUPPORTED_BY = (
    _PREFIXES
    + """
SELECT DISTINCT ?entity ?subject ?p ?text ?start ?end ?doc ?section WHERE {
  GRAPH ?p { ?subject ckg:supports ?entity }"""
    + _SOURCE
    + _SECTION
    + """
}"""
)

# What things are used for, and what they work with: "Which service is used to ...".
USED_FOR = (
    _PREFIXES
    + """
SELECT DISTINCT ?subject ?purpose ?with ?p ?text ?start ?end ?doc ?section WHERE {
  GRAPH ?p { ?subject ckg:usedFor ?purpose }"""
    + _SOURCE
    + """
  OPTIONAL { ?subject ckg:worksWith ?with }"""
    + _SECTION
    + """
}"""
)


_LIST_VARS = "?entity ?owner ?list ?lead ?kind ?item ?p ?text ?start ?end ?doc ?section ?ls ?le"
_LIST_BODY = (
    """
  ?list ckg:lead ?lead ; prov:wasDerivedFrom ?lp .
  ?lp ckg:startChar ?ls ; ckg:endChar ?le .
  GRAPH ?p { ?list ckg:item ?item }"""
    + _SOURCE
    + """
  OPTIONAL { ?list ckg:itemKind ?kind }"""
    + _SECTION
)

# The lists an entity's notes enumerate (kg.extract.enumerations), and its features' lists.
LISTS = (
    _PREFIXES
    + f"""
SELECT DISTINCT {_LIST_VARS} WHERE {{
  ?list ckg:listOf ?entity ."""
    + _LIST_BODY
    + """
  BIND(?entity AS ?owner)
}"""
)
FEATURE_LISTS = (
    _PREFIXES
    + f"""
SELECT DISTINCT {_LIST_VARS} WHERE {{
  ?entity ckg:hasFeature ?owner .
  ?list ckg:listOf ?owner ."""
    + _LIST_BODY
    + """
}"""
)


def shown(template: str, entities: list[str]) -> str:
    """A template with its entities bound by a VALUES block: the query that runs, and the one
    the answer reports. The IRIs come from the catalog; any that could break out of ``<>`` is
    dropped rather than escaped."""
    values = " ".join(f"<{i}>" for i in entities if not set(i) & set('<>" {}|\\^`'))
    head, brace, body = template.partition("WHERE {")
    return f"{head}{brace}\n  VALUES ?entity {{ {values} }}{body}"
