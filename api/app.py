"""The HTTP surface: ``create_app(settings)`` wires the routes to one shared ``AppState``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from api.guards import BodyLimit
from api.mcp import McpHttp
from api.openapi import openapi_schema
from api.routes import ask, chat, docs, linked, pages, search, sparql
from api.web import PageError, error_page, site_of
from kg.datadir import DataDir
from kg.serve.runtime import Runtime
from kg.serve.tools import Toolbox
from kg.settings import Settings

log = logging.getLogger("cloudkg")


@dataclass
class AppState:
    """What the routes share. Opened once in the lifespan, closed on shutdown."""

    settings: Settings
    data: DataDir
    services: dict[str, Any] = field(default_factory=dict)  # name -> opened backend


class CloudKG(FastAPI):
    """FastAPI, with ``/sparql`` answered ahead of FastAPI's own layers.

    ``sparql_app`` (``BodyLimit`` around ``SparqlFastPath``) takes a SPARQL request straight
    from ``__call__``: FastAPI's telemetry check, Starlette's error middleware and the
    middleware chain cost a point lookup 0.07 ms over HTTP, a tenth of what ``oxigraph serve``
    takes for all of it (docs/performance.md). With ``sparql_app`` None the FastAPI routes,
    which the OpenAPI page documents, answer instead; a test checks that both answer alike."""

    sparql_app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.sparql_app is not None and scope["type"] == "http" and scope["path"] == "/sparql":
            scope["app"] = self
            await self.sparql_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The API over one data folder (or remote stores). ``runtime`` lets tests inject one
    with a fake embedder."""
    settings = settings or Settings()
    state = AppState(settings=settings, data=DataDir(settings.data))
    state.services["runtime"] = runtime or Runtime(settings)
    mcp_http = McpHttp(
        lambda: Toolbox(state.services["runtime"], settings, sparql.open_service(state).executor),
        allowed_origins=settings.allowed_origins.split(","),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sparql.open_service(state).start()  # query workers warm up while the app starts
        try:
            await run_in_threadpool(state.services["runtime"].engine)  # load model and build
        except Exception as exc:  # not ready yet: /readyz says why, requests get 503
            log.warning("not ready at start-up: %s", exc)
        async with mcp_http.run():
            yield
        for service in state.services.values():
            close = getattr(service, "close", None)
            if close is not None:
                close()

    app = CloudKG(
        title="cloudkg",
        summary="Knowledge graph and semantic search over cloud-architecture notes",
        description="Question answering with provenance (/ask), hybrid search (/search), a "
        "SPARQL 1.1 endpoint (/sparql), and an OpenAI-compatible chat API. All offline.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served offline by api.routes.docs
        redoc_url=None,
    )
    app.state.kg = state
    app.include_router(ask.router)
    app.include_router(search.router)
    app.include_router(sparql.router)
    app.include_router(chat.router)
    app.include_router(pages.router)
    app.include_router(linked.router)
    docs.install(app)
    app.router.routes.append(mcp_http.route("/mcp"))
    app.openapi = lambda: openapi_schema(app)  # type: ignore[method-assign]
    app.add_middleware(BodyLimit)  # outermost: every body is limited
    app.sparql_app = BodyLimit(sparql.SparqlFastPath())
    _error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz() -> JSONResponse:
        """Readiness: the build and every backend answer. 503 names the one that does not."""
        backends = state.services["runtime"].readiness()
        ok = bool(backends) and all(v == "ok" for v in backends.values())
        body = {"status": "ready" if ok else "not ready", "backends": backends}
        return JSONResponse(body, status_code=200 if ok else 503)

    return app


def _allowed(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at the request's path."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods |= set(route_methods)
    return sorted(methods)


def _error_handlers(app: FastAPI) -> None:
    """Every error is JSON with an ``error`` that says what is wrong; pages get HTML."""

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> Response:
        return error_page(site_of(request, request.app.state.kg.settings), exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        body = detail if isinstance(detail, dict) else {"error": str(detail)}
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:  # Starlette names only the first route's methods
            headers["Allow"] = ", ".join(_allowed(app, request))
        return JSONResponse(body, status_code=exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        return JSONResponse(
            {"error": f"invalid request: {summary}", "detail": problems}, status_code=422
        )

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(
            {"error": "internal error", "detail": type(exc).__name__}, status_code=500
        )
