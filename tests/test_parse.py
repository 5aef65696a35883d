from pathlib import Path

import pytest

from kg.model import BlockKind, Document
from kg.parse.notes import ParseError, clean_text, looks_like_heading, parse_document, read_document

TEXT_NOTES = """\
Queue Service Notes

SQS: Simple Queue Service

It is a queue. Messages can be kept from 1 min to 14 days.

Types of queues:

  • Standard (default): at least once.
  • FIFO: exactly once. It supports message groups.
> aws sqs list-queues
Queue URL: xxx


  • By requests
  • By data transfer

Type Description Max Size
Small Tiny queue 1GB
Large Huge queue 10TB
"""

MARKDOWN_NOTES = """\
# Widget Service

Widget Service is a managed service. It is *very* fast.

## Limits

| Limit | Default | Maximum |
|---|---|---|
| Widget size | 1 MB | 5 MB |

```
widget --size 5MB
```

**Pricing**

- Charged per widget.
  continued on the next line
* Free for the first 10 widgets.
"""


def doc(text: str, fmt: str = "text") -> Document:
    return Document(id="notes", path="notes", text=text, format=fmt)


def test_every_span_is_exact():
    parsed = parse_document(doc(TEXT_NOTES))
    for block in parsed.blocks:
        assert block.text == TEXT_NOTES[block.start : block.end]
    for s in parsed.sentences:
        assert s.text == TEXT_NOTES[s.start : s.end]


def test_plain_text_headings_and_lost_headings():
    parsed = parse_document(doc(TEXT_NOTES))
    titles = [s.title for s in parsed.sections]
    assert titles[:2] == ["Queue Service Notes", "SQS: Simple Queue Service"]
    # Two blank lines before "• By requests" mean a heading was lost: a new untitled section.
    assert None in titles
    untitled = parsed.sections[titles.index(None)]
    assert "By requests" in TEXT_NOTES[untitled.start : untitled.end]


def test_plain_text_bullets_intro_code_and_flattened_table():
    parsed = parse_document(doc(TEXT_NOTES))
    by_text = {b.text.split(":")[0].strip(): b for b in parsed.blocks}
    fifo = by_text["FIFO"]
    assert fifo.kind is BlockKind.BULLET
    assert parsed.blocks[fifo.intro].text == "Types of queues:"
    code = [b for b in parsed.blocks if b.kind is BlockKind.CODE]
    assert code and code[0].text.startswith("> aws sqs")
    header = next(b for b in parsed.blocks if b.kind is BlockKind.TABLE_HEADER)
    rows = [b for b in parsed.blocks if b.kind is BlockKind.TABLE_ROW]
    assert header.text == "Type Description Max Size"
    assert [r.text.split()[0] for r in rows] == ["Small", "Large"]
    assert all(r.table == header.index for r in rows)


def test_sentences_split_but_not_on_abbreviations_or_numbers():
    parsed = parse_document(
        doc("Note\n\nIt supports e.g. queues. Values like 99.9 stay whole. Done.\n")
    )
    texts = [s.text for s in parsed.sentences]
    assert texts == ["It supports e.g. queues.", "Values like 99.9 stay whole.", "Done."]


def test_markdown_structure():
    parsed = parse_document(doc(MARKDOWN_NOTES, "markdown"))
    sections = {s.title: s for s in parsed.sections}
    assert sections["Limits"].parents == ("Widget Service",)
    assert "Pricing" in sections
    row = next(b for b in parsed.blocks if b.kind is BlockKind.TABLE_ROW)
    assert [c.text for c in row.cells] == ["Widget size", "1 MB", "5 MB"]
    for cell in row.cells:
        assert MARKDOWN_NOTES[cell.start : cell.end] == cell.text
    bullets = [b for b in parsed.blocks if b.kind is BlockKind.BULLET]
    assert bullets[0].text.endswith("continued on the next line")
    assert bullets[1].text.startswith("Free for the first")
    assert any(b.kind is BlockKind.CODE and "widget --size" in b.text for b in parsed.blocks)


def test_clean_text_keeps_offsets():
    raw = "It is *very* fast and **bold** with `code` and [a link](http://x)."
    cleaned = clean_text(raw)
    assert len(cleaned) == len(raw)
    assert "very" in cleaned and "*" not in cleaned and "http" not in cleaned


@pytest.mark.parametrize(
    ("line", "heading"),
    [
        ("Storage Classes", True),
        ("EC2: Elastic Compute Cloud", True),
        ("How to connect to our instances?", True),
        ("In order to visualize the range of IP address, use", False),
        ("Files can be from 0 Bytes to 5 TB.", False),
        ("Types of queues:", False),
        ("[ AWS ]", False),
    ],
)
def test_bare_heading_detection(line, heading):
    assert looks_like_heading(line) is heading


def test_read_document_rejects_bad_files(tmp_path: Path):
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x01\x02")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 notes".encode("latin-1"))
    for path, reason in ((empty, "empty"), (binary, "binary"), (latin, "not UTF-8")):
        with pytest.raises(ParseError, match=reason) as err:
            read_document(path)
        assert str(path) in str(err.value)


def test_read_document_normalises_newlines_and_detects_format(tmp_path: Path):
    path = tmp_path / "n.md"
    path.write_bytes(b"# T\r\n\r\nBody.\r\n")
    d = read_document(path)
    assert d.format == "markdown" and "\r" not in d.text


def test_a_heading_with_its_text_right_under_it_is_not_a_flattened_table():
    text = (
        "Containers\n\n"
        "Amazon ECR\n"
        "Elastic Container Registry stores Docker and OCI images in repositories.\n"
        "ECR replicates images to other Regions and other accounts.\n"
        "AWS Fargate\n"
        "Fargate is a serverless compute engine for containers on ECS and EKS.\n"
    )
    parsed = parse_document(doc(text))
    assert [s.title for s in parsed.sections] == ["Containers", "Amazon ECR", "AWS Fargate"]
    assert {b.kind for b in parsed.blocks} == {BlockKind.PARAGRAPH}
    # A real flattened table still is one, though its rows are sentences too.
    table = parse_document(
        doc(
            "Storage Gateway\n\n"
            "Type Description\n"
            "File Gateway (NFS) Files are stored as objects in your S3 buckets.\n"
            "Volume Gateway (iSCSI) Same using virtual directories via iSCSI.\n"
        )
    )
    kinds = [b.kind for b in table.blocks]
    assert kinds == [BlockKind.TABLE_HEADER, BlockKind.TABLE_ROW, BlockKind.TABLE_ROW]


def test_plain_text_tables_pasted_with_spaced_columns_and_headings_right_above_lists():
    text = (
        "Nebula Proxy - what it is\n"
        "• a managed proxy\n\n"
        "Timeouts and connection settings\n"
        "Setting  Default  Minimum  Maximum\n"
        "Idle client connection timeout  30 minutes  1 minute  8 hours\n"
        "Connection borrow timeout  120 seconds  1 second  3600 seconds\n"
        "• the borrow timeout is how long a client waits\n"
    )
    parsed = parse_document(Document(id="t", path="t", text=text, format="text"))
    assert [s.title for s in parsed.sections if s.title] == [
        "Nebula Proxy - what it is",
        "Timeouts and connection settings",
    ]
    kinds = [b.kind for b in parsed.blocks]
    assert kinds.count(BlockKind.TABLE_HEADER) == 1 and kinds.count(BlockKind.TABLE_ROW) == 2
    assert kinds[-1] is BlockKind.BULLET


def test_a_heading_right_above_a_key_value_line():
    text = "Notes\n\nPricing\nPrice: $0.11 per unit-hour, billed per second\n"
    parsed = parse_document(Document(id="t", path="t", text=text, format="text"))
    assert [s.title for s in parsed.sections if s.title] == ["Notes", "Pricing"]


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_flashcard_answer_that_starts_a_list_on_its_label_line(fmt: str) -> None:
    parsed = parse_document(
        doc(
            "Q: Which protocols does Amazon MQ support?\nA: - OpenWire (JMS)\n- AMQP 1.0\n"
            "- MQTT\n\nQ: What is it?\nA: a broker: - not a list\n",
            fmt,
        )
    )
    items = [b.text for b in parsed.blocks if b.kind is BlockKind.BULLET]
    assert items == ["OpenWire (JMS)", "AMQP 1.0", "MQTT"]
    assert not any("A: -" in b.text for b in parsed.blocks)


def test_an_indented_outline_nests_its_lines_by_indentation():
    parsed = parse_document(
        doc(
            "Azure Nebula Balancer\n  layer 4, no TLS termination\n  SKUs\n    Basic\n"
            "      - max 300 backend instances\n    Standard\n"
            "      - up to 1,000 backend instances\n"
        )
    )
    assert [s.title for s in parsed.sections] == ["Azure Nebula Balancer"]
    by_text = {b.text: b for b in parsed.blocks}
    assert all(b.kind is BlockKind.BULLET for b in parsed.blocks)
    assert parsed.blocks[by_text["up to 1,000 backend instances"].intro].text == "Standard"
    assert parsed.blocks[by_text["Standard"].intro].text == "SKUs"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_an_underlined_title_is_a_heading_and_dashes_nest_under_equals(fmt: str) -> None:
    text = (
        "Kinesis Data Streams (KDS)\n==========================\n* ordered per shard\n\n"
        "shard limits\n------------\nwrite per shard = 1 MB/s\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    parsed = parse_document(Document(id="t", path="t", text=text, format=fmt))
    titled = [(s.title, s.parents) for s in parsed.sections if s.title]
    assert titled == [
        ("Kinesis Data Streams (KDS)", ()),
        ("shard limits", ("Kinesis Data Streams (KDS)",)),
    ]
    assert not any(set(text[b.start : b.end]) <= set("=- \n") for b in parsed.blocks)


def test_lines_that_each_set_a_key_are_facts_of_their_own():
    text = (
        "retention\n---------\ndefault = 24 hours\nextended = up to 7 days\n"
        "long term: up to 365 days\n"
    )
    parsed = parse_document(Document(id="t", path="t", text=text, format="text"))
    lines = [text[b.start : b.end] for b in parsed.blocks if b.kind is BlockKind.PARAGRAPH]
    assert lines == ["default = 24 hours", "extended = up to 7 days", "long term: up to 365 days"]


def test_a_key_value_line_after_an_item_or_a_remark_is_a_fact_of_its_own():
    text = (
        "1) dynamic partitioning: partition keys from the Lambda\n"
        "compression for S3: GZIP, ZIP, Snappy\n\n"
        "CloudWatch monitoring levels: DEFAULT, PER_BROKER\n"
        "  (DEFAULT is free)\n"
        "open monitoring -> JMX exporter port 11001\n"
    )
    parsed = parse_document(Document(id="t", path="t", text=text, format="text"))
    starts = [text[b.start : b.end].split(":")[0].split(" ->")[0] for b in parsed.blocks]
    assert "compression for S3" in starts and "open monitoring" in starts


def test_a_plain_text_heading_sits_under_the_marked_headings_above_it() -> None:
    text = (
        "## Deck: Azure Nebula - Endpoints\n\nQ: Endpoint types (networking)\nA: - public\n"
        "- private\n\nQ: Attribution methods?\nA: Shapley, XRAI\n"
    )
    parsed = parse_document(doc(text))
    titled = {s.title: s.parents for s in parsed.sections if s.title}
    deck = "Deck: Azure Nebula - Endpoints"
    assert titled["Q: Endpoint types (networking)"] == (deck,)
    # A card's "Q:" asks even without a question mark: the next card is no part of it.
    assert titled["Q: Attribution methods?"] == (deck,)
