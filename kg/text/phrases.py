"""Shallow phrase heuristics for notes: lead terms, lists, names, kinds, noun phrases.

Notes are written in a compressed style ("Backup: one day retention period by default.",
"Types of queues:", "There are two types: interface and gateway"); these functions read that
style without a parser or a model. Offsets are always relative to the string given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.text.words import STOPWORDS, singular, squash

# Words that open a clause rather than a name ("We can ...", "How to ...").
_NOT_A_NAME_START = frozenset(
    """we you it they this these that those there here how what why when where if then also
    first now note so in on at for by from to with as and or but not no once each every all
    only just some any your our their its my his her one see use using run send track expose
    maintain connect throttle create go select enable set fill configure attach choose name
    edit change launch assign search purchase store trigger allow allows provide provides
    scale make let lets get give take""".split()
)
# An auxiliary verb (or "also") makes a phrase a clause: "Linux Consumption is being retired",
# "Container Apps hosting also exists" are no names.
_CLAUSE_WORD = re.compile(r"\b(?:is|are|was|were|can|will|must|should|have|has|also)\b")
_GENERIC_LEADS = frozenset(
    """type types kind kinds pricing price cost costs note notes example examples tip tips
    security summary basics overview limits limit use case use cases how to usage""".split()
)
# Head nouns that make a list a list of kinds of something.
KIND_WORDS = frozenset(
    """type kind class tier policy engine option mode model plan level family edition variant
    category protocol language runtime strategy method way concept component feature gateway
    endpoint replica queue distribution volume group format""".split()
)
_DETERMINERS = re.compile(
    r"^(?:(?:the|a|an|any|all|both|each|every|our|your|its|their|some|next|following|main|"
    r"more|other|two|three|four|five|six|seven|eight|nine|ten|several|multiple|\d+)\s+)+",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\s*\(([^()]*)\)")
_ENUM_MARK = re.compile(r"\(\d{1,2}\)\s*|\b\d{1,2}\)\s+")


@dataclass(frozen=True, slots=True)
class Lead:
    """ "Name: rest" at the start of a list item or sentence."""

    term: str
    start: int
    end: int
    rest_start: int


def lead_term(text: str) -> Lead | None:
    """The label before a colon that opens a note line, if it reads as a name."""
    m = re.match(r"\s*([^:.;!?\n]{1,70}?)\s*:(?!//)\s*", text)  # a label is on one line
    if not m or m.end() >= len(text.rstrip()):
        return None
    term = m.group(1).strip()
    words = term.split()
    if not words or len(words) > 7 or not (term[0].isupper() or term[0].isdigit()):
        return None
    if words[0].lower() in _NOT_A_NAME_START and words[0].lower() not in ("about",):
        return None
    if _CLAUSE_WORD.search(term):
        return None
    start = m.start(1)
    return Lead(term, start, start + len(term), m.end())


def is_generic_lead(term: str) -> bool:
    """A lead that names a heading or a kind of thing, not a thing: "Pricing:", "Features:",
    "Deployment types: Single-AZ and Multi-AZ"."""
    return (
        term.lower().strip() in _GENERIC_LEADS
        or bool(_KIND_LEAD.fullmatch(term.strip()))
        or is_aside(term)
    )


def is_aside(term: str) -> bool:
    """A lead that sets off a remark, not a thing: "Remember:", "Tip from lecture:"."""
    words = term.lower().split()
    return bool(words) and words[0] in _ASIDE_LEADS


_ASIDE_LEADS = frozenset(
    """remember important tip tips note nb warning caution hint reminder gotcha fyi careful
    beware watch""".split()
)


_KIND_LEAD = re.compile(
    r"(?:[\w-]+\s+){0,2}(?:types?|kinds?|class(?:es)?|tiers|modes|options|levels|features?|"
    r"flavou?rs?|variants?|sizes|frameworks|engines|protocols|runtimes|languages|formats|"
    # "Governance mode:" names a thing, "Storage type:" does not
    r"families|editions)(?:\s+(?:available|supported))?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Name:
    """A name as written in the notes, plus the variants worth matching."""

    label: str
    aliases: tuple[str, ...] = ()
    purpose: str | None = None  # "Read replicas for performance" -> "performance"
    is_default: bool = False  # "Standard (default)"


def clean_name(raw: str) -> Name | None:
    """Tidy a list item or lead term into a name: drop "About", articles, trailing punctuation;
    short acronyms in parentheses stay in the label and also become aliases; longer
    parentheticals become aliases ("FIFO (first-in-first-out)")."""
    text = " ".join(raw.replace("“", "").replace("”", "").replace('"', "").split())
    text = re.sub(r"^(?:about|by)\s+", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:available|enabled|supported)$", "", text.strip(" .,;:-–"), flags=re.I)
    if not text:
        return None
    purpose = None
    m = re.match(r"^(.{2,40}?)\s+for\s+([a-z][\w\s-]{2,40})$", text)
    if m and not _PAREN.search(m.group(2)):
        text, purpose = m.group(1), m.group(2).strip()
    aliases: list[str] = []
    is_default = False
    label = text
    for paren in _PAREN.finditer(text):
        inner = paren.group(1).strip()
        if inner.lower() in ("default", "the default", "by default"):
            is_default = True
            label = label.replace(paren.group(0), "")
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,7}", inner) and any(c.isupper() for c in inner):
            aliases.append(_PAREN.sub("", text).strip())
        elif inner:
            aliases.append(inner)
            label = label.replace(paren.group(0), "")
    label = _DETERMINERS.sub("", label.strip()).strip(" .,;:-–")
    if not label or len(label) > 60 or not re.search(r"[A-Za-z]", label):
        return None
    aliases = [a for a in dict.fromkeys(aliases) if a and a.lower() != label.lower()]
    return Name(label, tuple(aliases), purpose, is_default)


def kind_of(intro: str) -> str | None:
    """The kind of thing a list enumerates, from its intro or heading:
    "Types of queues:" -> "queue type"; "Storage Classes" -> "storage class";
    "RDS supports the next database engines:" -> "database engine";
    "There are two types:" -> "type".
    """
    text = intro.strip().rstrip(":").strip()
    if re.match(r"(?:about|for)\s", text, re.I):
        return None
    # "Engines supported", "Supported engines", "Available storage classes"
    text = re.sub(r"\s+(?:supported|available|offered|included)$", "", text, flags=re.I)
    text = re.sub(r"^(?:supported|available)\s+(?=\w)", "", text, flags=re.I)
    m = re.search(
        r"\b(types?|kinds?|classes|class|tiers?|levels?|modes?|options?)\s+of\s+([\w\s-]+?)\s*$",
        text,
        re.I,
    )
    if m:
        return f"{singular(m.group(2).split()[-1].lower())} {singular(m.group(1).lower())}"
    m = re.search(
        r"(?:^|:\s*|\b(?:are|have|has|offers?|supports?|provides?)\s+)([\w\s-]+?)\s*$", text, re.I
    )
    phrase = m.group(1) if m else text
    phrase = _DETERMINERS.sub("", phrase.strip()).strip()
    phrase = re.sub(r"^(?:there\s+are|we\s+have|it\s+has)\s+", "", phrase, flags=re.I)
    phrase = _DETERMINERS.sub("", phrase).strip()
    toks = phrase.split()
    if not toks or len(toks) > 4:
        return None
    last = toks[-1].lower()
    if singular(last) in KIND_WORDS or (
        last.endswith("s") and len(toks) <= 3 and last not in STOPWORDS
    ):
        return " ".join([*(t.lower() for t in toks[-2:-1]), singular(last)])
    return None


def split_list(text: str) -> list[tuple[str, int, int]]:
    """Items of an inline enumeration with offsets: "SQL Server, Oracle, MySQL and Aurora",
    "(1) Web Distribution: ...; and (2) RTMP: ...", "memcached or redis"."""
    text_end = _list_end(text)
    body = text[:text_end]
    if _ENUM_MARK.search(body):
        parts = [(m.end(), m.start()) for m in _ENUM_MARK.finditer(body)]
        spans = []
        for k, (start, _) in enumerate(parts):
            end = parts[k + 1][1] if k + 1 < len(parts) else len(body)
            chunk = body[start:end]
            cut = re.search(r":|;|\s+-\s+|,?\s+and\s*$|,?\s+or\s*$", chunk)
            spans.append((start, start + (cut.start() if cut else len(chunk))))
    else:
        spans, pos = [], 0
        # separators outside parentheses: "Next.js (SSR and SSG), React and Vue"
        flat = re.sub(r"\([^()]*\)", lambda p: "_" * len(p.group()), body)
        for m in re.finditer(r",\s*(?:and\s+|or\s+|plus\s+)?|\s+(?:and|or|&)\s+", flat):
            spans.append((pos, m.start()))
            pos = m.end()
        spans.append((pos, len(body)))
    out = []
    for start, end in spans:
        raw = body[start:end]
        lead = len(raw) - len(raw.lstrip())
        item = raw.strip().rstrip(".,;:")
        if item:
            out.append((item, start + lead, start + lead + len(item)))
    return out


def _list_end(text: str) -> int:
    # What parentheses hold does not end the list: "header (e.g. `Api-Version: v2`), query".
    text = re.sub(r"\([^()]*\)", lambda p: "_" * len(p.group()), text)
    m = re.search(
        r"[.;!?](?:\s|$)|\s+(?:as a way|in order|which|that|so that|so|when|because|if|to be|"
        r"without|instead|rather than|(?:are|is)\s+(?:the|also|all|both|our|used|supported|"
        r"available))\b",  # "Spark, Hive and HBase are the frameworks we see most"
        text,
    )
    return m.start() if m else len(text.rstrip())


def strip_determiners(text: str) -> str:
    return _DETERMINERS.sub("", text.strip()).strip()


def looks_like_name_list(items: list[str]) -> bool:
    """Short noun-like items ("MySQL", "SQL Server"), not clauses."""
    if len(items) < 2:
        return False
    # Items that all open with a capital are labels, even a verb's: "Define auth challenge,
    # Create auth challenge, Verify auth challenge response".
    titled = all(i[:1].isupper() for i in items)
    return all(
        0 < len(i.split()) <= 5
        # one capitalised word is a name, even a verb's: "Allow, Block, Count"
        and (
            i.split()[0].lower() not in _NOT_A_NAME_START
            or (i[0].isupper() and (" " not in i or titled))
        )
        and not (i[0].islower() and i.split()[0].endswith("ing"))
        and not _CLAUSE_WORD.search(i)
        for i in items
    )


def list_names(items: list[str]) -> list[str]:
    """The names an inline list gives, for ``looks_like_name_list`` to judge: emphasis and
    asides in parentheses left out ("**301** (permanent)" -> "301"), and an open end too
    ("Facebook, Google, Apple, and any OpenID Connect provider", "..., etc.")."""
    names = [squash(ASIDE.sub("", _EMPHASIS.sub("", i))).strip(" .,;:") or i for i in items]
    if len(names) > 2 and _OPEN_END.match(names[-1]):
        names = names[:-1]
    return names


ASIDE = re.compile(r"\s*\([^()]*\)")  # "SecureString (encrypted with KMS)"
_EMPHASIS = re.compile(r"\*\*|__|`")
_OPEN_END = re.compile(r"(?i)(?:any|other|others|more|etc|so on)\b|\.\.\.|…")

MAX_ITEM_WORDS = 6
_ITEM_END = re.compile(
    r"\s*(?:->|=>|→|⇒)\s*|\s+[—–-]\s+|:\s|\s*\(|\s*=\s*|\.\s|\.$|;\s|,\s(?=[a-z])"
    r"|\s*\n"  # a name ends with its line: "Security analytics\nboth tiers: ..."
)


BOLD_LEAD = re.compile(r"\s*(?:\*\*|__)([^*_]{1,80}?)(?:\*\*|__)")  # "**Private IP** via ..."


def item_name(text: str) -> str | None:
    """ "Latency — routes to the lowest-latency region" -> "Latency"; a sentence -> None;
    "Remember: ..." (an aside) -> None; "**Cloud SQL Auth Proxy** — IAM-authorized ..." ->
    its bold term, however the line goes on."""
    bold = BOLD_LEAD.match(text)
    if bold:
        term = squash(bold.group(1)).strip(" .,;:`")
        if term and len(term.split()) <= MAX_ITEM_WORDS and not is_aside(term):
            return term
    lead = lead_term(text)
    if lead is not None and is_aside(lead.term):
        return None
    name = lead.term if lead is not None else _ITEM_END.split(text.strip(), maxsplit=1)[0]
    name = squash(name).strip(" .,;:*`")
    if not name or len(name.split()) > MAX_ITEM_WORDS:
        return None
    return name
