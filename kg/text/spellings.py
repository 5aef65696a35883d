"""How units and numbers are written in notes: symbols, words and spellings -> units and values."""

from __future__ import annotations

from decimal import Decimal

from kg.text.units import (
    BIT_RATE_UNITS,
    BYTE_UNITS,
    SECOND_UNITS,
    Dimension,
    Unit,
)

USD = Unit("USD", Dimension.USD, Decimal(1))


CENT = Unit("cent", Dimension.USD, Decimal("0.01"))


COUNT = Unit("count", Dimension.COUNT, Decimal(1))


PER_SECOND = Unit("per second", Dimension.COUNT_PER_SECOND, Decimal(1))


IOPS = Unit("IOPS", Dimension.COUNT_PER_SECOND, Decimal(1))


PERCENT = Unit("%", Dimension.PERCENT, Decimal(1))


TIMES = Unit("x", Dimension.RATIO, Decimal(1))


# Byte symbols are case-sensitive (Mb is a megabit); the informal lower-case forms mean bytes.
BYTE_SYMBOLS: dict[str, Unit] = {
    **BYTE_UNITS,
    "kB": BYTE_UNITS["KB"],
    "mb": BYTE_UNITS["MB"],
    "gb": BYTE_UNITS["GB"],
    "tb": BYTE_UNITS["TB"],
    "pb": BYTE_UNITS["PB"],
}


BYTE_WORDS: dict[str, Unit] = {
    f"{prefix}byte{plural}": BYTE_UNITS[symbol]
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
SECOND_SPELLINGS: dict[str, Unit] = {
    spelling: SECOND_UNITS[name]
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


BIT_RATE_SYMBOLS: dict[str, Unit] = {
    **BIT_RATE_UNITS,
    "kbps": BIT_RATE_UNITS["Kbps"],
    "mbps": BIT_RATE_UNITS["Mbps"],
    "gbps": BIT_RATE_UNITS["Gbps"],
    "tbps": BIT_RATE_UNITS["Tbps"],
}


# Amounts of bits, which are rates once "/s" or "per second" follows ("Gbit/s", "Gb/s").
BIT_SYMBOLS: dict[str, Unit] = {
    symbol: BIT_RATE_UNITS[rate]
    for rate, symbols in [
        ("bps", "bit"),
        ("Kbps", "Kbit kbit Kb kb"),
        ("Mbps", "Mbit Mb"),
        ("Gbps", "Gbit Gb"),
        ("Tbps", "Tbit Tb"),
    ]
    for symbol in symbols.split()
}


BIT_WORDS: dict[str, Unit] = {
    f"{prefix}bit{plural}": BIT_RATE_UNITS[rate]
    for prefix, rate in [
        ("", "bps"),
        ("kilo", "Kbps"),
        ("mega", "Mbps"),
        ("giga", "Gbps"),
        ("tera", "Tbps"),
    ]
    for plural in ("", "s")
}


MONEY_WORDS: dict[str, Unit] = {
    "usd": USD,
    "dollar": USD,
    "dollars": USD,
    "cent": CENT,
    "cents": CENT,
}


SMALL_NUMBERS: dict[str, int] = {
    word: value
    for value, word in enumerate(
        (
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen"
        ).split()
    )
}


TENS: dict[str, int] = {
    word: 10 * value
    for value, word in enumerate(
        ("twenty thirty forty fifty sixty seventy eighty ninety").split(), start=2
    )
}


SCALES: dict[str, int] = {
    "hundred": 10**2,
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "trillion": 10**12,
}


GLUED_MULTIPLIERS: dict[str, int] = {"k": 10**3, "K": 10**3, "M": 10**6, "bn": 10**9}


# Nouns that may be written glued to their count ("32vCPUs"); any other glued letters make
# an identifier or an ordinal ("4xlarge", "3des", "1st") unless they are a unit.
GLUED_NOUNS = frozenset(("vCPU vCPUs CPU CPUs GPU GPUs AZ AZs").split())


# A number right after one of these words is part of a name: "Route 53", "version 4".
NAME_WORDS = frozenset(
    (
        "route version v layer level tier port rfc http https tls ssl ipv step phase part "
        "chapter section figure python java windows error status"
    ).split()
)


# Words that end a counted noun or a denominator ("5 VPCs in each Region").
COUNTED_NOUN_ENDS = frozenset(
    (
        """a an the of in on at to for from by with within without into onto over under per
    each every and or but nor not no is are was were be been being has have had do does did
    can could will would shall should may might must this that these those it its their your
    our my his her them they we you which who whom whose what when where while than then so
    as if up down out off about above below after before between through during across along
    around via also only just more less most least all any some such same other another both
    either neither very too there here thereafter afterwards free etc ie eg vs x"""
    ).split()
)


# Words that can begin an amount: "one", "twenty", "a hundred", "half", "USD 5".
NUMBER_STARTS = frozenset({*SMALL_NUMBERS, *TENS, "a", "an", "half", "usd"})


RANGE_WORDS = frozenset({"to", "through"})


DASHES = frozenset("-–—")


REJECTING_PREFIXES = frozenset("./:_#@\\€£¥")


BULLET_MARKS = frozenset("•·▪◦‣●○■□➢►*+-")


def time_unit(word: str) -> Unit | None:
    if len(word) == 1 and not word.islower():
        return None
    return SECOND_SPELLINGS.get(word.lower())


def byte_rate(size: Unit) -> Unit:
    return Unit(f"{size.name}/s", Dimension.BYTES_PER_SECOND, size.factor)


def is_unit_word(word: str) -> bool:
    """A unit spelling, or a hyphenated compound of them ("GB-second", "GB-month")."""
    parts = word.split("-")
    return all(
        part in BYTE_SYMBOLS
        or part.lower() in BYTE_WORDS
        or part in BIT_RATE_SYMBOLS
        or (len(part) > 1 and time_unit(part) is not None)
        for part in parts
    )


def looks_plural(word: str) -> bool:
    """ "copies", "VPCs", "GB-seconds", but not "AWS", "class" or "status"."""
    return len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


def is_unit(text: str) -> bool:
    """Whether a text is nothing but a unit's spelling ("GB", "ms", "Gbps", "seconds")."""
    word = text.strip()
    tables = (BYTE_SYMBOLS, BYTE_WORDS, SECOND_SPELLINGS, BIT_RATE_SYMBOLS, BIT_SYMBOLS, BIT_WORDS)
    return any(word in t or word.lower() in t for t in tables)
