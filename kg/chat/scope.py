"""What the notes do not cover: a cloud they say nothing about ("Oracle Cloud Infrastructure
Monitoring"), or a name they never use ("Azure Data Explorer"), named as the user wrote it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg import vocab
from kg.answer.analysis import QUESTION_WORDS, Analysis
from kg.answer.catalog import Catalog
from kg.answer.engine import AnswerEngine
from kg.chat.builds import per_build
from kg.lexicon import Matcher
from kg.text.words import STOPWORDS

__all__ = ["PROVIDERS", "Coverage", "coverage", "provider_of", "uncovered_name"]

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


@dataclass(frozen=True)
class Coverage:
    """What the notes of one build mention: the services and features some passage is about
    (``mentioned``), the reference names of every service the catalog of services knows
    (``reference``), so that a service named in a question can be told apart from one the
    notes write about, and the notes' text, lowercased (``text``), to check a name in."""

    mentioned: frozenset[str]
    reference: Matcher | None
    text: str = ""
    # question -> the reference name it names that the notes do not write about (per build)
    unmentioned: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    def writes(self, name: str) -> bool:
        """Whether the notes write ``name``, with or without its cloud's word ("Private
        Link" for "Azure Private Link")."""
        words = name.split()
        while len(words) > 1 and words[0].lower() in _COVERED_CLOUD_WORDS | {"cloud"}:
            words = words[1:]
        short = " ".join(words).lower()
        return bool(re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", self.text))


# What the notes write about: an entity with passages of its own, or one that a triple read
# from a passage names (a service whose features the notes list); reference data in the
# lexicon and ontology graphs does not count.
_MENTIONED = (
    vocab.sparql_prefixes(("ckg", "prov"))
    + f"""
SELECT DISTINCT ?s WHERE {{
  VALUES ?t {{ ckg:Service ckg:Feature }}
  ?s a ?t .
  {{ ?s prov:wasDerivedFrom ?p }}
  UNION {{ GRAPH ?g {{ ?s ?x ?y }} FILTER(!STRSTARTS(STR(?g), "{vocab.GRAPH}")) }}
  UNION {{ GRAPH ?g {{ ?y ?x ?s }} FILTER(!STRSTARTS(STR(?g), "{vocab.GRAPH}")) }}
}}"""
)


@per_build
def coverage(engine: AnswerEngine) -> Coverage:
    """The coverage of one engine's build (computed once per build)."""
    mentioned = frozenset(row["s"].value for row in engine.store.select(_MENTIONED))
    lexicon = engine.catalog.lexicon
    reference = lexicon.matcher(engine.catalog.common, kinds=("service",)) if lexicon else None
    index = getattr(engine.retriever, "index", None)  # a search index with its passages
    passages = index.passages() if index is not None else []
    text = "\n".join(" ".join(p.context.split()).lower() for p in passages)
    return Coverage(mentioned, reference, text)


def uncovered_name(
    question: str, analysis: Analysis, catalog: Catalog, covered: Coverage | None = None
) -> str | None:
    """The name in ``question`` the notes do not cover, as written ("Alibaba Cloud's NAT
    Gateway"), or None. A cloud the notes never describe counts even when some of its words
    are known ("Oracle" is an RDS engine in the notes; "Oracle Cloud" is not); so does a
    service of the reference catalog that no passage is about ("Azure Data Explorer", "AWS
    IoT Core"), even where the graph holds its name or links a shorter name inside it."""
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
    if covered is not None and covered.reference is not None:
        if question not in covered.unmentioned:
            if len(covered.unmentioned) >= _MEMO:
                covered.unmentioned.clear()
            covered.unmentioned[question] = _unmentioned(question, analysis, covered)
        return covered.unmentioned[question]
    return None


_MEMO = 4096  # questions whose reference names are remembered per build


def _unmentioned(question: str, analysis: Analysis, covered: Coverage) -> str | None:
    """A reference service name in ``question`` that no passage is about and the notes never
    write (a service the graph knows only from the catalog of services), unless a name the
    notes do write about spans it."""
    assert covered.reference is not None
    spans = [
        (e.start, e.end) for e in analysis.entities if e.start >= 0 and e.iri in covered.mentioned
    ]
    for m in covered.reference.find(question):
        if m.fuzzy or any(k in covered.mentioned for k in m.keys):
            continue
        if any(s <= m.start and m.end <= e for s, e in spans) or covered.writes(m.text):
            continue
        return m.text
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
