"""Word documents (DOCX, as Word and Google Docs export them) -> headings, lists, tables.

Read with python-docx, body paragraphs and tables in document order. A paragraph is a
heading by its style ("Title", "Heading 1".."Heading 9", a style based on one of them, or
an outline level); the Title is level 1 and "Heading N" level N + 1, so the headings nest
under the title as they do in the document's navigation pane. A paragraph is a list item by
its style ("List Bullet 2", "List Number") or its numbering (bullet or numbered, nested by
its level). Headers, footers, comments and footnotes are not read.

``Document.text`` is the body written out as Markdown (``kg.parse.layout``); each block's
``locator`` says where it is in the file: "paragraph 12" (counting every body paragraph,
empty ones too) or "table 2, row 3".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kg.parse.layout import Layout, TableCell, squash
from kg.parse.notes import ParseError, Reading

_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.I)
_LIST_STYLE = re.compile(r"^list\s+(bullet|number|continue)\s*([2-9])?$", re.I)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(path: Path, doc_id: str) -> Reading:
    from zipfile import BadZipFile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise ParseError(
            f"{path}: not a readable DOCX file ({exc}); a legacy .doc must be saved as .docx"
        ) from None
    props = document.core_properties
    meta = {
        key: squash(value)
        for key, value in (
            ("title", props.title),
            ("subject", props.subject),
            ("tags", props.keywords),
            ("category", props.category),
        )
        if value and value.strip()
    }
    layout = Layout(doc_id, str(path), "docx", meta)
    formats = _numbering_formats(document)
    paragraphs = tables = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            _table(layout, item, f"table {tables}")
            continue
        paragraphs += 1
        text = item.text
        if not text.strip():
            continue
        place = f"paragraph {paragraphs}"
        level = _heading_level(item)
        listed = _list_item(item, formats)
        if level is not None:
            layout.heading(text, level)
        elif listed is not None:
            numbered, depth = listed
            layout.item(text, numbered=numbered, depth=depth, locator=place)
        else:
            layout.paragraph(text, place)
    if not layout.blocks:
        raise ParseError(f"{path}: empty document (no text in its body)")
    return Reading(layout.finish())


def _styles(paragraph: Any) -> list[str]:
    """The paragraph's style name and the names of the styles it is based on."""
    names: list[str] = []
    style = paragraph.style
    while style is not None and len(names) < 5:
        names.append(str(style.name or ""))
        style = style.base_style
    return names


def _heading_level(paragraph: Any) -> int | None:
    for name in _styles(paragraph):
        if name.lower() == "title":
            return 1
        m = _HEADING_STYLE.match(name)
        if m:
            return int(m.group(1)) + 1
    ppr = paragraph._p.pPr
    outline = ppr.find(f"{_W}outlineLvl") if ppr is not None else None
    if outline is not None:
        value = int(outline.get(f"{_W}val", "9"))
        return value + 2 if value < 9 else None
    return None


def _list_item(paragraph: Any, formats: dict[tuple[str, int], str]) -> tuple[bool, int] | None:
    """(numbered, depth) for a list item, None for any other paragraph."""
    ppr = paragraph._p.pPr
    num = ppr.numPr if ppr is not None else None
    if num is not None and num.numId is not None and num.numId.val:
        level = num.ilvl.val if num.ilvl is not None else 0
        fmt = formats.get((str(num.numId.val), level), "bullet")
        return fmt not in ("bullet", "none"), level
    for name in _styles(paragraph):
        m = _LIST_STYLE.match(name)
        if m:
            return m.group(1).lower() == "number", int(m.group(2) or 1) - 1
    return None


def _numbering_formats(document: Any) -> dict[tuple[str, int], str]:
    """(numId, level) -> the numbering format ("bullet", "decimal", ...) of each list."""
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        return {}
    abstract = {}
    for a in numbering.findall(f"{_W}abstractNum"):
        levels = {}
        for lvl in a.findall(f"{_W}lvl"):
            fmt = lvl.find(f"{_W}numFmt")
            levels[int(lvl.get(f"{_W}ilvl", "0"))] = (
                fmt.get(f"{_W}val", "bullet") if fmt is not None else "bullet"
            )
        abstract[a.get(f"{_W}abstractNumId")] = levels
    out = {}
    for n in numbering.findall(f"{_W}num"):
        ref = n.find(f"{_W}abstractNumId")
        levels = abstract.get(ref.get(f"{_W}val") if ref is not None else None, {})
        for level, fmt in levels.items():
            out[(str(n.get(f"{_W}numId")), level)] = fmt
    return out


def _table(layout: Layout, table: Any, place: str) -> None:
    rows: list[list[TableCell]] = []
    places: list[str | None] = []
    for r, row in enumerate(table.rows, start=1):
        cells: list[TableCell] = []
        previous = None
        for c, cell in enumerate(row.cells, start=1):
            merged = previous is not None and cell._tc is previous
            previous = cell._tc
            text = "" if merged else cell.text
            cells.append(TableCell(text, f"{place}, row {r}, column {c}"))
        if any(cell.text.strip() for cell in cells):
            rows.append(cells)
            places.append(f"{place}, row {r}")
    if not rows:
        return
    if max(len(r) for r in rows) <= 1:  # a one-column table frames text: read it as text
        for cells, where in zip(rows, places, strict=True):
            layout.paragraph(cells[0].text, where)
        return
    layout.table(rows[0], rows[1:], places)
