"""Scoring of one answer against one question, with the rules of the evaluation's scorer
(``score.py``): only the first 400 characters of an answer count; a fact matches one of its
regexes; a list recalls every item and names no forbidden one; a passage question finds its
evidence in the top k passages; a ``none`` question is answered with route ``none``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ANSWER_CAP = 400
CONFIDENT = 0.8


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _any_match(patterns: list[str], text: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


def score_one(q: dict[str, Any], res: dict[str, Any], k: int = 5) -> dict[str, Any]:
    answer = (res.get("answer") or "")[:ANSWER_CAP]
    route = res.get("route")
    facts_text = json.dumps(res.get("facts") or [], ensure_ascii=False)
    out: dict[str, Any] = {
        "id": q["id"],
        "type": q["type"],
        "route": route,
        "confidence": res.get("confidence"),
    }
    kind = q["type"]
    if kind == "fact":
        out["pass"] = route != "none" and _any_match(q["answer"], answer)
        out["grounded"] = (
            route in ("graph", "hybrid")
            and bool(res.get("facts"))
            and _any_match(q["answer"], facts_text)
        )
    elif kind == "list":
        hits = [_any_match(alts, answer) for alts in q["items"]]
        forbidden = [alts for alts in q.get("forbidden", []) if _any_match(alts, answer)]
        out["recall"] = sum(hits) / len(hits)
        out["pass"] = (
            route != "none" and out["recall"] >= q.get("min_recall", 1.0) and not forbidden
        )
        out["grounded"] = route in ("graph", "hybrid") and bool(res.get("facts"))
    elif kind == "passage":
        evidence = [_norm(e) for e in q["evidence"]]
        rank = next(
            (
                i + 1
                for i, p in enumerate((res.get("passages") or [])[:k])
                if any(e in _norm(p.get("text", "")) for e in evidence)
            ),
            None,
        )
        out["rank"] = rank
        out["pass"] = route != "none" and rank is not None
    elif kind == "none":
        out["pass"] = route == "none"
    else:
        raise ValueError(f"unknown question type {kind!r} in {q['id']}")
    return out


def load_questions(paths: Iterable[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracy, per type, grounded share of facts and lists, and how often a confident
    answer (confidence >= 0.8, route not ``none``) was right."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_type.setdefault(r["type"], []).append(r)
    structured = by_type.get("fact", []) + by_type.get("list", [])
    confident = [
        r
        for r in results
        if r.get("route") not in (None, "none") and (r.get("confidence") or 0) >= CONFIDENT
    ]
    return {
        "questions": len(results),
        "passed": sum(r["pass"] for r in results),
        "accuracy": sum(r["pass"] for r in results) / len(results) if results else 0.0,
        "types": {t: [sum(r["pass"] for r in rs), len(rs)] for t, rs in sorted(by_type.items())},
        "grounded": (
            sum(bool(r.get("grounded")) for r in structured) / len(structured)
            if structured
            else 0.0
        ),
        "confident": [sum(r["pass"] for r in confident), len(confident)],
        "false_abstain": sum(r.get("route") == "none" for r in results if r["type"] != "none"),
    }
