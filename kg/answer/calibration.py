"""What ``confidence`` means: the probability that an answer is right, fitted on the blind
tuning probes (``python -m bench.calibrate``).

Every reading scores its candidates on its own scale (a limit's score, a list's, a
sentence's cosine); none of them is a probability. The last step of answering maps the
winning candidate to one with a logistic model over a few features that hold for every
kind of answer:

* ``kind``: which reading produced it (a limit from the graph, an enumerated list, an amount
  read from a sentence, a search sentence ...), each with its own bias;
* ``raw``: the reading's own score;
* ``coverage``: the share of the question's words (other than the names it links) that its
  evidence (the answer, the source sentences and their headings) contains;
* ``unnamed``: the question names a service or feature that its evidence never mentions;
* ``similarity``: the closest cosine of the question and one of the evidence's sentences;
* ``missing``: how rare (by idf over the passages) the rarest question word is that the
  evidence lacks;
* ``said``: the share of the question's words that the answer itself says (the answer and the
  sentences it quotes, not their headings): an answer about the service asked of, from a
  section about the thing asked, can still be about another of its limits ("secret value
  size" for a question on a policy's size).

An answer whose probability falls below ``Thresholds.answer`` is withheld: the route is
``none`` and the reason says the notes do not state it clearly enough.

The ``confidence`` an answer reports is that probability made cautious at the top: 0.8 is
where the tuning answers are right at least 97% of the time (``sure``), not 80%, because a
wrong answer given with confidence costs more than one withheld, and probabilities fitted on
the half the rules were tuned on are optimistic on notes nobody has seen (the holdout half
shows how much). Below 0.5 the two are the same; between, the map is linear. The
reliability table (confidence bucket -> share right) is in docs/answering.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Features:
    kind: str
    raw: float
    coverage: float
    unnamed: bool
    similarity: float = 0.0  # the closest cosine of the question and an evidence sentence
    said: float = 1.0  # the share of the question's words that the answer itself says
    missing: float = 0.0  # how rare the rarest question word the evidence lacks is (0-1)

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "raw": round(self.raw, 4),
            "coverage": round(self.coverage, 4),
            "unnamed": self.unnamed,
            "similarity": round(self.similarity, 4),
            "said": round(self.said, 4),
            "missing": round(self.missing, 4),
        }


@dataclass(frozen=True)
class Calibration:
    """The logistic model's coefficients (fitted by ``bench.calibrate``)."""

    bias_limit: float = -0.817  # an amount from a graph limit
    bias_agreed: float = -0.326  # a graph limit read from the sentence the reader chose too
    bias_related: float = -1.318  # a list of related things from the graph
    bias_enumeration: float = -0.559  # a list as the notes enumerate it
    bias_supported_by: float = 0.128  # what supports a named thing
    bias_used_for: float = -0.479  # which service is used for something
    bias_compare: float = 0.363  # a comparison across features
    bias_list_reader: float = 0.633  # a sentence that lists names
    bias_reader: float = -1.813  # an amount read from a sentence
    bias_search: float = 0.393  # the sentence of a passage
    raw: float = 1.162  # times the reading's own score
    coverage: float = 1.399  # times the share of the question's words in the evidence
    unnamed: float = -0.503  # the evidence never mentions the service or feature asked about
    similarity: float = 0.456  # times the closest cosine of the question and an evidence sentence
    said: float = 0.987  # times the share of the question's words the answer itself says

    missing: float = -0.909  # times how rare the rarest question word the evidence lacks is
    sure: float = 0.93  # the probability reported as confidence 0.8 (see the module's text)

    def confidence(self, f: Features) -> float:
        """The confidence reported with an answer: its probability, cautious at the top."""
        return cautious(self.probability(f), self.sure)

    def probability(self, f: Features) -> float:
        bias = getattr(self, f"bias_{f.kind}", self.bias_search)
        z = bias + self.raw * f.raw + self.coverage * f.coverage
        z += self.unnamed if f.unnamed else 0.0
        z += self.similarity * f.similarity
        z += self.said * f.said
        z += self.missing * f.missing
        return 1.0 / (1.0 + math.exp(-z))


KINDS = (
    "limit",
    "agreed",
    "related",
    "enumeration",
    "supported_by",
    "used_for",
    "compare",
    "reader",
    "list_reader",
    "search",
)


def cautious(p: float, sure: float) -> float:
    """``p`` mapped so that ``sure`` becomes 0.8, linearly on each side, 0.5 and 1 fixed.

    >>> round(cautious(0.88, 0.88), 3), cautious(0.4, 0.88), round(cautious(0.94, 0.88), 3)
    (0.8, 0.4, 0.9)
    """
    if p <= 0.5 or sure <= 0.5:
        return p
    if p <= sure:
        return 0.5 + (p - 0.5) * 0.3 / (sure - 0.5)
    return 0.8 + (p - sure) * 0.2 / (1.0 - sure)
