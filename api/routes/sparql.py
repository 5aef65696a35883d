"""``/sparql``: the SPARQL 1.1 Protocol endpoint. The protocol lives in ``kg.sparql``; this
route only turns a Starlette request into ``HttpRequest`` and the answer back.

``SparqlFastPath`` answers ``/sparql`` ahead of FastAPI's stack (``api.app.CloudKG``): FastAPI's
request handling (route matching, dependencies, the ``Request`` object), its telemetry check
and the middleware chain are most of what the server adds to a point lookup
(docs/performance.md). The FastAPI routes stay for the OpenAPI page; both build the answer
in ``_answer``, so they answer alike.

A browser gets the query page (``api/templates/sparql.html``) instead of raw results: without
a query, the editor; with ``GET /sparql?query=...`` (a shared link, the ask page's "open in
the query page"), the editor with the query run on the server and its results, or its error,
on the page, so it works without JavaScript too. "A browser" is a request whose ``Accept``
prefers ``text/html`` over every result format, or ``format=html``; SPARQL clients never send
that, so they keep getting results."""

from __future__ import annotations

import functools
import json
import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import URL, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import Receive, Scope, Send

import kg.sparql.formats as formats
from api.web import render, site_of
from kg.sparql import HttpRequest, HttpResponse, SparqlEndpoint, open_endpoint
from kg.sparql.protocol import decode_form

# What the page asks the endpoint for when it runs a query itself (as its script does).
PAGE_ACCEPT = "application/sparql-results+json, text/turtle;q=0.9"
PAGE_CHOICES = (*formats.RESULT_FORMATS, *formats.GRAPH_FORMATS, formats.HTML)  # HTML last

router = APIRouter(tags=["sparql"])
log = logging.getLogger("cloudkg")
_opening = threading.Lock()


def open_service(state: Any) -> SparqlEndpoint:
    """The endpoint in ``state.services["sparql"]``, opened on first use."""
    with _opening:
        endpoint: SparqlEndpoint | None = state.services.get("sparql")
        if endpoint is None:
            endpoint = state.services["sparql"] = open_endpoint(state.settings)
        return endpoint


async def get_endpoint(request: Request) -> SparqlEndpoint:
    """Async on purpose: FastAPI runs a plain ``def`` dependency in a thread, a hop per query."""
    endpoint: SparqlEndpoint | None = request.app.state.kg.services.get("sparql")
    return endpoint or open_service(request.app.state.kg)  # lifespan not run (bare TestClient)


EndpointDep = Annotated[SparqlEndpoint, Depends(get_endpoint)]


_DESCRIPTION = (
    "GET `?query=`, POST form (`query=` or `update=`), `application/sparql-query`, "
    "`application/sparql-update`. Results by `Accept` or `format=`. Without a query: the "
    "service description (RDF) or, for browsers, the query page. See docs/sparql.md."
)


async def sparql(request: Request, endpoint: EndpointDep) -> Response:
    return await respond(endpoint, request, await request.body())


async def respond(endpoint: SparqlEndpoint, request: HTTPConnection, body: bytes) -> Response:
    """The endpoint's answer to a request whose body has been read (at most 1 MiB:
    ``api.guards.BodyLimit`` refuses a longer one while it streams): results for a SPARQL
    client, the query page (with the query run) for a browser."""
    answer = await _answer(endpoint, request, body)
    if isinstance(answer, HttpResponse):
        return Response(answer.body, answer.status, answer.headers, answer.media_type)
    return answer


async def _answer(
    endpoint: SparqlEndpoint, request: HTTPConnection, body: bytes
) -> HttpResponse | Response:
    """``respond``'s answer: the endpoint's own, or the page as a Starlette response."""
    scope = request.scope
    method = scope["method"]
    params = url_params(scope["query_string"])
    http = HttpRequest(method, params, request.headers, body, _endpoint_url(scope))
    if _wants_page(method, request, params):
        page_params = [(k, v) for k, v in params if k not in formats.FORMAT_PARAMETERS]
        headers = {**request.headers, "accept": PAGE_ACCEPT}
        answer = await endpoint.handle_async(
            HttpRequest("GET", page_params, headers, b"", http.endpoint)
        )
        return _page(request, answer, dict(page_params).get("query", ""))
    answer = await endpoint.handle_async(http)
    if answer.page:
        return _page(request, None, "")
    return answer


class SparqlFastPath:
    """ASGI app for ``/sparql``, which ``api.app.CloudKG`` calls ahead of FastAPI's stack.

    The endpoint's answers go out as the two ASGI messages, with the headers Starlette's
    ``Response`` would send (``raw_headers``); only the query page is a Starlette response.
    An unexpected error is answered as the app's error handler answers it (JSON 500) and
    raised again for the server to log, as Starlette's error middleware does."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state.kg
        endpoint: SparqlEndpoint = state.services.get("sparql") or open_service(state)
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            answer = await _answer(endpoint, HTTPConnection(scope), b"".join(chunks))
        except Exception as exc:
            log.exception("unhandled error on /sparql")
            answer = HttpResponse(500, _crashed(exc), "application/json")
            await _send(send, answer)
            raise
        if isinstance(answer, HttpResponse):
            await _send(send, answer)
        else:
            await answer(scope, receive, send)


async def _send(send: Send, answer: HttpResponse) -> None:
    start = {"type": "http.response.start", "status": answer.status}
    await send({**start, "headers": raw_headers(answer)})
    await send({"type": "http.response.body", "body": answer.body})


def _crashed(exc: Exception) -> bytes:
    return json.dumps({"error": "internal error", "detail": type(exc).__name__}).encode()


def raw_headers(answer: HttpResponse) -> list[tuple[bytes, bytes]]:
    """The header lines of ``Response(answer.body, answer.status, answer.headers,
    answer.media_type)``: the answer's headers, then Content-Length and Content-Type (text
    types with their charset)."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()]
    if answer.status >= 200 and answer.status not in (204, 304):
        raw.append((b"content-length", b"%d" % len(answer.body)))
    media_type = answer.media_type
    if media_type is not None:
        if media_type.startswith("text/") and "charset=" not in media_type.lower():
            media_type += "; charset=utf-8"
        raw.append((b"content-type", media_type.encode("latin-1")))
    return raw


def url_params(query_string: bytes) -> list[tuple[str, str]]:
    """The URL's parameters, decoded as Starlette's ``request.query_params`` decodes them."""
    params = decode_form(query_string, errors="replace")
    if params is None:
        params = QueryParams(query_string).multi_items()
    return params


def _endpoint_url(scope: Scope) -> str:
    """The request's absolute URL without its query: the base IRI of its query and the
    subject of the service description."""
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    server = scope.get("server")
    return _absolute(
        scope.get("scheme", "http"), host, tuple(server) if server else None, scope["path"]
    )


@functools.lru_cache(maxsize=64)
def _absolute(scheme: str, host: bytes | None, server: tuple[str, int] | None, path: str) -> str:
    """Built by Starlette's ``URL`` from the parts of the scope it reads (cached: the same few
    hosts and one path ask again and again)."""
    headers = [(b"host", host)] if host is not None else []
    scope = {"scheme": scheme, "server": server, "path": path, "headers": headers}
    return str(URL(scope=scope)).rstrip("?")


def _wants_page(method: str, request: HTTPConnection, params: list[tuple[str, str]]) -> bool:
    """A browser's GET with a query: ``format=html``, or an ``Accept`` that prefers HTML."""
    if method != "GET" or sum(k == "query" for k, _ in params) != 1:
        return False
    values = [v for k, v in params if k in formats.FORMAT_PARAMETERS]
    named = formats.from_parameters(values, formats.ALL_FORMATS) if values else None
    if named is not None:
        return named is formats.HTML
    return formats.negotiate(request.headers.get("accept"), PAGE_CHOICES) is formats.HTML


_DOWNLOADS = {
    "results": (("CSV", "csv"), ("TSV", "tsv"), ("JSON", "json"), ("XML", "xml")),
    "graph": (("Turtle", "ttl"), ("N-Triples", "nt"), ("JSON-LD", "jsonld"), ("RDF/XML", "rdfxml")),
}


def _page(request: HTTPConnection, answer: HttpResponse | None, query: str) -> Response:
    """The query page; with ``answer``, the query's results (or error) shown on it."""
    site = site_of(request, request.app.state.kg.settings)
    context: dict[str, Any] = {
        "query": query,
        "result": None,
        "summary": "",
        "error": "",
        "error_at": None,
        "notice": "",
        "downloads": [],
    }
    status = 200
    headers = dict(answer.headers) if answer else {}
    if answer is not None:
        status = answer.status
        context.update(_shown(answer))
        kind = "graph" if context["result"] and context["result"]["kind"] == "graph" else "results"
        if status == 200:
            context["downloads"] = [
                (label, site.url("/sparql", query=query, format=token))
                for label, token in _DOWNLOADS[kind]
            ]
    page = render("sparql.html", site, status, **context)
    for name in ("Access-Control-Allow-Origin", "X-SPARQL-Truncated", "X-SPARQL-Max-Rows"):
        if name in headers:
            page.headers[name] = headers[name]
    page.headers["Vary"] = "Accept"
    return page


def _shown(answer: HttpResponse) -> dict[str, Any]:
    """What the page shows of the endpoint's answer: a table, a boolean, a graph, an error."""
    media_type = (answer.media_type or "").split(";")[0]
    if answer.status != 200:
        try:
            error = json.loads(answer.body)
        except ValueError:
            error = {}
        line, column = error.get("line"), error.get("column")
        return {
            "error": error.get("message") or error.get("error") or f"HTTP {answer.status}",
            "error_at": (line, column) if line else None,
            "summary": f"error {answer.status}",
        }
    elapsed = answer.headers.get("Server-Timing", "").partition("dur=")[2]
    timing = f" · {float(elapsed):.0f} ms" if elapsed else ""
    notice = ""
    if answer.headers.get("X-SPARQL-Truncated") == "true":
        notice = (
            f"Only the first {answer.headers.get('X-SPARQL-Max-Rows')} rows are shown: the "
            "result was cut at the endpoint's cap (KG_SPARQL_MAX_ROWS). Add LIMIT/OFFSET or "
            "narrow the query."
        )
    if media_type == "application/sparql-results+json":
        data = json.loads(answer.body)
        if "boolean" in data:
            result = {"kind": "boolean", "value": bool(data["boolean"])}
            return {"result": result, "summary": f"ASK{timing}", "notice": notice}
        rows = data["results"]["bindings"]
        result = {"kind": "table", "vars": data["head"].get("vars", []), "rows": rows}
        count = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
        return {"result": result, "summary": f"{count}{timing}", "notice": notice}
    text = answer.body.decode("utf-8", "replace")
    result = {"kind": "graph", "text": text}
    return {"result": result, "summary": f"graph{timing}", "notice": notice}


for _method in ("GET", "POST", "OPTIONS"):
    router.add_api_route(
        "/sparql",
        sparql,
        methods=[_method],
        response_class=Response,
        summary=f"SPARQL 1.1 Protocol endpoint ({_method})",
        description=_DESCRIPTION,
        operation_id=f"sparql_{_method.lower()}",
        include_in_schema=_method != "OPTIONS",
    )
