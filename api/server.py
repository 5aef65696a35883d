"""Run an app the way ``kg serve`` does: one uvicorn worker, uvloop and httptools when
installed (uvicorn[standard]), access log on. The benchmarks serve through this too."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI


def run(app: FastAPI, host: str, port: int, *, access_log: bool = True) -> None:
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)
