"""Reading an answer out of passages when the graph has none: the sentence that states an
amount of the asked kind about the thing the question names, and whether a passage is about
that thing at all.

A quantitative question ("how long", "how big", "how many", "how much") names an entity and
asks for a dimension (seconds, bytes, a count of something, dollars). When no limit in the
graph fits, the best passages' sentences are read: each sentence that states a quantity of
that dimension (counting the thing asked, for a count), in a passage about the entity, is a
candidate, scored by its meaning's closeness to the question, the question's words in it, and
the bound asked ("by default", "at most"). The sentence is the answer and its span the
citation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from kg.answer.analysis import Analysis, counted_head, stems_overlap
from kg.answer.catalog import Catalog
from kg.answer.weights import Weights
from kg.model import Hit
from kg.search.passages import Passage
from kg.text.phrases import list_names, looks_like_name_list, split_list
from kg.text.quantities import find_quantities
from kg.text.units import Dimension, Quantity
from kg.text.words import MAX_WORD, MIN_WORD

_RELATED = {
    Dimension.COUNT: {Dimension.COUNT_PER_SECOND},
    Dimension.COUNT_PER_SECOND: {Dimension.COUNT},
    Dimension.BITS_PER_SECOND: {Dimension.BYTES_PER_SECOND},
    Dimension.BYTES_PER_SECOND: {Dimension.BITS_PER_SECOND},
}
_BOUND_CUES = {
    "default": re.compile(r"\bdefaults?\b|\bby default\b", re.I),
    "max": re.compile(rf"\b{MAX_WORD}\b|\bup\s*to\b|\blimit\b|\bat most\b|\bcap\b", re.I),
    "min": re.compile(rf"\b{MIN_WORD}\b|\bat least\b", re.I),
}
_ENTITY_KINDS = ("service", "feature")
SENTENCES_PER_PASSAGE = 6
PASSAGES_READ = 5


class Sentences(Protocol):
    def best_sentences(self, query_vector: np.ndarray, hit: Hit) -> list[tuple[float, Passage]]:
        """The sentences of a hit, most similar first."""
        ...


@dataclass(frozen=True)
class Reading:
    """A sentence that answers, the amount in it that fits, and how well it answers."""

    sentence: Passage
    quantity: Quantity
    score: float
    similarity: float


def named_entities(a: Analysis) -> list[str]:
    """The services and features a question names, most specific first."""
    return [e.iri for e in a.entities if e.kind in _ENTITY_KINDS]


def about(text: str, iris: Iterable[str], catalog: Catalog) -> bool:
    """Whether a text (a passage with its headings) names one of these entities, or the
    service a named feature belongs to together with the feature's own words."""
    for iri in iris:
        entry = catalog.entries.get(iri)
        if entry is None:
            continue
        if any(_names(name).search(text) for name in {entry.label, *entry.names}):
            return True
    return False


def names_another(text: str, iris: Iterable[str], catalog: Catalog) -> bool:
    """Whether a text names a service other than these (or the services they belong to)."""
    if not iris:
        return False
    own = set(iris)
    for iri in iris:
        own |= catalog.owner_services(iri)
    for m in catalog.matcher.find(text):
        entry = catalog.entries.get(m.keys[0])
        if entry is not None and entry.kind == "service" and not own & set(m.keys):
            return True
    return False


@lru_cache(maxsize=8192)
def _names(name: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in re.findall(r"[A-Za-z0-9]+", name)]
    return re.compile(r"(?<![A-Za-z0-9])" + r"[\s/_-]*".join(words) + r"(?![A-Za-z0-9])", re.I)


def fits(q: Quantity, a: Analysis, sentence: str) -> float:
    """How well an amount is of the kind asked: 1 for the dimension (counting the thing a
    count question counts), 0.9 for a data rate in the other unit (bits, bytes), 0.5 for a
    count rate of the thing asked, 0 otherwise."""
    if a.dimension is None:
        return 0.0
    counts = (Dimension.COUNT, Dimension.COUNT_PER_SECOND)
    if q.dimension is a.dimension:
        fit = 1.0
    elif q.dimension in _RELATED.get(a.dimension, ()) and q.dimension not in counts:
        fit = 0.9  # a data rate in bits for one asked in bytes: "1.25 gigabits per second"
    elif q.dimension in _RELATED.get(a.dimension, ()) and stems_overlap(a.words, q.noun or ""):
        fit = 0.5  # "3,000 IOPS" for a rate of IOPS asked; not "one piece" of anything
    else:
        return 0.0
    if q.dimension in (Dimension.COUNT, Dimension.COUNT_PER_SECOND):
        if a.counted:
            head = counted_head(q.noun or "")
            if q.noun and head != a.counted:
                return 0.0  # "How many workspaces ..." is not answered by "one region"
            if not q.noun and not stems_overlap({a.counted}, sentence):
                return 0.0  # a bare number counts what its sentence names
        elif q.noun and not stems_overlap(a.words, q.noun):
            return 0.0  # a count of something the question does not name ("one piece")
    return fit


def read_amounts(
    a: Analysis,
    hits: Sequence[Hit],
    sentences: Sentences,
    qvec: np.ndarray,
    catalog: Catalog,
    w: Weights,
) -> list[Reading]:
    """The sentences of the top passages that state an amount of the asked kind about the
    entity the question names (see the module docstring), best first."""
    named = bool(named_entities(a))
    found: list[Reading] = []
    for rank, sim, sent, in_sentence in _sentences_about(a, hits, sentences, qvec, catalog):
        amounts = [(fits(q, a, sent.text), q) for q in find_quantities(sent.text)]
        amounts = [(f, q) for f, q in amounts if f > 0]
        if not amounts:
            continue
        fit, quantity = max(amounts, key=lambda t: t[0])
        score = w.reader_similarity * sim + w.reader_fit * fit
        score += w.reader_word * min(stems_overlap(a.terms, sent.context), 3)
        if a.bound and _BOUND_CUES[a.bound].search(sent.text):
            score += w.reader_bound
        if named and in_sentence:
            score += w.reader_named
        score += w.reader_rank * rank
        found.append(Reading(sent, quantity, score, sim))
    return sorted(found, key=lambda r: -r.score)


def _sentences_about(
    a: Analysis, hits: Sequence[Hit], sentences: Sentences, qvec: np.ndarray, catalog: Catalog
) -> Iterator[tuple[int, float, Passage, bool]]:
    """The closest sentences of the top passages that are about what the question names:
    (the passage's rank, the sentence's cosine, the sentence, whether it names the thing
    itself). A sentence that names other services and not this one is skipped, though its
    passage may be about it ("if you have an RDS instance ..." in a passage about S3)."""
    named = named_entities(a)
    for rank, hit in enumerate(hits[:PASSAGES_READ]):
        passage_about = not named or about(f"{hit.section or ''}\n{hit.text}", named, catalog)
        for sim, sent in sentences.best_sentences(qvec, hit)[:SENTENCES_PER_PASSAGE]:
            in_sentence = not named or about(sent.text, named, catalog)
            if not in_sentence and names_another(sent.text, named, catalog):
                continue
            if in_sentence or passage_about or about(sent.context, named, catalog):
                yield rank, sim, sent, in_sentence


@dataclass(frozen=True)
class ListReading:
    """A sentence that lists names, the names, and how well it answers a list question."""

    sentence: Passage
    items: list[str]
    score: float


_ANSWER_MARK = re.compile(r"^\s*(?:A|Answer)\s*[:.]\s*", re.I)


def read_lists(
    a: Analysis,
    hits: Sequence[Hit],
    sentences: Sentences,
    qvec: np.ndarray,
    catalog: Catalog,
    w: Weights,
) -> list[ListReading]:
    """The sentences of the top passages, about the thing the question names, that list
    names ("A: AMQP, STOMP, MQTT, OpenWire and WebSocket", "Engines: MySQL, PostgreSQL"),
    best first: scored by meaning (the sentence with its headings), the question's words in
    them, and how many names they list."""
    found: list[ListReading] = []
    for rank, sim, sent, _ in _sentences_about(a, hits, sentences, qvec, catalog):
        text = _ANSWER_MARK.sub("", sent.text)
        colon = text.find(": ")
        body = text[colon + 2 :] if 0 < colon < 80 else text
        items = list_names([i for i, _, _ in split_list(body)])
        if len(items) < 2 or not looks_like_name_list(items):
            continue
        score = w.reader_similarity * sim + w.list_items * min(len(items), 5)
        score += w.reader_word * min(stems_overlap(a.terms, sent.context), 3)
        score += w.reader_rank * rank
        found.append(ListReading(sent, items, score))
    return sorted(found, key=lambda r: -r.score)
