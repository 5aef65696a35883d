"""Amounts listed together share a unit: "1, 2, 5 (default) or 10 minutes" states four
durations, "2 or 3 AZs" two counts of AZs."""

from __future__ import annotations

import re
from dataclasses import replace

from kg.text.units import Dimension, Quantity

_LISTED = re.compile(
    r"\s*(?:\([^()]{0,20}\))?\s*(?:,\s*(?:or\s+|and\s+)?|\s+or\s+|\s+and\s+|\s*/\s*)$"
)


def share_units(text: str, found: list[Quantity]) -> list[Quantity]:
    """Bare numbers listed right before an amount with a unit (or a counted noun) take it."""
    out = list(found)
    for i in range(len(out) - 2, -1, -1):
        q, after = out[i], out[i + 1]
        bare = q.dimension is Dimension.COUNT and not q.noun and q.text.strip()[-1:].isdigit()
        united = after.dimension is not Dimension.COUNT or after.noun
        if bare and united and _LISTED.match(text[q.end : after.start]):
            out[i] = replace(q, unit=after.unit, noun=after.noun, per=after.per)
    return out
