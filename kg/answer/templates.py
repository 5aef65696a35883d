"""Parameterised SPARQL for each intent. Entities are bound as IRIs through the store's
substitution mechanism (``bindings``); no text from a question is ever spliced into a query.

Every template returns, for each fact, its source passage (``?p`` with ``?text``,
``?start``, ``?end``, ``?doc``, ``?section``), so answers cite the sentence they came from.
"""

from __future__ import annotations

from kg import vocab

_PREFIXES = vocab.sparql_prefixes(("ckg", "rdfs", "skos", "prov"))

_SOURCE = """
  ?p ckg:text ?text ; ckg:startChar ?start ; ckg:endChar ?end ; ckg:document ?docnode .
  ?docnode rdfs:label ?doc .
  OPTIONAL { ?p ckg:section ?section }"""

# Limits of an entity and of its features (one level down), with their source passage.
LIMITS = (
    _PREFIXES
    + """
SELECT ?entity ?subject ?subjectLabel ?limit ?quantity ?min ?max ?default ?value ?unit ?stated
       ?per ?p ?text ?start ?end ?doc ?section WHERE {
  ?entity ckg:hasFeature? ?subject .
  ?subject rdfs:label ?subjectLabel .
  GRAPH ?p { ?subject ckg:hasLimit ?limit }
  ?limit ckg:quantity ?quantity ; ckg:unit ?unit ; ckg:statedAs ?stated .
  OPTIONAL { ?limit ckg:minValue ?min }
  OPTIONAL { ?limit ckg:maxValue ?max }
  OPTIONAL { ?limit ckg:defaultValue ?default }
  OPTIONAL { ?limit ckg:value ?value }
  OPTIONAL { ?limit ckg:per ?per }"""
    + _SOURCE
    + """
}"""
)

# Every object an entity is related to by one of the list-like predicates.
RELATED = (
    _PREFIXES
    + """
SELECT ?entity ?predicate ?object ?objectLabel ?objectKind ?objectType ?p ?text ?start ?end
       ?doc ?section WHERE {
  VALUES ?predicate { ckg:supports ckg:hasFeature ckg:chargedBy ckg:replicatesTo ckg:worksWith
                      ckg:inCategory }
  GRAPH ?p { ?entity ?predicate ?object }
  ?object rdfs:label ?objectLabel .
  OPTIONAL { ?object ckg:featureKind ?objectKind }
  OPTIONAL { ?object a ?objectType }"""
    + _SOURCE
    + """
}"""
)

# Services and features a category holds, for "Which compute services ...".
IN_CATEGORY = (
    _PREFIXES
    + """
SELECT ?category ?object ?objectLabel ?p ?text ?start ?end ?doc ?section WHERE {
  GRAPH ?p { ?object ckg:inCategory ?category }
  ?object rdfs:label ?objectLabel ."""
    + _SOURCE
    + """
}"""
)

# What things are used for, and what they work with: "Which service is used to ...".
USED_FOR = (
    _PREFIXES
    + """
SELECT ?subject ?subjectLabel ?purpose ?with ?p ?text ?start ?end ?doc ?section WHERE {
  GRAPH ?p { ?subject ckg:usedFor ?purpose }
  ?subject rdfs:label ?subjectLabel .
  OPTIONAL { ?subject ckg:worksWith ?with }"""
    + _SOURCE
    + """
}"""
)

# Limits of all features of an entity, for comparisons ("Which EBS volume types ...").
FEATURE_LIMITS = (
    _PREFIXES
    + """
SELECT ?entity ?subject ?subjectLabel ?kind ?limit ?quantity ?min ?max ?default ?value ?unit
       ?stated ?per ?p ?text ?start ?end ?doc ?section WHERE {
  ?entity ckg:hasFeature ?subject .
  ?subject rdfs:label ?subjectLabel .
  OPTIONAL { ?subject ckg:featureKind ?kind }
  GRAPH ?p { ?subject ckg:hasLimit ?limit }
  ?limit ckg:quantity ?quantity ; ckg:unit ?unit ; ckg:statedAs ?stated .
  OPTIONAL { ?limit ckg:minValue ?min }
  OPTIONAL { ?limit ckg:maxValue ?max }
  OPTIONAL { ?limit ckg:defaultValue ?default }
  OPTIONAL { ?limit ckg:value ?value }
  OPTIONAL { ?limit ckg:per ?per }"""
    + _SOURCE
    + """
}"""
)

# An entity card for the describe tool.
DESCRIBE = (
    _PREFIXES
    + """
SELECT ?entity ?p ?o ?oLabel WHERE {
  ?entity ?p ?o .
  OPTIONAL { ?o rdfs:label ?oLabel }
}"""
)


def with_values(template: str, variable: str, iris: list[str]) -> str:
    """Bind one variable to several IRIs with a VALUES block (IRIs are validated by the
    caller as catalog keys; angle brackets are escaped away if ever present)."""
    cleaned = [i for i in iris if "<" not in i and ">" not in i and " " not in i]
    values = " ".join(f"<{i}>" for i in cleaned)
    head, brace, body = template.partition("WHERE {")
    return f"{head}{brace}\n  VALUES ?{variable} {{ {values} }}{body}"
