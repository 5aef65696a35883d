"""Quantities, units, ranges and per-denominators found in note text (kg.text.units)."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from kg.text.quantities import find_quantities, find_ranges, parse_number
from kg.text.units import Dimension, Quantity, Range, format_value

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "aws-solutions-architect-notes.txt"

D = Decimal
KB, MB, GB, TB = 10**3, 10**6, 10**9, 10**12
MINUTE, HOUR, DAY = 60, 3600, 86400


def only(text: str) -> Quantity:
    """The single quantity in ``text``, with its offsets checked against the text."""
    quantities = find_quantities(text)
    assert len(quantities) == 1, quantities
    return checked(text, quantities[0])


def checked(text: str, quantity: Quantity) -> Quantity:
    assert text[quantity.start : quantity.end] == quantity.text
    return quantity


def at(text: str, fragment: str) -> tuple[int, int]:
    """Offsets of the one occurrence of ``fragment`` in ``text``."""
    assert text.count(fragment) == 1, fragment
    start = text.index(fragment)
    return start, start + len(fragment)


def only_range(text: str) -> Range:
    ranges = find_ranges(text)
    assert len(ranges) == 1, ranges
    found = ranges[0]
    assert text[found.start : found.end] == found.text
    checked(text, found.low)
    checked(text, found.high)
    return found


# --- parse_number ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("5", "5"),
        ("16000", "16000"),
        ("64,000", "64000"),
        ("1,000", "1000"),
        ("1,000,000.5", "1000000.5"),
        ("0.00001667", "0.00001667"),
        ("0,25", "0.25"),  # a leading "0," is a decimal comma
        ("0,250", "0.25"),
        ("1,5", "1.5"),  # one or two digits after the comma: decimal
        ("one", "1"),
        ("twenty", "20"),
        ("thirty", "30"),
        ("ninety", "90"),
        ("twenty-five", "25"),
        ("seventy three", "73"),
        ("a hundred", "100"),
        ("two hundred and fifty thousand", "250000"),
        ("1 million", "1000000"),
        ("one million", "1000000"),
        ("a million", "1000000"),
        ("1M", "1000000"),
        ("10k", "10000"),
        ("1.5 billion", "1500000000"),
        ("half", "0.5"),
    ],
)
def test_parse_number(token: str, value: str) -> None:
    assert parse_number(token) == D(value)


@pytest.mark.parametrize(
    "token", ["", "  ", "abc", "5 GB", "$5", "1.2.3", "1,0000", "one two", "a", "S3", "10.0.0.0"]
)
def test_parse_number_rejects_what_is_not_just_a_number(token: str) -> None:
    assert parse_number(token) is None


# --- sizes, times, rates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stated", "unit", "base"),
    [
        ("Files can be up to 5 TB.", "5 TB", "TB", 5 * TB),
        ("Messages can obtain up to 256 KB of text", "256 KB", "KB", 256 * KB),
        ("single node (160GB) or more", "160GB", "GB", 160 * GB),
        ("244GB of Memory", "244GB", "GB", 244 * GB),
        ("from 0 Bytes", "0 Bytes", "B", 0),
        ("one byte", "one byte", "B", 1),
        ("3 kB", "3 kB", "KB", 3 * KB),
        ("2 MB", "2 MB", "MB", 2 * MB),
        ("7 PB", "7 PB", "PB", 7 * 10**15),
        ("1 EB", "1 EB", "EB", 10**18),
        ("4 KiB", "4 KiB", "KiB", 4 * 1024),
        ("8 MiB", "8 MiB", "MiB", 8 * 2**20),
        ("1 GiB", "1 GiB", "GiB", 2**30),
        ("1 TiB", "1 TiB", "TiB", 2**40),
        ("2 PiB", "2 PiB", "PiB", 2 * 2**50),
        ("1 EiB", "1 EiB", "EiB", 2**60),
        ("2 kilobytes", "2 kilobytes", "KB", 2 * KB),
        ("5 petabytes", "5 petabytes", "PB", 5 * 10**15),
        ("a terabyte: 1 terabyte", "1 terabyte", "TB", TB),
        ("it is 1,5 GB", "1,5 GB", "GB", 15 * 10**8),
    ],
)
def test_sizes(text: str, stated: str, unit: str, base: int) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.unit.name == unit
    assert quantity.dimension is Dimension.BYTES
    assert quantity.base_value == base


@pytest.mark.parametrize(
    ("text", "base"),
    [
        ("100ms", D("0.1")),
        ("5 msec", D("0.005")),
        ("3 milliseconds", D("0.003")),
        ("1 millisecond", D("0.001")),
        ("2 s", D(2)),
        ("1 sec", D(1)),
        ("4 secs", D(4)),
        ("less than one second", D(1)),
        ("30 seconds", D(30)),
        ("1 min", D(MINUTE)),
        ("10 mins", D(10 * MINUTE)),
        ("1 minute", D(MINUTE)),
        ("130 minutes", D(130 * MINUTE)),
        ("5 h", D(5 * HOUR)),
        ("1 hr", D(HOUR)),
        ("3 hrs", D(3 * HOUR)),
        ("24 hours", D(24 * HOUR)),
        ("half an hour", D(HOUR // 2)),
        ("one day", D(DAY)),
        ("35 days", D(35 * DAY)),
        ("twenty-five days", D(25 * DAY)),
        ("2 weeks", D(14 * DAY)),
        ("1 month", D(30 * DAY)),
        ("6 months", D(180 * DAY)),
        ("1 year", D(365 * DAY)),
        ("2 years", D(730 * DAY)),
        ("a 24-hour window", D(24 * HOUR)),
    ],
)
def test_times(text: str, base: Decimal) -> None:
    quantity = only(text)
    assert quantity.dimension is Dimension.SECONDS
    assert quantity.base_value == base
    assert quantity.unit.base_iri == "http://qudt.org/vocab/unit/SEC"


def test_time_offsets_cover_number_and_unit() -> None:
    text = "the max value is 12 hours, the default is 4 days."
    first, second = find_quantities(text)
    assert (first.start, first.end) == at(text, "12 hours")
    assert (second.start, second.end) == at(text, "4 days")


@pytest.mark.parametrize(
    ("text", "stated", "dimension", "base"),
    [
        ("Starts at 5Gbps today", "5Gbps", Dimension.BITS_PER_SECOND, 5 * GB),
        ("up to 45 Gbps.", "45 Gbps", Dimension.BITS_PER_SECOND, 45 * GB),
        ("100 bps", "100 bps", Dimension.BITS_PER_SECOND, 100),
        ("100 Kbps", "100 Kbps", Dimension.BITS_PER_SECOND, 100 * KB),
        ("50 Mbps", "50 Mbps", Dimension.BITS_PER_SECOND, 50 * MB),
        ("1 Tbps", "1 Tbps", Dimension.BITS_PER_SECOND, TB),
        ("10 Gbit/s links", "10 Gbit/s", Dimension.BITS_PER_SECOND, 10 * GB),
        ("40 Gb/s links", "40 Gb/s", Dimension.BITS_PER_SECOND, 40 * GB),
        ("10 gigabits per second", "10 gigabits per second", Dimension.BITS_PER_SECOND, 10 * GB),
        ("100 MB/s", "100 MB/s", Dimension.BYTES_PER_SECOND, 100 * MB),
        ("20 MBps", "20 MBps", Dimension.BYTES_PER_SECOND, 20 * MB),
        ("a rate of 2MB per second and", "2MB per second", Dimension.BYTES_PER_SECOND, 2 * MB),
        ("a rate of 1MB per second (with", "1MB per second", Dimension.BYTES_PER_SECOND, MB),
    ],
)
def test_rates(text: str, stated: str, dimension: Dimension, base: int) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is dimension
    assert quantity.base_value == base


@pytest.mark.parametrize(
    ("text", "stated", "noun", "base"),
    [
        ("up to 1000 records per second for writes", "1000 records per second", "records", 1000),
        (
            "able to process 5 transactions per second",
            "5 transactions per second",
            "transactions",
            5,
        ),
        ("5 requests/second", "5 requests/second", "requests", 5),
    ],
)
def test_count_rates_keep_their_noun(text: str, stated: str, noun: str, base: int) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is Dimension.COUNT_PER_SECOND
    assert quantity.noun == noun
    assert quantity.base_value == base
    assert quantity.unit.base_iri == "http://qudt.org/vocab/unit/NUM-PER-SEC"


def test_iops_is_a_count_per_second() -> None:
    quantity = only("up to 3000 IOPS per volume")
    assert quantity.text == "3000 IOPS"
    assert quantity.dimension is Dimension.COUNT_PER_SECOND
    assert quantity.per == "volume"


# --- money and percent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stated", "value", "per"),
    [
        ("Then $0.20 per 1 million requests thereafter.", "$0.20", "0.20", "1 million requests"),
        ("charged $0.00001667 for every GB-second used.", "$0.00001667", "0.00001667", "GB-second"),
        ("start small for $0,25 per hour with no commitments", "$0,25", "0.25", "hour"),
        (
            "scale for $1,000 per terabyte per year, less than",
            "$1,000",
            "1000",
            "terabyte per year",
        ),
        ("costs USD 0.10 today", "USD 0.10", "0.10", None),
        ("costs 0.10 USD today", "0.10 USD", "0.10", None),
        ("about 10 dollars", "10 dollars", "10", None),
        ("50 cents a month", "50 cents", "0.50", "month"),
        ("$0.10 per GB-month of storage", "$0.10", "0.10", "GB-month"),
        ("$0.09/GB out", "$0.09", "0.09", "GB"),
        ("~$0.192/h EC2 for the nodes", "$0.192", "0.192", "h"),  # not "h EC2"
        ("$0.01 an hour", "$0.01", "0.01", "hour"),
        ("US$5 per volume", "US$5", "5", "volume"),
        ("a $1.5 million budget", "$1.5 million", "1500000", None),
        ("$5M raised", "$5M", "5000000", None),
    ],
)
def test_money(text: str, stated: str, value: str, per: str | None) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is Dimension.USD
    assert quantity.base_value == D(value)
    assert quantity.per == per
    assert quantity.unit.base_iri == "http://qudt.org/vocab/currency/USD"


def test_money_keeps_the_stated_value_and_unit() -> None:
    quantity = only("50 cents")
    assert quantity.value == 50
    assert quantity.unit.name == "cent"
    assert only("$0.20 each").value == D("0.20")


def test_a_denominator_is_not_a_quantity_of_its_own() -> None:
    text = "first 1 million requests are free. Then $0.20 per 1 million requests thereafter."
    free, price = find_quantities(text)
    assert (free.text, free.noun, free.base_value) == ("1 million requests", "requests", 10**6)
    assert (price.text, price.per) == ("$0.20", "1 million requests")


@pytest.mark.parametrize(
    ("text", "stated", "value"),
    [
        ("up to 70% off the On-Demand price", "70%", "70"),
        ("99.99% availability", "99.99%", "99.99"),
        ("10 % of traffic", "10 %", "10"),
        ("70 percent", "70 percent", "70"),
        ("5 per cent", "5 per cent", "5"),
    ],
)
def test_percent(text: str, stated: str, value: str) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is Dimension.PERCENT
    assert quantity.base_value == D(value)


@pytest.mark.parametrize("text", ["99.9(…)% availability", "99.9…%", "99.9...%", "99.9(...)%"])
def test_a_truncated_number_is_not_reported(text: str) -> None:
    assert find_quantities(text) == []


@pytest.mark.parametrize(
    ("text", "stated", "value"),
    [
        ("up to five times better performance", "five times", 5),
        ("3x faster", "3x", 3),
        ("2× more", "2×", 2),
        ("a 10-fold increase", "10-fold", 10),
    ],
)
def test_ratios(text: str, stated: str, value: int) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is Dimension.RATIO
    assert quantity.base_value == value
    assert quantity.unit.base_iri == "http://qudt.org/vocab/unit/UNITLESS"


# --- counts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stated", "noun", "value"),
    [
        ("By default, only 5 VPCs are allow in each AWS Region.", "5 VPCs", "VPCs", 5),
        ("5 VPCs in each AWS Region", "5 VPCs", "VPCs", 5),
        ("up to 128 compute nodes).", "128 compute nodes", "compute nodes", 128),
        ("6 copies of your data.", "6 copies", "copies", 6),
        ("60 questions (scenario based questions)", "60 questions", "questions", 60),
        ("a minimum of 3 availability zones.", "3 availability zones", "availability zones", 3),
        ("maintain 2 copies in each zone", "2 copies", "copies", 2),
        ("up to 32vCPUs and", "32vCPUs", "vCPUs", 32),
        ("first 1 million requests are free", "1 million requests", "requests", 1_000_000),
        ("one million requests", "one million requests", "requests", 1_000_000),
        ("a million items", "a million items", "items", 1_000_000),
        ("a hundred nodes", "a hundred nodes", "nodes", 100),
        ("1M requests", "1M requests", "requests", 1_000_000),
        ("10k records", "10k records", "records", 10_000),
        ("1.5 billion rows", "1.5 billion rows", "rows", 1_500_000_000),
        ("two availability zones.", "two availability zones", "availability zones", 2),
        ("at least three copies or your data", "three copies", "copies", 3),
        ("reserve 5 IP addresses with", "5 IP addresses", "IP addresses", 5),
        ("400,000 GB-seconds of compute", "400,000 GB-seconds", "GB-seconds", 400_000),
    ],
)
def test_counts_with_their_noun(text: str, stated: str, noun: str, value: int) -> None:
    quantity = only(text)
    assert (quantity.start, quantity.end) == at(text, stated)
    assert quantity.dimension is Dimension.COUNT
    assert quantity.noun == noun
    assert quantity.base_value == value
    assert quantity.unit.base_iri == "http://qudt.org/vocab/unit/NUM"


def test_slashed_nouns_and_rates_per_something() -> None:
    text = "3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per second per prefix."
    writes, reads = find_quantities(text)
    assert (writes.noun, writes.dimension) == ("PUT/COPY/POST/DELETE", Dimension.COUNT)
    assert (reads.text, reads.noun, reads.per) == (
        "5,500 GET/HEAD requests per second",
        "GET/HEAD requests",
        "prefix",
    )
    assert reads.dimension is Dimension.COUNT_PER_SECOND


def test_a_count_per_something_records_the_denominator() -> None:
    quantity = only("One NAT gateway per availability zone.")
    assert (quantity.text, quantity.noun, quantity.per) == (
        "One NAT gateway",
        "NAT gateway",
        "availability zone",
    )
    assert only("100 GB per month").per == "month"
    assert only("10 GB/month").per == "month"


def test_bare_numbers_are_counts_without_a_noun() -> None:
    text = "gp2 1GB-16TB 16000"
    *_, iops = find_quantities(text)
    assert (iops.text, iops.noun, iops.dimension) == ("16000", None, Dimension.COUNT)
    years = find_quantities("in 2019 and 2020")
    assert [q.value for q in years] == [2019, 2020]


@pytest.mark.parametrize(
    "text",
    [
        "S3",
        "EC2",
        "io1",
        "gp2",
        "sc1",
        "NFSv4",
        "IPv4",
        "IPv6",
        "AP-SOUTHEAST-2",
        "US-EAST-1",
        "go to US-EAST-1 and EU-WEST-2",
        "(1) S3 Managed Keys, (2) AWS Key Management Service",
        "Route 53",
        "Edge locations serve requests for CloudFront and Route 53.",
        "Route53",
        "x86",
        "aws s3 mb s3://testbucket1",
        "network file system version 4 (NFSv4)",
        "1st and 2nd",
        "4xlarge",
        "t2.micro and m5.large",
        "HTTP/2",
        "10.0.0.0/16",
        "available 24/7",
        "at 12:30",
        "on 2019-01-01",
        "fs-12345678",
        "arn:aws:iam::123456789012:role/x",
        "a 3-tier app",
        "one of these services",
        "one or more virtual CPUs",
        "S3 One Zone - IA",
        "from minutes to hours",
        "€5",
        "connection level - 4",
    ],
)
def test_identifiers_and_names_are_not_quantities(text: str) -> None:
    assert find_quantities(text) == []


def test_numbered_list_markers_are_not_quantities() -> None:
    text = "  1. IAM > Roles\n  2) Choose the service\n3. Attach 2 policies"
    (quantity,) = find_quantities(text)
    assert (quantity.text, quantity.noun) == ("2 policies", "policies")


def test_a_number_ending_a_sentence_is_still_reported() -> None:
    quantity = only("The passing score is 720. Good luck")
    assert quantity.text == "720"


# --- ranges ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stated", "low", "high", "dimension"),
    [
        (
            "kept in the queue from 1 min to 14 days, the",
            "from 1 min to 14 days",
            60,
            14 * DAY,
            "s",
        ),
        ("can be between one and 35 days.", "between one and 35 days", DAY, 35 * DAY, "s"),
        ("from 24 hours to 7 days.", "from 24 hours to 7 days", DAY, 7 * DAY, "s"),
        ("Files can be from 0 Bytes to 5 TB.", "from 0 Bytes to 5 TB", 0, 5 * TB, "B"),
        ("gp2 1GB-16TB 16000", "1GB-16TB", GB, 16 * TB, "B"),
        ("sc1 500GB - 16TB 250", "500GB - 16TB", 500 * GB, 16 * TB, "B"),
        ("io1 4GB-16TB 64000", "4GB-16TB", 4 * GB, 16 * TB, "B"),
        ("Standard 1GB-1TB 40-200", "1GB-1TB", GB, TB, "B"),
        ("1 to 35 days", "1 to 35 days", DAY, 35 * DAY, "s"),
        ("Results between 100 - 1000 with", "between 100 - 1000", 100, 1000, "n"),
        ("standard 3–5 hours, bulk", "3–5 hours", 3 * HOUR, 5 * HOUR, "s"),
        ("| gp3 | 1 GiB - 16 TiB | 16,000 |", "1 GiB - 16 TiB", 2**30, 16 * 2**40, "B"),
        (
            "use between 128 MB and 10,240 MB of",
            "between 128 MB and 10,240 MB",
            128 * MB,
            10_240 * MB,
            "B",
        ),
        ("timeout: 0 seconds to 12 hours", "0 seconds to 12 hours", 0, 12 * HOUR, "s"),
    ],
)
def test_ranges(text: str, stated: str, low: int, high: int, dimension: str) -> None:
    found = find_ranges(text)[0]
    assert (found.start, found.end) == at(text, stated)
    assert found.text == stated
    assert (found.low.base_value, found.high.base_value) == (low, high)
    expected = {"s": Dimension.SECONDS, "B": Dimension.BYTES, "n": Dimension.COUNT}[dimension]
    assert found.low.dimension is found.high.dimension is expected


def test_two_ranges_on_one_line() -> None:
    text = "Standard 1GB-1TB 40-200"
    sizes, iops = find_ranges(text)
    assert sizes.text == "1GB-1TB"
    assert (iops.text, iops.low.value, iops.high.value) == ("40-200", 40, 200)
    assert (iops.low.start, iops.low.end) == at(text, "40")


def test_a_unitless_low_side_takes_the_high_sides_unit_noun_and_denominator() -> None:
    found = only_range("between one and 35 days")
    assert (found.low.text, found.low.unit.name, found.low.value) == ("one", "day", 1)
    assert only_range("from 5 to 10 VPCs").low.noun == "VPCs"
    price = only_range("1 - 2 dollars per hour")
    assert (price.low.dimension, price.low.per) == (Dimension.USD, "hour")


@pytest.mark.parametrize(
    "text",
    [
        "from minutes to hours",
        "Starts at 5Gbps and scales currently up to 45 Gbps.",
        "between a few hours up to 3 days.",
        "Contract terms are 1 year or 3 years.",
        "scales in 10GB increments to 64TB",
        "shrink from 16 TB to 1 GB",  # descending
        "move 2 copies to 3 AZs",  # different nouns
        "5 GB to 10 days",  # different dimensions
        "a list:\n1 -\n2",
    ],
)
def test_not_ranges(text: str) -> None:
    assert find_ranges(text) == []


# --- format_value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "dimension", "expected"),
    [
        (D(5 * TB), Dimension.BYTES, "5 TB"),
        (D(256 * KB), Dimension.BYTES, "256 KB"),
        (D(2**40), Dimension.BYTES, "1 TiB"),
        (D(160 * GB), Dimension.BYTES, "160 GB"),
        (D(1_500_000), Dimension.BYTES, "1.5 MB"),
        (D(0), Dimension.BYTES, "0 B"),
        (D(43200), Dimension.SECONDS, "12 hours"),
        (D(60), Dimension.SECONDS, "1 minute"),
        (D(345600), Dimension.SECONDS, "4 days"),
        (D(1209600), Dimension.SECONDS, "14 days"),
        (D(35 * DAY), Dimension.SECONDS, "35 days"),
        (D(365 * DAY), Dimension.SECONDS, "1 year"),
        (D("0.1"), Dimension.SECONDS, "100 ms"),
        (D(90), Dimension.SECONDS, "90 seconds"),
        (D(1), Dimension.SECONDS, "1 second"),
        (D(45 * GB), Dimension.BITS_PER_SECOND, "45 Gbps"),
        (D(2 * MB), Dimension.BYTES_PER_SECOND, "2 MB/s"),
        (D("0.00001667"), Dimension.USD, "$0.00001667"),
        (D("0.20"), Dimension.USD, "$0.20"),
        (D("0.2"), Dimension.USD, "$0.20"),
        (D(1000), Dimension.USD, "$1,000"),
        (D(1_000_000), Dimension.COUNT, "1 million"),
        (D(1_500_000_000), Dimension.COUNT, "1.5 billion"),
        (D(16000), Dimension.COUNT, "16,000"),
        (D(1_234_567), Dimension.COUNT, "1,234,567"),
        (D(1000), Dimension.COUNT_PER_SECOND, "1,000 per second"),
        (D("99.99"), Dimension.PERCENT, "99.99%"),
        (D(5), Dimension.RATIO, "5x"),
    ],
)
def test_format_value(base: Decimal, dimension: Dimension, expected: str) -> None:
    assert format_value(base, dimension) == expected


@pytest.mark.parametrize(
    "text", ["5 TB", "256 KB", "12 hours", "1 minute", "14 days", "45 Gbps", "2 MB/s", "100 ms"]
)
def test_format_value_round_trips_what_it_finds(text: str) -> None:
    quantity = only(text)
    assert format_value(quantity.base_value, quantity.dimension) == text


def test_every_dimension_has_a_qudt_unit() -> None:
    for dimension in Dimension:
        assert dimension.unit_iri.startswith("http://qudt.org/vocab/")
        assert format_value(D(1), dimension)


# --- robustness --------------------------------------------------------------------------------


def test_empty_and_odd_input() -> None:
    for text in ["", " ", "\n\n", "$", "$$5", "%", "5", "-", "- 5 -", "((1))", "……%", "5-", "-5"]:
        for quantity in find_quantities(text):
            checked(text, quantity)
        find_ranges(text)


def test_random_text_never_breaks_offsets() -> None:
    alphabet = "0123456789 ,.-$%()/:…abGBTKMkxsμ\n" + "one to and per hours TB "
    rng = random.Random(7)
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        previous_end = 0
        for quantity in find_quantities(text):
            checked(text, quantity)
            assert quantity.start >= previous_end
            previous_end = quantity.end
        for found in find_ranges(text):
            assert found.low.base_value <= found.high.base_value
            assert text[found.start : found.end] == found.text


def test_the_bundled_notes() -> None:
    text = CORPUS.read_text(encoding="utf-8")
    quantities = find_quantities(text)
    for quantity in quantities:
        checked(text, quantity)
    stated = {quantity.text for quantity in quantities}
    assert {"5 TB", "256 KB", "32vCPUs", "$0,25", "$0.00001667", "5 VPCs", "45 Gbps"} <= stated
    assert not any(q.text in {"53", "1", "2", "3", "4"} for q in quantities)  # Route 53, markers
    ranges = {found.text for found in find_ranges(text)}
    assert {"from 1 min to 14 days", "between one and 35 days", "1GB-16TB", "40-200"} <= ranges
