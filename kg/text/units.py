"""Quantities in note text: numbers, units, ranges and "per" denominators, normalised.

``find_quantities`` reports every stated amount ("5 TB", "$0.20", "24 hours", "6 copies") with
exact character offsets into the text it was given; ``find_ranges`` pairs amounts into ranges
("from 1 min to 14 days", "1GB-16TB"). A quantity keeps its value as stated, in the stated unit;
``base_value`` converts it to the base unit of its dimension:

- bytes, ``unit:BYTE``: KB = 10^3 B ... EB = 10^18 B; binary as written, KiB = 2^10 B ... EiB
- seconds, ``unit:SEC``: ms, s, min, h, day, week; a month is 30 days, a year 365 days
- bits per second, ``unit:BIT-PER-SEC``: bps, Kbps ... Tbps, "Gbit/s", "gigabits per second"
- bytes per second, ``unit:BYTE-PER-SEC``: "MB/s", "MBps", "2MB per second"
- US dollars, ``cur:USD``: "$0.20", "USD 0.10", "10 dollars", "50 cents"
- counts, ``unit:NUM``: "6 copies", "1 million requests"; the counted noun goes in ``noun``
- counts per second, ``unit:NUM-PER-SEC``: "1000 records per second", "3000 IOPS"
- percent, ``unit:PERCENT``: "70%", "99.99 percent"
- ratios, ``unit:UNITLESS``: "3x", "five times", "10-fold"

Only "per second" turns an amount into a rate. Any other "per X" ("$0.25 per hour", "5 VPCs
per region", "100 GB per month") leaves the dimension alone and records X in ``per``; the
amount inside a denominator ("1 million requests") is not reported on its own. What a
quantity bounds (maximum, default ...) is for the extractor to decide from the words around it.

Deliberately not quantities: digits glued to letters or identifiers ("S3", "io1", "IPv4",
"x86", "US-EAST-1", "s3://bucket1"), list markers ("(1)", "2." at the start of a line),
version-like and address-like tokens ("1.2.3", "10.0.0.0/16", "12:30", "2019-01-01"),
names that end in a number ("Route 53", "version 4", "port 443"), truncated numbers
("99.9(…)%"), and number words that count nothing ("one of these").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from kg.vocab import CUR, UNIT

__all__ = [
    "Dimension",
    "Quantity",
    "Range",
    "Unit",
    "find_quantities",
    "find_ranges",
    "format_value",
    "parse_number",
]


class Dimension(StrEnum):
    """What a quantity measures; each dimension has one base unit."""

    BYTES = "bytes"
    SECONDS = "seconds"
    BITS_PER_SECOND = "bits_per_second"
    BYTES_PER_SECOND = "bytes_per_second"
    USD = "usd"
    COUNT = "count"
    COUNT_PER_SECOND = "count_per_second"
    PERCENT = "percent"
    RATIO = "ratio"

    @property
    def unit_iri(self) -> str:
        """The QUDT IRI of the base unit, the unit of ``Quantity.base_value``."""
        return _BASE_UNIT_IRIS[self]


_BASE_UNIT_IRIS: dict[Dimension, str] = {
    Dimension.BYTES: UNIT + "BYTE",
    Dimension.SECONDS: UNIT + "SEC",
    Dimension.BITS_PER_SECOND: UNIT + "BIT-PER-SEC",
    Dimension.BYTES_PER_SECOND: UNIT + "BYTE-PER-SEC",
    Dimension.USD: CUR + "USD",
    Dimension.COUNT: UNIT + "NUM",
    Dimension.COUNT_PER_SECOND: UNIT + "NUM-PER-SEC",
    Dimension.PERCENT: UNIT + "PERCENT",
    Dimension.RATIO: UNIT + "UNITLESS",
}


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit as stated: ``factor`` base units make one of it ("TB": 10^12 bytes)."""

    name: str
    dimension: Dimension
    factor: Decimal

    @property
    def base_iri(self) -> str:
        """QUDT IRI of the base unit that ``factor`` converts to."""
        return self.dimension.unit_iri


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount stated in a text.

    ``start``/``end`` cover the amount with its currency sign and its unit, or for counts
    the counted noun ("5 TB", "$0.20", "24 hours", "6 copies", "1000 records per second");
    ``text`` is that slice. ``noun`` is the counted noun of a count or count rate, and ``per``
    the denominator of a price or other "per" amount ("1 million requests", "GB-second",
    "terabyte per year"); the denominator's words lie after ``end``.
    """

    value: Decimal
    unit: Unit
    start: int
    end: int
    text: str
    noun: str | None = None
    per: str | None = None

    @property
    def dimension(self) -> Dimension:
        return self.unit.dimension

    @property
    def base_value(self) -> Decimal:
        """``value`` in the base unit of the dimension, exact: "5 TB" -> 5000000000000."""
        return _canonical(self.value * self.unit.factor)


@dataclass(frozen=True, slots=True)
class Range:
    """Two quantities of one dimension stated as a range, ``low.base_value <= high.base_value``.

    ``start``/``end`` include an opening "from" or "between"; a unitless low side has taken
    the unit, noun and ``per`` of the high side ("1 to 35 days", "between one and 35 days").
    """

    low: Quantity
    high: Quantity
    start: int
    end: int
    text: str


def find_quantities(text: str) -> list[Quantity]:
    """Every stated quantity in ``text``, in order of position, none overlapping."""
    return [found.quantity for found in _Scanner(text).scan() if not found.bare_words]


def find_ranges(text: str) -> list[Range]:
    """Ranges of two quantities: "X to Y", "X - Y", "from X to Y", "between X and Y".

    The two sides must be adjacent, of one dimension (after a unitless low side takes the
    high side's unit), count the same noun, and not be in descending order. "5Gbps and up
    to 45 Gbps" and "a few hours up to 3 days" are not ranges.
    """
    found = _Scanner(text).scan()
    ranges: list[Range] = []
    i = 0
    while i + 1 < len(found):
        made = _make_range(text, found[i], found[i + 1])
        if made is None:
            i += 1
            continue
        ranges.append(made)
        i += 2
    return ranges


def parse_number(token: str) -> Decimal | None:
    """The value of a number written on its own, or None if ``token`` is not just a number.

    Accepts digits with thousands separators ("64,000"), decimals ("0.00001667"), a decimal
    comma ("0,25", "1,5"; but "1,000" is a thousand), multipliers ("10k", "1M", "1.5 billion")
    and number words ("one", "twenty-five", "a hundred", "one million", "half").
    """
    scanner = _Scanner(token)
    first = scanner.next_token(-1, same_line=False)
    if first is None:
        return None
    amount = scanner.read_amount(first)
    if amount is None or scanner.next_token(amount.last, same_line=False) is not None:
        return None
    return amount.value


def format_value(base_value: Decimal, dimension: Dimension) -> str:
    """A short human form of a base-unit value, in the unit that writes it shortest.

    5e12 bytes -> "5 TB", 1209600 s -> "14 days", 0.1 s -> "100 ms", 45e9 bit/s -> "45 Gbps",
    0.00001667 USD -> "$0.00001667", 1e6 -> "1 million". Among units that give a number of
    at least 1, the one that writes it in the fewest characters wins. Weeks and months are
    never chosen ("14 days", not "2 weeks").
    """
    if dimension is Dimension.USD:
        return "$" + _format_money(base_value)
    if dimension is Dimension.PERCENT:
        return _format_number(base_value) + "%"
    if dimension is Dimension.RATIO:
        return _format_number(base_value) + "x"
    singular, plural, factor = _best_display_unit(base_value, _DISPLAY_UNITS[dimension])
    number = base_value / factor
    label = singular if number == 1 else plural
    return f"{_format_number(number)} {label}".rstrip()


def _words(text: str) -> list[str]:
    return text.split()


# --- Unit tables -------------------------------------------------------------------------------


def _unit_table(dimension: Dimension, factors: dict[str, int | str]) -> dict[str, Unit]:
    return {name: Unit(name, dimension, Decimal(f)) for name, f in factors.items()}


_BYTE_UNITS = _unit_table(
    Dimension.BYTES,
    {
        "B": 1,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
        "PB": 10**15,
        "EB": 10**18,
        "KiB": 2**10,
        "MiB": 2**20,
        "GiB": 2**30,
        "TiB": 2**40,
        "PiB": 2**50,
        "EiB": 2**60,
    },
)
_SECOND_UNITS = _unit_table(
    Dimension.SECONDS,
    {
        "µs": "0.000001",
        "ms": "0.001",
        "second": 1,
        "minute": 60,
        "hour": 3600,
        "day": 86400,
        "week": 7 * 86400,
        "month": 30 * 86400,
        "year": 365 * 86400,
    },
)
_BIT_RATE_UNITS = _unit_table(
    Dimension.BITS_PER_SECOND,
    {"bps": 1, "Kbps": 10**3, "Mbps": 10**6, "Gbps": 10**9, "Tbps": 10**12},
)
_USD = Unit("USD", Dimension.USD, Decimal(1))
_CENT = Unit("cent", Dimension.USD, Decimal("0.01"))
_COUNT = Unit("count", Dimension.COUNT, Decimal(1))
_PER_SECOND = Unit("per second", Dimension.COUNT_PER_SECOND, Decimal(1))
_IOPS = Unit("IOPS", Dimension.COUNT_PER_SECOND, Decimal(1))
_PERCENT = Unit("%", Dimension.PERCENT, Decimal(1))
_TIMES = Unit("x", Dimension.RATIO, Decimal(1))

# Byte symbols are case-sensitive (Mb is a megabit); the informal lower-case forms mean bytes.
_BYTE_SYMBOLS: dict[str, Unit] = {
    **_BYTE_UNITS,
    "kB": _BYTE_UNITS["KB"],
    "mb": _BYTE_UNITS["MB"],
    "gb": _BYTE_UNITS["GB"],
    "tb": _BYTE_UNITS["TB"],
    "pb": _BYTE_UNITS["PB"],
}
_BYTE_WORDS: dict[str, Unit] = {
    f"{prefix}byte{plural}": _BYTE_UNITS[symbol]
    for prefix, symbol in [
        ("", "B"),
        ("kilo", "KB"),
        ("mega", "MB"),
        ("giga", "GB"),
        ("tera", "TB"),
        ("peta", "PB"),
        ("exa", "EB"),
        ("kibi", "KiB"),
        ("mebi", "MiB"),
        ("gibi", "GiB"),
        ("tebi", "TiB"),
        ("pebi", "PiB"),
        ("exbi", "EiB"),
    ]
    for plural in ("", "s")
}
# Lower-cased spellings; one-letter symbols ("s", "h") must also be written in lower case.
_SECOND_SPELLINGS: dict[str, Unit] = {
    spelling: _SECOND_UNITS[name]
    for name, spellings in [
        ("µs", "µs microsecond microseconds"),
        ("ms", "ms msec msecs millisecond milliseconds"),
        ("second", "s sec secs second seconds"),
        ("minute", "min mins minute minutes"),
        ("hour", "h hr hrs hour hours"),
        ("day", "day days"),
        ("week", "wk wks week weeks"),
        ("month", "month months"),
        ("year", "yr yrs year years"),
    ]
    for spelling in spellings.split()
}
_BIT_RATE_SYMBOLS: dict[str, Unit] = {
    **_BIT_RATE_UNITS,
    "kbps": _BIT_RATE_UNITS["Kbps"],
    "mbps": _BIT_RATE_UNITS["Mbps"],
    "gbps": _BIT_RATE_UNITS["Gbps"],
    "tbps": _BIT_RATE_UNITS["Tbps"],
}
# Amounts of bits, which are rates once "/s" or "per second" follows ("Gbit/s", "Gb/s").
_BIT_SYMBOLS: dict[str, Unit] = {
    symbol: _BIT_RATE_UNITS[rate]
    for rate, symbols in [
        ("bps", "bit"),
        ("Kbps", "Kbit kbit Kb kb"),
        ("Mbps", "Mbit Mb"),
        ("Gbps", "Gbit Gb"),
        ("Tbps", "Tbit Tb"),
    ]
    for symbol in symbols.split()
}
_BIT_WORDS: dict[str, Unit] = {
    f"{prefix}bit{plural}": _BIT_RATE_UNITS[rate]
    for prefix, rate in [
        ("", "bps"),
        ("kilo", "Kbps"),
        ("mega", "Mbps"),
        ("giga", "Gbps"),
        ("tera", "Tbps"),
    ]
    for plural in ("", "s")
}
_MONEY_WORDS: dict[str, Unit] = {
    "usd": _USD,
    "dollar": _USD,
    "dollars": _USD,
    "cent": _CENT,
    "cents": _CENT,
}

_SMALL_NUMBERS: dict[str, int] = {
    word: value
    for value, word in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen"
        )
    )
}
_TENS: dict[str, int] = {
    word: 10 * value
    for value, word in enumerate(
        _words("twenty thirty forty fifty sixty seventy eighty ninety"), start=2
    )
}
_SCALES: dict[str, int] = {
    "hundred": 10**2,
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
}
_GLUED_MULTIPLIERS: dict[str, int] = {"k": 10**3, "K": 10**3, "M": 10**6, "bn": 10**9}
# Nouns that may be written glued to their count ("32vCPUs"); any other glued letters make
# an identifier or an ordinal ("4xlarge", "3des", "1st") unless they are a unit.
_GLUED_NOUNS = frozenset(_words("vCPU vCPUs CPU CPUs GPU GPUs AZ AZs"))
# A number right after one of these words is part of a name: "Route 53", "version 4".
_NAME_WORDS = frozenset(
    _words(
        "route version v layer level tier port rfc http https tls ssl ipv step phase part "
        "chapter section figure python java windows error status"
    )
)
# Words that end a counted noun or a denominator ("5 VPCs in each Region").
_STOPWORDS = frozenset(
    _words(
        """a an the of in on at to for from by with within without into onto over under per
    each every and or but nor not no is are was were be been being has have had do does did
    can could will would shall should may might must this that these those it its their your
    our my his her them they we you which who whom whose what when where while than then so
    as if up down out off about above below after before between through during across along
    around via also only just more less most least all any some such same other another both
    either neither very too there here thereafter afterwards free etc ie eg vs x"""
    )
)
# Words that can begin an amount: "one", "twenty", "a hundred", "half", "USD 5".
_NUMBER_STARTS = frozenset({*_SMALL_NUMBERS, *_TENS, "a", "an", "half", "usd"})
_RANGE_WORDS = frozenset({"to", "through"})
_DASHES = frozenset("-–—")
_REJECTING_PREFIXES = frozenset("./:_#@\\€£¥")
_BULLET_MARKS = frozenset("•·▪◦‣●○■□➢►*+-")


# --- Tokens ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*)|(?P<word>[^\W\d_]+)|(?P<space>\s+)|(?P<mark>.)", re.DOTALL
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number" | "word" | "space" | "mark"
    text: str
    start: int
    end: int


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    return tokens


def _parse_digits(token: str) -> Decimal | None:
    """Digits with "," thousands separators or a decimal point or comma, else None."""
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return Decimal(token)
    if re.fullmatch(r"0,\d+", token):  # "0,25": a leading zero is never a thousands group
        return Decimal(token.replace(",", "."))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", token):
        return Decimal(token.replace(",", ""))
    if re.fullmatch(r"\d+,\d{1,2}", token):  # "1,5": a group of one or two digits is decimal
        return Decimal(token.replace(",", "."))
    return None


def _canonical(number: Decimal) -> Decimal:
    """The same number without a needless fraction or trailing zeros: 1500000000.0 -> 1500000000."""
    if number == number.to_integral_value():
        return number.to_integral_value()
    return number.normalize()


def _looks_plural(word: str) -> bool:
    """ "copies", "VPCs", "GB-seconds", but not "AWS", "class" or "status"."""
    return len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


# --- Scanner -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Amount:
    """A number read from tokens: ``first`` and ``last`` are the token indexes it spans."""

    value: Decimal
    first: int
    last: int
    in_words: bool


@dataclass(frozen=True, slots=True)
class _Found:
    """A quantity the scanner found; ``bare_words`` marks a number word that counts nothing."""

    quantity: Quantity
    bare_words: bool


class _Scanner:
    """Reads quantities off the tokens of one text, left to right."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.last_end = -1  # where the previous quantity ended, for "1GB-16TB" and "40-200"

    # Token navigation.

    def next_token(self, i: int, *, same_line: bool = True) -> int | None:
        """Index of the first token after ``i`` that is not space, or None.

        With ``same_line`` the tokens must not be separated by a line break.
        """
        j = i + 1
        if j < len(self.tokens) and self.tokens[j].kind == "space":
            if same_line and "\n" in self.tokens[j].text:
                return None
            j += 1
        return j if j < len(self.tokens) else None

    def glued_after(self, i: int) -> _Token | None:
        """The token right after ``i`` if no space separates them."""
        j = i + 1
        if j < len(self.tokens) and self.tokens[j].kind != "space":
            return self.tokens[j]
        return None

    def glued_before(self, i: int) -> _Token | None:
        if i > 0 and self.tokens[i - 1].kind != "space":
            return self.tokens[i - 1]
        return None

    def spaced_next(self, i: int) -> int | None:
        """Index of the next token if a space (not a line break) separates it from ``i``."""
        j = self.next_token(i)
        return j if j is not None and j > i + 1 else None

    def word_at(self, i: int | None, *words: str) -> bool:
        """Is token ``i`` a word, and (when ``words`` are given) one of them, in any case?"""
        if i is None or i >= len(self.tokens) or self.tokens[i].kind != "word":
            return False
        return not words or self.tokens[i].text.lower() in words

    def span(self, first: int, last: int) -> str:
        return self.text[self.tokens[first].start : self.tokens[last].end]

    # The scan.

    def scan(self) -> list[_Found]:
        found: list[_Found] = []
        i = 0
        while i < len(self.tokens):
            result = self.quantity_at(i)
            if result is None:
                i += 1
                continue
            item, last = result
            found.append(item)
            self.last_end = item.quantity.end
            i = last + 1
        return found

    def quantity_at(self, i: int) -> tuple[_Found, int] | None:
        """The quantity starting at token ``i`` and the index of its last token, if any."""
        token = self.tokens[i]
        if token.kind == "mark" and token.text == "$":
            return self.price_at(i)
        if token.kind == "word" and token.text.lower() not in _NUMBER_STARTS:
            return None
        if self.word_at(i, "usd"):
            j = self.spaced_next(i)
            if j is not None and self.tokens[j].kind == "number":
                return self.price_at(i, amount_at=j)
        if token.kind in ("number", "word"):
            amount = self.read_amount(i)
            if amount is not None and self.stands_alone(amount):
                return self.measure(amount)
        return None

    def price_at(self, sign: int, amount_at: int | None = None) -> tuple[_Found, int] | None:
        """ "$0.20", "US$5", "USD 0.10", "$1.5 million", "$5M", with a "per" denominator."""
        j = amount_at if amount_at is not None else self.next_token(sign)
        if j is None or self.tokens[j].kind != "number":
            return None
        amount = self.read_amount(j, money=True)
        if amount is None or not self.stands_alone(amount, after_sign=True):
            return None
        first, last = sign, amount.last
        before = self.glued_before(sign)
        if before is not None and before.text == "US":
            first = sign - 1
        currency = self.spaced_next(last)
        if self.word_at(currency, "usd") and currency is not None:
            last = currency  # "$5 USD"
        return self.finish(amount.value, _USD, first, last, noun=None, money=True)

    def measure(self, amount: _Amount) -> tuple[_Found, int] | None:
        """Attach the unit or counted noun that follows ``amount``."""
        unit_read = self.read_unit(amount.last)
        if unit_read is not None:
            unit, last = unit_read
            money = unit.dimension is Dimension.USD
            return self.finish(amount.value, unit, amount.first, last, noun=None, money=money)
        glued = self.glued_after(amount.last)
        if glued is not None and glued.kind == "word":
            if glued.text not in _GLUED_NOUNS:
                return None  # "4xlarge", "1st": an identifier or an ordinal
            noun_at: int | None = amount.last + 1
        elif glued is not None and glued.text in _DASHES and self.word_at(amount.last + 2):
            return None  # "3-tier", "two-factor": an adjective, not an amount
        else:
            noun_at = self.spaced_next(amount.last)
        noun_read = self.read_phrase(noun_at) if noun_at is not None else None
        noun, last = noun_read if noun_read is not None else (None, amount.last)
        found, last = self.finish(amount.value, _COUNT, amount.first, last, noun=noun)
        quantity = found.quantity
        counts_nothing = quantity.unit == _COUNT and noun is None and quantity.per is None
        return _Found(quantity, bare_words=amount.in_words and counts_nothing), last

    def finish(
        self,
        value: Decimal,
        unit: Unit,
        first: int,
        last: int,
        *,
        noun: str | None,
        money: bool = False,
    ) -> tuple[_Found, int]:
        """Turn counts into rates on "per second", then read any "per X" denominator."""
        if unit.dimension is Dimension.COUNT:
            rate_end = self.read_per_second(last)
            if rate_end is not None:
                unit, last = _PER_SECOND, rate_end
        start, end = self.tokens[first].start, self.tokens[last].end
        quantity = Quantity(value, unit, start, end, self.text[start:end], noun=noun)
        per_read = self.read_denominator(last, money=money)
        if per_read is not None:
            per, last = per_read
            quantity = replace(quantity, per=per)
        return _Found(quantity, bare_words=False), last

    # Numbers.

    def read_amount(self, i: int, *, money: bool = False) -> _Amount | None:
        """The number at token ``i`` with its multiplier ("10k", "1 million"), if any."""
        token = self.tokens[i]
        if token.kind == "number":
            value = _parse_digits(token.text)
            if value is None:
                return None
            return self.read_scale(value, i, i, in_words=False, money=money)
        return self.read_number_words(i)

    def read_scale(
        self, value: Decimal, first: int, last: int, *, in_words: bool, money: bool = False
    ) -> _Amount:
        glued = self.glued_after(last)
        multipliers = {**_GLUED_MULTIPLIERS, "B": 10**9} if money else _GLUED_MULTIPLIERS
        if glued is not None and glued.kind == "word" and not in_words:
            if glued.text in multipliers:
                scaled = _canonical(value * multipliers[glued.text])
                return _Amount(scaled, first, last + 1, in_words)
            return _Amount(value, first, last, in_words)
        j = self.spaced_next(last)
        if self.word_at(j) and j is not None:
            scale = _SCALES.get(self.tokens[j].text.lower())
            if scale is not None:
                return _Amount(_canonical(value * scale), first, j, in_words)
        return _Amount(value, first, last, in_words)

    def read_number_words(self, i: int) -> _Amount | None:
        """ "one", "twenty-five", "a hundred", "one million", "half", "half an hour"."""
        if not self.word_at(i):
            return None
        word = self.tokens[i].text.lower()
        if word == "half":
            last = i
            j = self.spaced_next(i)
            if self.word_at(j, "a", "an") and j is not None:
                last = j
            return self.read_scale(Decimal("0.5"), i, last, in_words=True)
        if word in ("a", "an"):
            j = self.spaced_next(i)
            if not self.word_at(j, "hundred", "thousand", "million", "billion", "trillion"):
                return None
        elif word not in _SMALL_NUMBERS and word not in _TENS:
            return None
        return self.read_word_sequence(i)

    def read_word_sequence(self, i: int) -> _Amount:
        """Number words from ``i`` on: "two hundred and fifty thousand", "thirty-five"."""
        total, current = 0, 0
        last = i
        previous = ""  # the previous number word, lower-cased
        j: int | None = i
        while j is not None and self.word_at(j):
            word = self.tokens[j].text.lower()
            if word in ("a", "an") and not previous:
                current = 1  # "a hundred", "a million"
            elif word in _TENS and previous in ("", "hundred", "and", *_SCALES):
                current += _TENS[word]
            elif word in _SMALL_NUMBERS and (
                previous in ("", "hundred", "and", *_SCALES)
                or (previous in _TENS and _SMALL_NUMBERS[word] < 10)
            ):
                current += _SMALL_NUMBERS[word]
            elif word == "hundred" and previous and previous not in _SCALES:
                current = max(current, 1) * 100
            elif word in _SCALES and word not in ("hundred", "bn") and previous:
                total += max(current, 1) * _SCALES[word]
                current = 0
            elif word == "and" and previous in ("hundred", *_SCALES):
                following = self.spaced_next(j)
                if following is None or not self.word_at(following):
                    break
                if self.tokens[following].text.lower() not in {*_SMALL_NUMBERS, *_TENS}:
                    break
            else:
                break
            if word != "and":
                last = j
            previous = word
            j = self.next_word_in_number(j)
        return _Amount(Decimal(total + current), i, last, in_words=True)

    def next_word_in_number(self, i: int) -> int | None:
        """The next word of a number written in words: after a space or in "twenty-five"."""
        glued = self.glued_after(i)
        if glued is not None and glued.text in _DASHES and self.word_at(i + 2):
            return i + 2
        return self.spaced_next(i)

    def stands_alone(self, amount: _Amount, *, after_sign: bool = False) -> bool:
        """False when the number is part of a name, identifier, address, date or list marker."""
        first, last = amount.first, amount.last
        before = None if after_sign else self.glued_before(first)
        after = self.glued_after(last)
        if before is not None:
            if before.kind in ("word", "number") or before.text in _REJECTING_PREFIXES:
                return False  # "S3", "x86", "s3://b1", "v1.2", "#3", "€5"
            if before.text in _DASHES and self.last_end != before.start:
                return False  # "US-EAST-1", "fs-1234"; "1GB-16TB" and "40-200" go on
            if before.text == "(" and after is not None and after.text == ")":
                return False  # "(1)": a list marker
        if after is not None and after.kind == "number":
            return False  # "one2"
        if after is not None and after.kind == "mark":
            following = self.glued_after(last + 1)
            if after.text in "/:_" and following is not None and following.kind == "number":
                return False  # "24/7", "12:30", "1_000"
            if after.text in "….(" and self.is_elision(last + 1):
                return False  # "99.9(…)%": the number was cut short
            if after.text in _DASHES and self.is_number_chain(last):
                return False  # "2019-01-01", "555-123-4567"
        if amount.in_words:
            return not self.is_name_part(first)
        if self.is_line_marker(first, after):
            return False
        return after_sign or not self.follows_name_word(first)

    def is_name_part(self, first: int) -> bool:
        """A capitalised number word after a word of the same line: "S3 One Zone"."""
        if not self.tokens[first].text.istitle():
            return False
        j = first - 1
        if j >= 0 and self.tokens[j].kind == "space" and "\n" not in self.tokens[j].text:
            j -= 1
        return j >= 0 and self.tokens[j].kind in ("word", "number")

    def is_elision(self, i: int) -> bool:
        """Does token ``i`` open "…", "...", "(…)" or "(...)"?"""
        rest = self.text[self.tokens[i].start : self.tokens[i].start + 5]
        return rest.startswith(("…", "...", "(…)", "(...)"))

    def is_number_chain(self, last: int) -> bool:
        """Is token ``last`` followed by "-digits-digits" with no spaces?"""
        tokens = self.tokens[last + 1 : last + 5]
        kinds = [(t.kind, t.text in _DASHES) for t in tokens]
        return kinds == [("mark", True), ("number", False), ("mark", True), ("number", False)]

    def is_line_marker(self, first: int, after: _Token | None) -> bool:
        """ "2. Go to ..." or "2) ..." at the start of a line: a numbered list's marker."""
        if after is None or after.text not in ".)" or self.tokens[first].kind != "number":
            return False
        line_start = self.text.rfind("\n", 0, self.tokens[first].start) + 1
        before = self.text[line_start : self.tokens[first].start]
        if before.strip() and not all(c in _BULLET_MARKS or c.isspace() for c in before):
            return False
        end = after.end
        return end == len(self.text) or self.text[end].isspace()

    def follows_name_word(self, first: int) -> bool:
        """ "Route 53", "version 4", "level - 4": the number ends a name."""
        j = first - 1
        while j >= 0 and (
            (self.tokens[j].kind == "space" and "\n" not in self.tokens[j].text)
            or self.tokens[j].text in _DASHES
        ):
            j -= 1
        return j >= 0 and self.word_at(j) and self.tokens[j].text.lower() in _NAME_WORDS

    # Units.

    def read_unit(self, last: int) -> tuple[Unit, int] | None:
        """The unit after the number ending at token ``last``, and its last token index."""
        glued = self.glued_after(last)
        j = last + 1 if glued is not None else self.spaced_next(last)
        if j is None:
            return None
        token = self.tokens[j]
        if token.kind == "mark":
            if token.text == "%":
                return _PERCENT, j
            if token.text == "×":
                return _TIMES, j
            if token.text in _DASHES and glued is not None and self.word_at(j + 1):
                return self.read_hyphenated_unit(j + 1)  # "24-hour", "10-fold"
            return None
        if token.kind != "word":
            return None
        if self.glued_after(j) is not None and self.tokens[j + 1].kind == "number":
            return None  # not a unit but an identifier: "5 s3", "10 GB2"
        word = token.text
        lower = word.lower()
        if glued is not None and word == "x":
            return _TIMES, j
        if lower in ("percent", "pct"):
            return _PERCENT, j
        if lower == "per":
            following = self.spaced_next(j)
            if self.word_at(following, "cent") and following is not None:
                return _PERCENT, following
            return None
        if lower == "times" and glued is None:
            return _TIMES, j
        if word == "IOPS":
            return _IOPS, j
        if word in _BIT_RATE_SYMBOLS:
            return _BIT_RATE_SYMBOLS[word], j
        if word.endswith("Bps") and word[:-2] in _BYTE_SYMBOLS:
            return _byte_rate(_BYTE_SYMBOLS[word[:-2]]), j
        bits = _BIT_SYMBOLS.get(word) or _BIT_WORDS.get(lower)
        if bits is not None:
            rate_end = self.read_per_second(j)
            return (bits, rate_end) if rate_end is not None else None
        size = _BYTE_SYMBOLS.get(word) or _BYTE_WORDS.get(lower)
        if size is not None:
            if self.is_compound_unit(j):
                return None  # "400,000 GB-seconds": a count of GB-seconds
            rate_end = self.read_per_second(j)
            return (_byte_rate(size), rate_end) if rate_end is not None else (size, j)
        time = _time_unit(word)
        if time is not None:
            return time, j
        if lower in _MONEY_WORDS:
            return _MONEY_WORDS[lower], j
        return None

    def read_hyphenated_unit(self, j: int) -> tuple[Unit, int] | None:
        word = self.tokens[j].text
        if word.lower() == "fold":
            return _TIMES, j
        time = _time_unit(word)
        if time is not None:
            return time, j
        size = _BYTE_SYMBOLS.get(word) or _BYTE_WORDS.get(word.lower())
        return (size, j) if size is not None else None

    def is_compound_unit(self, j: int) -> bool:
        """Is the unit word at ``j`` the first half of "GB-second" or "GB-month"?"""
        glued = self.glued_after(j)
        return (
            glued is not None
            and glued.text in _DASHES
            and self.word_at(j + 2)
            and _time_unit(self.tokens[j + 2].text) is not None
        )

    def read_per_second(self, last: int) -> int | None:
        """Index of the last token of "per second", "/s" or "/sec" right after ``last``."""
        glued = self.glued_after(last)
        if glued is not None and glued.text == "/":
            unit_at = last + 2
            if self.word_at(unit_at, "s", "sec", "second"):
                return unit_at
            return None
        j = self.spaced_next(last)
        if self.word_at(j, "per") and j is not None:
            following = self.spaced_next(j)
            if self.word_at(following, "second", "sec", "s"):
                return following
        return None

    # Counted nouns and denominators.

    def read_phrase(self, i: int, *, max_words: int = 4) -> tuple[str, int] | None:
        """The noun phrase starting at token ``i``: "VPCs", "compute nodes", "GB-second".

        The phrase stops before a stopword, punctuation or a line break, before a participle
        ("used", "running"), and after a plural ("copies") or a unit ("instance hour").
        """
        words = 0
        last: int | None = None
        j: int | None = i
        while j is not None and self.word_at(j) and words < max_words:
            lower = self.tokens[j].text.lower()
            if lower in _STOPWORDS or (words and lower.endswith(("ed", "ing"))):
                break
            end = self.compound_end(j)
            word = self.span(j, end)
            words += 1
            last = end
            if _looks_plural(word) or _is_unit_word(word):
                break
            j = self.spaced_next(end)
        if last is None:
            return None
        return self.span(i, last), last

    def compound_end(self, i: int) -> int:
        """Last token of a compound word at ``i``: "GB-second", "read-only", "GET/HEAD".

        A slash before a unit is a denominator, not part of the word ("requests/second").
        """
        while self.word_at(i + 2):
            glued = self.glued_after(i)
            joined_by_dash = glued is not None and glued.text in _DASHES
            joined_by_slash = glued is not None and glued.text == "/"
            if joined_by_slash and _is_unit_word(self.tokens[i + 2].text):
                return i
            if not (joined_by_dash or joined_by_slash):
                return i
            i += 2
        return i

    def read_denominator(self, last: int, *, money: bool) -> tuple[str, int] | None:
        """The "X" of "per X" (also "/X"; and for prices "for every X", "an hour") after ``last``.

        Chained denominators stay together ("terabyte per year"). Returns X and its last token.
        """
        glued = self.glued_after(last)
        if glued is not None and glued.text == "/" and self.word_at(last + 2):
            if not money and not _is_unit_word(self.tokens[last + 2].text):
                return None  # "10 GB/month" and "$5/user", but not "PUT/COPY"
            start = last + 2
        else:
            j = self.spaced_next(last)
            if j is None or not self.word_at(j):
                return None
            word = self.tokens[j].text.lower()
            following = self.spaced_next(j)
            if word == "per":
                start_or_none = following
            elif money and word == "for" and self.word_at(following, "every", "each"):
                start_or_none = self.spaced_next(following) if following is not None else None
            elif money and word in ("every", "each"):
                start_or_none = following
            elif money and word in ("a", "an") and following is not None:
                is_time = _time_unit(self.tokens[following].text) is not None
                start_or_none = following if is_time else None
            else:
                return None
            if start_or_none is None:
                return None
            start = start_or_none
        end = self.read_denominator_words(start)
        if end is None:
            return None
        chained = self.read_denominator(end, money=False)
        if chained is not None:
            end = chained[1]
        return self.span(start, end), end

    def read_denominator_words(self, i: int) -> int | None:
        """Last token of "1 million requests", "GB-second", "hour", "instance hour" at ``i``."""
        amount = self.read_amount(i)
        if amount is not None:
            unit_read = self.read_unit(amount.last)
            if unit_read is not None:
                return unit_read[1]
            j = self.spaced_next(amount.last)
            phrase = self.read_phrase(j) if j is not None else None
            return phrase[1] if phrase is not None else amount.last
        if not self.word_at(i):
            return None
        end = self.compound_end(i)
        if _is_unit_word(self.span(i, end)):
            return end
        phrase = self.read_phrase(i, max_words=3)
        return phrase[1] if phrase is not None else None


def _time_unit(word: str) -> Unit | None:
    if len(word) == 1 and not word.islower():
        return None
    return _SECOND_SPELLINGS.get(word.lower())


def _byte_rate(size: Unit) -> Unit:
    return Unit(f"{size.name}/s", Dimension.BYTES_PER_SECOND, size.factor)


def _is_unit_word(word: str) -> bool:
    """A unit spelling, or a hyphenated compound of them ("GB-second", "GB-month")."""
    parts = word.split("-")
    return all(
        part in _BYTE_SYMBOLS
        or part.lower() in _BYTE_WORDS
        or part in _BIT_RATE_SYMBOLS
        or (len(part) > 1 and _time_unit(part) is not None)
        for part in parts
    )


# --- Ranges ------------------------------------------------------------------------------------


def _make_range(text: str, left: _Found, right: _Found) -> Range | None:
    low, high = left.quantity, right.quantity
    between = text[low.end : high.start]
    gap = between.strip().lower()
    start = _opener_start(text, low.start)
    opener = text[start : low.start].strip().lower()
    if "\n" in between:
        return None
    if not (gap in _DASHES or gap in _RANGE_WORDS or (gap == "and" and opener == "between")):
        return None
    if low.unit == _COUNT and low.noun is None:
        low = replace(low, unit=high.unit, noun=high.noun)
    if low.per is None:
        low = replace(low, per=high.per)
    if low.dimension is not high.dimension or low.noun != high.noun:
        return None
    if low.base_value > high.base_value:
        return None
    return Range(low, high, start, high.end, text[start : high.end])


def _opener_start(text: str, start: int) -> int:
    """Where "from" or "between" begins if it is the word right before ``start``, else ``start``."""
    window = max(0, start - 40)  # look back a little, never over the whole text
    before = text[window:start].rstrip(" \t").lower()
    for word in ("from", "between"):
        if before.endswith(word):
            begin = window + len(before) - len(word)
            if begin == 0 or not text[begin - 1].isalnum():
                return begin
    return start


# --- Formatting --------------------------------------------------------------------------------

_DisplayUnit = tuple[str, str, Decimal]  # singular label, plural label, factor


def _display(*units: tuple[str, str, Decimal | int | str]) -> tuple[_DisplayUnit, ...]:
    return tuple((singular, plural, Decimal(f)) for singular, plural, f in units)


_DISPLAY_UNITS: dict[Dimension, tuple[_DisplayUnit, ...]] = {
    Dimension.BYTES: _display(*((name, name, unit.factor) for name, unit in _BYTE_UNITS.items())),
    Dimension.BYTES_PER_SECOND: _display(
        *((f"{name}/s", f"{name}/s", unit.factor) for name, unit in _BYTE_UNITS.items())
    ),
    Dimension.BITS_PER_SECOND: _display(
        *((name, name, unit.factor) for name, unit in _BIT_RATE_UNITS.items())
    ),
    # No weeks or months: "14 days" and "30 days" read better than "2 weeks" and "1 month".
    Dimension.SECONDS: _display(
        ("µs", "µs", "0.000001"),
        ("ms", "ms", "0.001"),
        ("second", "seconds", 1),
        ("minute", "minutes", 60),
        ("hour", "hours", 3600),
        ("day", "days", 86400),
        ("year", "years", 365 * 86400),
    ),
    Dimension.COUNT: _display(
        ("", "", 1), ("million", "million", 10**6), ("billion", "billion", 10**9)
    ),
    Dimension.COUNT_PER_SECOND: _display(
        ("per second", "per second", 1),
        ("million per second", "million per second", 10**6),
        ("billion per second", "billion per second", 10**9),
    ),
}


def _best_display_unit(value: Decimal, units: tuple[_DisplayUnit, ...]) -> _DisplayUnit:
    """The unit that writes ``value`` shortest with a number of at least 1.

    Ties go to decimal units before binary ones (256000 B is "256 KB", not "250 KiB"), then
    to the larger unit.
    """
    fitting = [unit for unit in units if abs(value) / unit[2] >= 1]
    if not fitting:
        return min(units, key=lambda unit: unit[2])

    def length_binary_size(unit: _DisplayUnit) -> tuple[int, bool, Decimal]:
        return len(_plain(value / unit[2])), "iB" in unit[0], -unit[2]

    return min(fitting, key=length_binary_size)


def _plain(number: Decimal) -> str:
    """ "1500", "0.1", "4.547473508864641189575195312": no exponent, no trailing zeros."""
    return format(number.normalize(), "f")


def _format_number(number: Decimal) -> str:
    return format(number.normalize(), ",f")


def _format_money(amount: Decimal) -> str:
    """ "1,000", "0.20", "0.00001667": whole dollars bare, cents with at least two places."""
    amount = amount.normalize()
    if amount == amount.to_integral_value():
        return format(amount, ",f")
    places = max(2, -int(amount.as_tuple().exponent))
    return format(amount, f",.{places}f")
