"""Shared by the benchmarks: servers in subprocesses, load, percentiles, memory."""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    check: Callable[[], bool], what: str, seconds: float = 60, step: float = 0.05
) -> float:
    """Poll ``check`` (an HTTP error counts as not yet) until it holds; the seconds it took."""
    started = time.monotonic()
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return time.monotonic() - started
        if time.monotonic() - started > seconds:
            raise TimeoutError(f"{what}: not after {seconds:g} s")
        time.sleep(step)


def stop(proc: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """Terminate a subprocess; kill it if it has not gone after ``seconds``."""
    proc.terminate()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Server:
    url: str
    pid: int


@contextlib.contextmanager
def server(module: str, args: Sequence[str], env: dict[str, str] | None = None) -> Iterator[Server]:
    """``python -m module --port P ...`` in a subprocess, ready when /healthz answers."""
    port = free_port()
    cmd = [sys.executable, "-m", module, "--port", str(port), *args]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url, proc), f"{module} on {port}", seconds=120)
        yield Server(url, proc.pid)
    finally:
        stop(proc, 15)


def _healthy(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise RuntimeError(f"server exited with {proc.returncode}: {err[-2000:]}")
    try:
        return httpx.get(f"{url}/healthz", timeout=2).is_success
    except httpx.HTTPError:
        return False


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Load:
    p50: float  # seconds
    p95: float
    rps: float
    n: int
    slowest: float  # seconds: what a median hides (one pathological question)


def load(
    call: Callable[[httpx.Client, str], None],
    questions: Sequence[str],
    concurrency: int,
    requests: int,
) -> Load:
    """``requests`` calls spread over ``concurrency`` threads, each with its own keep-alive
    client; latencies per call and throughput over the wall time."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        with httpx.Client(timeout=60) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                start = time.perf_counter()
                call(client, questions[i % len(questions)])
                with lock:
                    latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return Load(
        statistics.median(latencies),
        percentile(latencies, 0.95),
        len(latencies) / wall,
        len(latencies),
        max(latencies),
    )


def ask_call(url: str) -> Callable[[httpx.Client, str], None]:
    def call(client: httpx.Client, question: str) -> None:
        client.post(f"{url}/ask", json={"question": question}).raise_for_status()

    return call


def describe_call(url: str) -> Callable[[httpx.Client, str], None]:
    def call(client: httpx.Client, entity: str) -> None:
        client.post(f"{url}/v1/tools/describe", json={"entity": entity}).raise_for_status()

    return call


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result
