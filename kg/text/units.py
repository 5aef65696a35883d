"""Dimensions, units and quantities in base units; short human forms of base-unit values.

Reading quantities out of text is ``kg.text.quantities``; the base units are listed there.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from kg.vocab import CUR, UNIT

__all__ = ["Dimension", "Quantity", "Range", "Unit", "format_value"]


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
        return canonical(self.value * self.unit.factor)


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


# --- Unit tables -------------------------------------------------------------------------------


# --- Tokens ------------------------------------------------------------------------------------


# --- Scanner -----------------------------------------------------------------------------------


# --- Ranges ------------------------------------------------------------------------------------


# --- Formatting --------------------------------------------------------------------------------


def unit_table(dimension: Dimension, factors: dict[str, int | str]) -> dict[str, Unit]:
    return {name: Unit(name, dimension, Decimal(f)) for name, f in factors.items()}


BYTE_UNITS = unit_table(
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


SECOND_UNITS = unit_table(
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


BIT_RATE_UNITS = unit_table(
    Dimension.BITS_PER_SECOND,
    {"bps": 1, "Kbps": 10**3, "Mbps": 10**6, "Gbps": 10**9, "Tbps": 10**12},
)


def canonical(number: Decimal) -> Decimal:
    """The same number without a needless fraction or trailing zeros: 1500000000.0 -> 1500000000."""
    if number == number.to_integral_value():
        return number.to_integral_value()
    return number.normalize()


_DisplayUnit = tuple[str, str, Decimal]  # singular label, plural label, factor


def _display(*units: tuple[str, str, Decimal | int | str]) -> tuple[_DisplayUnit, ...]:
    return tuple((singular, plural, Decimal(f)) for singular, plural, f in units)


_DISPLAY_UNITS: dict[Dimension, tuple[_DisplayUnit, ...]] = {
    Dimension.BYTES: _display(*((name, name, unit.factor) for name, unit in BYTE_UNITS.items())),
    Dimension.BYTES_PER_SECOND: _display(
        *((f"{name}/s", f"{name}/s", unit.factor) for name, unit in BYTE_UNITS.items())
    ),
    Dimension.BITS_PER_SECOND: _display(
        *((name, name, unit.factor) for name, unit in BIT_RATE_UNITS.items())
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
