"""Blind conversation probes played through the chat API, scored like the question probes.

    python -m bench.conversations --half tuning            # build, play, score, time
    python -m bench.conversations --half holdout --data /tmp/ckg-holdout --verbose

``bench/probes/conversations-<half>.jsonl`` holds conversations written by someone who saw
only the notes: each line is ``{"id", "notes", "turns": [{"user", "type", ...}]}`` where a
turn carries the expectation of a scored question (``fact``: ``answer`` regexes; ``list``:
``items`` and ``forbidden``; ``passage``: ``evidence``; ``none``: out of scope).

What it does, in this process and offline:

1. builds the bundled notes plus ``bench/probes/<half>/notes/`` with the real model into
   ``--data`` (a temporary folder by default; an unchanged build is reused in a millisecond);
2. skips the conversations whose notes the build could not read (a format the parser does not
   know yet) and says how many;
3. plays every conversation through the real app (``POST /v1/chat/completions`` with the whole
   conversation, the earlier replies sent back as assistant turns, as a chat client does), once
   plain and once streamed, and checks that both give the same content and payload;
4. scores every turn with the rules of the shared scorer (``score.py``): only the first 400
   characters of the reply count; a fact regex must match the reply; a list needs every item
   and no forbidden one; a passage turn needs an evidence phrase in the reply or in the
   sentences it cites (the top passages of the payload are not enough: a reply that cites the
   wrong sentence answered a different question); a ``none`` turn needs route ``none`` and a
   reply that says the notes do not cover it. Answerable turns must not have route ``none``;
5. times each chat turn against ``POST /ask`` of the question it was resolved to (the
   ``cloudkg.question``), interleaved, and reports the ratio of the medians.

Follow-up turns (the second and later) are what the probes are for; first turns are plain
questions and are reported apart. A conversation is right when all its follow-ups are.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bench.common import ROOT
from bench.scoring import ANSWER_CAP, score_one

PROBES = ROOT / "bench" / "probes"
PASSAGES_K = 5
NOT_COVERED = re.compile(r"\bnotes\s+(?:don['’]t|do\s+not)\s+cover\b", re.I)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- scoring (the rules of the shared score.py, on a chat reply) ------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def score_turn(turn: dict[str, Any], content: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Pass or fail one turn: ``content`` is the reply's Markdown, ``payload`` its ``cloudkg``.
    Facts and lists as ``bench.scoring`` scores an answer (the reply in place of the answer);
    a passage turn needs its evidence in the reply or the sentences it cites, and a ``none``
    turn a reply that says the notes do not cover it."""
    out = score_one({"id": "", **turn}, {**payload, "answer": content}, PASSAGES_K)
    answer = content[:ANSWER_CAP]
    if turn["type"] == "passage":
        # The evidence must be in what the reply cites (its quotes) or says, not merely
        # somewhere in the passages that ride along: a cited wrong sentence is a wrong answer.
        evidence = [_norm(e) for e in turn["evidence"]]
        cited = [answer] + [str(c.get("quote", "")) for c in payload.get("citations") or []]
        out["cited"] = any(e in _norm(text) for text in cited for e in evidence)
        out["pass"] = payload.get("route") != "none" and out["cited"]
    elif turn["type"] == "none":
        out["pass"] = out["pass"] and bool(NOT_COVERED.search(answer))
    return out


# ---- playing conversations ----------------------------------------------------------------------


@dataclass
class Played:
    id: str
    turns: list[dict[str, Any]] = field(default_factory=list)

    @property
    def follow_ups(self) -> list[dict[str, Any]]:
        return self.turns[1:]

    @property
    def right(self) -> bool:
        return all(t["pass"] for t in self.follow_ups)


def _streamed(client: Any, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The content and the ``cloudkg`` payload of a streamed completion."""
    content: list[str] = []
    payload: dict[str, Any] = {}
    with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[len("data: ") :])
            if "error" in chunk:
                raise RuntimeError(f"stream error: {chunk['error']}")
            for choice in chunk.get("choices", []):
                content.append(choice.get("delta", {}).get("content") or "")
            payload = chunk.get("cloudkg", payload)
    return "".join(content), payload


def _time_ask(client: Any, question: str) -> float:
    started = time.perf_counter()
    client.post("/ask", json={"question": question}).raise_for_status()
    return time.perf_counter() - started


def _resolved(client: Any, messages: list[dict[str, str]]) -> str:
    """The question the last user turn resolves to, from the app's own engine."""
    from kg.chat.resolve import Conversation

    engine = client.app.state.kg.services["runtime"].engine()
    users = [m["content"] for m in messages if m["role"] == "user"]
    return Conversation(engine).resolve(users).text


def play(
    client: Any,
    conversation: dict[str, Any],
    timings: list[tuple[float, float]],
    quick: bool = False,
) -> Played:
    """Every turn of one conversation, plain and streamed, scored; follow-up timings appended
    to ``timings`` as (chat seconds, /ask seconds of the resolved question). ``quick`` plays
    each turn once, without the stream or the /ask timing."""
    played = Played(conversation["id"])
    messages: list[dict[str, str]] = []
    for index, turn in enumerate(conversation["turns"]):
        messages.append({"role": "user", "content": turn["user"]})
        body = {"model": "cloudkg", "messages": messages}
        ask_s = chat_s = 0.0
        # Alternate which goes first, so the engine's warm caches help both alike. The
        # question the turn resolves to is read beforehand (earlier turns are cached, the last
        # one is not answered by resolving).
        ask_first = not quick and index > 0 and len(timings) % 2 == 1
        if ask_first:
            ask_s = _time_ask(client, _resolved(client, messages))
        started = time.perf_counter()
        response = client.post("/v1/chat/completions", json=body)
        chat_s = time.perf_counter() - started
        response.raise_for_status()
        data = response.json()
        content = data["choices"][0]["message"]["content"] or ""
        payload = data["cloudkg"]
        if not quick and not ask_first:
            ask_s = _time_ask(client, payload["question"])
        if not quick and index:
            timings.append((chat_s, ask_s))
        streamed_content, streamed_payload = content, payload
        if not quick:
            streamed_content, streamed_payload = _streamed(client, body)
        result = score_turn(turn, content, payload)
        result.update(
            user=turn["user"],
            reply=content[:ANSWER_CAP],
            resolution=payload.get("resolution"),
            question=payload.get("question"),
            agree=streamed_content == content and streamed_payload == payload,
        )
        played.turns.append(result)
        messages.append({"role": "assistant", "content": content})
    return played


# ---- build and report ---------------------------------------------------------------------------


def load_conversations(half: str) -> list[dict[str, Any]]:
    path = PROBES / f"conversations-{half}.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def readable(conversation: dict[str, Any], read: set[Path]) -> bool:
    """Whether the build read every note the conversation is about."""
    return all((ROOT / note).resolve() in read for note in conversation["notes"])


def built_paths(data: Path) -> set[Path]:
    from kg.datadir import DataDir

    manifest = DataDir(data).manifest() or {}
    return {Path(d["path"]).resolve() for d in manifest.get("documents", {}).values()}


def summarise(
    half: str, played: list[Played], skipped: int, timings: list[tuple[float, float]]
) -> dict[str, Any]:
    follow = [t for p in played for t in p.follow_ups]
    first = [p.turns[0] for p in played]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for t in follow:
        by_type.setdefault(t["type"], []).append(t)
    chat = [c for c, _ in timings]
    ask = [a for _, a in timings]
    return {
        "half": half,
        "conversations": len(played),
        "skipped": skipped,
        "right": sum(p.right for p in played),
        "follow_ups": len(follow),
        "follow_ups_passed": sum(t["pass"] for t in follow),
        "by_type": {k: [sum(t["pass"] for t in v), len(v)] for k, v in sorted(by_type.items())},
        "first_turns_passed": sum(t["pass"] for t in first),
        "rewrites_shown": sum(t["resolution"] is not None for t in follow),
        "stream_agrees": sum(t["agree"] for p in played for t in p.turns),
        "turns": sum(len(p.turns) for p in played),
        "chat_p50_ms": statistics.median(chat) * 1e3 if chat else None,
        "ask_p50_ms": statistics.median(ask) * 1e3 if ask else None,
        "latency_ratio": statistics.median(chat) / statistics.median(ask) if chat else None,
        "latency_ratio_per_turn": (
            statistics.median(c / a for c, a in timings) if timings else None
        ),
    }


def report(s: dict[str, Any]) -> str:
    def pct(n: int, d: int) -> str:
        return f"{n}/{d} ({n / d:.0%})" if d else "0/0"

    types = ", ".join(f"{k} {a}/{b}" for k, (a, b) in s["by_type"].items())
    lines = [
        f"conversations ({s['half']}): {pct(s['right'], s['conversations'])} right"
        f" ({s['skipped']} skipped: notes the build cannot read yet)",
        f"  follow-up turns {pct(s['follow_ups_passed'], s['follow_ups'])}: {types}",
        f"  first turns {pct(s['first_turns_passed'], s['conversations'])}",
        f"  rewrites shown on {s['rewrites_shown']}/{s['follow_ups']} follow-ups;"
        f" streamed = plain on {s['stream_agrees']}/{s['turns']} turns",
    ]
    if s["latency_ratio"] is not None:
        lines.append(
            f"  follow-up latency: chat p50 {s['chat_p50_ms']:.1f} ms, /ask of the resolved"
            f" question p50 {s['ask_p50_ms']:.1f} ms: **{s['latency_ratio']:.2f}x**"
            f" (target at most 1.2x; median of per-turn ratios"
            f" {s['latency_ratio_per_turn']:.2f}x)"
        )
    return "\n".join(lines)


@contextlib.contextmanager
def app_client(settings: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kg.serve.runtime import Runtime

    with TestClient(create_app(settings, runtime=Runtime(settings))) as client:
        yield client


def run(
    half: str, data: Path, verbose: bool = False, quick: bool = False
) -> tuple[dict[str, Any], list[Played]]:
    from kg.build import build
    from kg.settings import DEFAULT_CORPUS, Settings

    settings = Settings(data=data, embedder="minilm")
    log(f"{half}: building the bundled notes and the probe notes into {data}")
    built = build(settings, [DEFAULT_CORPUS, PROBES / half / "notes"])
    log(f"{half}: {built.documents} documents ({built.seconds:.1f} s)")
    read = built_paths(data)
    conversations = load_conversations(half)
    playable = [c for c in conversations if readable(c, read)]
    skipped = len(conversations) - len(playable)
    timings: list[tuple[float, float]] = []
    played: list[Played] = []
    with app_client(settings) as client:
        for conversation in playable:
            played.append(play(client, conversation, timings, quick))
    if verbose:
        for p in played:
            for i, t in enumerate(p.turns):
                if t["pass"] and t["agree"]:
                    continue
                rewritten = t["question"] if t["question"] != t["user"] else ""
                print(f"FAIL {p.id}.{i + 1} [{t['type']}] {t['user']}")
                if rewritten:
                    rule = (t["resolution"] or {}).get("rule")
                    print(f"     read as ({rule}): {rewritten}")
                print(f"     route={t['route']} reply={t['reply'][:240]!r}")
                if not t["agree"]:
                    print("     streamed reply differs from the plain one")
    return summarise(half, played, skipped, timings), played


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("tuning", "holdout"), action="append")
    parser.add_argument("--data", type=Path, help="data folder to build into (default: temporary)")
    parser.add_argument("--verbose", action="store_true", help="print every failed turn")
    parser.add_argument("--json", type=Path, help="write every scored turn to this file")
    parser.add_argument("--quick", action="store_true", help="no stream check, no timing")
    args = parser.parse_args()
    halves = args.half or ["tuning", "holdout"]
    results: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        for half in halves:
            data = args.data / half if args.data else None
            if data is None:
                data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ckg-conv-")))
            summary, played = run(half, data, args.verbose, args.quick)
            results[half] = {"summary": summary, "conversations": [p.__dict__ for p in played]}
            print(report(summary), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
