"""The API's own documentation pages, offline: Swagger UI at ``/docs`` and ReDoc at ``/redoc``
from the copies the ``fastapi-offline`` package ships (FastAPI's defaults load both from a CDN
and Google Fonts), and the pages' own assets under ``/static``."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web import CSP, STATIC

VENDORED = Path(fastapi_offline.__file__).resolve().parent / "static"
DOCS_ASSETS = "/static/docs"
REDOC_JS = "redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"  # the bundle's "by Redocly" footer


@cache
def _redoc_bundle() -> bytes:
    """ReDoc with its footer logo inline instead of from Redocly's CDN."""
    logo = base64.b64encode((STATIC / "favicon.svg").read_bytes()).decode()
    bundle = (VENDORED / REDOC_JS).read_bytes()
    return bundle.replace(REDOC_LOGO.encode(), f"data:image/svg+xml;base64,{logo}".encode())


def install(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and ``/static``; the app must be created with ``docs_url=None``
    and ``redoc_url=None``."""

    @app.get(f"{DOCS_ASSETS}/{REDOC_JS}", include_in_schema=False)
    async def redoc_bundle() -> Response:
        headers = {"Cache-Control": "public, max-age=86400"}
        return Response(_redoc_bundle(), media_type="text/javascript", headers=headers)

    # routes before mounts, the more specific mount first: Starlette takes the first match
    app.mount(DOCS_ASSETS, StaticFiles(directory=VENDORED), name="docs-assets")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} · API",
            oauth2_redirect_url=f"{root}{redirect_url}",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}/static/favicon.svg",
            # no badge that asks validator.swagger.io about the schema
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )
        page.headers["Content-Security-Policy"] = CSP
        return page

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} · API reference",
            redoc_js_url=f"{root}{DOCS_ASSETS}/{REDOC_JS}",
            redoc_favicon_url=f"{root}/static/favicon.svg",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = CSP + "; worker-src 'self' blob:"
        return page
