"""The HTTP surface: ``create_app(settings)`` wires the routes to one shared ``AppState``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from kg.datadir import DataDir
from kg.settings import Settings


@dataclass
class AppState:
    """What the routes share. Opened once in the lifespan, closed on shutdown."""

    settings: Settings
    data: DataDir
    services: dict[str, Any] = field(default_factory=dict)  # name -> opened backend


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    state = AppState(settings=settings, data=DataDir(settings.data))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for service in state.services.values():
            close = getattr(service, "close", None)
            if close is not None:
                close()

    app = FastAPI(
        title="cloudkg",
        summary="Knowledge graph and semantic search over cloud-architecture notes",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.kg = state

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process is up."""
        return {"status": "ok"}

    return app
