"""Sentences and table rows -> limits: what is bounded, by how much, stated how.

``kg.text.units`` finds the amounts; this module decides what each amount bounds from the words
around it ("up to" -> maximum, "by default" -> default, "from X to Y" -> both ends, "every X"
-> an interval, "nearest X" -> a granularity) and names the bounded quantity from the noun
phrase that the sentence attaches it to ("the default retention period is 4 days" ->
"retention period", "Files can be from 0 Bytes to 5 TB" -> "file size").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from kg import vocab
from kg.extract.quantity_names import (
    _PRICE_WORD,
    BOUND_WORDS,
    DIMENSION_NOUNS,
    GRANULARITY_BEFORE,
    clean_quantity,
    quantity_name,
    without_subject,
)
from kg.model import Block, BlockKind, Evidence, Sentence
from kg.text.phrases import KIND_WORDS, lead_term
from kg.text.quantities import find_quantities, find_ranges
from kg.text.units import Dimension, Quantity, Range
from kg.text.words import BOUND_WORD, MAX_WORD, MIN_WORD, singular, squash

if TYPE_CHECKING:
    from kg.extract.context import Context, DocumentContext


@dataclass
class LimitFact:
    subject: str
    quantity: str
    dimension: Dimension
    stated_as: str
    evidence: Evidence
    min: Decimal | None = None
    max: Decimal | None = None
    default: Decimal | None = None
    value: Decimal | None = None
    per: str | None = None

    @property
    def unit(self) -> str:
        return self.dimension.unit_iri

    def iri(self, document: str) -> str:
        """Minted per document, subject, quantity and place: two notes never share a limit."""
        local = self.subject.removeprefix(vocab.ID).split("/", 1)
        doc = vocab.slug(document)
        scope = (local[-1] if local else vocab.slug(self.subject)).removeprefix(f"{doc}/")
        quantity = vocab.slug(self.quantity)
        return f"{vocab.ID}limit/{doc}/{scope}/{quantity}-{self.evidence.start}"

    def bounds(self) -> dict[str, Decimal]:
        out = {"min": self.min, "max": self.max, "default": self.default, "value": self.value}
        return {k: v for k, v in out.items() if v is not None}


_MAX = re.compile(
    rf"\b(?:up\s*to|{MAX_WORD}|at\s+most|no\s+more\s+than|not\s+more\s+than|limit(?:ed)?\s+(?:of|to)|"
    r"as\s+(?:much|many|long|large|big)\s+as|can\s+last|less\s+than|fewer\s+than|under|"
    r"capped\s+at|upper\s+limit|scales?(?:\s+\w+){0,5}\s+to|grow\w*\s+to|longest|largest|highest|"
    r"(?:raise|increase|extend|expand|grow|go)\w*(?:\s+\w+){0,4}\s+to)\b",
    re.IGNORECASE,
)
_MIN = re.compile(
    rf"\b(?:at\s+least|{MIN_WORD}(?:\s+of)?|starts?\s+(?:at|with|from)|no\s+less\s+than|"
    r"more\s+than|over|above|down\s+to|lowest|smallest|shortest)\b",
    re.IGNORECASE,
)
_DEFAULT = re.compile(r"\bdefaults?\b", re.IGNORECASE)
# An amount a sentence denies ("not 4 MB") or says no longer holds ("it used to be 100").
_DENIED = re.compile(
    r"(?:\b(?:not|never|n't)\s+(?:a|an|the)?|\b(?:used\s+to\s+be|formerly|previously|was\s+once))\s*$",
    re.I,
)
_RATE_NOUN_SKIP = frozenset("others ones times things".split())


def extract_limits(
    dx: DocumentContext, sent: Sentence, block: Block, ctx: Context
) -> list[LimitFact]:
    """Limits stated in one sentence (or table row), with ``ctx.subject`` as their subject."""
    subject = ctx.subject
    if subject is None:
        return []
    ev = Evidence(sent.start, sent.end)
    row_facts: list[LimitFact] = []
    cells: list[tuple[int, int]] = []
    if block.kind is BlockKind.TABLE_ROW:
        row_facts = _row_limits(dx, block, subject, ev)
        row = dx.rows.get(block.index)
        cells = [(c.start - sent.start, c.end - sent.start) for c in (row.cells if row else [])]
        if block.cells:  # the row's name: "Cache egress, 150–500 TiB" names a price band
            cells.append((block.cells[0].start - sent.start, block.cells[0].end - sent.start))
    text = dx.text[sent.start : sent.end]
    lead_end = 0
    lead_name = None
    lead = lead_term(text)
    if lead is not None and sent.start == block.start:
        lead_end = lead.rest_start
        if names_a_quantity(lead.term) and not dx.find(lead.term):
            lead_name = clean_quantity(lead.term)  # "Buffer size: 1 MiB to 128 MiB"
    if lead_name is None and lead is not None and len(lead.term) <= 3:
        asked = _asked(dx, sent)  # "Q: Max recipients per message?" then "A: 50"
        if asked is not None:
            lead_name, lead_end = asked, lead.rest_start
    found: list[LimitFact] = []
    spans: list[tuple[int, int]] = []
    previous_role: str | None = None
    previous_end = -1
    if text.rstrip().endswith("?"):
        return row_facts  # a question states nothing: "wasn't it 100 GB per partition?"
    for amount in _amounts(text):
        q = amount.high if isinstance(amount, Range) else amount
        if _DENIED.search(text[: amount.start]):
            continue  # "it's 400 KB not 4 MB"
        named = lead_name is not None and _bare(text, lead_end, amount)
        if _skip(text, q, amount.start, named) or any(s <= amount.start < e for s, e in cells):
            continue
        window = _window(text, amount.start, lead_end)
        role = _role(text, amount, window)
        coordinated = re.fullmatch(r"\s*(?:,|and|or|,\s*and)\s*", text[previous_end : amount.start])
        if (
            role == "value"
            and previous_role in ("max", "min")
            and previous_end >= 0
            and coordinated
        ):
            role = previous_role
        previous = found[-1] if found else None
        if (
            previous is not None
            and re.fullmatch(r"\s*\(\s*", text[previous_end : amount.start])
            and previous.dimension is q.dimension
            and q.base_value in previous.bounds().values()
            and role == "value"
        ):
            continue  # "7 days (168 hours)": the same amount again
        previous_role, previous_end = role, amount.end
        name, per = quantity_name(text, amount, window, lead_end), q.per
        if (
            previous is not None
            and previous.dimension is q.dimension
            and not q.noun
            and _RAISED_TO.search(text[: amount.start])
        ):
            name, per = previous.quantity, previous.per  # "30 brokers (can be raised to 90)"
        elif (
            lead_name
            and not (q.dimension is Dimension.USD or q.noun)
            and _bare(text, lead_end, amount)
        ):
            name = lead_name  # "Buffer size: 1 MiB to 128 MiB, default 5 MiB"
        if q.dimension is Dimension.USD and subject in dx.entities:
            name = without_subject(name, dx.entities[subject].label)
        stated = squash(dx.doc.text[sent.start + amount.start : sent.start + amount.end])
        fact = LimitFact(subject, name, q.dimension, stated, ev, per=per)
        _assign(fact, amount, role)
        found.append(fact)
        spans.append((amount.start, amount.end))
    found = _allowed_values(found, spans, text)
    return row_facts + _merge_sentence(found, dx.doc.text[sent.start : sent.end])


_LISTED_APART = re.compile(
    r"[\s*_`]*(?:\([^()]{0,20}\))?[\s*_`]*(?:,\s*(?:or\s+|and\s+)?|or\s+|and\s+|/\s*)$"
)


def _allowed_values(
    found: list[LimitFact], spans: list[tuple[int, int]], text: str
) -> list[LimitFact]:
    """Three or more amounts listed in rising order are the values a setting allows: "1, 2,
    5 (default) or 10 minutes" is one limit from 1 to 10 minutes, 5 by default, named as
    its most specific member is."""
    out: list[LimitFact] = []
    i = 0
    while i < len(found):
        j = i + 1
        while (
            j < len(found)
            and found[j].dimension is found[i].dimension
            and _LISTED_APART.fullmatch(text[spans[j - 1][1] : spans[j][0]])
        ):
            j += 1
        group = found[i:j]
        values = [next(iter(f.bounds().values())) for f in group if len(f.bounds()) == 1]
        rising = len(values) == len(group) and all(a < b for a, b in pairwise(values))
        if len(group) < 3 or not rising:
            out += group
            i = j
            continue
        names = [f.quantity for f in group if f.quantity not in _GENERIC]
        for k, fact in enumerate(group):
            fact.quantity = names[-1] if names else fact.quantity
            if "value" not in fact.bounds():
                out.append(fact)
            elif k in (0, len(group) - 1):
                v = fact.value
                fact.value = None
                setattr(fact, "min" if k == 0 else "max", v)
                out.append(fact)
        i = j
    return out


def _row_limits(dx: DocumentContext, block: Block, subject: str, ev: Evidence) -> list[LimitFact]:
    """Limits in a table row's numeric cells, named by their column (or by the row, in a table
    of quantities), about the row's entity (or the column's, when columns are things)."""
    row = dx.rows.get(block.index)
    if row is None:
        return []
    out: list[LimitFact] = []
    for cell in row.cells:
        column = cell.column.strip()
        bound = re.match(rf"({BOUND_WORD})\b\.?\s*", column, re.I)
        owner = subject
        if row.columns_are_entities:
            feature = dx.feature(dx.block_subject[block.index].subject, column, ev)
            owner = feature.iri if feature is not None else subject
            bound = re.match(
                rf"({BOUND_WORD})\b",
                row.quantity or "",
                re.I,
            )
        name = clean_quantity(row.quantity if row.quantity is not None else column)
        role = _role_word(bound.group(1)) if bound else None
        for amount in cell.amounts:
            q = amount.high if isinstance(amount, Range) else amount
            stated = squash(dx.doc.text[amount.start : amount.end])
            per = q.per or (row.per if q.dimension is Dimension.USD else None)
            priced = name if _PRICE_WORD.search(name) or q.dimension is not Dimension.USD else None
            quantity = priced or f"{name} price"  # "| Broker storage | $0.10 | per GB-month |"
            fact = LimitFact(owner, quantity, q.dimension, stated, ev, per=per)
            if isinstance(amount, Range):
                _assign(fact, amount, "range")
                if role == "default":
                    fact.default = q.base_value
            else:
                _assign(fact, amount, role or "value")
            out.append(fact)
    return _merge_sentence(out, dx.doc.text[ev.start : ev.end])


def _role_word(word: str) -> str:
    w = word.lower()
    return "default" if w == "default" else "max" if w.startswith("max") else "min"


def _amounts(text: str) -> list[Quantity | Range]:
    ranges = find_ranges(text)
    spans = [(r.start, r.end) for r in ranges]
    singles = [q for q in find_quantities(text) if not any(s <= q.start < e for s, e in spans)]
    found: list[Quantity | Range] = [*ranges, *singles, *_every_unit(text)]
    return sorted(found, key=lambda a: a.start)


def names_a_quantity(term: str) -> bool:
    """ "Buffer size", "Max record size", "Idle timeout": a lead that names an amount."""
    words = term.split()
    return bool(words) and len(words) <= 4 and bool(DIMENSION_NOUNS.search(words[-1].lower()))


def _asked(dx: DocumentContext, sent: Sentence) -> str | None:
    """What a flashcard's question asks for, as the name of the amounts its answer states:
    "Q: Max recipients per message?" over "A: 50 (To + CC + BCC combined)."."""
    question = dx.question_before(sent)
    asked = _QUESTION_OPENING.sub("", question) if question else ""
    if not 1 <= len(asked.split()) <= 8 or dx.find(asked):
        return None
    return clean_quantity(asked)


_QUESTION_OPENING = re.compile(
    r"^(?:what(?:'s|\s+is|\s+are)?|how\s+(?:many|much|long|big|large))\s+(?:the\s+)?", re.I
)


def _bare(text: str, lead_end: int, amount: Quantity | Range) -> bool:
    """Nothing but amounts and bound words between a lead and an amount: the lead names it."""
    between = text[lead_end : amount.start]
    for a in reversed(_amounts(between)):
        between = between[: a.start] + between[a.end :]
    words = re.findall(r"[A-Za-z]+", between)
    return all(w.lower() in BOUND_WORDS | _LINK_WORDS for w in words)


_LINK_WORDS = frozenset("up to from between and or at least most by is are of".split())


def _every_unit(text: str) -> list[Quantity]:
    """ "Snapshots are taken every hour": one hour, an interval, though no number is written."""
    out = []
    for m in re.finditer(r"\bevery\s+(second|minute|hour|day|week|month|year)\b", text, re.I):
        [one] = find_quantities(f"1 {m.group(1)}")
        out.append(replace(one, start=m.start(1), end=m.end(1), text=m.group(1)))
    return out


_BOUND_CUE = re.compile(
    rf"\b(?:up to|at most|at least|{MAX_WORD}(?: of)?|{MIN_WORD}(?: of)?|"
    r"no more than|limit(?:ed)? (?:of|to)|as many as)\s*$",
    re.I,
)


# "(you can request an increase to 90)": a bare number that raises the amount before it
_RAISED_TO = re.compile(
    r"\b(?:rais|increas|extend|expand|grow|go|adjust)\w*(?:\s+\w+){0,4}\s+to\s*$", re.I
)


_HTTP_STATUS = re.compile(
    r"(?:OK|Not\s+Found|Forbidden|Bad\s+Request|Unauthori[sz]ed|Internal\s+Server|Service\s+"
    r"Unavailable|Created|Accepted|No\s+Content|Moved|Found|Too\s+Many|Bad\s+Gateway|Gateway|"
    r"Conflict|Not\s+Modified|Partial\s+Content|Method\s+Not)\b",
)


def _skip(text: str, q: Quantity, start: int, named: bool = False) -> bool:
    """Amounts that are not limits: HTTP status codes, "4 others", a lone "1 subnet", the
    count that announces a list ("There are three types: ..."). A bare number counts only
    when a lead names it (``named``: "Recipients per message: 50") or after "is", "of" ..."""
    if q.dimension is Dimension.COUNT:
        noun = (q.noun or "").strip()
        if not noun:
            return (
                not named
                and not re.search(r"\b(?:of|is|are|was|be|between|from)\s*$", text[:start])
                and not (_RAISED_TO.search(text[:start]))
            )
        if noun.lower() in _RATE_NOUN_SKIP or re.match(r"(?:[AP]\.?M\.?)\b", noun, re.I):
            return True  # "4 others", "starts at 5 AM UTC"
        kind_noun = singular(noun.split()[-1].lower()) in KIND_WORDS | {"way", "level", "type"}
        if kind_noun and not _BOUND_CUE.search(text[:start]):
            return True  # "two kinds of", but not "up to 30 managed node groups"
        if re.match(r"[^.]{0,60}:", text[q.end :]) and not re.search(
            r"\bper\b", text[q.end : q.end + 20]
        ):
            return True
        if 100 <= q.value < 600 and q.value == int(q.value) and _HTTP_STATUS.match(noun):
            return True  # "404 Not Found", not "400 Config rules"
        if q.value == 1 and not re.search(
            r"\b(?:per|each|every|only|max|maximum|at most)\b", text, re.I
        ):
            return True
    return False


def _window(text: str, pos: int, lead_end: int) -> str:
    """The clause before an amount: back to the last ``;``, ``(``, a lead colon, or a comma
    that opens a new clause."""
    start = max(lead_end, 0)
    before = text[start:pos]
    cut = max(before.rfind(";"), before.rfind("("), before.rfind(": "), before.rfind(". "))
    if cut >= 0:
        before = before[cut + 1 :]
    clauses = list(
        re.finditer(r",\s+(?=(?:the|a|an|it|they|this|and|but|then|which|so)\b)", before, re.I)
    )
    if clauses:
        before = before[clauses[-1].end() :]
    return before


def _role(text: str, amount: Quantity | Range, window: str) -> str:
    if isinstance(amount, Range):
        tail = text[amount.end : amount.end + 40]
        return (
            "range-default"
            if re.match(r"\s*(?:,\s*)?(?:by\s+default|\(default\))", tail, re.I)
            else "range"
        )
    near = " ".join(window.split()[-9:])
    after = text[amount.end : amount.end + 30]
    if GRANULARITY_BEFORE.search(window) or re.match(r"\s*increments?\b", after, re.I):
        return "granularity"
    if re.search(r"\bevery\s*$", window, re.I):
        return (
            "interval-default"
            if re.match(r"\s*(?:\w+\s+){0,2}by\s+default", after, re.I)
            else "interval"
        )
    if _MARKED_DEFAULT.match(after):
        return "default"  # "5 (default)"
    if (
        (_default_governs(near) and not _MARKED_EARLIER.search(near))
        or re.match(r"\s*(?:\w+\s+){0,4}by\s+default\b", after, re.I)
        or re.match(r"\s*by\s+default\b", text, re.I)
    ):
        return "default"
    if re.match(r"\s*(?:or\s+more|or\s+higher|minimum|at\s+least)\b", after, re.I):
        return "min"
    if re.match(r"\s*(?:at\s+most|maximum|max\b|or\s+less|or\s+fewer)", after, re.I):
        return "max"
    last_max = _last(_MAX, near)
    last_min = _last(_MIN, near)
    if last_max >= 0 or last_min >= 0:
        return "max" if last_max > last_min else "min"
    if re.search(r"\bfree\b", text[amount.end : amount.end + 40], re.I) and re.search(
        r"\bfirst\s*$", window, re.I
    ):
        return "free"
    return "value"


# "(default)" marks the amount right before it: in "1, 2, 5 (default) or 10 minutes" it is
# 5 minutes, not 10.
_MARKED_DEFAULT = re.compile(r"[\s*_`]*\(\s*(?:the\s+)?default\s*\)", re.I)
_MARKED_EARLIER = re.compile(
    r"(?:\d[\w\s*_`]{0,12}\(|^[\s*_`(]*)\s*(?:the\s+)?default\s*\)(?!.*\bdefault)", re.I
)


def _default_governs(near: str) -> bool:
    """ "the default is 4 days" but not "1 MB by default and can be raised to 8 MB": a bound
    cue in a later clause than the default speaks for the amount."""
    last_default = _last(_DEFAULT, near)
    if last_default < 0:
        return False
    cue = max(_last(_MAX, near), _last(_MIN, near))
    later_clause = re.search(r",|;|\b(?:and|but|or)\b", near[last_default:cue] if cue > 0 else "")
    return cue < last_default or later_clause is None


def _last(pattern: re.Pattern[str], text: str) -> int:
    found = -1
    for m in pattern.finditer(text):
        found = m.start()
    return found


def _assign(fact: LimitFact, amount: Quantity | Range, role: str) -> None:
    if isinstance(amount, Range):
        fact.min, fact.max = amount.low.base_value, amount.high.base_value
        if role == "range-default":
            fact.default = amount.high.base_value
        return
    v = amount.base_value
    if role in ("max",):
        fact.max = v
    elif role == "min":
        fact.min = v
    elif role in ("default", "interval-default"):
        fact.default = v
    else:
        fact.value = v


def _merge_sentence(facts: list[LimitFact], text: str) -> list[LimitFact]:
    """Amounts of one quantity stated in one sentence become one limit: "from 1 min to 14 days,
    the default retention period is 4 days"; "Starts at 5Gbps and scales up to 45 Gbps"."""
    out: list[LimitFact] = []
    for fact in facts:
        target = next((o for o in out if _mergeable(o, fact)), None)
        if target is None:
            out.append(fact)
            continue
        for key, v in fact.bounds().items():
            setattr(target, key, v)
        names_dimension = DIMENSION_NOUNS.search(fact.quantity) and not DIMENSION_NOUNS.search(
            target.quantity
        )
        more_specific = len(fact.quantity) > len(target.quantity) and target.quantity in _GENERIC
        if names_dimension or more_specific:
            target.quantity = fact.quantity
        target.stated_as = _span_text(text, target.stated_as, fact.stated_as)
    return out


def _mergeable(a: LimitFact, b: LimitFact) -> bool:
    if a.subject != b.subject or a.dimension != b.dimension or a.per != b.per:
        return False
    if a.quantity.endswith(("increment", "interval")) != b.quantity.endswith(
        ("increment", "interval")
    ):
        return False
    roles_a, roles_b = set(a.bounds()), set(b.bounds())
    if roles_a & roles_b or "value" in roles_a or "value" in roles_b:
        return False
    generic = _GENERIC | {"retention period"}
    return a.quantity == b.quantity or a.quantity in generic or b.quantity in generic


_GENERIC = frozenset({"duration", "size", "storage", "bandwidth", "count"})


def _span_text(text: str, first: str, second: str) -> str:
    """The stretch of ``text`` from one stated amount to another: "from 1 min to 14 days, the
    default retention period is 4 days"."""
    flat = squash(text)
    a = re.search(rf"(?<![\w.]){re.escape(first)}(?![\w])", flat)
    b = re.search(rf"(?<![\w.]){re.escape(second)}(?![\w])", flat[a.end() :]) if a else None
    if a and b:
        return flat[a.start() : a.end() + b.end()]
    return f"{first}; {second}"


def merge_block_limits(facts: list[LimitFact]) -> list[LimitFact]:
    """Across the sentences of one block: "one day retention period by default. Max retention
    period is 35 days." is one limit with a default and a maximum."""
    out: list[LimitFact] = []
    for fact in facts:
        target = next(
            (
                o
                for o in out
                if o.quantity == fact.quantity
                and _mergeable(o, fact)
                and 0 <= fact.evidence.start - o.evidence.end <= 2
            ),
            None,
        )
        if target is None:
            out.append(fact)
            continue
        for key, v in fact.bounds().items():
            setattr(target, key, v)
        target.evidence = Evidence(target.evidence.start, fact.evidence.end)
        target.stated_as = f"{target.stated_as}; {fact.stated_as}"
    return out
