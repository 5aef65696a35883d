"""Shared dependencies of the routes: the runtime and its answer engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from kg.answer.engine import AnswerEngine
from kg.runtime import NotReadyError, Runtime
from kg.settings import Settings


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.kg.services["runtime"]
    return runtime


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.kg.settings
    return settings


def get_engine(runtime: Annotated[Runtime, Depends(get_runtime)]) -> AnswerEngine:
    try:
        return runtime.engine()
    except NotReadyError as exc:
        raise HTTPException(
            status_code=503,
            detail={"error": "not ready", "backend": exc.backend, "message": str(exc)},
        ) from exc


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[AnswerEngine, Depends(get_engine)]
