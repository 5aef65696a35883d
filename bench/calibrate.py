"""Fit ``kg.answer.calibration.Calibration`` on the tuning probes and the questions over the
bundled notes (bench/questions-extra.jsonl), and print its reliability.

Every tuning question is asked with nothing withheld (``Thresholds.answer = 0``); each
answer's features (``Answer.analysis["via"]``) and whether it is right (scored like
``score.py``; any answer to a ``none`` question is wrong) fit a logistic model, L2-regularised,
by Newton's method. The withholding threshold is then the one that maximises the half's
score (an answer withheld is right only for a ``none`` question), and ``sure``, the
probability reported as confidence 0.8, the lowest above which 97% of the tuning answers are
right. Prints the coefficients as the ``Calibration`` and ``Thresholds.answer`` values to put
in kg/answer/calibration.py and kg/answer/weights.py, and the reliability table (confidence
bucket -> share right) of the fitted model on each half.

    python -m bench.calibrate                      # fit on tuning, report tuning and holdout
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT
from bench.probes import PROBES, build_half
from bench.scoring import load_questions, score_one
from kg.answer.calibration import KINDS, Calibration, Features
from kg.build import build
from kg.serve.runtime import Runtime
from kg.settings import DEFAULT_CORPUS, Settings

BUCKETS = ((0.0, 0.3), (0.3, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01))


BUNDLED = ROOT / "bench" / "questions-extra.jsonl"  # questions over the bundled notes alone


def observe(paths: list[Path], data: Path) -> list[dict[str, Any]]:
    """Each question: its type, the answer's features (None when there is no candidate at
    all) and whether the answer, given, is right."""
    runtime = Runtime(Settings(data=data))
    engine = runtime.engine()
    engine.thresholds = replace(engine.thresholds, answer=0.0)
    out = []
    for path in paths:
        for q in load_questions([path]):
            answer = engine.ask(q["question"])
            res = json.loads(json.dumps(asdict(answer), default=str))
            via = answer.analysis.get("via")
            if not isinstance(via, dict) or "raw" not in via:
                via = None  # the catalog, or a comparison of services: not a calibrated kind
            right = bool(score_one(q, res)["pass"]) and q["type"] != "none"
            out.append({"id": q["id"], "type": q["type"], "via": via, "right": right})
    runtime.close()
    return out


def _matrix(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for r in rows:
        via = r["via"]
        kinds = [1.0 if via["kind"] == k else 0.0 for k in KINDS]
        unnamed = 1.0 if via["unnamed"] else 0.0
        x.append(
            [
                *kinds,
                via["raw"],
                via["coverage"],
                unnamed,
                via.get("similarity", 0.0),
                via.get("said", 1.0),
                via.get("missing", 0.0),
            ]
        )
        y.append(1.0 if r["right"] else 0.0)
    return np.array(x), np.array(y)


def fit(rows: list[dict[str, Any]], l2: float = 1.0) -> Calibration:
    x, y = _matrix([r for r in rows if r["via"] is not None])
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + l2 * w
        hess = x.T @ (x * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    values = {f"bias_{k}": round(float(v), 3) for k, v in zip(KINDS, w[: len(KINDS)], strict=True)}
    raw, coverage, unnamed, similarity, said, missing = (
        round(float(v), 3) for v in w[len(KINDS) :]
    )
    return Calibration(
        **values,
        raw=raw,
        coverage=coverage,
        unnamed=unnamed,
        similarity=similarity,
        said=said,
        missing=missing,
    )


def probabilities(rows: list[dict[str, Any]], cal: Calibration) -> list[float | None]:
    return [None if r["via"] is None else cal.probability(Features(**r["via"])) for r in rows]


def sure_at(rows: list[dict[str, Any]], cal: Calibration, share: float = 0.97) -> float:
    """The lowest probability above which at least ``share`` of the answers are right: the
    one reported as confidence 0.8 (``Calibration.sure``)."""
    answered = sorted(
        ((cal.probability(Features(**r["via"])), r["right"]) for r in rows if r["via"]),
        reverse=True,
    )
    best, right = 1.0, 0
    for n, (p, ok) in enumerate(answered, start=1):
        right += ok
        if right / n >= share:
            best = p
    return round(max(best, 0.8), 2)


def confidences(rows: list[dict[str, Any]], cal: Calibration) -> list[float | None]:
    return [None if r["via"] is None else cal.confidence(Features(**r["via"])) for r in rows]


def score(rows: list[dict[str, Any]], probs: list[float | None], threshold: float) -> int:
    """Questions right when answers below ``threshold`` are withheld."""
    right = 0
    for r, p in zip(rows, probs, strict=True):
        answered = p is not None and p >= threshold
        right += r["right"] if answered else r["type"] == "none"
    return right


def best_threshold(sets: list[tuple[list[dict[str, Any]], list[float | None]]]) -> float:
    """The threshold with the best mean accuracy over the sets (each set counts alike: the
    bundled notes' questions as much as the probes')."""

    def mean_accuracy(t: float) -> float:
        return sum(score(rows, probs, t) / len(rows) for rows, probs in sets) / len(sets)

    candidates = [t / 100 for t in range(0, 96, 1)]
    return max(candidates, key=lambda t: (round(mean_accuracy(t), 6), -t))


# The threshold in use (Thresholds.answer) sits below the fitted one where that one gains only
# a few questions: an answer withheld from a question the bundled notes answer costs more on
# paraphrases than the probes show (see docs/answering.md).


def reliability(
    rows: list[dict[str, Any]], probs: list[float | None], threshold: float
) -> list[str]:
    lines = ["| confidence | answers | right |", "|---|---:|---:|"]
    for low, high in BUCKETS:
        sel = [r for r, p in zip(rows, probs, strict=True) if p is not None and low <= p < high]
        if low < threshold and high <= threshold:
            label = f"{low:.2f}–{min(high, 1):.2f} (withheld)"
        else:
            label = f"{low:.2f}–{min(high, 1):.2f}"
        share = f"{sum(r['right'] for r in sel) / len(sel):.0%}" if sel else "–"
        lines.append(f"| {label} | {len(sel)} | {share} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the observations here")
    args = ap.parse_args()
    halves = {}
    for half in ("tuning", "holdout"):
        data = ROOT / "data" / f"probes-{half}"
        build_half(half, data)
        halves[half] = observe(sorted((PROBES / half / "questions").glob("*.jsonl")), data)
    bundled = ROOT / "data" / "probes-bundled"
    build(Settings(data=bundled), [DEFAULT_CORPUS])
    halves["bundled"] = observe([BUNDLED], bundled)
    fitted = halves["tuning"] + halves["bundled"]
    cal = fit(fitted)
    cal = replace(cal, sure=sure_at(halves["tuning"], cal))
    probs = {h: probabilities(rows, cal) for h, rows in halves.items()}
    threshold = best_threshold(
        [(halves[h], probabilities(halves[h], cal)) for h in ("tuning", "bundled")]
    )
    print(
        "Calibration("
        + ", ".join(f"{f.name}={getattr(cal, f.name)}" for f in dataclasses.fields(cal))
        + ")"
    )
    print(f"Thresholds.answer = {threshold}")
    for half, rows in halves.items():
        right = score(rows, probs[half], threshold)
        print(f"\n{half}: {right}/{len(rows)} right with answers below {threshold} withheld")
        print("\n".join(reliability(rows, confidences(rows, cal), threshold)))
    if args.json:
        args.json.write_text(json.dumps(halves, indent=1), encoding="utf-8")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
