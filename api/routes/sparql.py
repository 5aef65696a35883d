"""``/sparql``: the SPARQL 1.1 Protocol endpoint. The protocol lives in ``kg.sparql``; this
route only turns a Starlette request into ``HttpRequest`` and the answer back.

``SparqlFastPath`` (installed by ``create_app``) answers ``/sparql`` before FastAPI's routing:
a point lookup spends 0.2 ms in FastAPI's request handling (route matching, dependencies,
the ``Request`` object), a third of the time in process (docs/performance.md). The FastAPI
routes stay for the OpenAPI page; both go through ``respond``, so they answer alike."""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from kg.sparql import HttpRequest, SparqlEndpoint, open_endpoint

PAGE = Path(__file__).resolve().parent.parent / "static" / "sparql.html"

router = APIRouter(tags=["sparql"])
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


async def _body(request: Request, limit: int) -> bytes:
    """At most ``limit`` bytes of the body: enough for the endpoint to refuse an oversized one
    (413) without reading it all."""
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


@cache
def _page() -> bytes:
    return PAGE.read_bytes()


_DESCRIPTION = (
    "GET `?query=`, POST form (`query=` or `update=`), `application/sparql-query`, "
    "`application/sparql-update`. Results by `Accept` or `format=`. Without a query: the "
    "service description (RDF) or, for browsers, the query page. See docs/sparql.md."
)


async def sparql(request: Request, endpoint: EndpointDep) -> Response:
    return await respond(endpoint, request, await request.body())


async def respond(endpoint: SparqlEndpoint, request: HTTPConnection, body: bytes) -> Response:
    """The endpoint's answer to a request whose body has been read."""
    http = HttpRequest(
        method=request.scope["method"],
        params=request.query_params.multi_items(),
        headers=request.headers,
        body=body,
        endpoint=str(request.url.replace(query="", fragment="")).rstrip("?"),
    )
    answer = await endpoint.handle_async(http)
    page = _page() if answer.page else answer.body
    return Response(page, answer.status, answer.headers, answer.media_type)


class SparqlFastPath:
    """ASGI middleware: ``/sparql`` straight to the endpoint, everything else to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql":
            await self.app(scope, receive, send)
            return
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
        response = await respond(endpoint, HTTPConnection(scope), b"".join(chunks))
        await response(scope, receive, send)


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
