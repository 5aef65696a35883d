"""What a stated amount bounds, named from the words around it.

``quantity_name`` tries ``NAMING_RULES`` in order and the first that reads a name wins: an
interval ("every hour"), a price, a discount, a counted noun, a timeout, a retry period, a
"time to ...", else the noun phrase the sentence attaches the amount to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kg.text.units import Dimension, Quantity, Range
from kg.text.words import MAX_WORD, MIN_WORD, STOPWORDS, singular, squash

GRANULARITY_BEFORE = re.compile(
    r"\bnearest\s*$|\bgranularity\s+of\s*$|\bincrements?\s+of\s*$", re.I
)


_ANCHORS = frozenset(
    """is are was were be been can could will would must should may might of takes take lasts
    last ranges range obtain obtains hold holds store stores kept keep keeps retained retains
    reaches reach allows allow gets get has have maintain maintains process processes
    supports support defaults""".split()
)


BOUND_WORDS = frozenset(
    "default defaults max maximum min minimum total the a an its their your our".split()
)


DIMENSION_NOUNS = re.compile(
    r"(?:period|time|timeout|window|interval|size|length|duration|limit|score|rate|throughput|"
    r"bandwidth|capacity|storage|memory|retention|ttl|latency|price|cost|count|number|space|"
    r"validity|increment|granularity|speed|frequency)$",
    re.IGNORECASE,
)


_STORABLE = re.compile(
    r"\b(?:data|messages?|objects?|records?|logs?|events?|backups?|snapshots?)\b", re.I
)


_PRONOUNS = frozenset("it they this these that there which who we you".split())


_MODALS = frozenset("must should can could may might will would shall need needs".split())


_VERBS = frozenset(
    """start starts started begin begins scale scales scaled grow grows increase increases reduce
    reduces configure configured set provide provides allows allow lets let takes take""".split()
)


@dataclass(frozen=True, slots=True)
class _Amount:
    """An amount in its sentence: ``window`` is the clause before it, ``after`` what follows."""

    text: str
    amount: Quantity | Range
    window: str
    lead_end: int

    @property
    def quantity(self) -> Quantity:
        return self.amount.high if isinstance(self.amount, Range) else self.amount

    @property
    def after(self) -> str:
        return self.text[self.amount.end : self.amount.end + 60]


@dataclass(frozen=True, slots=True)
class NamingRule:
    """A way to name what an amount bounds; ``read`` gives the name, or None to pass.
    ``example`` is a sentence the rule exists for and ``names`` what it names there."""

    name: str
    read: Callable[[_Amount], str | None]
    example: str
    names: str


def quantity_name(text: str, amount: Quantity | Range, window: str, lead_end: int) -> str:
    """What ``amount`` bounds, named from the words around it: the first rule of
    ``NAMING_RULES`` that reads a name wins."""
    at = _Amount(text, amount, window, lead_end)
    for rule in NAMING_RULES:
        name = rule.read(at)
        if name is not None:
            return name
    raise AssertionError("the last naming rule always answers")


def _interval(at: _Amount) -> str | None:
    window = at.window
    if not re.search(r"\bevery\s*$", window, re.I):
        return None
    verb = re.search(r"\b(\w+?)(?:s)?\s+(?:\w+\s+)?every\s*$", window)
    passive = re.search(
        r"\b(?:is|are|was|were|be|been|get|gets)\s+\w+(?:ed|en|nt)\s+every\s*$", window
    )
    np = _np_before_anchor(window) if passive else None
    if np:
        words = np.split()
        return clean_quantity(" ".join([*words[:-1], singular(words[-1]), "interval"]))
    if verb and verb.group(1).lower() not in STOPWORDS:
        return f"{_gerund(verb.group(1).lower())} interval"
    return "interval"


def _price(at: _Amount) -> str | None:
    q = at.quantity
    if q.dimension is not Dimension.USD:
        return None
    item = _priced_item(at.window, at.text[: at.lead_end])
    name = item if item and _PRICE_WORD.search(item) else f"{item or ''} price"
    return clean_quantity(f"{name} per {q.per}" if q.per else name)


def _discount(at: _Amount) -> str | None:
    if at.quantity.dimension is Dimension.PERCENT and re.match(r"\s*off\b", at.after, re.I):
        return "discount"
    return None


def _counted(at: _Amount) -> str | None:
    q, after, window = at.quantity, at.after, at.window
    if q.dimension not in (Dimension.COUNT, Dimension.COUNT_PER_SECOND) or not q.noun:
        return None
    name = q.noun
    of = re.match(r"\s*of\s+(?:your\s+|the\s+|my\s+|its\s+)?([a-z][\w-]*)", after)
    if of and name.lower() in ("copies", "number", "replicas", "units"):
        name = f"{name} of {of.group(1)}"
    if re.search(r"\bfree\b", after[:30], re.I) and re.search(r"\bfirst\s*$", window, re.I):
        name = f"free {name}"
    per = re.match(
        r"\s*(?:\w+\s+){0,2}?(?:in|for)\s+(?:each|every)\s+(?:aws\s+)?([A-Za-z][\w-]*(?:\s+zone)?)"
        r"|\s*per\s+([A-Za-z][\w-]*(?:\s+zone)?)",
        after,
        re.I,
    )
    if q.dimension is Dimension.COUNT_PER_SECOND:
        name = f"{name} per second"
    elif per and not q.per:
        name = f"{name} per {singular((per.group(1) or per.group(2)).lower())}"
    elif q.per:
        name = f"{name} per {q.per}"
    else:
        each = re.match(
            r"\s*(?:each|every|per|a|an|one)\s+([a-z][\w-]*)\s+(?:can|may|will|has|have|holds?|"
            r"supports?|allows?)\b|\s*(?:each|every|per)\s+([a-z][\w-]*)\b",
            window,
            re.I,
        )
        if each:
            holder = (each.group(1) or each.group(2)).lower()
            if singular(holder) != singular(name.split()[-1].lower()):
                name = f"{name} per {singular(holder)}"
    return clean_quantity(name)


def _times_out(at: _Amount) -> str | None:
    times_out = re.search(
        r"((?:[A-Za-z][\w-]*\s+){0,2}[A-Za-z][\w-]*)\s+(times?\s+out|expires?)\s+after\s*$",
        at.window,
    )
    if not times_out or at.quantity.dimension is not Dimension.SECONDS:
        return None
    noun = "timeout" if "out" in times_out.group(2) else "expiration"
    words = [w for w in times_out.group(1).split() if w.lower() not in ("a", "an", "the")]
    return clean_quantity(" ".join([*words, noun]))


def _retry_period(at: _Amount) -> str | None:
    retries = re.search(r"\bretr(?:y|ies)\s+([a-z][\w-]*)", at.window, re.I)
    if retries and at.quantity.dimension is Dimension.SECONDS:
        return clean_quantity(f"{retries.group(1)} retry period")
    return None


def _time_to(at: _Amount) -> str | None:
    takes = re.search(
        r"\btakes?\s+(?:some\s+|a\s+)?time\s+to\s+([\w\s]{3,40}?)(?:[.…,]|\s+between|\s+from|$)",
        at.text,
        re.I,
    )
    if takes and at.quantity.dimension is Dimension.SECONDS:
        return clean_quantity(f"time to {takes.group(1).strip()}")
    return None


def _noun_phrase(at: _Amount) -> str:
    text, amount, window, lead_end, after = at.text, at.amount, at.window, at.lead_end, at.after
    q = at.quantity
    granular = bool(GRANULARITY_BEFORE.search(window) or re.match(r"\s*increments?\b", after, re.I))
    if granular:
        np = _paren_after(text[amount.end :]) or _np_before_anchor(window)
    else:
        np = (
            _np_of_quantity(after)
            or _np_before_anchor(window)
            or _np_after(after)
            or _paren_after(after)
            or _np_at_clause_start(window)
        )
    if np is None and "(" in text[max(0, lead_end) : amount.start]:
        np = _np_before_paren(text[: amount.start])
    if np is not None and np.lower() in ("value", "it", "this", "that", "time", "limit"):
        np = _np_before_paren(text[: amount.start]) or None
    dim_word = _dimension_word(q.dimension, text, np)
    each = re.match(r"\s*(?:each|every)\s+([a-z][\w-]*)\b", window, re.I)
    if np is None:
        name = dim_word
    elif DIMENSION_NOUNS.search(singular(np)):
        name = singular(np) if np.lower().endswith("s") and " " not in np else np
    else:
        words = np.split()
        words[-1] = singular(words[-1])
        name = " ".join([*words, dim_word])
    if granular and not name.endswith(("increment", "granularity")):
        name = f"{name} increment"
    condition = re.match(
        r"\s*(?:[a-z]+\s+)?(?:by\s+(?:turning\s+on|enabling|using)|with|using)\s+([a-z][\w\s-]{2,30}?)\s*(?:[.,;)]|$)",
        after,
    )
    if condition and np is not None and np == _np_after(after):
        name = f"{name} with {condition.group(1).strip()}"
    if each and np and each.group(1).lower() not in np.lower():
        name = f"{name} per {singular(each.group(1).lower())}"
    elif q.per and " per " not in name:
        name = f"{name} per {q.per}"
    return clean_quantity(name)


NAMING_RULES: tuple[NamingRule, ...] = (
    NamingRule(
        "interval",
        _interval,
        "Automated snapshots are taken every hour.",
        "automated snapshot interval",
    ),
    NamingRule(
        "price",
        _price,
        "Tiered storage costs $0.06 per GB-month.",
        "tiered storage price per GB-month",
    ),
    NamingRule("discount", _discount, "Spot instances are up to 72% off.", "discount"),
    NamingRule("counted", _counted, "You can have 5 VPCs per region.", "VPCs per region"),
    NamingRule(
        "times out", _times_out, "The connection times out after 350 seconds.", "connection timeout"
    ),
    NamingRule(
        "retry period",
        _retry_period,
        "SNS retries failed deliveries for 24 hours.",
        "failed retry period",
    ),
    NamingRule(
        "time to",
        _time_to,
        "DNS changes take time to propagate, up to 48 hours.",
        "time to propagate",
    ),
    NamingRule(
        "noun phrase", _noun_phrase, "The default retention period is 4 days.", "retention period"
    ),
)


def _gerund(verb: str) -> str:
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


_PRICE_WORD = re.compile(r"\b(?:price|cost|fee|charge|rate|pricing)s?$", re.I)


_PRICE_VERB = re.compile(
    r"\s+(?:costs?|costing|(?:is|are)\s+(?:charged|priced|billed)\s+at|is|are)"
    r"\s*(?:only\s+|just\s+|about\s+|around\s+)?$",
    re.I,
)


_NOT_AN_ITEM = frozenset(
    """then first after plus also pricing price cost costs charged billed paid priced charging
    billing costing one two three four five every""".split()
)


def _priced_item(window: str, lead: str) -> str | None:
    """What a price is for: "Tiered storage costs $0.06", "each rule costs $1.00", a bare
    "SSD storage $0.13 per GB-month", or the item a bullet leads with ("Warm storage: $0.05")."""
    verb = _PRICE_VERB.search(window)
    words = _words(window[: verb.start()] if verb else window)
    if not verb and (len(words) > 4 or (words and words[0].lower() in _NOT_AN_ITEM)):
        return None
    item: list[str] = []
    for w in reversed(words):
        if w.lower() in STOPWORDS | _PRONOUNS | _VERBS | _NOT_AN_ITEM:
            break
        item.insert(0, w)
    if len(item) > 4 or (item and item[0].lower() in _NOT_AN_ITEM):
        return None
    if not item and not window.strip():
        lead_words = _words(lead.strip().rstrip(":"))
        if 0 < len(lead_words) <= 4 and lead_words[0].lower() not in _NOT_AN_ITEM:
            item = lead_words
    if item and item[-1].islower():
        item[-1] = singular(item[-1])  # "requests cost" -> "request price"
    return " ".join(item) or None


def without_subject(name: str, subject_label: str) -> str:
    """ "AWS WAF costs $5 per month" is the price of the subject itself: "price per month"."""
    own = {w.lower() for w in subject_label.split()}
    words = name.split()
    i = 0
    while i < len(words) - 1 and words[i].lower() in own:
        i += 1
    return " ".join(words[i:]) if i and _PRICE_WORD.search(words[i]) else name


def _dimension_word(dim: Dimension, text: str, np: str | None) -> str:
    low = text.lower()
    if dim is Dimension.BYTES:
        return (
            "storage"
            if re.search(r"\bscal|\bstorage\b|autoscal", low) and not (np and _STORABLE.search(np))
            else "size"
        )
    if dim is Dimension.SECONDS:
        if re.search(r"\bvalid\b", low):
            return "validity"
        if re.search(r"\b(?:kept|keep|keeps|retain\w*|retention|stored?|persist\w*)\b", low) or (
            np and _STORABLE.search(np) and re.search(r"\bwill be\b|\bfrom\b", low)
        ):
            return "retention period"
        if re.search(r"\bretriev", low):
            return "retrieval time"
        return "duration"
    return {
        Dimension.BITS_PER_SECOND: "bandwidth",
        Dimension.BYTES_PER_SECOND: "throughput",
        Dimension.USD: "price",
        Dimension.PERCENT: "percentage",
        Dimension.RATIO: "ratio",
        Dimension.COUNT: "count",
        Dimension.COUNT_PER_SECOND: "rate",
    }[dim]


def _np_before_anchor(window: str) -> str | None:
    """The noun phrase before the first verb of the clause: "the default retention period is"."""
    toks = _words(window)
    for i in range(len(toks) - 1, 0, -1):
        if toks[i].lower() in _ANCHORS:
            np_toks: list[str] = []
            for t in reversed(toks[:i]):
                low = t.lower()
                if low in BOUND_WORDS or low in _VERBS or low in _MODALS:
                    break
                if low in STOPWORDS or low in _PRONOUNS:
                    break
                np_toks.insert(0, t)
                if len(np_toks) == 4:
                    break
            if np_toks:
                return " ".join(np_toks)
            if toks[i - 1].lower() in _PRONOUNS:
                return None
    return None


def _words(text: str) -> list[str]:
    return [w.rstrip(".") for w in re.findall(r"[A-Za-z][\w.-]*", text)]


def _np_of_quantity(after: str) -> str | None:
    """ "130 minutes in length", "244GB of Memory"."""
    m = re.match(
        r"\s*(?:in|of)\s+((?:[a-z][a-z-]*\s+){0,2}?(?:length|size|memory|storage|ram|bandwidth|"
        r"throughput|capacity|duration|disk space))\b",
        after,
        re.I,
    )
    if m is None or any(w.lower() in STOPWORDS for w in m.group(1).split()[:-1]):
        return None
    return m.group(1).lower()  # "400 MBps of read throughput" -> "read throughput"


def _np_after(after: str) -> str | None:
    """ "1 minute intervals", "one day retention period"."""
    if re.match(r"\s*per\b", after, re.I):
        return None
    m = re.match(r"\s*([a-z][a-z-]+(?:\s+[a-z][a-z-]+)?)\b", after)
    if m and m.group(1).split()[0] not in STOPWORDS:
        words = [w for w in m.group(1).split() if w not in STOPWORDS]
        return " ".join(words) if words else None
    return None


def _paren_after(after: str) -> str | None:
    m = re.match(r"\s*\(([a-z][\w\s-]{2,40})\)", after, re.I)
    if m:
        return m.group(1).split()[0]
    return None


def _np_at_clause_start(window: str) -> str | None:
    toks = _words(window)
    np_toks: list[str] = []
    for t in toks:
        if t.lower() in STOPWORDS or t.lower() in BOUND_WORDS:
            if np_toks:
                break
            continue
        if t.lower() in _ANCHORS or t.lower() in _VERBS or t.lower() in ("between", "from", "to"):
            break
        np_toks.append(t)
        if len(np_toks) == 3:
            break
    if np_toks and np_toks[0][0].isupper() and len(toks) and toks[0] == np_toks[0]:
        return " ".join(np_toks)
    return None


def _np_before_paren(text: str) -> str | None:
    idx = text.rfind("(")
    if idx < 0:
        return None
    toks = _words(text[:idx])
    np_toks: list[str] = []
    for t in reversed(toks):
        capitalised_word = t[0].isupper() and t.lower() not in ("the", "a", "an", "if", "in")
        if (t.lower() in STOPWORDS and not capitalised_word) or t.lower() in BOUND_WORDS:
            break
        np_toks.insert(0, t)
        if len(np_toks) == 5:
            break
    return " ".join(np_toks) or None


def clean_quantity(name: str) -> str:
    name = squash(re.sub(r"(?<!\b\w)/(?!\w\b)", " per ", name.replace("Max.", "max")))  # not I/O
    name = re.sub(
        rf"^(?:the|a|an|{MAX_WORD}|{MIN_WORD}|default)\s+",
        "",
        name,
        flags=re.I,
    )
    name = re.sub(r"\b(?:aws|amazon)\s+", "", name, flags=re.I)
    words = [
        w if (w.isupper() or re.search(r"[A-Z].*[A-Z]", w)) else w.lower() for w in name.split()
    ]
    return " ".join(words) or "value"
