"""How well a graph candidate answers: limits and groups of related things, scored with
``Weights``."""

from __future__ import annotations

import re

from kg.answer.analysis import Analysis, counted_head, stems_overlap
from kg.answer.rows import LimitRow, RelatedRow
from kg.answer.weights import Weights
from kg.text.units import Dimension

Group = tuple[str, str, str | None]  # (entity, predicate, kind of the objects)

_RELATED_DIMENSIONS = {
    frozenset({Dimension.COUNT, Dimension.COUNT_PER_SECOND}),
    frozenset({Dimension.BITS_PER_SECOND, Dimension.BYTES_PER_SECOND}),
}


_OPPOSITE = {"max": "min", "min": "max"}


def limit_score(
    a: Analysis, row: LimitRow, sim: float, linked: dict[str, float], w: Weights
) -> float:
    """How well a limit answers: the asked dimension and bound, the question's words in
    its quantity and source sentence, the meaning of that sentence, and who it is about."""
    score = 0.0
    if a.dimension is not None and row.dimension is not None:
        if row.dimension == a.dimension:
            score += w.dimension_match
        else:
            related = frozenset({row.dimension, a.dimension}) in _RELATED_DIMENSIONS
            score += w.dimension_related if related else w.dimension_conflict
    if a.bound is not None:
        if a.bound in row.bounds:
            score += w.bound_match
        elif a.bound == "default":
            score += w.default_missing
        elif set(row.bounds) == {_OPPOSITE.get(a.bound)}:
            score += w.bound_opposite  # "the largest size" is no "at least 500 GB"
    elif "value" in row.bounds:
        score += w.exact_value
    if a.counted and row.dimension is Dimension.COUNT:
        # "the number of nodes": "450 nodes", not "30 managed node groups"
        score += w.counted_match if counts(a.counted, row, a.initials) else w.counted_other
    if re.search(r"\bhow\s+often\b|\bfrequen", a.question, re.I):
        interval = re.search(r"\b(?:interval|frequency)\b", row.quantity)
        score += w.interval_asked if interval else w.interval_missing
    named = (
        row.quantity if not row.per or row.per in row.quantity else f"{row.quantity} per {row.per}"
    )
    # Every word but the services' names says what is asked: "How many topics can an Event
    # Grid domain contain?" asks for "topics per domain", whatever "topics" and "domain" link.
    score += w.quantity_word * min(stems_overlap(a.asked, named), 3)
    score += w.source_word * min(stems_overlap(a.terms, row.source.text), 3)
    # The words right next to the amount qualify it, a number the question says most: "25%
    # for 1 year, 52% for 3 years".
    near = _near(row)
    numbers = set(re.findall(r"\d+", a.question)) & set(re.findall(r"\d+", near))
    score += w.near_word * (min(stems_overlap(a.asked, near), 2) + min(len(numbers), 1))
    score += w.limit_similarity * max(0.0, sim)
    score += w.own_limit if row.subject == row.entity else 0.0
    if row.subject != row.entity:
        # A tier, plan or type: "the Premium tier" asks for Premium's limit, not Standard's.
        asked = stems_overlap(a.words, row.subject_label) >= len(row.subject_label.split())
        score += w.subject_named if asked else w.subject_unnamed
    return score + w.linked * linked.get(row.subject, 0.0)


def group_score(
    a: Analysis,
    group: Group,
    members: list[RelatedRow],
    order: dict[str, int],
    kinds: dict[str, str],
    w: Weights,
) -> float:
    """How well a group of related things answers a list question: the relation asked
    for, the question's words in the group's kind and names, and the most specific
    entity (a feature the question names beats its service)."""
    entity, pred, kind = group
    score = 0.0
    if a.relation == "chargedBy":
        score += w.charged_asked if pred == "chargedBy" else w.charged_other
    elif a.relation == pred:
        score += w.relation_asked
    elif pred in ("chargedBy", "inCategory"):
        score += w.unasked_relation if a.relation is not None else w.unasked_relation_general
    if pred == "worksWith" and a.relation != "worksWith":
        score += w.works_with_unasked
    if pred == "inCategory":
        score += w.in_category
    score += w.kind_word * min(stems_overlap(a.terms, kind or ""), 2)
    score += w.member_word * min(stems_overlap(a.terms, " ".join(m.label for m in members)), 3)
    if kind and a.head and stems_overlap(set(a.head.split()), kind):
        score += w.head_in_kind
    if a.head and re.search(r"\bservices?\b", a.head) and all(m.is_service for m in members):
        score += w.services_asked
    score += w.entity_order * (len(order) - order.get(entity, 0)) / max(1, len(order))
    if "service" in kinds.values() and kinds.get(entity) == "feature":
        score += w.named_feature  # "Which RDS engines support read replicas?": the feature's list
    return score + w.group_size * min(len(members), 5)


def _near(row: LimitRow) -> str:
    """The clause of the source sentence that states the limit's amount: "52% for 3 years"
    of "25% for 1 year, 52% for 3 years"."""
    text, stated = row.source.text, row.stated
    at = text.find(stated) if stated else -1
    if at < 0:
        return ""
    bounds = [m.start() for m in re.finditer(r"[,;|(]|\.(?!\d)", text)]
    start = max((b + 1 for b in bounds if b < at), default=0)
    end = min((b for b in bounds if b >= at + len(stated)), default=len(text))
    return text[start:end]


def counts(counted: str, row: LimitRow, initials: str | None = None) -> bool:
    """Whether a limit counts the thing a question counts: "450 nodes" counts nodes, "30
    managed node groups" counts groups."""
    if row.dimension not in (Dimension.COUNT, Dimension.COUNT_PER_SECOND):
        return False
    heads = {counted_head(re.sub(r"^[\d.,\s]+", "", row.stated)), counted_head(row.quantity)}
    # An acronym's plural keeps its "s" through ``singular`` ("vcpus", "gpus"): compare stems.
    # A phrase may be counted by its initials: "processing units" by "100 PUs".
    written = {h.rstrip("s") for h in heads if h}
    return counted.rstrip("s") in written or (initials is not None and initials in written)
