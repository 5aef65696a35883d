"""Linked Data: every resource IRI ``https://w3id.org/cloudkg/id/<path>`` resolves at
``/id/<path>``, and the vocabulary ``https://w3id.org/cloudkg/ontology`` at ``/ontology``.

Content negotiation as the SPARQL endpoint does it (``Accept`` with q-values, ``format=``
winning): browsers, which ask for ``text/html`` by name, get a page (the entity, its facts with
their sources, a picture of its neighbourhood); RDF clients get Turtle, JSON-LD, N-Triples or
RDF/XML; ``*/*`` (curl) gets Turtle, as the service description of ``/sparql`` does.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse, RedirectResponse

import kg.sparql.formats as formats
from api.deps import RuntimeDep, SettingsDep
from api.graphdata import (
    MAX_STATEMENTS,
    Statements,
    Term,
    construct,
    describe_query,
    equivalents,
    labels_of,
    select,
    statements,
    term,
)
from api.neighbourhood import Edge, Node, neighbourhood_svg
from api.routes.pages import page_call, page_engine
from api.routes.sparql import EndpointDep
from api.web import (
    PageError,
    Site,
    card_view,
    compact,
    iri_of,
    local_name,
    relation_name,
    render,
    site_of,
)
from kg import vocab
from kg.answer.card import entity_card
from kg.sparql import QueryRequest, SparqlEndpoint, SparqlError

router = APIRouter(tags=["linked data"])

RDF_FORMATS = tuple(formats.BY_NAME[name] for name in ("turtle", "jsonld", "ntriples", "rdfxml"))
# Turtle first: what ``*/*`` gets. Browsers name text/html with the highest q.
CHOICES = (*RDF_FORMATS, formats.HTML)
FORMAT_LABELS = {
    "turtle": "Turtle",
    "jsonld": "JSON-LD",
    "ntriples": "N-Triples",
    "rdfxml": "RDF/XML",
}
FORMAT_TOKENS = {"turtle": "ttl", "jsonld": "jsonld", "ntriples": "nt", "rdfxml": "rdfxml"}

# What an IRI path may hold: the IRI characters that need no escaping inside <...> in SPARQL.
_SAFE_PATH = re.compile(r"[A-Za-z0-9._~:@!$&'()*+,;=/%-]+")

# The kind of a neighbour, from the first step of its path under the id namespace.
_KINDS = {"service": "service", "feature": "feature", "category": "category", "limit": "limit"}
_KINDS |= {"provider": "provider"}
_HIDDEN = {vocab.PROV + "wasDerivedFrom", vocab.RDF + "type", vocab.CKG + "document"}


def negotiate(request: Request) -> formats.Format | None:
    """``format=`` when it names one of ours, else the ``Accept`` header."""
    values = [v for k, v in request.query_params.multi_items() if k in formats.FORMAT_PARAMETERS]
    chosen = formats.from_parameters(values, CHOICES) if values else None
    return chosen or formats.negotiate(request.headers.get("accept"), CHOICES)


def _not_acceptable() -> PlainTextResponse:
    types = ", ".join(f.media_type for f in CHOICES)
    return PlainTextResponse(f"not acceptable: this resource is available as {types}", 406)


@router.get(
    "/id/{path:path}",
    response_class=Response,
    summary="A resource of the graph (Linked Data)",
    description="HTML for browsers; Turtle, JSON-LD, N-Triples or RDF/XML by `Accept` or "
    "`format=` (ttl, jsonld, nt, rdfxml). 404 when the graph says nothing about it.",
    responses={
        200: {
            "content": {f.media_type: {} for f in CHOICES},
            "description": "The resource",
        },
        404: {"description": "Unknown resource"},
        406: {"description": "No acceptable format"},
    },
)
async def resource(
    path: str,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    endpoint: EndpointDep,
) -> Response:
    site = site_of(request, settings)
    if path.strip("/") == "":  # the namespace itself: what it holds
        return RedirectResponse(site.url("/services"), status_code=303)
    fmt = negotiate(request)
    if fmt is None:
        return _not_acceptable()
    if not _SAFE_PATH.fullmatch(path):
        return _missing(site, fmt, f"{path!r} is not a resource path")
    iri = iri_of(path)
    try:
        if fmt is not formats.HTML:
            if not await _exists(endpoint, iri):
                return _missing(site, fmt, f"the graph says nothing about {iri}")
            body = await construct(endpoint, describe_query(iri), fmt.name)
            return Response(body, 200, _headers(site, iri, path), fmt.content_type)
        found = await statements(endpoint, iri)
    except SparqlError as exc:
        raise PageError(exc.status, "The graph cannot be read", exc.message) from exc
    if not found.exists:
        return _missing(site, fmt, f"The graph says nothing about {iri}.")
    engine = await page_engine(runtime)
    card = await page_call(runtime, entity_card, engine, iri)
    known = bool(card.get("label") or card.get("limits") or card.get("features"))
    view = card_view(card, await _equivalents(endpoint, iri)) if known else None
    label = _label(found, card, path)
    limit = await _limit(runtime, engine, found, iri)
    passage = _passage(found)
    if passage is not None:
        label = f"Passage of {passage['document']}"
    page = render(
        "entity.html",
        site,
        iri=iri,
        label=label,
        kind=card.get("kind") or _kind(found),
        c=view,
        limit=limit,
        passage=passage,
        read_from=await _read_from(endpoint, iri) if passage is not None else [],
        statements=found,
        picture=neighbourhood_svg(Node(label, kind=_node_kind(iri)), _edges(found, card, site)),
        formats=_formats(site, path),
        page_url=site.link(iri),
        describe=f"DESCRIBE <{iri}>",
    )
    page.headers.update(_headers(site, iri, path))
    return page


@router.get(
    "/ontology",
    response_class=Response,
    summary="The cloudkg vocabulary",
    description="HTML for browsers; the vocabulary as RDF by `Accept` or `format=`.",
)
async def ontology(request: Request, settings: SettingsDep, endpoint: EndpointDep) -> Response:
    site = site_of(request, settings)
    fmt = negotiate(request)
    if fmt is None:
        return _not_acceptable()
    graph = f"GRAPH <{vocab.ONTOLOGY_GRAPH}>"
    try:
        if fmt is not formats.HTML:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {graph} {{ ?s ?p ?o }} }}"
            return Response(await construct(endpoint, query, fmt.name), 200, None, fmt.content_type)
        rows = await select(
            endpoint,
            vocab.sparql_prefixes(("rdf", "rdfs", "owl"))
            + f"""SELECT ?term (SAMPLE(?t) AS ?type) (SAMPLE(?l) AS ?label) (SAMPLE(?c) AS ?comment)
WHERE {{ {graph} {{ ?term a ?t . FILTER(isIRI(?term) && STRSTARTS(STR(?term), "{vocab.CKG}"))
  OPTIONAL {{ ?term rdfs:label ?l }} OPTIONAL {{ ?term rdfs:comment ?c }} }} }}
GROUP BY ?term ORDER BY ?term""",
        )
    except SparqlError as exc:
        raise PageError(exc.status, "The graph cannot be read", exc.message) from exc
    terms = [
        {
            "name": r["term"]["value"][len(vocab.CKG) :],
            "iri": r["term"]["value"],
            "type": compact(r["type"]["value"]) if "type" in r else "",
            "label": r.get("label", {}).get("value", ""),
            "comment": r.get("comment", {}).get("value", ""),
        }
        for r in rows
    ]
    return render("ontology.html", site, terms=terms, namespace=vocab.CKG)


async def _limit(runtime: Any, engine: Any, found: Statements, iri: str) -> dict[str, Any] | None:
    """A limit as its owner's card shows it (bounds in words, unit, wording, source)."""
    owner = next((s.value for s, p in found.incoming if p.value == vocab.CKG + "hasLimit"), None)
    if owner is None:
        return None
    card = await page_call(runtime, entity_card, engine, owner)
    return next((lim for lim in card.get("limits", []) if lim["iri"] == iri), None)


def _passage(found: Statements) -> dict[str, Any] | None:
    """A passage's citation: document, section, span and text."""
    if vocab.CKG + "Passage" not in {t.value for t in found.objects(vocab.RDF + "type")}:
        return None
    documents = found.objects(vocab.CKG + "document")
    return {
        "document": (documents[0].label or local_name(documents[0].value)) if documents else "",
        "section": found.first(vocab.CKG + "section"),
        "start": int(found.first(vocab.CKG + "startChar") or 0),
        "end": int(found.first(vocab.CKG + "endChar") or 0),
        "text": found.first(vocab.CKG + "text") or "",
    }


async def _read_from(endpoint: SparqlEndpoint, iri: str) -> list[tuple[Term, Term, Term]]:
    """The statements read from a passage: those of its named graph, with labels."""
    rows = await select(
        endpoint,
        f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT {MAX_STATEMENTS}",
    )
    iris = {r[v]["value"] for r in rows for v in ("s", "o") if r[v]["type"] == "uri"}
    labels = await labels_of(endpoint, sorted(iris))
    return [(term(r["s"], labels), term(r["p"], labels), term(r["o"], labels)) for r in rows]


async def _exists(endpoint: SparqlEndpoint, iri: str) -> bool:
    result = await endpoint.executor.query_async(
        QueryRequest(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}", "json", None)
    )
    return bool(json.loads(result.body).get("boolean"))


async def _equivalents(endpoint: SparqlEndpoint, iri: str) -> list[Any]:
    try:
        return list(await equivalents(endpoint, iri))
    except SparqlError:
        return []


def _missing(site: Site, fmt: formats.Format, message: str) -> Response:
    if fmt is formats.HTML:
        return render("error.html", site, 404, title="No such resource", message=message)
    return PlainTextResponse(message, 404)


def _headers(site: Site, iri: str, path: str) -> dict[str, str]:
    """``Vary`` (the answer depends on Accept) and ``Link`` to the IRI and every format."""
    links = [f'<{iri}>; rel="canonical"']
    for f in _formats(site, path):
        links.append(f'<{f["href"]}>; rel="alternate"; type="{f["media_type"]}"')
    return {"Vary": "Accept", "Link": ", ".join(links)}


def _formats(site: Site, path: str) -> list[dict[str, str]]:
    page = site.link(iri_of(path))
    return [
        {
            "label": FORMAT_LABELS[f.name],
            "media_type": f.media_type,
            "href": f"{page}?format={FORMAT_TOKENS[f.name]}",
        }
        for f in RDF_FORMATS
    ]


def _label(found: Statements, card: dict[str, Any], path: str) -> str:
    label = card.get("label") or found.first(vocab.RDFS + "label")
    if label:
        return str(label)
    quantity = found.first(vocab.CKG + "quantity")
    if quantity:  # a limit: "message size of Amazon SQS"
        owner = next((s.label for s, p in found.incoming if p.value.endswith("hasLimit")), None)
        return f"{quantity} of {owner}" if owner else quantity
    return local_name(path)


def _kind(found: Statements) -> str | None:
    types = [local_name(t.value) for t in found.objects(vocab.RDF + "type")]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", types[0]).lower() if types else None


def _node_kind(iri: str) -> str:
    first = iri[len(vocab.ID) :].split("/", 1)[0] if iri.startswith(vocab.ID) else ""
    return _KINDS.get(first, "other")


def _edges(found: Statements, card: dict[str, Any], site: Site) -> list[Edge]:
    """The neighbours to draw: resources of the graph it points at, then those pointing at it
    (features and limits first), each once."""
    names = {lim["iri"]: lim["quantity"] for lim in card.get("limits", [])}
    out, incoming = [], []
    seen: set[str] = set()
    for p, o in found.out:
        if o.type != "uri" or not o.value.startswith(vocab.ID) or p.value in _HIDDEN:
            continue
        if o.value not in seen:
            seen.add(o.value)
            label = names.get(o.value) or o.label or local_name(o.value)
            node = Node(label, site.link(o.value), _node_kind(o.value))
            out.append(Edge(relation_name(p.value), node))
    for s, p in found.incoming:
        if s.value.startswith(vocab.ID) and p.value not in _HIDDEN and s.value not in seen:
            seen.add(s.value)
            node = Node(s.label or local_name(s.value), site.link(s.value), _node_kind(s.value))
            incoming.append(Edge(relation_name(p.value), node, incoming=True))
    order = {"feature": 0, "limit": 1, "service": 2, "category": 3}
    out.sort(key=lambda e: order.get(e.node.kind, 4))
    return out + incoming
