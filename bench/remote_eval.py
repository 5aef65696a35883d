"""The dev questions against remote stores and against the embedded ones, with the real model.

    python -m bench.remote_eval --score ../shared/eval/score.py
    python -m bench.remote_eval --score PATH/score.py --servers virtuoso --keep /tmp/run

What it does, all on this machine and offline:

1. ``kg build`` of the bundled notes into a data folder (embedded Oxigraph + FAISS), then a
   ``kg serve`` over it: the dev score and the ``/ask`` latency of the embedded store;
2. for each SPARQL server (``--servers``, default ``oxigraph,virtuoso``; ``tests/servers.py``
   starts them on free ports in throwaway folders: ``oxigraph serve --union-default-graph``,
   and Virtuoso 7 with the stock ini, updates through ``/sparql-auth`` with digest auth):
   ``kg build`` into the server plus a Qdrant folder (local mode), again (up to date), with
   ``--force``, and ``--graph-only --force`` (the graph write alone), counting the server's
   triples after each (they must not change); two ``kg serve`` replicas over it, each with its
   own empty data folder and its own copy of the Qdrant folder; the scorer against one, and the
   raw ``/ask`` answers of the two replicas (identical) and of remote and embedded (same
   answers, routes and facts) compared; ``/ask`` latency; then the server stopped under a
   replica (``/readyz`` and ``/ask`` time their 503 naming the graph) and started again.

``/ask`` latency, on a fresh ``kg serve`` before anything else asks it: every question once
after one warm-up question (the first asking: graph queries go to the store) and then twice
more (the engine keeps a build's graph answers, so these measure the rest), one at a time.
Prints a table; ``--json FILE`` writes everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import free_port, stop, wait_until
from tests.servers import SERVER_NAMES, SparqlServer, available, make_server

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def status(url: str, timeout: float = 5.0) -> int:
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError:
        return 0


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        raise SystemExit(f"`{name}` not found next to {sys.executable} or on PATH")
    return found


def kg(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``kg ARGS``; (seconds, its last line of output)."""
    started = time.monotonic()
    done = subprocess.run(
        [tool("kg"), *args], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"kg {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started, (done.stdout.strip().splitlines() or [""])[-1]


@contextlib.contextmanager
def serving(name: str, data: Path, env: dict[str, str], logs: Path) -> Iterator[str]:
    """``kg serve`` on a free port; yields its URL once /readyz answers 200."""
    port = free_port()
    with (logs / f"{name}.log").open("ab") as log_file:
        process = subprocess.Popen(
            [tool("kg"), "serve", "--data", str(data), "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited; see {logs / (name + '.log')}")
            return status(f"{url}/readyz") == 200

        seconds = wait_until(ready, name, 600, step=0.2)
        log(f"{name} ready on {url} after {seconds:.1f} s")
        yield url
    finally:
        stop(process, 20)


def score(scorer: Path, url: str, questions: list[Path], out: Path) -> str:
    """The scorer's summary line for the service at ``url``."""
    cmd = [sys.executable, str(scorer), "--url", url, "--json", str(out)]
    for q in questions:
        cmd += ["--questions", str(q)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("score:")]
    if not lines:
        raise RuntimeError(f"the scorer printed no score:\n{done.stdout}\n{done.stderr}")
    return lines[-1]


def passes(scored: Path) -> dict[str, bool]:
    """Question id -> passed, from the scorer's ``--json`` file."""
    return {r["id"]: bool(r["pass"]) for r in json.loads(scored.read_text("utf-8"))}


def ask_all(url: str, questions: list[str]) -> list[dict[str, Any]]:
    with httpx.Client(timeout=60) as client:
        return [client.post(f"{url}/ask", json={"question": q}).json() for q in questions]


# Neither is among the dev questions. The engine keeps the graph answers of a build, so the
# outage question must be one the replica has not been asked: else it is answered from memory.
WARM_UP = "How many Elastic IP addresses can an AWS account have per region?"
OUTAGE_QUESTION = "How long can an Amazon Glacier retrieval take?"


def latency(url: str, questions: list[str], rounds: int = 3) -> dict[str, float]:
    """/ask p50 in ms: the first asking of each question, and the later rounds."""
    times: list[list[float]] = []
    with httpx.Client(timeout=60) as client:
        client.post(f"{url}/ask", json={"question": WARM_UP}).raise_for_status()
        for _ in range(rounds):
            took = []
            for q in questions:
                started = time.perf_counter()
                client.post(f"{url}/ask", json={"question": q}).raise_for_status()
                took.append(time.perf_counter() - started)
            times.append(took)
    return {
        "ask_p50_first_ms": statistics.median(times[0]) * 1e3,
        "ask_p50_again_ms": statistics.median(t for ts in times[1:] for t in ts) * 1e3,
    }


def rounded(value: Any) -> Any:
    """Scores to 4 decimals: FAISS and Qdrant sum float32 products in different orders."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


def differences(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Questions whose answers differ, by what differs."""
    out: dict[str, list[str]] = {}
    for x, y in zip(a, b, strict=True):
        for key in ("answer", "route", "facts", "sparql"):
            if rounded(x.get(key)) != rounded(y.get(key)):
                out.setdefault(key, []).append(x.get("question", "?"))
        if [p["id"] for p in x.get("passages", [])] != [p["id"] for p in y.get("passages", [])]:
            out.setdefault("passage ranking", []).append(x.get("question", "?"))
    return out


def outage(url: str, server: SparqlServer, question: str) -> dict[str, float]:
    """Stop the graph server under a running replica, then start it again: seconds taken."""
    timings: dict[str, float] = {}
    server.stop()
    with httpx.Client(timeout=30) as client:
        started = time.monotonic()
        ready = client.get(f"{url}/readyz")
        timings["readyz_503_s"] = time.monotonic() - started
        assert ready.status_code == 503 and "graph" in ready.json()["backends"], ready.text
        started = time.monotonic()
        answer = client.post(f"{url}/ask", json={"question": question})
        timings["ask_503_s"] = time.monotonic() - started
        assert answer.status_code == 503 and answer.json()["backend"] == "graph", answer.text
        timings["server_start_s"] = server.start()
        back = time.monotonic()
        wait_until(lambda: client.get(f"{url}/readyz").status_code == 200, "recovery", 30, 0.01)
        timings["ready_again_after_s"] = time.monotonic() - back
        started = time.monotonic()
        answer = client.post(f"{url}/ask", json={"question": question})
        timings["first_ask_after_s"] = time.monotonic() - started
        assert answer.status_code == 200, answer.text
    return timings


def server_env(server: SparqlServer) -> dict[str, str]:
    env = {f"KG_{k.upper()}": str(v) for k, v in server.settings_values().items()}
    return env


def remote_run(
    name: str,
    work: Path,
    base_env: dict[str, str],
    context: dict[str, Any],
) -> dict[str, Any]:
    """Everything measured against one SPARQL server."""
    result: dict[str, Any] = {}
    server = make_server(name, work / name)
    result["server_start_s"] = server.start()
    log(f"{name} on {server.url} (started in {result['server_start_s']:.1f} s)")
    remote_env = {
        **base_env,
        **server_env(server),
        "KG_VECTOR_STORE": "qdrant",
        "KG_QDRANT_URL": str(work / f"{name}-qdrant"),
    }
    builder = str(work / f"{name}-builder")
    try:
        builds = []
        for label, extra in (
            ("first", []),
            ("again", []),
            ("force", ["--force"]),
            ("graph-only force", ["--graph-only", "--force"]),
        ):
            seconds, line = kg(["build", "--data", builder, *extra], remote_env)
            builds.append({"build": label, "seconds": seconds, "triples": server.count()})
            log(f"{name} build ({label}): {seconds:.1f} s, {builds[-1]['triples']} triples: {line}")
        result["builds"] = builds
        result["idempotent"] = len({b["triples"] for b in builds}) == 1

        replica_env = []
        for i in (1, 2):
            copy = work / f"{name}-qdrant-{i}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(work / f"{name}-qdrant", copy)
            env = {**remote_env, "KG_QDRANT_URL": str(copy)}
            del env["KG_SPARQL_UPDATE_URL"]  # replicas only read
            replica_env.append(env)
        logs = work / "logs"
        with (
            serving(f"{name}-1", work / f"{name}-replica-1", replica_env[0], logs) as one,
            serving(f"{name}-2", work / f"{name}-replica-2", replica_env[1], logs) as two,
        ):
            result.update(latency(one, context["texts"]))  # before anything else asks
            result["score"] = score(
                context["scorer"], one, context["questions"], work / f"score-{name}.json"
            )
            log(f"{name}: {result['score']}")
            result["same_pass_fail"] = (
                passes(work / f"score-{name}.json") == context["embedded_passes"]
            )
            answers = [ask_all(url, context["texts"]) for url in (one, two)]
            result["replicas_identical"] = answers[0] == answers[1]
            result["differences_from_embedded"] = differences(
                answers[0], context["embedded_answers"]
            )
            result["outage"] = outage(one, server, OUTAGE_QUESTION)
    finally:
        server.stop()
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--score", type=Path, required=True, help="the scorer, e.g. eval/score.py")
    ap.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="JSONL question sets (default: dev.jsonl next to the scorer)",
    )
    ap.add_argument("--servers", default=",".join(SERVER_NAMES), help="comma-separated")
    ap.add_argument("--corpus", type=Path, default=None, help="notes to build (default: bundled)")
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "fake"])
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it")
    ap.add_argument("--json", type=Path, help="write the measurements here")
    args = ap.parse_args()
    servers = [s for s in args.servers.split(",") if s]
    for name in servers:
        missing = available(name) if name in SERVER_NAMES else f"unknown server {name!r}"
        if missing:
            raise SystemExit(missing)
    scorer = args.score.resolve()
    questions = [q.resolve() for q in args.questions or [scorer.parent / "dev.jsonl"]]
    texts = [
        json.loads(line)["question"]
        for q in questions
        for line in q.read_text("utf-8").splitlines()
        if line.strip()
    ]

    work = args.keep or Path(tempfile.mkdtemp(prefix="cloudkg-remote-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "logs").mkdir(exist_ok=True)
    results: dict[str, Any] = {"questions": len(texts), "embedder": args.embedder}
    base_env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "KG_EMBEDDER": args.embedder,
    }
    for key in [k for k in base_env if k.startswith("KG_") and k != "KG_EMBEDDER"]:
        del base_env[key]  # only what this script sets
    if args.corpus:
        base_env["KG_CORPUS"] = str(args.corpus.resolve())
    try:
        seconds, line = kg(["build", "--data", str(work / "embedded")], base_env)
        log(f"embedded build: {seconds:.1f} s: {line}")
        seconds_force, _ = kg(["build", "--data", str(work / "embedded"), "--force"], base_env)
        embedded: dict[str, Any] = {"build_first_s": seconds, "build_force_s": seconds_force}
        with serving("embedded", work / "embedded", base_env, work / "logs") as url:
            embedded.update(latency(url, texts))  # before anything else asks
            embedded["score"] = score(scorer, url, questions, work / "score-embedded.json")
            log(f"embedded: {embedded['score']}")
            embedded_answers = ask_all(url, texts)
        results["embedded"] = embedded
        context = {
            "scorer": scorer,
            "questions": questions,
            "texts": texts,
            "embedded_passes": passes(work / "score-embedded.json"),
            "embedded_answers": embedded_answers,
        }
        for name in servers:
            results[name] = remote_run(name, work, base_env, context)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    report(results, servers)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), "utf-8")
    ok = all(
        results[n]["same_pass_fail"]
        and results[n]["replicas_identical"]
        and results[n]["idempotent"]
        for n in servers
    )
    return 0 if ok else 1


def report(results: dict[str, Any], servers: list[str]) -> None:
    embedded = results["embedded"]
    print(
        "| store | first build | forced rebuild | graph-only rebuild | /ask p50 first | "
        "/ask p50 again | dev score |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| embedded (Oxigraph in-process + FAISS) | {embedded['build_first_s']:.1f} s | "
        f"{embedded['build_force_s']:.1f} s | - | {embedded['ask_p50_first_ms']:.1f} ms | "
        f"{embedded['ask_p50_again_ms']:.1f} ms | {embedded['score']} |"
    )
    for name in servers:
        r = results[name]
        b = {x["build"]: x["seconds"] for x in r["builds"]}
        print(
            f"| {name} + Qdrant local | {b['first']:.1f} s | {b['force']:.1f} s | "
            f"{b['graph-only force']:.1f} s | {r['ask_p50_first_ms']:.1f} ms | "
            f"{r['ask_p50_again_ms']:.1f} ms | {r['score']} |"
        )
    for name in servers:
        r = results[name]
        print(
            f"{name}: same questions pass and fail as embedded: {r['same_pass_fail']}; "
            f"two replicas identical: {r['replicas_identical']}; "
            f"answers differ from embedded in: {r['differences_from_embedded'] or 'nothing'}; "
            f"triples {[b['triples'] for b in r['builds']]}"
        )
        print(f"{name} outage: " + ", ".join(f"{k} {v:.3f}" for k, v in r["outage"].items()))


if __name__ == "__main__":
    sys.exit(main())
