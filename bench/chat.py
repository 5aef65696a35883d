"""Latency of the OpenAI-compatible chat API with the real embedding model.

    python bench/chat.py                 # builds the bundled notes into a temporary folder
    python bench/chat.py --data data     # an existing build (`kg build`)

The app runs under uvicorn in this process (one worker, as `kg serve`); the official
``openai`` SDK talks to it over HTTP with one keep-alive client. For each typical question:
the time to the first streamed chunk (the role chunk, sent before the answer is computed),
to the first content chunk, and to the end of the stream (``[DONE]``), and the time of the
same request without streaming. A three-turn conversation (two follow-ups, each resolved by
re-reading the earlier user turns) is timed too. Reported: median and p90 over ``--runs``
timed runs after ``--warmup`` untimed ones.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn
from openai import OpenAI

from api.app import create_app
from kg.build import build
from kg.datadir import DataDir
from kg.serve.runtime import Runtime
from kg.settings import Settings

QUESTIONS = [
    "How long does SQS keep a message by default?",
    "Which database engines does RDS support?",
    "How is AWS Lambda charged?",
    "What is the maximum size of an S3 object?",
    "What is a NAT gateway used for?",
]
CONVERSATION = [
    "What is the maximum message retention period for SQS?",
    "And the default one?",
    "the minimum?",
]


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[str]:
    app = create_app(settings, runtime=Runtime(settings))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join()


def streamed(client: OpenAI, messages: list[dict[str, str]]) -> tuple[float, float, float]:
    """Seconds to the first chunk, to the first content chunk, and to the end."""
    start = time.perf_counter()
    first = content = 0.0
    stream = client.chat.completions.create(model="cloudkg", messages=messages, stream=True)
    for chunk in stream:
        now = time.perf_counter() - start
        first = first or now
        if not content and chunk.choices and chunk.choices[0].delta.content:
            content = now
    return first, content, time.perf_counter() - start


def plain(client: OpenAI, messages: list[dict[str, str]]) -> float:
    start = time.perf_counter()
    client.chat.completions.create(model="cloudkg", messages=messages)
    return time.perf_counter() - start


def conversation(client: OpenAI) -> float:
    """The last turn of a three-turn conversation (the client resends the history)."""
    messages: list[dict[str, str]] = []
    elapsed = 0.0
    for question in CONVERSATION:
        messages.append({"role": "user", "content": question})
        start = time.perf_counter()
        r = client.chat.completions.create(model="cloudkg", messages=messages)
        elapsed = time.perf_counter() - start
        messages.append({"role": "assistant", "content": r.choices[0].message.content or ""})
    return elapsed


def summary(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):7.1f} ms   p90 {p90:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a built data folder (default: build one)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        data = args.data
        if data is None:
            data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ckg-bench-")))
        settings = Settings(data=data, embedder="minilm")
        if DataDir(data).current() is None:
            started = time.perf_counter()
            build(settings)
            print(f"built the bundled notes in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        base_url = stack.enter_context(serving(settings))
        print(f"app ready (model loaded) in {time.perf_counter() - started:.1f} s\n")
        client = stack.enter_context(OpenAI(base_url=base_url, api_key="x", max_retries=0))

        first: list[float] = []
        content: list[float] = []
        full: list[float] = []
        whole: list[float] = []
        for i in range(args.warmup + args.runs):
            for question in QUESTIONS:
                messages = [{"role": "user", "content": question}]
                a, b, c = streamed(client, messages)
                d = plain(client, messages)
                if i >= args.warmup:
                    first.append(a)
                    content.append(b)
                    full.append(c)
                    whole.append(d)
        turns = [conversation(client) for _ in range(args.warmup + args.runs)][args.warmup :]

        n = args.runs * len(QUESTIONS)
        print(f"{len(QUESTIONS)} typical questions x {args.runs} runs ({n} samples each)")
        print(f"  stream: first chunk (role)     {summary(first)}")
        print(f"  stream: first content chunk    {summary(content)}")
        print(f"  stream: full reply ([DONE])    {summary(full)}")
        print(f"  no stream: full reply          {summary(whole)}")
        print(f"third turn of a conversation     {summary(turns)}")


if __name__ == "__main__":
    main()
