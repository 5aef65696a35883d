"""Small text utilities shared by extraction and question analysis: words, stems, fuzzy keys."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    let me more most my no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself i'm it's don't can't won't isn't aren't""".split()
)

# The bound words as notes write them, misspellings included ("maxium", "minumum").
MAX_WORD = r"max(?:imum|ium|imun)?"
MIN_WORD = r"min(?:imum|umum|imun)?"
BOUND_WORD = rf"(?:default|{MAX_WORD}|{MIN_WORD})"

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9#+.\-/']*[A-Za-z0-9#+]|[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokens(text: str, offset: int = 0) -> list[Token]:
    """Words with their offsets; keeps "S3", "Node.js", "C#", "X-Forwarded-For" whole."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        start, end = m.start(), m.end()
        # A trailing period ends a sentence rather than belonging to a word ("in S3.").
        while word.endswith((".", "'")) and len(word) > 1:
            word, end = word[:-1], end - 1
        out.append(Token(word, offset + start, offset + end))
    return out


def words(text: str) -> list[str]:
    return [t.lower for t in tokens(text)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, predictable stemmer: enough to make plurals and -ing/-ed forms meet."""
    w = word.lower()
    if len(w) <= 3 or not w.isalpha():
        return w.rstrip("s") if w.endswith("s") and len(w) > 2 and w[:-1].isalnum() else w
    for suffix, repl in (
        ("ies", "y"),
        ("sses", "ss"),
        ("xes", "x"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("ency", "ent"),
        ("ancy", "ant"),
        ("ies", "y"),
        ("s", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                return w
            return w[: len(w) - len(suffix)] + repl
    return w


def content_stems(text: str) -> set[str]:
    """Stems of the words that carry meaning (no stopwords)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def singular(word: str) -> str:
    """ "policies" -> "policy", "classes" -> "class", "VPCs" -> "VPC"; leaves others alone."""
    if len(word) <= 3:
        return word[:-1] if word.endswith("s") and word[:-1].isupper() else word
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3:].isupper() else "y")
    if lower.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


def norm_key(text: str) -> str:
    """Case-, space- and hyphen-insensitive key for matching names."""
    return re.sub(r"[\s\-_]+", " ", text.lower()).strip()


def compact_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def split_camel(word: str) -> str:
    """ "CloudWatch" -> "Cloud Watch"; "ElastiCache" -> "Elasti Cache"; "IoT" stays."""
    return re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", " ", word)


@lru_cache(maxsize=65536)
def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment), stopping early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def deletes(word: str) -> Iterator[str]:
    """All strings one deletion away (symmetric-delete fuzzy lookup)."""
    for i in range(len(word)):
        yield word[:i] + word[i + 1 :]


def squash(text: str) -> str:
    """Collapse runs of white space into one space (for display of exact spans)."""
    return " ".join(text.split())


@cache
def english_dictionary() -> frozenset[str]:
    """Lower-case English words (Webster's 2nd and GCIDE, from the ``english-words``
    package): what tells a coined product name ("Memorystore") from a heading of ordinary
    words ("Partitioning"). Read once per process."""
    from english_words import get_english_words_set

    return frozenset(get_english_words_set(["web2", "gcide"], lower=True, alpha=True))


def is_english(word: str, extra: frozenset[str] = frozenset()) -> bool:
    """A dictionary word, or an inflection of one: "retries", "provisioned", "sizing"."""
    w = word.lower()
    words = english_dictionary()
    if w in words or w in extra:
        return True
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ing", "e"), ("ion", ""), ("ion", "e")):
        if w.endswith(suffix) and w[: -len(suffix)] + repl in words:
            return True
    return any(w.endswith(s) and w[: -len(s)] in words for s in ("s", "es", "ed", "d", "er"))
