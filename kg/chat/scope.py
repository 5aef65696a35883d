"""What the notes do not cover: a cloud they say nothing about ("Oracle Cloud Infrastructure
Monitoring"), or a name they never use ("Azure Data Explorer"), named as the user wrote it."""

from __future__ import annotations

import re

from kg.answer.analysis import QUESTION_WORDS, Analysis
from kg.answer.catalog import Catalog
from kg.text.words import STOPWORDS

__all__ = ["PROVIDERS", "provider_of", "uncovered_name"]

# The clouds the notes can cover, by the first word of a service's name.
PROVIDERS = (
    ("AWS", ("amazon", "aws")),
    ("Azure", ("azure", "microsoft")),
    ("Google Cloud", ("google", "cloud", "gcp")),
)
_COVERED_CLOUD_WORDS = frozenset({"google", "amazon", "aws", "azure", "microsoft"})
# "<Name> Cloud" names a cloud provider ("Oracle Cloud", "Alibaba Cloud", "IBM Cloud") unless
# the first word only describes a cloud ("Virtual Private Cloud").
_CLOUD = re.compile(r"\b(?P<name>[A-Z][\w&.-]*)\s+Cloud\b")
_NOT_A_PROVIDER = frozenset("private public hybrid virtual multi the my your our a any".split())


def provider_of(label: str) -> str | None:
    first = label.split()[0].lower() if label.split() else ""
    for name, words in PROVIDERS:
        if first in words:
            return name
    return None


def uncovered_name(question: str, analysis: Analysis, catalog: Catalog) -> str | None:
    """The name in ``question`` the notes do not cover, as written ("Alibaba Cloud's NAT
    Gateway"), or None. A cloud the notes never describe counts even when some of its words
    are known ("Oracle" is an RDS engine in the notes; "Oracle Cloud" is not)."""
    linked = [(e.start, e.end) for e in analysis.entities if e.start >= 0]
    for m in _CLOUD.finditer(question):
        word = m.group("name").lower()
        if word in _COVERED_CLOUD_WORDS or word in _NOT_A_PROVIDER or word in STOPWORDS:
            continue
        if any(s <= m.start() and m.end() <= e for s, e in linked):
            continue
        return name_around(question, m.start())
    for name in analysis.unknown:
        at = question.find(name)
        return name_around(question, at) if at >= 0 else name
    return None


def name_around(text: str, at: int) -> str:
    """The run of capitalised words (and numbers, "'s") around ``at``: "IBM" in "what does
    IBM Cloud Secrets Manager charge?" -> "IBM Cloud Secrets Manager"."""
    spans = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\w/&.+-]+(?:['’]s)?", text)]
    index = next((i for i, (s, e, _) in enumerate(spans) if s <= at < e), None)
    if index is None:
        return text[at:].split()[0] if text[at:].split() else text

    def name_like(i: int) -> bool:
        word = spans[i][2].rstrip(".")
        low = re.sub(r"['’]s$", "", word.lower())
        if low in QUESTION_WORDS or (low in STOPWORDS and not word[:1].isupper()):
            return False
        if i == 0 and low in STOPWORDS | QUESTION_WORDS | {"and", "so", "but"}:
            return False
        return word[:1].isupper() or any(c.isdigit() for c in word)

    start = end = index
    while start > 0 and name_like(start - 1) and not spans[start - 1][2].endswith(("'s", "’s")):
        start -= 1
    while end + 1 < len(spans) and name_like(end + 1) and not spans[end][2].endswith("?"):
        end += 1
    if start == 0 and spans[0][2].lower() in QUESTION_WORDS | STOPWORDS:
        start = min(index, 1)
    return text[spans[start][0] : spans[end][1]].rstrip("?.!,")
