"""Facts -> a short sentence in the notes' own units; search hits -> their best sentence."""

from __future__ import annotations

import re
from decimal import Decimal

from kg.text.quantities import find_quantities, find_ranges
from kg.text.units import Dimension, Quantity, format_value
from kg.text.words import STOPWORDS, squash, stem

_ORDER = {
    "max": ("max", "default", "min", "value"),
    "min": ("min", "default", "max", "value"),
    "default": ("default", "max", "min", "value"),
    None: ("value", "default", "max", "min"),
}


def plural(noun: str) -> str:
    """ "routing policy" -> "routing policies", "storage class" -> "storage classes"."""
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    return noun + "s"


def join_names(names: list[str]) -> str:
    names = list(dict.fromkeys(n for n in names if n))
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def amount(
    value: Decimal, dimension: Dimension, per: str | None = None, stated: str | None = None
) -> str:
    """An amount in the notes' own words when ``stated`` holds it ("24 hours", "1 min"),
    else in the unit that writes it shortest ("86400 s" -> "1 day")."""
    text = format_value(value, dimension)
    if stated:
        for q in _stated_amounts(stated):
            if q.dimension == dimension and q.base_value == value:
                text = " ".join(q.text.split())
                break
    return f"{text} per {per}" if per and dimension is Dimension.USD else text


def _stated_amounts(stated: str) -> list[Quantity]:
    found = list(find_quantities(stated))
    for r in find_ranges(stated):
        found += [r.low, r.high]
    return found


_PHRASES = {"max": "up to {}", "min": "at least {}", "default": "{} by default", "value": "{}"}


def describe_limit(
    bounds: dict[str, Decimal],
    dimension: Dimension,
    asked: str | None,
    per: str | None = None,
    stated: str | None = None,
) -> str:
    """ "up to 14 days (4 days by default, at least 1 min)" with the asked bound first, each
    amount as the notes state it (``stated``) when they do."""
    parts: list[str] = []
    done: set[str] = set()
    if "min" in bounds and "max" in bounds and asked not in ("min", "max"):
        low = amount(bounds["min"], dimension, stated=stated)
        parts.append(f"{low} to {amount(bounds['max'], dimension, per, stated)}")
        done |= {"min", "max"}
    for key in _ORDER.get(asked, _ORDER[None]):
        if key in done or key not in bounds:
            continue
        parts.append(_PHRASES[key].format(amount(bounds[key], dimension, per, stated)))
        done.add(key)
    if not parts:
        return ""
    head, rest = parts[0], parts[1:]
    return f"{head} ({', '.join(rest)})" if rest else head


def limit_sentence(subject: str, quantity: str, description: str) -> str:
    quantity = quantity.strip()
    if subject.lower() in quantity.lower():
        return f"{quantity[0].upper()}{quantity[1:]}: {description}."
    return f"{subject} {quantity}: {description}."


def best_sentence(text: str, question: str) -> str:
    """The sentence of a passage that shares most with the question (ties: the first)."""
    sentences = [
        s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(])|\n+", text) if s.strip()
    ]
    if not sentences:
        return squash(text)
    q = {stem(w) for w in re.findall(r"[A-Za-z0-9][\w-]*", question.lower()) if w not in STOPWORDS}
    scored = []
    for i, s in enumerate(sentences):
        words = {stem(w) for w in re.findall(r"[A-Za-z0-9][\w-]*", s.lower()) if w not in STOPWORDS}
        scored.append((len(q & words) / (1 + 0.02 * len(words)), -i, s))
    return squash(max(scored)[2])
