"""Question -> what it names and what it asks for.

``analyse`` links the entities a question names (services, features, topics ... by label and
alias, across spacing, plurals and small misspellings, and by the words of a multi-word
feature name even when they are not adjacent), and recognises the intent: a limit (with the
bound and the dimension asked for), a list, pricing, a relation (supports, replicates, used
for), a comparison against a number or a superlative, or a general question for search.
It also finds names the notes have never mentioned ("AWS Fargate", "Azure"), which make the
question out of scope.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from kg.answer.catalog import Catalog, Linked
from kg.text.quantities import find_quantities
from kg.text.units import Dimension
from kg.text.words import MAX_WORD, MIN_WORD, STOPWORDS, edit_distance, singular, stem, tokens

QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how is are was were do does did can could will
    would should shall may might must tell me list name give show please there much many
    per""".split()
)

# Words that shape an amount question rather than say what it is about ("how long", "at
# most"): stems, as ``Analysis.terms`` holds them.
AMOUNT_WORDS = frozenset(
    stem(w)
    for w in """long often big large many much far fast high low small short most least maximum
    minimum max min default largest biggest longest highest smallest shortest lowest""".split()
)

_BOUNDS = (
    (
        "default",
        re.compile(
            r"\bby\s+default\b|\bdefaults?\b|\bout of the box\b|\bnormally\b"
            # "if I don't change anything", "if you don't set one": left as it comes
            r"|\bif\s+(?:i|you|we|they|nobody|no\s+one)\s+(?:don'?t|do\s+not|didn'?t|never|doesn'?t)"
            r"\s+(?:change|set|configure|specify|touch|override|pick|choose|tune)\b",
            re.I,
        ),
    ),
    # a word for the least is never a loose cue, as "limit" or "how ... can" is for the most
    (
        "min",
        re.compile(
            rf"\b{MIN_WORD}\b|\bsmallest\b|\bshortest\b|\bleast\b|\blowest\b|\bat\s+least\b",
            re.I,
        ),
    ),
    (
        "max",
        re.compile(
            rf"\b{MAX_WORD}\b|\blargest\b|\bbiggest\b|\blongest\b|\bhighest\b|\bmost\b|"
            r"\bup\s+to\b|\bat\s+most\b|\bupper\b|\bhow\s+(?:far|large|big|long|many|much|fast|high)\b"
            r"(?=.*\bcan\b|.*\bat most\b|.*\bup to\b)|\bscale\b|\bgrow\b|\bat the most\b|\blimit\b",
            re.I,
        ),
    ),
)

_DIMENSIONS: tuple[tuple[Dimension, re.Pattern[str]], ...] = (
    (
        Dimension.USD,
        re.compile(
            r"\b(?:cost|costs|price|priced|pricing|charge|charges|charged|pay|paid|\$|dollars?|cheap|expensive|fee)\b|\$"
            r"|\b(?:hourly|monthly|per-hour)\s+(?:\w+\s+)?rate\b"
            r"|\bper\s+[a-z0-9]+-(?:hour|month|second)\b",  # "rate per DPU-hour" is a price
            re.I,
        ),
    ),
    (Dimension.BITS_PER_SECOND, re.compile(r"\b(?:bandwidth|gbps|mbps|network\s+speed)\b", re.I)),
    (
        Dimension.BYTES_PER_SECOND,
        re.compile(r"\b(?:throughput|read\s+rate|write\s+rate|mb/s|transfer\s+rate)\b", re.I),
    ),
    (Dimension.PERCENT, re.compile(r"\b(?:percent|percentage|discount|%)|%", re.I)),
    (
        Dimension.SECONDS,
        re.compile(
            r"\bhow\s+long\b|\bhow\s+often\b|\b(?:time|duration|retention|retain|retained|keep|kept|"
            r"period|timeout|time\s*out|wait|interval|frequency|latency|days?|hours?|minutes?|"
            r"seconds?|granularity|rounded|billing\s+increment)\b",
            re.I,
        ),
    ),
    (
        Dimension.BYTES,
        re.compile(
            r"\bhow\s+(?:large|big)\b|\b(?:size|sized|largest|biggest|smallest|storage|capacity|"
            r"memory|ram|disk|space|bytes?|kb|mb|gb|tb|pb)\b|\bhow\s+far\b.*\bscale",
            re.I,
        ),
    ),
    (
        Dimension.COUNT,
        re.compile(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\bscore\b|\biops\b", re.I),
    ),
)

_LIST = re.compile(
    # a plural noun, not a verb in the third person ("Which severity range corresponds to")
    # ... an acronym's too ("What SKUs does Azure Load Balancer have?")
    r"^\s*(?:which|what)\s+(?:are\s+the\s+)?(?:[\w-]+\s+){0,3}?(?:\w{3,}[^s\W]s|(?-i:[A-Z]{2,}s))\b"
    r"(?!\s+(?:to|a|an|the)\b)|"
    r"\b(?:what|which)\s+(?:kinds?|types?|sorts?|options?|classes)\s+of\b|\blist\b|\bname\s+(?:the|all)\b|"
    r"^\s*what\s+can\b|\bwhat\s+(?:are|is)\s+\w+\s+(?:charged|billed|priced)\b",
    re.I,
)
_PRICING = re.compile(
    r"\b(?:charged|billed|priced|pricing|pay\s+for|charges?\s+(?:\w+\s+)?(?:by|for)|"
    r"billing\s+(?:components?|dimensions?)|cost\s+factors?)\b",
    re.I,
)
_SUPPORTS = re.compile(
    r"\bsupport\w*|\bcompatible\b|\bengines?\b|\blanguages?\b|\bruntimes?\b|"
    r"\bprotect(?:s|ed)?\b|\bback\s*up\b",  # as notes announce lists: "can protect the following"
    re.I,
)
_WHICH_SUPPORTS = re.compile(
    r"\s*(?:which|what)\s+((?:[\w-]+\s+){1,4}?)(?:supports?|protects?)\s+(\S.*)", re.I
)
_REPLICATES = re.compile(
    r"\breplicat\w*|\bcop(?:y|ies)\s+(?:to|across)\b|\bcross[-\s]region\b", re.I
)
_USED_FOR = re.compile(
    r"\bwhich\s+(?:aws\s+)?services?\b|\bwhat\s+(?:aws\s+)?service\b|\bwhat\s+should\s+i\s+use\b|"
    r"\bused\s+(?:to|for)\b|\bhelps?\b",
    re.I,
)
_COMPARE = re.compile(
    r"\b(?P<op>more\s+than|over|above|greater\s+than|larger\s+than|bigger\s+than|higher\s+than|"
    r"at\s+least|less\s+than|fewer\s+than|under|below|smaller\s+than|lower\s+than|shorter\s+than|"
    r"longer\s+than|at\s+most)\s+(?P<amount>\$?\d[^?;]*)",
    re.I,
)
_SUPERLATIVE = re.compile(
    r"\b(?P<sup>lowest|highest|smallest|largest|biggest|longest|shortest|most|least|fewest)\b", re.I
)


@dataclass
class Analysis:
    question: str
    entities: list[Linked] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # names the notes never mention
    intent: str = "general"  # limit | list | pricing | relation | compare | general
    bound: str | None = None  # max | min | default
    dimension: Dimension | None = None
    relation: str | None = None  # supports | replicatesTo | usedFor | chargedBy
    head: str | None = None  # the plural noun a list asks for ("database engines")
    compare_op: str | None = None  # "<" | ">"
    compare_value: Decimal | None = None
    compare_dimension: Dimension | None = None
    superlative: str | None = None  # "min" | "max"
    counted: str | None = None  # what a count question counts, singular ("node")
    # "Which FSx flavour supports SMB?": the things asked of (SMB), and the named things the
    # answers belong to (FSx)
    supported: list[Linked] = field(default_factory=list)
    among: list[Linked] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)  # content stems not used by entity names
    words: set[str] = field(default_factory=set)  # every content stem, names included
    # The stems that say what is asked: all but the services' names, a part's name too ("How
    # many topics can an Event Grid domain contain?" asks for "topics per domain"); a list's
    # lead and a limit's name are matched by them.
    asked: set[str] = field(default_factory=set)
    initials: str | None = None  # a counted phrase's initials ("local secondary indexes": lsi)
    rule: str | None = None  # the intent rule that decided, None for a general question

    def as_dict(self) -> dict[str, object]:
        return {
            "entities": [{"iri": e.iri, "label": e.label, "text": e.text} for e in self.entities],
            "unknown": self.unknown,
            "intent": self.intent,
            "bound": self.bound,
            "dimension": self.dimension.value if self.dimension else None,
            "relation": self.relation,
            "head": self.head,
            "compare": [self.compare_op, str(self.compare_value)] if self.compare_op else None,
            "superlative": self.superlative,
            "counted": self.counted,
        }


def analyse(question: str, catalog: Catalog) -> Analysis:
    a = Analysis(question)
    linked, words = catalog.link_words(question)
    a.entities = _without_echoes(linked)
    a.unknown = catalog.unknown_names(question, a.entities, words)
    covered = [(e.start, e.end) for e in a.entities]
    content = [t for t in tokens(question) if t.lower not in STOPWORDS | QUESTION_WORDS]
    a.terms = {stem(t.lower) for t in content if not any(s <= t.start < e for s, e in covered)}
    a.words = {stem(t.lower) for t in content}
    a.asked = a.words - {
        stem(w)
        for e in a.entities
        if e.kind == "service"
        for w in re.findall(r"[a-z0-9]+", e.text.lower())
    }
    low = question.lower()
    # Names do not ask for amounts: "Snowball Edge Storage Optimized" asks for no size. A
    # common noun written in lower case still does, though a note named a feature after it
    # ("how much EBS storage ...").
    unnamed = low
    for e in a.entities:
        if e.start >= 0 and not question[e.start : e.end].islower():
            unnamed = unnamed[: e.start] + " " * (e.end - e.start) + unnamed[e.end :]
    a.dimension = _question_word_dimension(low)
    for dim, pattern in _DIMENSIONS:
        if a.dimension is None and pattern.search(unnamed):
            a.dimension = dim
            break
    if a.dimension is Dimension.COUNT:
        a.counted = _counted_noun(low)
        if a.counted and _TIME_NOUN.fullmatch(a.counted):
            a.dimension, a.counted = Dimension.SECONDS, None  # "how many days ..."
        elif a.counted and _BYTE_NOUN.fullmatch(a.counted):
            a.dimension, a.counted = Dimension.BYTES, None  # "how many GB ..."
        a.initials = counted_initials(question) if a.counted else None
    if re.search(r"\bper\s+second\b|/s\b|\bper\s+sec\b", low):
        a.dimension = {
            Dimension.COUNT: Dimension.COUNT_PER_SECOND,
            Dimension.BYTES: Dimension.BYTES_PER_SECOND,
        }.get(a.dimension or Dimension.COUNT, a.dimension)
    for bound, pattern in _BOUNDS:
        if pattern.search(low):
            a.bound = bound
            break
    for rule in INTENT_RULES:
        if rule.decide(a, low):
            a.rule = rule.name
            break
    return a


@dataclass(frozen=True, slots=True)
class IntentRule:
    """One way to tell what a question asks for. ``decide`` sets the intent (and what goes
    with it) and says whether it did; ``example`` is a question the rule exists for."""

    name: str
    decide: Callable[[Analysis, str], bool]
    example: str
    intent: str


def _threshold(a: Analysis, low: str) -> bool:
    compare = _COMPARE.search(a.question)
    amounts = find_quantities(compare.group("amount")) if compare else []
    if compare is None or not amounts:
        return False
    q = amounts[0]
    a.intent = "compare"
    op = compare.group("op").lower()
    a.compare_op = (
        "<" if re.match(r"less|fewer|under|below|smaller|lower|shorter|at most", op) else ">"
    )
    a.compare_value = q.base_value
    a.compare_dimension = q.dimension
    if q.dimension is Dimension.COUNT and q.noun:
        a.terms |= {stem(w) for w in q.noun.lower().split()}
    return True


def _superlative(a: Analysis, low: str) -> bool:
    sup = _SUPERLATIVE.search(a.question)
    if not (
        sup
        and re.match(r"\s*(?:which|what)\b", low)
        and re.search(r"\bhas\b|\bhave\b|\bwith\b|\boffers?\b", low)
    ):
        return False
    a.intent = "compare"
    lowest = sup.group("sup").lower() in ("lowest", "smallest", "shortest", "least", "fewest")
    a.superlative = "min" if lowest else "max"
    return True


def _billed_amount(a: Analysis, low: str) -> bool:
    """ "the minimum billed duration": a bound of another dimension than money."""
    if _PRICING.search(low) and a.bound and a.dimension not in (None, Dimension.USD):
        a.intent = "limit"
        return True
    return False


def _price(a: Analysis, low: str) -> bool:
    """An amount of money: "per", "$", "how much", "for each", "hourly", "the charge"."""
    if a.dimension is Dimension.USD and (
        re.search(
            r"\bper\b|\$|\bhow\s+much\b|\bcosts?\b|\bfor\s+(?:each|every)\b|\b(?:monthly|hourly)\b",
            low,
        )
        or re.match(
            r"\s*what(?:'s|\s+is|\s+are)\s+the\s+(?:\w+\s+){0,2}(?:charge|price|fee|rate)s?\b", low
        )
    ):
        a.intent = "limit"
        return True
    return False


def _charged_by(a: Analysis, low: str) -> bool:
    if _PRICING.search(low) and not _KINDS_OF.match(low):
        a.intent, a.relation = "pricing", "chargedBy"
        return True
    return False


# "What pricing tiers does X have?", "What service tiers does X offer?": a list of the kind
# the two words name, not a question about pricing or about which service.
_KINDS_OF = re.compile(
    r"\s*(?:which|what)\s+[\w-]+\s+[\w-]+[^s\W]s\s+(?:do|does|did|are|can|will)\b"
)


def _which_service(a: Analysis, low: str) -> bool:
    if (
        re.match(r"\s*(?:which|what)\s+(?:aws\s+)?service\b", low) and not _KINDS_OF.match(low)
    ) or re.search(r"\bwhat\s+should\s+i\s+(?:use|put)\b", low):
        a.intent, a.relation = "relation", "usedFor"
        return True
    return False


def _amount_shape(a: Analysis, low: str) -> bool:
    """ "How many ...", "what is the maximum ...", or a bound and a dimension outside a list."""
    if re.match(
        r"\s*(?:how\s+(?:many|much|long|large|big|far|often|fast)|what\s+is\s+the\s+(?:max|min|default|largest|longest|smallest)|to\s+what\b|what(?:'s|\s+is)?\s+(?:the\s+)?range\b)",
        low,
    ) or (a.bound and a.dimension and not _LIST.search(a.question)):
        a.intent = "limit"
        return True
    return False


def _amount_word(a: Analysis, low: str) -> bool:
    if re.search(r"\bwhat\s+score\b|\bwhat\s+(?:size|limit|timeout|price)\b", low):
        a.intent = "limit"
        return True
    return False


def _list(a: Analysis, low: str) -> bool:
    # A name of several words counts as one word ("Which Azure App Service plan tiers support
    # autoscale?"), a proper name as no plural ("Which port does Memorystore for Redis ..."),
    # a common noun as the plural it may be ("Which event schemas ..."); offsets stay.
    question = shape = a.question
    for e in a.entities:
        if e.start >= 0:
            written = shape[e.start : e.end]
            proper = e.kind == "service" or written.split()[-1][:1].isupper()
            joined = "x" * len(written) if proper else written.replace(" ", "_")
            shape = shape[: e.start] + joined + shape[e.end :]
    shape = re.sub(r"\s*\([^()]*\)", lambda m: " " * len(m.group(0)), shape)  # an aside
    if not _LIST.search(shape):
        return False
    a.intent = "list"
    a.head = _list_head(question, a)
    if _REPLICATES.search(low):
        a.relation = "replicatesTo"
    elif _SUPPORTS.search(low):
        a.relation = "supports"
        inverse = _WHICH_SUPPORTS.match(shape)
        if inverse and not re.search(r"\b(?:do|does|did|can|is|are)\b", inverse.group(1), re.I):
            a.supported = [e for e in a.entities if e.start >= inverse.start(2)]
            a.among = [e for e in a.entities if e.end <= inverse.end(1)]
    return True


def _replicates(a: Analysis, low: str) -> bool:
    if _REPLICATES.search(low):
        a.intent, a.relation = "relation", "replicatesTo"
        return True
    return False


# Tried in order; the first rule that decides wins, else the question is "general".
INTENT_RULES: tuple[IntentRule, ...] = (
    IntentRule(
        "threshold", _threshold, "Which EBS volume types allow more than 10,000 IOPS?", "compare"
    ),
    IntentRule(
        "superlative", _superlative, "Which EBS volume type has the lowest maximum IOPS?", "compare"
    ),
    IntentRule(
        "billed amount",
        _billed_amount,
        "What is the minimum billed duration of AWS Lambda?",
        "limit",
    ),
    IntentRule("price", _price, "How much does SQS cost per million requests?", "limit"),
    IntentRule("charged by", _charged_by, "How is AWS Lambda charged?", "pricing"),
    IntentRule(
        "which service",
        _which_service,
        "Which service is used to decouple applications?",
        "relation",
    ),
    IntentRule("amount", _amount_shape, "How long does SQS keep a message by default?", "limit"),
    IntentRule("amount word", _amount_word, "What size can an EBS volume have?", "limit"),
    IntentRule("list", _list, "Which database engines does RDS support?", "list"),
    IntentRule("replicates", _replicates, "Does Amazon EFS replicate data across AZs?", "relation"),
)


def _without_echoes(entities: list[Linked]) -> list[Linked]:
    """Drop a feature whose name is only words of a service the question also names: in "How
    long are backups kept in AWS Backup?", "backups" is not some other service's "Backup"."""
    services = [set(e.label.lower().split()) for e in entities if e.kind == "service"]
    return [
        e
        for e in entities
        if e.kind != "feature" or not any(set(e.label.lower().split()) <= s for s in services)
    ]


def _question_word_dimension(low: str) -> Dimension | None:
    """ "how many" asks for a count, "how long" for a duration ... before any other clue."""
    m = re.search(r"\bhow\s+(many|long|often|large|big|fast|much\s+(\w+))\b", low)
    if not m:
        # "the largest number of nodes" counts nodes ("number of days" is still a duration).
        counted = re.search(r"\bnumber\s+of\s+(\w+)", low)
        if counted and not re.fullmatch(
            r"(?:second|minute|hour|day|week|month|year|byte|[kmgtp]b)s?", counted.group(1)
        ):
            return Dimension.COUNT
        return None
    word = m.group(1)
    if word == "many":
        return Dimension.COUNT
    if word in ("long", "often"):
        return Dimension.SECONDS
    if word in ("large", "big"):
        return Dimension.BYTES
    if word == "fast":
        return Dimension.BITS_PER_SECOND
    noun = m.group(2) or ""
    for dim, pattern in _DIMENSIONS:
        if pattern.search(noun):
            return dim
    return None


def _counted_noun(low: str) -> str | None:
    """ "How many managed node groups can ..." -> "group"; "the number of nodes in" -> "node":
    the head of the phrase after "how many" / "number of", singular."""
    m = re.search(r"\b(?:how\s+many|number\s+of)\s+(.*)", low)
    return counted_head(m.group(1)) if m else None


def counted_head(phrase: str) -> str | None:
    """The head noun of a counted phrase, singular, lower case: "managed node groups can
    ..." -> "group", "VPCs in each region" -> "vpc"."""
    words = _counted_words(phrase)
    return singular(words[-1]) if words else None


def counted_initials(question: str) -> str | None:
    """The initials a counted phrase of several words is written as: "processing units" ->
    "pu" ("PUs"), "local secondary indexes" -> "lsi" ("LSIs")."""
    m = re.search(r"\b(?:how\s+many|number\s+of)\s+(.*)", question.lower())
    words = _counted_words(m.group(1)) if m else []
    return "".join(w[0] for w in words) if len(words) >= 2 else None


def _counted_words(phrase: str) -> list[str]:
    words = []
    for word in re.findall(r"[a-z][\w-]*", phrase.lower()):
        if word in STOPWORDS or word in QUESTION_WORDS or word in _PHRASE_ENDS:
            break
        words.append(word)
    return words


_TIME_NOUN = re.compile(r"(?:milli)?second|minute|hour|day|week|month|year")
_BYTE_NOUN = re.compile(r"[kmgtp]b|[kmgt]ib|byte|gigabyte|terabyte")
_PHRASE_ENDS = frozenset(
    """can could does do did is are was were will would should may might per in on for at one
    each every single two three fit fits run runs exist exists get go live allowed supported
    stored kept attached created included used needed required possible""".split()
)  # "How many images fit in one repository?" counts images


def _list_head(question: str, a: Analysis) -> str | None:
    """The noun a list question asks for: "Which database engines does RDS support?" ->
    "database engines"; "What kinds of Storage Gateway are there?" -> "kinds"."""
    m = re.search(
        r"\bwhat\s+can\s+(?:serve\s+as|be\s+used\s+as|be)\s+(?:the\s+|a\s+|an\s+)?([\w\s-]+?)\s+(?:of|for|in)\b",
        question,
        re.I,
    )
    if m:
        return m.group(1).lower()
    m = re.match(
        r"\s*(?:which|what)\s+(?:are\s+the\s+)?((?:[\w-]+\s+){0,3}?[\w-]{2,}[^s\W]s)\b",
        question,
        re.I,
    )
    if m and m.group(1).split()[-1].lower() not in STOPWORDS | QUESTION_WORDS:
        words = [w for w in m.group(1).split() if w.lower() not in STOPWORDS]
        kept = []
        for w in words:
            if any(e.start <= question.find(w) < e.end for e in a.entities):
                continue
            kept.append(w.lower())
        return " ".join(kept) or None
    return None


def stems_overlap(terms: set[str], text: str) -> float:
    """How many of ``terms`` a text contains (stems; one typo allowed in long words)."""
    words = _stems(text)
    return sum((_found(t, words) for t in terms), 0.0)


def absent_terms(terms: set[str], text: str) -> list[str]:
    """The ``terms`` a text does not contain (as ``stems_overlap`` reads it)."""
    words = _stems(text)
    return [t for t in terms if not _found(t, words)]


def _stems(text: str) -> set[str]:
    words = {stem(w) for w in re.findall(r"[A-Za-z0-9][\w-]*", text.lower()) if w not in STOPWORDS}
    return words | {stem(singular(w)) for w in words}


def _found(term: str, words: set[str]) -> float:
    if term in words:
        return 1.0
    if len(term) >= 6 and any(len(w) >= 6 and edit_distance(term, w, 1) <= 1 for w in words):
        return 0.8
    return 0.0
