"""What every HTML page shares: the templates, where a resource IRI links to, quotes with the
answering span highlighted, and the HTML response with its headers.

Pages are rendered on the server (they work without JavaScript) from public results only: the
``/ask`` payload, the entity card of ``kg.answer.card`` and SPARQL over the graph. Everything a
page loads comes from this server; the Content-Security-Policy header makes the browser
refuse anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from starlette.requests import HTTPConnection

from kg import vocab
from kg.settings import Settings

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Nothing from another host: styles inline or from here, scripts inline or from here, pictures
# inline (SVG) or from here. 'unsafe-inline' because pages carry their own small script.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'self'; "
    "base-uri 'self'; form-action 'self'"
)

ROUTES = {
    "graph": ("graph", "from the knowledge graph (SPARQL)"),
    "search": ("search", "from a passage of the notes (hybrid search)"),
    "hybrid": ("graph + search", "from the graph, with passages found by search"),
    "none": ("not covered", "the notes do not cover this question"),
}

# QUDT units by their local name, as a person reads them.
UNIT_NAMES = {
    "BYTE": "bytes",
    "SEC": "seconds",
    "BIT-PER-SEC": "bits per second",
    "BYTE-PER-SEC": "bytes per second",
    "NUM": "count",
    "NUM-PER-SEC": "per second",
    "PERCENT": "percent",
    "USD": "US dollars",
    "HZ": "hertz",
}


# Relations by their local name, as a sentence reads them.
RELATION_NAMES = {
    "hasFeature": "has feature",
    "hasLimit": "has limit",
    "inCategory": "in category",
    "chargedBy": "charged by",
    "replicatesTo": "replicates to",
    "worksWith": "works with",
    "usedFor": "used for",
    "partOf": "part of",
    "closeMatch": "equivalent to",
}


class PageError(Exception):
    """A page that cannot be shown: rendered as an HTML error page with ``status``."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Site:
    """Where this server's pages live: ``root`` is "" (the request's own host), a path prefix
    behind a proxy, or the absolute public base (``KG_PUBLIC_BASE``)."""

    root: str

    def url(self, path: str, **params: str) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.root}{path}{query}"

    def link(self, iri: str) -> str:
        """The page of a resource: this server's ``/id/...`` for the graph's own IRIs, the
        ontology page for its terms, the IRI itself for anything else."""
        if iri.startswith(vocab.ID):
            return f"{self.root}/id/{quote(iri[len(vocab.ID) :], safe='/-._~')}"
        if iri.startswith(vocab.CKG):
            return f"{self.root}/ontology#{iri[len(vocab.CKG) :]}"
        return iri

    def sparql(self, query: str) -> str:
        return self.url("/sparql", query=query)


def site_of(request: HTTPConnection, settings: Settings) -> Site:
    if settings.public_base:
        return Site(settings.public_base.rstrip("/"))
    return Site(str(request.scope.get("root_path", "")).rstrip("/"))


def iri_of(path: str) -> str:
    """The resource IRI that ``/id/<path>`` stands for (the same path under the IRI base)."""
    return vocab.ID + path


def compact(iri: str) -> str:
    """``ckg:hasLimit`` for a known namespace, the IRI otherwise."""
    for prefix, namespace in vocab.PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1]


def unit_name(unit: str | None) -> str:
    if not unit:
        return ""
    name = local_name(unit)
    return UNIT_NAMES.get(name, name.lower())


def relation_name(name: str) -> str:
    """ "charged by" for ``chargedBy`` (or its IRI)."""
    name = local_name(name)
    return RELATION_NAMES.get(name, re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower())


def card_view(card: Mapping[str, Any], equivalents: Iterable[Any] = ()) -> dict[str, Any]:
    """An entity card (``kg.answer.card.entity_card``) with what the templates show beside
    it: features as chips, relations grouped by their name, and cross-cloud equivalents."""
    view = dict(card)
    view["feature_chips"] = [
        {"iri": f["iri"], "label": f["label"], "title": (f.get("source") or {}).get("text")}
        for f in card.get("features", [])
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in card.get("relations", []):
        item = {
            "iri": r["object"].get("iri"),
            "label": r["object"]["label"],
            "title": (r.get("source") or {}).get("text"),
        }
        groups.setdefault(relation_name(r["predicate"]), []).append(item)
    view["relation_groups"] = list(groups.items())
    view["equivalents"] = list(equivalents)
    return view


BOUNDS = (("min", "minimum"), ("default", "default"), ("max", "maximum"), ("value", "value"))


def bound_columns(limits: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The bounds (key, heading) that at least one of ``limits`` states, in table order."""
    limits = list(limits)
    return [(key, name) for key, name in BOUNDS if any(key in lim for lim in limits)]


def highlight(text: str, spans: Iterable[str | None]) -> Markup:
    """``text`` escaped, with each occurrence of each span in ``<mark>`` (case and runs of
    white space aside; a span that starts or ends with a word character matches whole words)."""
    found: list[tuple[int, int]] = []
    for span in spans:
        words = (span or "").split()
        if not words:
            continue
        pattern = r"\s+".join(re.escape(w) for w in words)
        if re.match(r"\w", words[0]):
            pattern = r"(?<!\w)" + pattern
        if re.search(r"\w$", words[-1]):
            pattern += r"(?!\w)"
        found += [(m.start(), m.end()) for m in re.finditer(pattern, text, re.I)]
    out: list[str] = []
    at = 0
    for start, end in sorted(found, key=lambda span: (span[0], -span[1])):  # longest first
        if start < at:  # overlaps one already marked
            continue
        out += [str(escape(text[at:start])), f"<mark>{escape(text[start:end])}</mark>"]
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))


def where(source: Mapping[str, Any] | None) -> str:
    """ "document › section" of a source."""
    if not source:
        return ""
    document = str(source.get("document") or "")
    section = source.get("section")
    return f"{document} › {section}" if section else document


def percent(confidence: float) -> str:
    return f"{round(max(0.0, min(1.0, confidence)) * 100)}%"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        highlight=highlight,
        where=where,
        percent=percent,
        compact=compact,
        unit_name=unit_name,
        local_name=local_name,
        relation_name=relation_name,
        bound_columns=bound_columns,
    )
    env.globals.update(routes=ROUTES)
    return env


ENV = _environment()


def render(name: str, site: Site, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name`` (a template) as an HTML response with the no-other-host policy."""
    html = ENV.get_template(name).render(site=site, **context)
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(site: Site, exc: PageError) -> HTMLResponse:
    return render("error.html", site, exc.status, title=exc.title, message=exc.message)
