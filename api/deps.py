"""Shared dependencies of the routes: the runtime and its answer engine, and the one way a
backend that is down reaches a client: 503 ``{"error", "backend", "message"}``, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from kg.answer.engine import AnswerEngine
from kg.serve.runtime import NotReadyError, Runtime
from kg.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")

_UNAVAILABLE = {
    "build": "nothing has been built yet",
    "graph": "the graph store is unavailable",
    "vectors": "the vector store is unavailable",
}
RETRY_AFTER = "1"  # seconds: the runtime tries a failed backend again on the next call


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.kg.services["runtime"]
    return runtime


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.kg.settings
    return settings


def not_ready(exc: NotReadyError) -> HTTPException:
    """The 503 answered when ``exc.backend`` is missing or down."""
    return HTTPException(
        status_code=503,
        detail={
            "error": _UNAVAILABLE.get(exc.backend, f"the {exc.backend} is unavailable"),
            "backend": exc.backend,
            "message": exc.message,
        },
        headers={"Retry-After": RETRY_AFTER},
    )


async def get_engine(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AnswerEngine:
    """The live engine: straight from the event loop while it is fresh (the dependencies are
    async so a request does not hop threads for them), from the thread pool when the live
    build has to be checked or opened."""
    engine = runtime.fresh_engine()
    if engine is not None:
        return engine
    try:
        return await run_in_threadpool(runtime.engine)
    except NotReadyError as exc:
        raise not_ready(exc) from exc


async def run_engine(
    runtime: Runtime, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run a blocking engine call in the thread pool; a backend failing during it is a 503
    naming the backend (the stores' own timeouts bound the wait)."""
    try:
        return await run_in_threadpool(call, *args, **kwargs)
    except Exception as exc:
        failure = runtime.failure(exc)
        if failure is None:
            raise
        raise not_ready(failure) from exc


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[AnswerEngine, Depends(get_engine)]
