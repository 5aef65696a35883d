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

__all__ = ["find_quantities", "find_ranges", "parse_number"]

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from kg.text.listed import share_units
from kg.text.spellings import (
    BIT_RATE_SYMBOLS,
    BIT_SYMBOLS,
    BIT_WORDS,
    BULLET_MARKS,
    BYTE_SYMBOLS,
    BYTE_WORDS,
    COUNT,
    COUNTED_NOUN_ENDS,
    DASHES,
    GLUED_MULTIPLIERS,
    GLUED_NOUNS,
    IOPS,
    MONEY_WORDS,
    NAME_WORDS,
    NUMBER_STARTS,
    PER_SECOND,
    PERCENT,
    RANGE_WORDS,
    REJECTING_PREFIXES,
    SCALES,
    SMALL_NUMBERS,
    TENS,
    TIMES,
    USD,
    byte_rate,
    is_unit_word,
    looks_plural,
    time_unit,
)
from kg.text.units import (
    Dimension,
    Quantity,
    Range,
    Unit,
    canonical,
)


def find_quantities(text: str) -> list[Quantity]:
    """Every stated quantity in ``text``, in order of position, none overlapping; listed
    amounts share a unit ("1, 2, 5 (default) or 10 minutes": ``kg.text.listed``)."""
    return share_units(text, [f.quantity for f in _Scanner(text).scan() if not f.bare_words])


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
        if token.kind == "word" and token.text.lower() not in NUMBER_STARTS:
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
        return self.finish(amount.value, USD, first, last, noun=None, money=True)

    def measure(self, amount: _Amount) -> tuple[_Found, int] | None:
        """Attach the unit or counted noun that follows ``amount``."""
        unit_read = self.read_unit(amount.last)
        if unit_read is not None:
            unit, last = unit_read
            money = unit.dimension is Dimension.USD
            return self.finish(amount.value, unit, amount.first, last, noun=None, money=money)
        glued = self.glued_after(amount.last)
        if glued is not None and glued.kind == "word":
            if glued.text not in GLUED_NOUNS:
                return None  # "4xlarge", "1st": an identifier or an ordinal
            noun_at: int | None = amount.last + 1
        elif glued is not None and glued.text in DASHES and self.word_at(amount.last + 2):
            return None  # "3-tier", "two-factor": an adjective, not an amount
        else:
            noun_at = self.spaced_next(amount.last)
        noun_read = self.read_phrase(noun_at) if noun_at is not None else None
        noun, last = noun_read if noun_read is not None else (None, amount.last)
        found, last = self.finish(amount.value, COUNT, amount.first, last, noun=noun)
        quantity = found.quantity
        counts_nothing = quantity.unit == COUNT and noun is None and quantity.per is None
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
                unit, last = PER_SECOND, rate_end
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
        multipliers = {**GLUED_MULTIPLIERS, "B": 10**9} if money else GLUED_MULTIPLIERS
        if glued is not None and glued.kind == "word" and not in_words:
            if glued.text in multipliers:
                scaled = canonical(value * multipliers[glued.text])
                return _Amount(scaled, first, last + 1, in_words)
            return _Amount(value, first, last, in_words)
        j = self.spaced_next(last)
        if self.word_at(j) and j is not None:
            scale = SCALES.get(self.tokens[j].text.lower())
            if scale is not None:
                return _Amount(canonical(value * scale), first, j, in_words)
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
        elif word not in SMALL_NUMBERS and word not in TENS:
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
            elif word in TENS and previous in ("", "hundred", "and", *SCALES):
                current += TENS[word]
            elif word in SMALL_NUMBERS and (
                previous in ("", "hundred", "and", *SCALES)
                or (previous in TENS and SMALL_NUMBERS[word] < 10)
            ):
                current += SMALL_NUMBERS[word]
            elif word == "hundred" and previous and previous not in SCALES:
                current = max(current, 1) * 100
            elif word in SCALES and word not in ("hundred", "bn") and previous:
                total += max(current, 1) * SCALES[word]
                current = 0
            elif word == "and" and previous in ("hundred", *SCALES):
                following = self.spaced_next(j)
                if following is None or not self.word_at(following):
                    break
                if self.tokens[following].text.lower() not in {*SMALL_NUMBERS, *TENS}:
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
        if glued is not None and glued.text in DASHES and self.word_at(i + 2):
            return i + 2
        return self.spaced_next(i)

    def stands_alone(self, amount: _Amount, *, after_sign: bool = False) -> bool:
        """False when the number is part of a name, identifier, address, date or list marker."""
        first, last = amount.first, amount.last
        before = None if after_sign else self.glued_before(first)
        after = self.glued_after(last)
        if before is not None:
            if before.kind in ("word", "number") or before.text in REJECTING_PREFIXES:
                return False  # "S3", "x86", "s3://b1", "v1.2", "#3", "€5"
            if before.text in DASHES and self.last_end != before.start:
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
            if after.text in DASHES and self.is_number_chain(last):
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
        kinds = [(t.kind, t.text in DASHES) for t in tokens]
        return kinds == [("mark", True), ("number", False), ("mark", True), ("number", False)]

    def is_line_marker(self, first: int, after: _Token | None) -> bool:
        """ "2. Go to ..." or "2) ..." at the start of a line: a numbered list's marker."""
        if after is None or after.text not in ".)" or self.tokens[first].kind != "number":
            return False
        line_start = self.text.rfind("\n", 0, self.tokens[first].start) + 1
        before = self.text[line_start : self.tokens[first].start]
        if before.strip() and not all(c in BULLET_MARKS or c.isspace() for c in before):
            return False
        end = after.end
        return end == len(self.text) or self.text[end].isspace()

    def follows_name_word(self, first: int) -> bool:
        """ "Route 53", "version 4", "level - 4": the number ends a name."""
        j = first - 1
        while j >= 0 and (
            (self.tokens[j].kind == "space" and "\n" not in self.tokens[j].text)
            or self.tokens[j].text in DASHES
        ):
            j -= 1
        return j >= 0 and self.word_at(j) and self.tokens[j].text.lower() in NAME_WORDS

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
                return PERCENT, j
            if token.text == "×":
                return TIMES, j
            if token.text in DASHES and glued is not None and self.word_at(j + 1):
                return self.read_hyphenated_unit(j + 1)  # "24-hour", "10-fold"
            return None
        if token.kind != "word":
            return None
        if self.glued_after(j) is not None and self.tokens[j + 1].kind == "number":
            return None  # not a unit but an identifier: "5 s3", "10 GB2"
        word = token.text
        lower = word.lower()
        if glued is not None and word == "x":
            return TIMES, j
        if lower in ("percent", "pct"):
            return PERCENT, j
        if lower == "per":
            following = self.spaced_next(j)
            if self.word_at(following, "cent") and following is not None:
                return PERCENT, following
            return None
        if lower == "times" and glued is None:
            return TIMES, j
        if word == "IOPS":
            return IOPS, j
        if word in BIT_RATE_SYMBOLS:
            return BIT_RATE_SYMBOLS[word], j
        if word.endswith("Bps") and word[:-2] in BYTE_SYMBOLS:
            return byte_rate(BYTE_SYMBOLS[word[:-2]]), j
        bits = BIT_SYMBOLS.get(word) or BIT_WORDS.get(lower)
        if bits is not None:
            rate_end = self.read_per_second(j)
            return (bits, rate_end) if rate_end is not None else None
        size = BYTE_SYMBOLS.get(word) or BYTE_WORDS.get(lower)
        if size is not None:
            if self.is_compound_unit(j):
                return None  # "400,000 GB-seconds": a count of GB-seconds
            rate_end = self.read_per_second(j)
            return (byte_rate(size), rate_end) if rate_end is not None else (size, j)
        time = time_unit(word)
        if time is not None:
            return time, j
        if lower in MONEY_WORDS:
            return MONEY_WORDS[lower], j
        return None

    def read_hyphenated_unit(self, j: int) -> tuple[Unit, int] | None:
        word = self.tokens[j].text
        if word.lower() == "fold":
            return TIMES, j
        time = time_unit(word)
        if time is not None:
            return time, j
        size = BYTE_SYMBOLS.get(word) or BYTE_WORDS.get(word.lower())
        return (size, j) if size is not None else None

    def is_compound_unit(self, j: int) -> bool:
        """Is the unit word at ``j`` the first half of "GB-second" or "GB-month"?"""
        glued = self.glued_after(j)
        return (
            glued is not None
            and glued.text in DASHES
            and self.word_at(j + 2)
            and time_unit(self.tokens[j + 2].text) is not None
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
            if lower in COUNTED_NOUN_ENDS or (words and lower.endswith(("ed", "ing"))):
                break
            end = self.compound_end(j)
            word = self.span(j, end)
            words += 1
            last = end
            if looks_plural(word) or is_unit_word(word):
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
            joined_by_dash = glued is not None and glued.text in DASHES
            joined_by_slash = glued is not None and glued.text == "/"
            if joined_by_slash and is_unit_word(self.tokens[i + 2].text):
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
        slash_time = False  # "$0.192/h EC2": a time unit ends it, what follows is what is priced
        if glued is not None and glued.text == "/" and self.word_at(last + 2):
            if not money and not is_unit_word(self.tokens[last + 2].text):
                return None  # "10 GB/month" and "$5/user", but not "PUT/COPY"
            start = last + 2
            slash_time = time_unit(self.tokens[start].text) is not None
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
                is_time = time_unit(self.tokens[following].text) is not None
                start_or_none = following if is_time else None
            else:
                return None
            if (start := start_or_none) is None:  # type: ignore[assignment]
                return None
        end = start if slash_time else self.read_denominator_words(start)
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
        if is_unit_word(self.span(i, end)):
            return end
        phrase = self.read_phrase(i, max_words=3)
        return phrase[1] if phrase is not None else None


def _make_range(text: str, left: _Found, right: _Found) -> Range | None:
    low, high = left.quantity, right.quantity
    between = text[low.end : high.start]
    gap = between.strip().lower()
    start = _opener_start(text, low.start)
    opener = text[start : low.start].strip().lower()
    if "\n" in between:
        return None
    if not (gap in DASHES or gap in RANGE_WORDS or (gap == "and" and opener == "between")):
        return None
    if low.unit == COUNT and low.noun is None:
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
