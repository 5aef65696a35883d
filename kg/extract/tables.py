"""Table rows -> the entity a row is about, its numeric cells with their column names, and
yes/no matrices. Handles Markdown pipe tables (cells marked) and tables pasted from a web page
into plain text, where a row is one line and cells must be found again:

    Type Description Use Cases API Name Volume Size Max. IOPS / Volume
    General Purpose (SSD) General purpose that balances ... Most work loads gp2 1GB-16TB 16000
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Protocol

from kg.model import Block
from kg.text.phrases import KIND_WORDS
from kg.text.quantities import find_quantities, find_ranges
from kg.text.units import Dimension, Quantity, Range, Unit
from kg.text.words import MAX_WORD, MIN_WORD, singular


class _Doc(Protocol):
    text: str


@dataclass(frozen=True, slots=True)
class NumberCell:
    column: str  # "volume size", "max IOPS per volume", "Default", "Maximum"
    start: int  # document offsets of the cell
    end: int
    amounts: tuple[Quantity | Range, ...]


@dataclass
class Row:
    name: str | None  # the thing the row is about; None for a table of quantities
    aliases: list[str] = field(default_factory=list)
    kind: str | None = None  # from the first column's heading ("Type" -> "type")
    quantity: str | None = None  # for a table of quantities: what this row bounds
    columns_are_entities: bool = False  # "| | Standard | Express |": each column is a thing
    cells: list[NumberCell] = field(default_factory=list)
    matrix: list[tuple[str, bool, str]] = field(default_factory=list)  # (column, yes?, row)
    per: str | None = None  # a "Unit" column's "per GB-month": what the row's prices are per
    # A table of things with a yes/no column ("| Tier | ... | Autoscale |"): the columns this
    # row's thing has ("Yes"); the matrix above is for tables of nothing but yes/no cells.
    has: list[str] = field(default_factory=list)
    service: str | None = None  # a "Service" column's cell: what the row is about
    tier: str | None = None  # a "Tier" column's cell: the part of it the row's limits are of


_YES = {"yes", "y", "✓", "✔", "true", "supported", "x"}
_NO = {"no", "n", "✗", "✘", "-", "false", "not supported", ""}
_QUANTITY_FIRST_COLUMN = re.compile(
    r"^(?:limit|limits|quota|quotas|resource|setting|parameter|property|metric|item|quantity|"
    r"dimension|attribute|constraint)s?$",
    re.IGNORECASE,
)
_SERVICE_COLUMN = re.compile(r"^(?:(?:aws|azure|gcp|google|cloud)\s+)?(?:service|product)s?$", re.I)
_TIER_COLUMN = re.compile(r"^(?:tier|sku|plan|edition)s?$", re.I)
_REMARK_COLUMN = re.compile(r"^(?:notes?|comments?|remarks?|description|details?|why)$", re.I)
_COMPARISON_FIRST_COLUMN = re.compile(
    r"^(?:feature|capability|aspect|characteristic|spec(?:ification)?|comparison)s?$", re.I
)
_UNIT_COLUMN = re.compile(r"^(?:(?:billing|pricing|price)\s+)?(?:units?|per)$", re.I)
_AMOUNT_COLUMN = re.compile(r"^(?:price|cost|fee|charge|amount|rate|value)s?\b", re.I)
_BOUND_COLUMN = re.compile(rf"^(?:default|{MAX_WORD}|{MIN_WORD}|value|limit|quota)\b", re.I)
# A column that is only a bound ("Default", "Max value", "Maximum (Premium)"), unlike "Max
# timeout": in a table of such columns each row is a quantity.
_ONLY_BOUND_COLUMN = re.compile(
    rf"^(?:(?:default|{MAX_WORD}|{MIN_WORD})(?:\s+(?:value|limit|quota))?|values?|limits?|quotas?)"
    r"(?:\s*\(.*\))?\s*$",
    re.I,
)
_QUANTITY_WORDS = re.compile(
    r"\b(?:size|iops|throughput|bandwidth|memory|ram|storage|capacity|disk|price|cost|"
    r"latency|duration|timeout|retention|period|time|length|nodes?|connections?|vcpus?|cpus?|"
    rf"count|number|rate|requests?|limit|{MAX_WORD}|{MIN_WORD}|default)\b",
    re.IGNORECASE,
)


def read_row(doc: _Doc, header: Block, row: Block) -> Row | None:
    if header.cells and row.cells:
        return _pipe_row(header, row)
    return _flat_row(doc.text, header, row)


def _kind_of_column(name: str) -> str | None:
    words = name.lower().split()
    if words and singular(words[-1]) in KIND_WORDS:
        return " ".join([*words[:-1], singular(words[-1])])
    return None


def _amounts(text: str, offset: int) -> tuple[Quantity | Range, ...]:
    ranges = find_ranges(text)
    inside = [(r.start, r.end) for r in ranges]
    singles = [q for q in find_quantities(text) if not any(s <= q.start < e for s, e in inside)]
    found: list[Quantity | Range] = [*ranges, *singles]
    found.sort(key=lambda a: a.start)
    return tuple(_shift(a, offset) for a in found)


def _column_unit(head: str) -> Unit | None:
    """The unit a column's header gives its bare numbers: "SSD storage per node (TB)"."""
    m = re.search(r"\(([^()\d]{1,12})\)\s*$", head)
    if not m:
        return None
    found = find_quantities(f"1 {m.group(1)}")
    if len(found) != 1 or found[0].dimension is Dimension.COUNT:
        return None
    return found[0].unit


def _in_unit(a: Quantity | Range, unit: Unit) -> Quantity | Range:
    """A bare number ("5") in the unit of its column; an amount with a unit of its own as is."""
    if isinstance(a, Range):
        low, high = _in_unit(a.low, unit), _in_unit(a.high, unit)
        assert isinstance(low, Quantity) and isinstance(high, Quantity)
        return replace(a, low=low, high=high)
    if a.dimension is Dimension.COUNT and not a.noun:
        return replace(a, unit=unit)
    return a


def _shift(a: Quantity | Range, offset: int) -> Quantity | Range:
    """Move an amount found in a cell to document offsets."""
    if isinstance(a, Range):
        low = replace(a.low, start=a.low.start + offset, end=a.low.end + offset)
        high = replace(a.high, start=a.high.start + offset, end=a.high.end + offset)
        return replace(a, low=low, high=high, start=a.start + offset, end=a.end + offset)
    return replace(a, start=a.start + offset, end=a.end + offset)


def _pipe_row(header: Block, row: Block) -> Row | None:
    heads = [c.text for c in header.cells]
    cells = list(row.cells)
    if not cells or not heads:
        return None
    first_head = heads[0]
    out = Row(name=None)
    out.service = next(
        (
            cells[i].text
            for i in range(1, min(len(heads), len(cells)))
            if _SERVICE_COLUMN.match(heads[i].strip())
        ),
        None,
    )
    out.tier = next(
        (
            cells[i].text
            for i in range(1, min(len(heads), len(cells)))
            if _TIER_COLUMN.match(heads[i].strip())
            and cells[i].text.strip().lower() not in ("", "all", "any", "-", "—", "n/a")
        ),
        None,
    )
    values = [c.text.strip().lower() for c in cells[1:]]
    if values and all(v in _YES | _NO for v in values) and any(v in _YES for v in values):
        out.name = cells[0].text
        out.kind = _kind_of_column(first_head)
        out.matrix = [
            (heads[i], cells[i].text.strip().lower() in _YES, cells[0].text)
            for i in range(1, min(len(heads), len(cells)))
        ]
        return out
    numeric = []
    out.has = [
        heads[i]
        for i in range(1, min(len(heads), len(cells)))
        if cells[i].text.strip().lower() in _YES - {"x"} and heads[i].strip()
    ]
    # "service,item,value,notes": a column after the first names each row's quantity.
    named_at = next(
        (
            i
            for i in range(1, min(len(heads), len(cells)))
            if _QUANTITY_FIRST_COLUMN.match(heads[i].strip())
            and not _amounts(cells[i].text, cells[i].start)
        ),
        None,
    )
    for i, cell in enumerate(cells):
        if i == 0 or i >= len(heads) or i == named_at:
            continue
        if named_at is not None and _REMARK_COLUMN.match(heads[i].strip()):
            continue  # "notes": remarks on the value, not more values of the row's quantity
        amounts = _amounts(cell.text, cell.start)
        unit = _column_unit(heads[i])
        if unit is not None:
            amounts = tuple(_in_unit(a, unit) for a in amounts)
        if amounts:
            numeric.append(NumberCell(heads[i], cell.start, cell.end, amounts))
    first_is_quantity = _QUANTITY_FIRST_COLUMN.match(first_head.strip()) or (
        numeric and all(_ONLY_BOUND_COLUMN.match(c.column.strip()) for c in numeric)
    )
    transposed = (
        numeric
        and (
            not first_head.strip()
            or _QUANTITY_FIRST_COLUMN.match(first_head.strip())
            or _COMPARISON_FIRST_COLUMN.match(first_head.strip())  # "| Feature | A | B |"
        )
        and _QUANTITY_WORDS.search(cells[0].text)
        and not any(
            _BOUND_COLUMN.match(c.column.strip()) or _AMOUNT_COLUMN.match(c.column.strip())
            for c in numeric
        )
    )
    for head, cell in zip(heads, cells, strict=False):
        per = re.fullmatch(r"\s*(?:per|/)\s*(\S.*?)\s*", cell.text)
        if _UNIT_COLUMN.match(head.strip()) and per:
            out.per = per.group(1)
    if named_at is not None and numeric and not _QUANTITY_FIRST_COLUMN.match(first_head.strip()):
        out.name, out.quantity = cells[0].text, cells[named_at].text
        out.has = []  # "Adjustable: Yes" says how the quota is, not what the service has
    elif transposed:
        out.quantity = cells[0].text
        out.columns_are_entities = True
    elif first_is_quantity:
        out.quantity = cells[0].text
    else:
        out.name = cells[0].text
        out.kind = _kind_of_column(first_head)
    out.cells = numeric
    return out


def _flat_row(text: str, header: Block, row: Block) -> Row | None:
    head = text[header.start : header.end]
    line = text[row.start : row.end]
    words = line.split()
    if not words:
        return None
    head_words = head.split()
    out = Row(name=None, kind=_kind_of_column(head_words[0]) if head_words else None)
    # A yes/no matrix: the header ends with one column name per trailing yes/no token.
    trailing = 0
    while trailing < len(words) and words[len(words) - 1 - trailing].lower() in _YES | {"no", "n"}:
        trailing += 1
    if trailing and trailing < len(head_words):
        columns = head_words[-trailing:]
        name = " ".join(words[: len(words) - trailing])
        out.name = name
        out.kind = None
        out.matrix = [
            (c, v.lower() in _YES, name) for c, v in zip(columns, words[-trailing:], strict=True)
        ]
        return out
    # Numeric cells are the amounts at the end of the line, after the last ordinary word.
    amounts = _amounts(line, row.start)
    trailing_amounts: list[Quantity | Range] = []
    cursor = len(line)
    for a in reversed(amounts):
        between = line[a.end - row.start : cursor]
        if re.search(r"[A-Za-z]{2,}", between.replace("IOPS", "")):
            break
        trailing_amounts.insert(0, a)
        cursor = a.start - row.start
    name_part = line[:cursor].rstrip()
    columns = _quantity_columns(head, trailing_amounts)
    for a, column in zip(trailing_amounts, columns, strict=True):
        out.cells.append(NumberCell(column, a.start, a.end, (a,)))
    # "API Name" column: the single token right before the numbers is the row's short name.
    if trailing_amounts and re.search(r"\b(?:API|short|code)?\s*name\b", head, re.I):
        tokens = name_part.split()
        if tokens and re.fullmatch(r"[A-Za-z][\w.-]{0,15}", tokens[-1]):
            out.aliases.append(tokens[-1])
            name_part = name_part[: name_part.rfind(tokens[-1])].rstrip()
    out.name = _row_name(name_part)
    return out


def _row_name(text: str) -> str | None:
    """The name at the start of a flattened row: up to the first parenthesised acronym or a
    colon ("General Purpose (SSD)", "Reserved:"), else the run of capitalised words before the
    description starts ("Throughput Optimised Hard Disk Drive Low cost ..." -> drop "Low")."""
    words = text.split()
    if not words:
        return None
    for i, w in enumerate(words[:6]):
        if w.endswith(":"):
            return " ".join(words[: i + 1]).rstrip(":")
        if re.fullmatch(r"\([A-Za-z0-9-]{2,8}\)", w):
            return " ".join(words[: i + 1])
    caps = 0
    while caps < len(words) and (words[caps][0].isupper() or words[caps][0].isdigit()):
        caps += 1
    if caps == 0:
        return None
    if caps < len(words):
        caps -= 1  # the last capitalised word opens the description
    if caps == 0:
        # "Dedicated hosts Physical EC2 ...": the name runs until the next capitalised word.
        nxt = next((i for i in range(1, len(words)) if words[i][0].isupper()), len(words))
        return " ".join(words[: min(nxt, 3)])
    return " ".join(words[: min(caps, 6)])


def _quantity_columns(head: str, amounts: list[Quantity | Range]) -> list[str]:
    """Column names for the numeric cells at the end of a flattened row, read from the end of
    the header: each quantity word ("Size", "IOPS") with the words that qualify it."""
    if not amounts:
        return []
    words = head.replace(" / ", " per ").replace("/", " per ").split()
    anchors = [
        i
        for i, w in enumerate(words)
        if _QUANTITY_WORDS.fullmatch(w.strip(".").lower())
        and w.strip(".").lower() not in ("max", "maximum", "min", "minimum", "default")
    ]
    columns: list[str] = []
    used_until = len(words)
    picked = anchors[-len(amounts) :] if len(anchors) >= len(amounts) else anchors
    spans: list[tuple[int, int]] = []
    for k in range(len(picked) - 1, -1, -1):
        i = picked[k]
        start = i
        if start > 0 and (k == 0 or start - 1 > picked[k - 1]) and words[start - 1][0].isupper():
            start -= 1  # one qualifying word: "Volume Size", "Max. IOPS"
        end = i + 1
        while end < used_until and words[end].lower() in ("per",) and end + 1 < used_until:
            end += 2
        spans.insert(0, (start, end))
        used_until = start
    for start, end in spans:
        columns.append(
            " ".join(w.strip(".") if w.lower().startswith("max") else w for w in words[start:end])
        )
    while len(columns) < len(amounts):
        columns.insert(0, "value")
    return columns[-len(amounts) :]
