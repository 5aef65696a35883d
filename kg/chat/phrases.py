"""The words of follow-ups: leads ("and", "what about"), pronouns, bounds, item references,
prepositional phrases; patterns and small text helpers that ``kg.chat.rules`` reads turns
with. No knowledge of the conversation or the graph."""

from __future__ import annotations

import re

from kg.answer.analysis import QUESTION_WORDS
from kg.text.words import STOPWORDS, singular

__all__ = [
    "AND",
    "BOUND_TEXT",
    "BOUND_WORDS",
    "HOW_MANY_OF_THEM",
    "ITEM_REF",
    "LEAD",
    "PHRASE",
    "QUESTION_START",
    "RESTRICT",
    "content_words",
    "contrast",
    "counted_phrase",
    "is_passage_question",
    "phrase_span",
    "pronoun_spans",
    "strip_lead",
    "swap_bound",
    "words_only",
]

# ---- patterns -------------------------------------------------------------------------------

# "And", "also", "what about", "and for" ... in front of an elliptical turn.
LEAD = re.compile(
    r"^\s*(?:(?:and|also|so|but|then|ok|okay)\b[\s,]*)+(?:(?:for|with|in|about)\b\s*)?"
    r"|^\s*(?:what|how)\s+about\b\s*|^\s*same\s+(?:for|with)\b\s*",
    re.I,
)
AND = re.compile(
    r"^\s*(?:(?:and|also|so|but|then|ok|okay)\b[\s,]*)+(?:what|how)?\s*(?:about\b)?\s*"
    r"|^\s*(?:what|how)\s+about\b\s*",
    re.I,
)
RESTRICT = re.compile(
    r"(?:\b(?P<prep>for|in|on|with|from)\s+)?"
    r"\b(?P<lead>which|what|how\s+many|do\s+any|does\s+any|are\s+any|is\s+any|can\s+any|any)"
    r"\s+of\s+(?:them|those|these|the\s+above|the\s+(?P<noun>[a-z][\w-]*s))\b"
    r"|^\s*of\s+(?:them|those|these)\s*,?\s*(?P<lead2>which|what|how\s+many)\b"
    r"|\b(?P<lead3>which)\s+(?P<ones>ones?)\b"
    r"|^\s*(?P<lead4>which)\s+(?=(?:is|are)\s+(?:the\s+)?\w)",  # "which is the default?"
    re.I,
)
ITEM_REF = re.compile(
    r"\bthe\s+(?P<words>[\w/+.-]+(?:\s+[\w/+.-]+){0,2}?)\s+(?:one|ones)\b"
    r"|\bthe\s+(?P<ordinal>first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th)\b",
    re.I,
)
_EXPLETIVE = re.compile(
    r"\b(?:is|was|isn't|would|will|does|did|do)\s+it\s+(?:\w+\s+){0,2}?(?:to|that|if|whether)\b"
    r"|\bit\s+(?:is|was|seems|depends|takes|makes)\b|\bit['’]s\b",
    re.I,
)
_DEMONSTRATIVE_NP = re.compile(
    r"\b(?:this|that|the\s+same)\s+(?:one|service|feature|thing|option)\b", re.I
)
_POSSESSIVE = re.compile(r"\b(?:its|their)\b", re.I)
_SINGULAR = re.compile(r"\bit\b", re.I)
_PLURAL = re.compile(r"\b(?:they|them)\b|\b(?:those|these)\b(?=\s*(?:[?.!,]|$))", re.I)
_BARE_DEMONSTRATIVE = re.compile(
    r"\b(?:is|are|was|does|do|did|about|for|of|with|on|in|use|using)\s+(?P<d>this|that)\b"
    r"(?=\s*(?:[?.!,]|$)|\s+(?:cost|costs|work|works|support|supports|charged|billed|priced|"
    r"run|runs|scale|scales|store|stores|keep|keeps)\b)",
    re.I,
)
HOW_MANY_OF_THEM = re.compile(r"\bhow\s+many\s+of\s+(?:them|those|these)\b", re.I)
BOUND_TEXT = re.compile(
    r"\bby\s+default\b|\bdefaults?\b|\bmax(?:imum)?\b|\bmin(?:imum)?\b|\bat\s+(?:most|least)\b|"
    r"\bup\s+to\b|\b(?:largest|biggest|longest|highest|smallest|shortest|lowest|least|most|"
    r"upper|lower)\b|\bhow\s+(?:far|high|low|big|large)\s+(?:can|does|do|will)\s+"
    r"(?:it|they|that|this)\s+(?:scale|go|grow|reach|get)\b",
    re.I,
)
BOUND_WORDS = {"default": "default", "max": "maximum", "min": "minimum"}
_BOUND_ADVERBS = {"default": "by default", "max": "at most", "min": "at least"}
_BOUND_SWAP = re.compile(
    r"\b(?P<adv>by\s+default|at\s+most|at\s+least|up\s+to)\b"
    r"|\b(?P<adj>default|max(?:imum)?|min(?:imum)?|largest|biggest|longest|highest|smallest|"
    r"shortest|lowest)\b",
    re.I,
)
QUESTION_START = re.compile(
    r"^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|do|does|did|can|"
    r"could|will|would|should|shall|may|might|must|has|have|had|tell|list|name|give|show)\b",
    re.I,
)
_PREPOSITIONS = "for|on|in|with|without|at|per|during|over|under|from|via|when|if|after|before"
PHRASE = re.compile(rf"^\s*(?P<prep>{_PREPOSITIONS})\b\s*(?P<rest>.*)$", re.I)
# Words a follow-up swaps for their counterpart in the previous question ("And for reads?"
# after a write rate; "without affecting read availability" after write availability).
_CONTRASTS = (
    ("read", "write"),
    ("ingress", "egress"),
    ("inbound", "outbound"),
    ("upload", "download"),
    ("input", "output"),
    ("linux", "windows"),
    ("public", "private"),
)
PASSAGE = re.compile(
    r"^\s*(?:how\s+(?:does|do|is|are|can|did)\b.*\b(?:work|works|working|operate|operates|"
    r"function|functions|behave|behaves)\b|why\b|explain\b|describe\b|"
    r"what\s+(?:does|do)\b.*\b(?:mean|do)\s*[?.!]*\s*$)",
    re.I,
)
_FILLER = frozenset(
    "one ones value values setting settings please what's whats s about and also then ok okay "
    "for with".split()
)


def is_passage_question(text: str) -> bool:
    """ "How does X work?", "Why ...?": answered from passages, not by a fact about X."""
    return bool(PASSAGE.match(text))


def strip_lead(text: str, *, keep_question: bool = False) -> str:
    """ "And what about the default one?" -> "the default one?"."""
    out = text.strip()
    for _ in range(3):
        stripped = LEAD.sub("", out, count=1).strip()
        if stripped == out or not stripped:
            break
        if keep_question and not QUESTION_START.match(stripped):
            break
        out = stripped
    return out


def content_words(text: str) -> list[str]:
    """Words that carry meaning beyond question words, fillers and bounds."""
    words = re.findall(r"[A-Za-z0-9][\w'’-]*", text.lower())
    return [
        w
        for w in words
        if w not in STOPWORDS and w not in QUESTION_WORDS and w not in _FILLER and len(w) > 1
    ]


def words_only(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z0-9][\w+./-]*", text.lower()) if w not in _SKIP_WORDS]


_SKIP_WORDS = frozenset("same other another this that".split())


def contrast(word: str) -> str | None:
    low = singular(word.lower())
    for a, b in _CONTRASTS:
        if low == a:
            return b
        if low == b:
            return a
    return None


def phrase_span(text: str, prep: str) -> tuple[int, int] | None:
    """Where ``prep`` and its object stand in ``text`` ("on Premium SSD" in "What SLA does a
    single Azure VM on Premium SSD get?"): a name in capitals ends at its last capitalised
    word; anything else runs to the end of the clause."""
    m = re.search(rf"\b{prep}\b\s+", text, re.I)
    if m is None:
        return None
    tail = text[m.end() :]
    words = list(re.finditer(r"[^\s?.!,;]+", tail))
    if not words:
        return None
    end = m.end()
    in_name = False
    for w in words:
        token = w.group()
        if token.lower() in ("a", "an", "the") or token[0].isdigit():
            end = m.end() + w.end()
            continue
        capital = token[0].isupper() or any(c.isdigit() for c in token)
        if capital:
            in_name = True
            end = m.end() + w.end()
            continue
        if in_name:
            break
        end = m.end() + w.end()
        if re.search(r"[?.!,;]", tail[w.end() : w.end() + 1] or ""):
            break
    return m.start(), end


def pronoun_spans(text: str) -> list[tuple[int, int, str]]:
    """Pronouns that refer back: (start, end, kind) with kind singular|plural|possessive."""
    expletive = [m.span() for m in _EXPLETIVE.finditer(text)]
    taken: list[tuple[int, int, str]] = []

    def add(start: int, end: int, kind: str) -> None:
        if any(s <= start < e for s, e, _ in taken):
            return
        if kind == "singular" and any(s <= start < e for s, e in expletive):
            return
        taken.append((start, end, kind))

    for m in _DEMONSTRATIVE_NP.finditer(text):
        add(m.start(), m.end(), "singular")
    for m in _POSSESSIVE.finditer(text):
        add(m.start(), m.end(), "possessive")
    for m in _SINGULAR.finditer(text):
        add(m.start(), m.end(), "singular")
    for m in _PLURAL.finditer(text):
        add(m.start(), m.end(), "plural")
    for m in _BARE_DEMONSTRATIVE.finditer(text):
        add(m.start("d"), m.end("d"), "singular")
    return taken


def counted_phrase(text: str) -> str | None:
    """What the previous question counted: "How many copies of my data does Aurora keep?" ->
    "copies of my data"."""
    m = re.search(
        r"\bhow\s+many\s+(?P<p>.+?)\s+(?:does|do|did|can|could|is|are|will|would|should|fit)\b",
        text,
        re.I,
    )
    return m.group("p") if m else None


def swap_bound(text: str, bound: str) -> str:
    """The question with its bound words replaced ("maximum" -> "default"), or the bound added."""
    m = _BOUND_SWAP.search(text)
    if m is None:
        return f"{text.rstrip(' ?.!')} {_BOUND_ADVERBS[bound]}?"
    word = _BOUND_ADVERBS[bound] if m.group("adv") else BOUND_WORDS[bound]
    return text[: m.start()] + word + text[m.end() :]
