"""Notes files in the formats people export -> parsed documents, one reader per format.

``read_file`` picks the reader by the file's suffix (by its content when it has none) and
returns a ``Reading``: the same ``ParsedDocument`` whatever the format, and notices for the
build summary. ``choose`` sorts a folder's files into those to read and those not read,
each with its reason, so that no file is left out in silence. docs/formats.md tells what
each reader makes of its format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.model import ParsedDocument
from kg.parse.notes import ParseError, Reading, parse_document, read_document


def _text(path: Path, doc_id: str) -> Reading:
    return Reading(parse_document(read_document(path, doc_id)))


def _markdown(path: Path, doc_id: str) -> Reading:
    from kg.parse.markdown import read_markdown

    return read_markdown(path, doc_id)


def _csv(path: Path, doc_id: str) -> Reading:
    from kg.parse.sheets import read_delimited

    return read_delimited(path, doc_id, "csv")


def _tsv(path: Path, doc_id: str) -> Reading:
    from kg.parse.sheets import read_delimited

    return read_delimited(path, doc_id, "tsv")


def _xlsx(path: Path, doc_id: str) -> Reading:
    from kg.parse.sheets import read_xlsx

    return read_xlsx(path, doc_id)


def _html(path: Path, doc_id: str) -> Reading:
    from kg.parse.web import read_html

    return read_html(path, doc_id)


def _docx(path: Path, doc_id: str) -> Reading:
    from kg.parse.word import read_docx

    return read_docx(path, doc_id)


@dataclass(frozen=True, slots=True)
class Format:
    """A format the build reads: its name, the suffixes that mark it, what it becomes."""

    name: str
    suffixes: tuple[str, ...]
    reads: str
    reader: Callable[[Path, str], Reading]


FORMATS: tuple[Format, ...] = (
    Format(
        "markdown",
        (".md", ".markdown"),
        "headings, lists, pipe tables; YAML front matter (title, tags, provider) as metadata; "
        "Obsidian [[wikilinks]] and callouts; Notion pages and their property lines",
        _markdown,
    ),
    Format(
        "text",
        (".txt", ".text"),
        "plain-text notes: bare-line headings, bullets, tables flattened to lines",
        _text,
    ),
    Format(
        "csv",
        (".csv",),
        "a table: the header row names the columns, each row a table row (delimiter sniffed); "
        "Notion databases read once (X_all.csv, not its view X.csv)",
        _csv,
    ),
    Format("tsv", (".tsv", ".tab"), "as CSV, tab-separated", _tsv),
    Format(
        "xlsx",
        (".xlsx", ".xlsm"),
        "each visible sheet a section named by the sheet, its tables as in CSV",
        _xlsx,
    ),
    Format(
        "html",
        (".html", ".htm", ".xhtml"),
        "headings (or, as OneNote exports them, large or bold lines), lists, tables; scripts, "
        "styles and navigation dropped",
        _html,
    ),
    Format("docx", (".docx",), "headings by style, lists by style or numbering, tables", _docx),
)

_BY_SUFFIX = {suffix: f for f in FORMATS for suffix in f.suffixes}

# Formats people have notes in that the build does not read, and what to do instead.
NOT_READ: dict[str, str] = {
    ".pdf": "PDF is not read; export the notes as Markdown, HTML or DOCX",
    ".doc": "legacy Word format; save it as .docx",
    ".xls": "legacy Excel format; save it as .xlsx",
    ".rtf": "RTF is not read; save it as .docx",
    ".odt": "OpenDocument text is not read; save it as .docx",
    ".ods": "OpenDocument spreadsheet is not read; save it as .xlsx",
    ".pages": "Apple Pages is not read; export it as DOCX",
    ".numbers": "Apple Numbers is not read; export it as XLSX or CSV",
    ".key": "slides are not read",
    ".pptx": "slides are not read",
    ".ppt": "slides are not read",
    ".one": "OneNote section file; export its pages as HTML",
    ".enex": "Evernote archive; export the notes as HTML",
    ".mht": "web archive; save the page as HTML",
    ".mhtml": "web archive; save the page as HTML",
    ".epub": "e-book, not notes",
    ".json": "JSON is not read",
    ".canvas": "Obsidian canvas is not read",
    ".zip": "archive; unpack it first",
}
for _suffix in ".png .jpg .jpeg .gif .webp .svg .bmp .tif .tiff .heic .ico".split():
    NOT_READ[_suffix] = "image, not notes"
for _suffix in ".mp3 .mp4 .m4a .mov .wav .webm".split():
    NOT_READ[_suffix] = "audio or video, not notes"


def format_of(path: Path) -> Format | None:
    """The format a file is read as: by suffix; a file without one by its first bytes."""
    found = _BY_SUFFIX.get(path.suffix.lower())
    if found is not None or path.suffix:
        return found
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html")):
        return _BY_SUFFIX[".html"]
    if head.startswith(b"PK\x03\x04"):
        if b"word/" in head:
            return _BY_SUFFIX[".docx"]
        if b"xl/" in head:
            return _BY_SUFFIX[".xlsx"]
    return None


def skip_reason(path: Path) -> str:
    """Why a file with no reader is not read."""
    suffix = path.suffix.lower()
    if suffix in NOT_READ:
        return NOT_READ[suffix]
    return f"unknown format {suffix}" if suffix else "unknown format (no suffix)"


def read_file(path: Path, doc_id: str | None = None) -> Reading:
    """Read one notes file with the reader for its format; ParseError says why it cannot."""
    fmt = format_of(path)
    if fmt is None:
        raise ParseError(f"{path}: {skip_reason(path)}")
    return fmt.reader(path, doc_id or path.name)


def place(parsed: ParsedDocument, start: int, end: int) -> str | None:
    """Where the span ``[start, end)`` of ``Document.text`` is in the original file: the
    cell's reference when it lies in one cell ("'FSx'!B7"), else the locator of the first
    block it overlaps ("/html/body/ul/li[3]", "paragraph 12"); None for Markdown and text,
    whose offsets are the place."""
    for block in parsed.blocks:
        if block.start < end and start < block.end:
            for cell in block.cells:
                if cell.ref and cell.start <= start and end <= cell.end:
                    return cell.ref
            return block.locator
    return None


def choose(files: Sequence[Path], root: Path) -> tuple[list[Path], list[str]]:
    """Of the files found under ``root``: those to read, and a "path: reason" line for each
    one left out. Hidden files and folders (``.obsidian/``, ``.git/``) get one line each;
    a Notion database's view ``X.csv`` is left out when its full twin ``X_all.csv`` is there.
    """
    chosen: list[Path] = []
    skipped: list[str] = []
    hidden: dict[Path, int] = {}
    present = set(files)
    for path in files:
        parts = path.relative_to(root).parts
        dot = next((i for i, part in enumerate(parts) if part.startswith(".")), None)
        if dot is not None:
            top = root.joinpath(*parts[: dot + 1])
            hidden[top] = hidden.get(top, 0) + 1
            continue
        twin = path.with_name(path.stem + "_all" + path.suffix)
        if path.suffix.lower() == ".csv" and twin in present:
            skipped.append(f"{path}: Notion database view; its full export {twin.name} is read")
        elif format_of(path) is None:
            skipped.append(f"{path}: {skip_reason(path)}")
        else:
            chosen.append(path)
    for top, count in sorted(hidden.items()):
        if top.is_dir():
            skipped.append(f"{top}/: hidden folder, not read ({count} files)")
        else:
            skipped.append(f"{top}: hidden file, not read")
    return chosen, skipped


__all__ = [
    "FORMATS",
    "NOT_READ",
    "Format",
    "ParseError",
    "Reading",
    "choose",
    "format_of",
    "place",
    "read_file",
    "skip_reason",
]
