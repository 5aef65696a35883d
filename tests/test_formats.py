"""Readers for exported notes: each format gives the same parsed structure, with offsets and
places that point back into the original, and a broken file gives a reason, not a crash."""

from pathlib import Path

import docx
import openpyxl
import pytest

from kg.model import BlockKind, ParsedDocument
from kg.parse import ParseError, choose, format_of, place, read_file
from kg.parse.notes import clean_text


def kinds(p: ParsedDocument) -> list[str]:
    return [b.kind.value for b in p.blocks]


def rows(p: ParsedDocument) -> list[list[str]]:
    return [[c.text for c in b.cells] for b in p.blocks if b.kind is BlockKind.TABLE_ROW]


def assert_cells_point_at_their_text(p: ParsedDocument) -> None:
    text = p.document.text
    for b in p.blocks:
        assert text[b.start : b.end] == b.text
        for c in b.cells:
            assert text[c.start : c.end] == c.text, (c, text[c.start : c.end])


# --- CSV and TSV ---------------------------------------------------------------------------

LIMITS_CSV = (
    "service,item,value,notes\n"
    'Cloud Storage,max object size,5 TiB,"hard limit, same for every upload method"\n'
    "Cloud Storage,custom metadata per object,8 KiB,\n"
    "\n"
    'Pub/Sub,message retention,"7 days","up to 31 days; ""topic retention"" is separate"\n'
)


def test_csv_rows_are_table_rows_with_cells_at_their_place_in_the_file(tmp_path: Path):
    path = tmp_path / "gcp-limits.csv"
    path.write_text(LIMITS_CSV)
    reading = read_file(path)
    p = reading.parsed
    assert p.document.text == LIMITS_CSV  # a CSV's text is the file itself
    assert p.document.format == "csv"
    assert [s.title for s in p.sections] == ["gcp-limits"]
    assert kinds(p) == ["table_header", "table_row", "table_row", "table_row"]
    assert [c.text for c in p.blocks[0].cells] == ["service", "item", "value", "notes"]
    assert rows(p)[0] == [
        "Cloud Storage",
        "max object size",
        "5 TiB",
        "hard limit, same for every upload method",
    ]
    assert rows(p)[1][3] == ""  # an empty cell is a cell
    # The row after a blank line is one more row of the same table.
    assert all(b.table == 0 for b in p.blocks[1:])
    third = p.blocks[3]
    assert third.locator == "A5:D5" and third.cells[2].ref == "C5"
    assert third.cells[3].text == 'up to 31 days; "topic retention" is separate'
    # Quoted cells point inside their quotes; doubled quotes are the one cell that differs.
    assert p.document.text[third.cells[2].start : third.cells[2].end] == "7 days"
    first = p.blocks[1]
    assert p.document.text[first.cells[3].start - 1] == '"'
    assert reading.notices == ()


def test_a_blank_row_ends_a_table_only_when_a_header_follows(tmp_path: Path):
    path = tmp_path / "two-tables.csv"
    path.write_text(
        "Item,Value\nMax nodes,20\n\nMin nodes,1\n\nTier,Max capacity (TiB)\nZonal,100\n"
    )
    p = read_file(path).parsed
    assert kinds(p) == ["table_header", "table_row", "table_row", "table_header", "table_row"]
    assert [b.table for b in p.blocks] == [None, 0, 0, None, 3]


def test_csv_delimiter_is_sniffed_and_tsv_reads_tabs(tmp_path: Path):
    semi = tmp_path / "eu.csv"
    semi.write_text("Service;Quota;Value\nAmazon SQS;message size;256 KiB\n")
    assert rows(read_file(semi).parsed) == [["Amazon SQS", "message size", "256 KiB"]]
    tsv = tmp_path / "t.tsv"
    tsv.write_text("Service\tResource\tQuota\nECS\tTasks per service\t5,000\n")
    p = read_file(tsv).parsed
    assert p.document.format == "tsv"
    assert rows(p) == [["ECS", "Tasks per service", "5,000"]]
    assert_cells_point_at_their_text(p)


def test_ragged_csv_is_read_and_the_extra_cells_are_reported(tmp_path: Path):
    path = tmp_path / "ragged.csv"
    path.write_text("service,item,value\nS3,object size,5 TB,oops,more\nS3,part size\n")
    reading = read_file(path)
    assert rows(reading.parsed) == [
        ["S3", "object size", "5 TB", "oops", "more"],
        ["S3", "part size"],
    ]
    assert len(reading.notices) == 1
    assert "ragged.csv" in reading.notices[0] and "rows 2" in reading.notices[0]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("caf\xe9,1\n".encode("latin-1"), "not UTF-8"),
        (b"", "empty"),
        (b",,,\n,,\n", "empty"),
        (b'a,"b\n', "not valid CSV"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
def test_broken_csv_gives_a_reason(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ParseError, match=reason):
        read_file(path)


def test_utf16_csv_as_excel_writes_unicode_text_is_read(tmp_path: Path):
    path = tmp_path / "excel.tsv"
    path.write_bytes("Service\tValue\r\nAmazon S3\t5 TB\r\n".encode("utf-16"))
    assert rows(read_file(path).parsed) == [["Amazon S3", "5 TB"]]


NOTE_ROWS = [
    "retry policy choices:",
    "- Default (exponential, 4 retries)",
    "- None",
    "* Fixed interval",
    "Retries only happen on 408, 429, 5xx",
    "",
    "connectors - 4 kinds i think:",
    "1. built-in - run natively in the LA runtime",
    "2) managed Standard connectors (Office 365, SharePoint)",
    "• custom connectors",
]


def as_read(p: ParsedDocument) -> list[tuple[str, str, str | None]]:
    """Each block's kind, text and the text of its intro."""
    intro = {b.index: b.text for b in p.blocks}
    return [
        (b.kind.value, b.text, intro[b.intro] if b.intro is not None else None) for b in p.blocks
    ]


def quoted(text: str, delimiter: str) -> str:
    return f'"{text}"' if delimiter in text else text


@pytest.mark.parametrize(("name", "delimiter"), [("notes.csv", ","), ("notes.tsv", "\t")])
def test_note_rows_with_list_markers_read_as_the_same_lines_of_plain_text(
    tmp_path: Path, name: str, delimiter: str
):
    text = tmp_path / "notes.txt"
    text.write_text("\n".join(NOTE_ROWS) + "\n")
    expected = as_read(read_file(text).parsed)
    assert [k for k, _, _ in expected] == [
        "paragraph", "bullet", "bullet", "bullet", "paragraph",
        "paragraph", "numbered", "numbered", "bullet",
    ]  # fmt: skip
    sheet = tmp_path / name
    # The notes column is the second one of a wider sheet: the other cells are empty.
    sheet.write_text("".join(f"{delimiter}{quoted(r, delimiter)}{delimiter}\n" for r in NOTE_ROWS))
    p = read_file(sheet).parsed
    assert as_read(p) == expected
    assert p.blocks[1].text == "Default (exponential, 4 retries)"
    assert p.blocks[1].intro == 0 and p.blocks[7].intro == 5
    # Offsets point into the file, after the marker (inside the quotes of a quoted cell).
    assert p.document.text == sheet.read_text()
    assert_cells_point_at_their_text(p)
    before = p.document.text[: p.blocks[1].start]
    assert before.endswith('"- ' if delimiter == "," else "\t- ")
    assert p.blocks[7].locator == "A9:C9"


def test_a_table_row_starting_with_a_dash_stays_a_table_row(tmp_path: Path):
    path = tmp_path / "limits.csv"
    path.write_text("Limits:\nItem,Value\n- max nodes,20\n1. min nodes,1\n")
    p = read_file(path).parsed
    assert kinds(p) == ["paragraph", "table_header", "table_row", "table_row"]
    assert rows(p) == [["- max nodes", "20"], ["1. min nodes", "1"]]
    assert p.blocks[1].intro == 0 and p.blocks[2].intro == 0


# --- XLSX ----------------------------------------------------------------------------------


def workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Memorystore"
    sheet.append(["Memorystore cheat sheet"])
    sheet.append(["Item", "Value", "Notes"])
    sheet.append(["Max instance size", "300 GB", "M5 tier"])
    sheet.append(["Standard tier SLA", 0.999, None])
    sheet["B4"].number_format = "0.0%"
    sheet.append(["Max nodes", 20])
    sheet.append([])
    sheet.append(["Tier", "Min capacity (TiB)", "Max capacity (TiB)"])
    sheet.append(["Basic HDD", 1, 63.9])
    other = book.create_sheet("FSx for Lustre")
    other.append(["Item", "Value"])
    other.append(["Scratch 2 baseline (MB/s per TiB)", 200])
    hidden = book.create_sheet("lookup")
    hidden.append(["a", "b"])
    hidden.sheet_state = "hidden"
    book.properties.title = "Storage cheat sheet"
    book.save(path)
    return path


def test_xlsx_sheets_are_sections_and_rows_carry_their_cell_references(tmp_path: Path):
    reading = read_file(workbook(tmp_path / "storage.xlsx"))
    p = reading.parsed
    assert p.document.format == "xlsx"
    assert p.document.metadata["title"] == "Storage cheat sheet"
    assert [s.title for s in p.sections] == ["Memorystore", "FSx for Lustre"]
    assert all(s.heading_start is not None for s in p.sections)
    assert kinds(p)[:6] == [
        "paragraph",  # the title row above the header
        "table_header",
        "table_row",
        "table_row",
        "table_row",
        "table_header",  # a blank row, then a second table with its own header
    ]
    assert rows(p)[:4] == [
        ["Max instance size", "300 GB", "M5 tier"],
        ["Standard tier SLA", "99.9%", ""],
        ["Max nodes", "20", ""],
        ["Basic HDD", "1", "63.9"],
    ]
    sla = p.blocks[3]
    assert sla.locator == "Memorystore!A4:B4" and sla.cells[1].ref == "Memorystore!B4"
    lustre = p.blocks[-1]
    assert p.sections[lustre.section].title == "FSx for Lustre"
    assert lustre.cells[1].ref == "'FSx for Lustre'!B2"
    assert_cells_point_at_their_text(p)
    assert any("'lookup' is hidden" in n for n in reading.notices)
    # A citation of a span names its place: the cell, or the row it lies in.
    value = lustre.cells[1]
    assert place(p, value.start, value.end) == "'FSx for Lustre'!B2"
    assert place(p, lustre.start, lustre.end) == "'FSx for Lustre'!A2:B2"


def test_xlsx_note_rows_with_list_markers_are_list_items_with_their_intro(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("\n".join(NOTE_ROWS) + "\n")
    expected = as_read(read_file(text).parsed)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Misc notes"
    for row in NOTE_ROWS:
        sheet.append([row or None])
    sheet.append([])
    sheet.append(["Item", "Value"])
    sheet.append(["- max nodes", 20])
    path = tmp_path / "notes.xlsx"
    book.save(path)
    p = read_file(path).parsed
    assert as_read(p)[: len(expected)] == expected
    assert kinds(p)[len(expected) :] == ["table_header", "table_row"]
    assert rows(p) == [["- max nodes", "20"]]
    assert_cells_point_at_their_text(p)
    item = p.blocks[6]
    assert item.text == "built-in - run natively in the LA runtime"
    assert item.locator == "'Misc notes'!A8:A8"
    assert place(p, item.start, item.end) == "'Misc notes'!A8:A8"


def test_broken_xlsx_gives_a_reason(tmp_path: Path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ParseError, match="not a readable XLSX"):
        read_file(bad)
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(ParseError, match="empty workbook"):
        read_file(empty)


# --- HTML ----------------------------------------------------------------------------------

CLIPPED = """<!DOCTYPE html><html><head><title>Dataflow notes</title>
<style>h2 { color: red }</style><script>var secret = "do not read";</script></head>
<body><nav><a href="/">Home</a> <a href="/x">Other notes</a></nav>
<div class="en-note">
<h1>Dataflow &amp; Dataproc</h1>
<p>Fully managed <b>Apache Beam</b> runner.</p>
<h2>Windowing</h2>
<ul><li>Fixed windows</li><li>Sliding windows<ul><li>overlapping</li></ul></li></ul>
<ol><li>first step</li></ol>
<table><tr><th>Setting</th><th>Batch</th></tr>
<tr><td>Default disk</td><td>250 GB</td></tr></table>
</div><footer>Clipped with a web clipper</footer></body></html>"""


def test_html_headings_lists_and_tables_with_element_paths(tmp_path: Path):
    path = tmp_path / "clip.html"
    path.write_text(CLIPPED)
    reading = read_file(path)
    p = reading.parsed
    text = p.document.text
    assert "secret" not in text and "Home" not in text and "Clipped" not in text
    assert [(s.title, s.level, s.parents) for s in p.sections] == [
        ("Dataflow & Dataproc", 1, ()),
        ("Windowing", 2, ("Dataflow & Dataproc",)),
    ]
    assert kinds(p) == [
        "paragraph",
        "bullet",
        "bullet",
        "bullet",
        "numbered",
        "table_header",
        "table_row",
    ]
    nested = p.blocks[3]
    assert nested.text == "overlapping" and nested.depth > p.blocks[2].depth
    assert nested.intro == p.blocks[2].index  # nested under its parent item
    assert rows(p) == [["Default disk", "250 GB"]]
    assert p.blocks[0].locator == "/html/body/div/p"
    assert p.blocks[2].locator == "/html/body/div/ul/li[2]"
    assert p.blocks[6].locator == "/html/body/div/table/tr[2]"
    assert p.document.metadata["title"] == "Dataflow notes"
    assert reading.notices == ()
    assert_cells_point_at_their_text(p)


ONENOTE = """<html><head><title>Azure SQL Database</title></head>
<body style='font-size:11.0pt'>
<p style='font-size:20.0pt'>Azure SQL Database</p>
<p style='font-size:11.0pt'>PaaS SQL Server engine.</p>
<p style='font-size:16pt'><b>Backups</b></p>
<p style='font-size:11.0pt'>PITR retention: 1-35 days, default 7 days.</p>
<p style='font-size:11.0pt'><b><i>Long-term retention</i></b></p>
<p style='font-size:11.0pt'>Up to <b>10 years</b>.</p>
</body></html>"""


def test_html_without_heading_elements_gets_headings_from_font_size_and_bold(tmp_path: Path):
    path = tmp_path / "onenote.htm"
    path.write_text(ONENOTE)
    p = read_file(path).parsed
    assert [(s.title, s.level) for s in p.sections] == [
        ("Azure SQL Database", 1),
        ("Backups", 2),
        ("Long-term retention", 3),
    ]
    assert p.sections[2].parents == ("Azure SQL Database", "Backups")
    assert [b.text for b in p.blocks] == [
        "PaaS SQL Server engine.",
        "PITR retention: 1-35 days, default 7 days.",
        "Up to 10 years.",
    ]


def test_html_without_any_headings_is_one_section_and_the_summary_says_so(tmp_path: Path):
    path = tmp_path / "flat.html"
    path.write_text(
        "<html><head><title>Queue notes</title></head><body><p>SQS keeps "
        "messages for 4 days by default.</p><p>At most 14 days.</p></body></html>"
    )
    reading = read_file(path)
    assert [s.title for s in reading.parsed.sections] == ["Queue notes"]
    assert len(reading.parsed.blocks) == 2
    assert reading.notices and "no headings" in reading.notices[0]


def test_html_with_no_text_gives_a_reason(tmp_path: Path):
    path = tmp_path / "blank.html"
    path.write_text("<html><head><script>x()</script></head><body><nav>Home</nav></body></html>")
    with pytest.raises(ParseError, match="empty page"):
        read_file(path)


# --- DOCX ----------------------------------------------------------------------------------


def word_file(path: Path) -> Path:
    d = docx.Document()
    d.add_paragraph("Azure Monitor notes", style="Title")
    d.add_paragraph("Team notes, kept current.")
    d.add_heading("Metrics", level=1)
    d.add_paragraph("Data sources:")
    d.add_paragraph("Platform metrics, kept 93 days", style="List Bullet")
    d.add_paragraph("Custom metrics", style="List Bullet 2")
    d.add_heading("Retention", level=2)
    d.add_paragraph("Set the plan first", style="List Number")
    table = d.add_table(rows=2, cols=2)
    for cell, text in zip(table.rows[0].cells, ["Plan", "Retention"], strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["Analytics", "30 days"], strict=True):
        cell.text = text
    d.core_properties.keywords = "azure, monitoring"
    d.save(str(path))
    return path


def test_docx_headings_by_style_lists_and_tables(tmp_path: Path):
    p = read_file(word_file(tmp_path / "monitor.docx")).parsed
    assert p.document.format == "docx"
    assert [(s.title, s.level, s.parents) for s in p.sections] == [
        ("Azure Monitor notes", 1, ()),
        ("Metrics", 2, ("Azure Monitor notes",)),
        ("Retention", 3, ("Azure Monitor notes", "Metrics")),
    ]
    assert kinds(p) == [
        "paragraph",
        "paragraph",
        "bullet",
        "bullet",
        "numbered",
        "table_header",
        "table_row",
    ]
    assert p.blocks[3].depth > p.blocks[2].depth
    assert p.blocks[2].intro == p.blocks[1].index  # "Data sources:" introduces the list
    assert p.blocks[2].locator == "paragraph 5"
    assert rows(p) == [["Analytics", "30 days"]]
    assert p.blocks[-1].locator == "table 1, row 2"
    assert p.document.metadata["tags"] == "azure, monitoring"
    assert_cells_point_at_their_text(p)


def list_of_format(d: "docx.document.Document", fmt: str) -> str:
    """The id of a list in the document's numbering whose first level is numbered ``fmt``."""
    numbering = d.part.numbering_part.element
    for num in numbering.xpath("w:num"):
        abstract = num.xpath("w:abstractNumId/@w:val")[0]
        found = numbering.xpath(
            f"w:abstractNum[@w:abstractNumId='{abstract}']/w:lvl[@w:ilvl='0']/w:numFmt/@w:val"
        )
        if found and found[0] == fmt:
            return str(num.xpath("@w:numId")[0])
    raise LookupError(fmt)


def test_docx_list_items_by_numbering_as_google_docs_writes_them(tmp_path: Path):
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx.Document()
    bullets, numbers = list_of_format(d, "bullet"), list_of_format(d, "decimal")
    for text, num, level in (("first", bullets, 0), ("nested", bullets, 1), ("step", numbers, 0)):
        paragraph = d.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(
            parse_xml(
                f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/>'
                "</w:numPr>"
            )
        )
    path = tmp_path / "gdoc.docx"
    d.save(str(path))
    p = read_file(path).parsed
    assert [(b.kind.value, b.text) for b in p.blocks] == [
        ("bullet", "first"),
        ("bullet", "nested"),
        ("numbered", "step"),
    ]
    assert p.blocks[1].depth > p.blocks[0].depth


def test_docx_with_no_text_and_a_damaged_docx_give_reasons(tmp_path: Path):
    empty = tmp_path / "empty.docx"
    d = docx.Document()
    d.add_paragraph("")
    d.save(str(empty))
    with pytest.raises(ParseError, match="empty document"):
        read_file(empty)
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"not a zip at all")
    with pytest.raises(ParseError, match="not a readable DOCX"):
        read_file(broken)


# --- Markdown dialects ---------------------------------------------------------------------

OBSIDIAN = """---
title: AWS WAF
tags: [aws, "#security"]
aliases: [WAF, Web Application Firewall]
provider: AWS
---

# AWS WAF

Back to [[Edge Security MOC]]. Pairs with [[AWS Shield|Shield Advanced]].

> [!warning] Exam trap
> No WAF on a Network Load Balancer.
> - not on an NLB
> - not on an EC2 instance

| scenario | answer |
|---|---|
| HTTP flood | [[AWS Shield|Shield Advanced]] L7 mitigation |
"""


def test_obsidian_front_matter_is_metadata_and_callouts_and_wikilinks_read(tmp_path: Path):
    path = tmp_path / "AWS WAF.md"
    path.write_text(OBSIDIAN)
    p = read_file(path).parsed
    assert p.document.text == OBSIDIAN
    assert dict(p.document.metadata) == {
        "title": "AWS WAF",
        "tags": "aws, security",
        "aliases": "WAF, Web Application Firewall",
        "provider": "aws",
    }
    assert "title:" not in " ".join(b.text for b in p.blocks)  # front matter is not notes
    assert [s.title for s in p.sections] == ["AWS WAF"]
    texts = [(b.kind.value, b.text) for b in p.blocks]
    assert ("paragraph", "Exam trap") in texts
    assert ("paragraph", "No WAF on a Network Load Balancer.") in texts
    assert ("bullet", "not on an NLB") in texts and ("bullet", "not on an EC2 instance") in texts
    # A pipe inside a wikilink does not split the table cell.
    assert rows(p) == [["HTTP flood", "[[AWS Shield|Shield Advanced]] L7 mitigation"]]
    first = p.blocks[0].text
    assert (
        clean_text(first).split()
        == "Back to Edge Security MOC . Pairs with Shield Advanced .".split()
    )


def test_invalid_front_matter_is_reported_and_the_note_still_reads(tmp_path: Path):
    path = tmp_path / "bad-yaml.md"
    path.write_text("---\ntitle: [unclosed\n---\n\n# Heading\n\nText here.\n")
    reading = read_file(path)
    assert "not valid YAML" in reading.notices[0]
    assert [b.text for b in reading.parsed.blocks] == ["Text here."]


def test_notion_page_properties_are_metadata_not_notes(tmp_path: Path):
    page = tmp_path / "Event Grid 7a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5.md"
    page.write_text(
        "# Event Grid\n\nCreated: February 11, 2024 8:45 PM\nTags: az-204, messaging\n\n"
        "Push-based event routing.\n\n- [x]  retry + dead-letter\n\n<aside>\n"
        "📌 Scope: Event Grid only.\n\n</aside>\n"
    )
    p = read_file(page).parsed
    assert p.document.metadata["tags"] == "az-204, messaging"
    assert p.document.metadata["title"] == "Event Grid"
    assert [b.text for b in p.blocks] == [
        "Push-based event routing.",
        "retry + dead-letter",
        "📌 Scope: Event Grid only.",
    ]


# --- choosing files ------------------------------------------------------------------------


def test_choose_reads_notion_databases_once_and_names_every_file_it_leaves_out(tmp_path):
    root = tmp_path / "export"
    db = root / "Notes abc"
    db.mkdir(parents=True)
    for name in ("Limits 5e6f.csv", "Limits 5e6f_all.csv", "page.md", "diagram.png", "x.pages"):
        (db / name).write_text("a,b\n1,2\n")
    (root / ".obsidian").mkdir()
    (root / ".obsidian" / "workspace.json").write_text("{}")
    (root / ".obsidian" / "app.json").write_text("{}")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    chosen, skipped = choose(files, root)
    assert sorted(p.name for p in chosen) == ["Limits 5e6f_all.csv", "page.md"]
    reasons = "\n".join(skipped)
    assert "Limits 5e6f.csv: Notion database view" in reasons
    assert "diagram.png: image, not notes" in reasons
    assert "x.pages: Apple Pages is not read" in reasons
    assert ".obsidian/: hidden folder, not read (2 files)" in reasons
    assert len(skipped) == 4


def test_a_file_without_a_suffix_is_read_by_its_content(tmp_path: Path):
    page = tmp_path / "exported-page"
    page.write_text("<!DOCTYPE html><html><body><h1>Notes</h1><p>Text.</p></body></html>")
    fmt = format_of(page)
    assert fmt is not None and fmt.name == "html"
    assert format_of(tmp_path / "README") is None


# --- downstream: the same rows, whatever the format ----------------------------------------

LIMIT_ROWS = [
    ["Amazon SQS", "message retention", "14 days", "max"],
    ["Amazon SQS", "message size", "256 KiB", ""],
]
HEAD = ["service", "item", "value", "notes"]


def same_table_in_every_format(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    md = folder / "limits.md"
    md.write_text(
        "| "
        + " | ".join(HEAD)
        + " |\n|---|---|---|---|\n"
        + "".join("| " + " | ".join(r) + " |\n" for r in LIMIT_ROWS)
    )
    csv_file = folder / "limits.csv"
    csv_file.write_text(",".join(HEAD) + "\n" + "".join(",".join(r) + "\n" for r in LIMIT_ROWS))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in [HEAD, *LIMIT_ROWS]:
        sheet.append(r)
    book.save(folder / "limits.xlsx")
    cells = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in [HEAD, *LIMIT_ROWS]
    )
    (folder / "limits.html").write_text(f"<table>{cells}</table>")
    d = docx.Document()
    table = d.add_table(rows=0, cols=4)
    for r in [HEAD, *LIMIT_ROWS]:
        for cell, text in zip(table.add_row().cells, r, strict=True):
            cell.text = text
    d.save(str(folder / "limits.docx"))
    return [md, csv_file, folder / "limits.xlsx", folder / "limits.html", folder / "limits.docx"]


def test_a_spreadsheet_row_is_extracted_exactly_as_a_markdown_table_row(tmp_path: Path):
    from kg.extract.discover import discover_services
    from kg.extract.document import Extractor
    from kg.lexicon import Lexicon

    lexicon = Lexicon.load()

    def limits(path: Path) -> list[tuple[str, str, str]]:
        parsed = read_file(path).parsed
        x = Extractor(lexicon, discover_services(parsed, lexicon.matcher())).extract(parsed)
        return sorted(
            (x.entities[lim.subject].label, lim.quantity, str(lim.bounds())) for lim in x.limits
        )

    files = same_table_in_every_format(tmp_path / "notes")
    markdown = limits(files[0])
    assert len(markdown) == 2
    for path in files[1:]:
        assert limits(path) == markdown, path.name


def test_build_reads_every_format_and_names_each_file_it_does_not_read(tmp_path: Path):
    from typer.testing import CliRunner

    from api.cli import app

    folder = tmp_path / "notes"
    same_table_in_every_format(folder)
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.7")
    (folder / "latin1.csv").write_bytes("caf\xe9,1\n".encode("latin-1"))
    result = CliRunner().invoke(
        app, ["build", str(folder), "--data", str(tmp_path / "data"), "--graph-only"]
    )
    assert result.exit_code == 0, result.stderr
    assert "5 documents" in result.stdout
    assert "3 not read" in result.stderr
    for line in ("slides.pptx: slides are not read", "scan.pdf: PDF is not read", "latin1.csv"):
        assert line in result.stderr
    assert "not UTF-8" in result.stderr
    listing = CliRunner().invoke(app, ["build", "--formats"])
    assert listing.exit_code == 0
    for suffix in (".md", ".txt", ".csv", ".tsv", ".xlsx", ".html", ".docx", ".pdf"):
        assert suffix in listing.stdout
