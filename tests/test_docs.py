"""Docs that cannot drift: the weights table in docs/answering.md is the code's."""

import dataclasses
import re
from pathlib import Path

from kg.answer.weights import Thresholds, Weights

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _documented(header: str) -> dict[str, float]:
    text = (DOCS / "answering.md").read_text(encoding="utf-8")
    table = text.split(f"| {header} | value | meaning |", 1)[1].split("\n\n", 1)[0]
    return {m[1]: float(m[2]) for m in re.finditer(r"^\| `(\w+)` \| (-?[\d.]+) \|", table, re.M)}


def test_every_weight_and_threshold_is_documented_with_its_value() -> None:
    for header, values in (("threshold", Thresholds()), ("weight", Weights())):
        code = {f.name: getattr(values, f.name) for f in dataclasses.fields(values)}
        assert _documented(header) == code


def test_every_body_limit_is_documented() -> None:
    from api.guards import BODY_LIMITS, DEFAULT_LIMIT

    text = (DOCS / "security.md").read_text(encoding="utf-8")
    for path, limit in BODY_LIMITS:
        assert f"| `{path}` | {limit:,} bytes |" in text, path
    assert f"| anything else (`/ask`, ...) | {DEFAULT_LIMIT:,} bytes |" in text
