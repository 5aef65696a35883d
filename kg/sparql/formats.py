"""Result formats of the endpoint and content negotiation (``Accept`` with q-values, ``format=``).

Three kinds of answer exist: SELECT/ASK results, RDF graphs (CONSTRUCT, DESCRIBE and the
service description) and the HTML query page. Each kind has its own list of formats, in the
server's order of preference: the first one is the default when the client states none.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

Kind = Literal["results", "graph", "page"]


@dataclass(frozen=True, eq=False)
class Format:
    """One of the formats below. Compared and hashed by identity: ``negotiate``'s cache hashes
    a tuple of them on every request, and field by field that was 1.5 us of a point lookup."""

    name: str  # what the query worker understands: "json", "turtle", ...
    kind: Kind
    media_type: str  # the one sent back in Content-Type
    aliases: tuple[str, ...] = ()  # other media types that select this format in Accept
    tokens: tuple[str, ...] = ()  # values of the format= parameter besides the media types
    charset: bool = False  # a text format: Content-Type gets "; charset=utf-8"
    iri: str = ""  # W3C format IRI, for the service description

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


_W3 = "http://www.w3.org/ns/formats/"

RESULT_FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "results",
        "application/sparql-results+json",
        ("application/json",),
        ("json", "srj"),
        iri=_W3 + "SPARQL_Results_JSON",
    ),
    Format(
        "xml",
        "results",
        "application/sparql-results+xml",
        ("application/xml", "text/xml"),
        ("xml", "srx"),
        iri=_W3 + "SPARQL_Results_XML",
    ),
    Format(
        "csv", "results", "text/csv", (), ("csv",), charset=True, iri=_W3 + "SPARQL_Results_CSV"
    ),
    Format(
        "tsv",
        "results",
        "text/tab-separated-values",
        (),
        ("tsv",),
        charset=True,
        iri=_W3 + "SPARQL_Results_TSV",
    ),
)

GRAPH_FORMATS: tuple[Format, ...] = (
    Format(
        "turtle",
        "graph",
        "text/turtle",
        ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3", "application/n3"),
        ("turtle", "ttl", "n3"),  # Turtle is N3 too
        charset=True,
        iri=_W3 + "Turtle",
    ),
    Format(
        "ntriples",
        "graph",
        "application/n-triples",
        (),
        ("ntriples", "nt", "n-triples"),
        charset=True,
        iri=_W3 + "N-Triples",
    ),
    Format(
        "nquads",
        "graph",
        "application/n-quads",
        ("text/x-nquads",),
        ("nquads", "nq", "n-quads"),
        charset=True,
        iri=_W3 + "N-Quads",
    ),
    Format(
        "rdfxml",
        "graph",
        "application/rdf+xml",
        ("application/xml", "text/xml"),
        ("rdfxml", "rdf", "xml", "rdf/xml", "rdf+xml"),
        iri=_W3 + "RDF_XML",
    ),
    Format(
        "jsonld",
        "graph",
        "application/ld+json",
        ("application/json",),
        ("jsonld", "json-ld", "json"),
        iri=_W3 + "JSON-LD",
    ),
)

HTML = Format("html", "page", "text/html", ("application/xhtml+xml",), ("html",), charset=True)

# What a GET without a query may answer: the service description (RDF, Turtle first, so that
# `curl` and `Accept: */*` get it) or the query page, which browsers ask for by name.
DESCRIPTION_FORMATS: tuple[Format, ...] = (*GRAPH_FORMATS, HTML)

ALL_FORMATS: tuple[Format, ...] = (*RESULT_FORMATS, *GRAPH_FORMATS, HTML)
BY_NAME: dict[str, Format] = {f.name: f for f in ALL_FORMATS}


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float
    order: int

    def specificity(self, media_type: str) -> int:
        """3 exact, 2 ``type/*``, 1 ``*/*``, 0 no match."""
        mtype, _, msub = media_type.partition("/")
        if self.type == "*":
            return 1 if self.subtype == "*" else 0
        if self.type != mtype:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == msub else 0


def parse_accept(header: str) -> list[_Range]:
    """The media ranges of an Accept header; malformed parts are skipped, q defaults to 1."""
    ranges = []
    for order, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mtype, sep, msub = fields[0].lower().partition("/")
        if not sep or not mtype or not msub:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(_Range(mtype.strip(), msub.strip(), q, order))
    return ranges


@functools.lru_cache(maxsize=512)
def negotiate(accept: str | None, formats: tuple[Format, ...]) -> Format | None:
    """The best of ``formats`` for an Accept header, or None when none is acceptable.

    Each format takes the q of the most specific range that matches any of its media types
    (RFC 9110); the highest q wins, then the more specific match, then a match on the format's
    own media type over an alias (``text/*`` is CSV, not XML by ``text/xml``), then the range
    the client listed first, then the server's order. No header, or an empty one, means the
    default.
    """
    if not accept or not accept.strip():
        return formats[0] if formats else None
    ranges = parse_accept(accept)
    if not ranges:
        return formats[0] if formats else None
    best: tuple[float, int, bool, int, int] | None = None
    chosen = None
    for server_order, fmt in enumerate(formats):
        for media_type in fmt.media_types:
            matches = [(r.specificity(media_type), r) for r in ranges]
            matches = [(s, r) for s, r in matches if s]
            if not matches:
                continue
            spec, rng = max(matches, key=lambda m: (m[0], -m[1].order))
            if rng.q <= 0:
                continue
            key = (rng.q, spec, media_type == fmt.media_type, -rng.order, -server_order)
            if best is None or key > best:
                best, chosen = key, fmt
    return chosen


FORMAT_PARAMETERS = ("format", "output", "results")  # names clients use for it (Virtuoso, Fuseki)


def from_parameters(values: list[str], formats: tuple[Format, ...]) -> Format | None:
    """The first of ``formats`` that ``format=`` values name: a token such as ``csv`` or a media
    type, or a comma-separated list of them (SPARQLWrapper repeats its Accept header there)."""
    for value in values:
        for item in value.split(","):
            item = item.split(";")[0].strip().lower()
            for fmt in formats:
                if item in fmt.tokens or item in fmt.media_types:
                    return fmt
    return None
