"""Notes -> sections, blocks (paragraphs, list items, table rows) and sentences with offsets.

Two dialects share one parser. Markdown (``.md``): ``#`` headings, ``-``/``*``/``+`` bullets,
numbered lists, pipe tables, code fences. Plain text (``.txt``), as notes pasted from a web
page look: headings are bare short lines, bullets are ``•``, tables arrive flattened into one
line per row under a header line, shell sessions start with ``>``, and a run of two or more
blank lines is where a heading was lost.

Every block and sentence keeps character offsets into ``Document.text`` so that anything
derived from it can be cited exactly. No RDF here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.model import Block, BlockKind, Cell, Document, ParsedDocument, Section, Sentence
from kg.parse.lists import BULLET, BULLET_MARK, NUMBERED, Marker, link_lists, list_marker

NOTE_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text"}

# A flashcard's answer that starts a list on its label's line: "A: - OpenWire (JMS)".
_LABELLED_BULLET = re.compile(rf"^(\s*)(?:[A-Z][A-Za-z]{{0,9}}):\s*{BULLET_MARK}\s*(.*)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*(?:={3,}|-{3,})\s*$")  # a title's underline (setext heading)
_MD_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)([^*_]{1,80})(?:\*\*|__)\s*:?\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_PROMPT = re.compile(r"^\s*(?:>|\$)\s")
_ASKS = re.compile(r"(?i)Q\s*[:.]\s|.*\?\s*$")  # "Default machine type?", "Q: Endpoint types"

# A bare heading never ends on one of these words ("In order to see the range, use").
_TRAILING_FUNCTION_WORDS = frozenset(
    "a an the of to in on at by for with from and or but is are be use using via as that "
    "this these than then if".split()
)
# A line that opens with one of these, or whose second or third word is one of the verbs, is
# a sentence of prose ("EKS is a managed ...", "A cluster can have ...", "You pay ..."), not
# the row of a flattened table ("File Gateway (NFS) Files are stored ...").
_PROSE_OPENERS = frozenset("a an the you your it its each every this these there we they".split())
_PROSE_VERBS = frozenset(
    "is are was were can cannot will may must has have lets allows provides offers supports "
    "stores runs uses works gives keeps charges bills".split()
)
_ABBREVIATIONS = frozenset(
    "e.g i.e etc vs max min freq infreq no approx inc mr dr st fig eg ie al resp".split()
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9$])")


class ParseError(ValueError):
    """A notes file that cannot be read: the message names the file and says why."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A file as read: its parse, and what the reader had to say about it (ragged rows,
    hidden sheets, a page without headings), for the build summary."""

    parsed: ParsedDocument
    notices: tuple[str, ...] = ()


def decode_text(raw: bytes, path: Path) -> str:
    """The text of a file: UTF-8 (a BOM allowed), or UTF-16 with its BOM, newlines as ``\n``;
    raises ParseError for a binary, non-UTF-8 or empty file."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{path}: damaged UTF-16 text (byte {exc.start})") from None
    elif b"\x00" in raw[:8192]:
        raise ParseError(f"{path}: binary file, not text notes")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); "
                "save it as UTF-8 (Excel: 'CSV UTF-8')"
            ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError(f"{path}: empty file")
    return text


def read_document(path: Path, doc_id: str | None = None) -> Document:
    """Read a notes file; raises ParseError for empty, binary or non-UTF-8 files."""
    text = decode_text(path.read_bytes(), path)
    fmt = NOTE_SUFFIXES.get(path.suffix.lower(), "text")
    return Document(id=doc_id or path.name, path=str(path), text=text, format=fmt)


@dataclass
class _Line:
    start: int
    end: int  # exclusive, without the newline
    raw: str

    @property
    def stripped(self) -> str:
        return self.raw.strip()

    @property
    def indent(self) -> int:
        return len(self.raw) - len(self.raw.lstrip())


@dataclass
class _Builder:
    doc: Document
    sections: list[Section] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    # open section: (title, level, start, heading span, parents)
    open_title: str | None = None
    open_level: int = 1
    open_start: int = 0
    open_heading: tuple[int, int] | None = None
    open_parents: tuple[str, ...] = ()
    open_has_content: bool = False
    heading_stack: list[tuple[int, str]] = field(default_factory=list)
    topic_path: tuple[str, ...] | None = None  # the last plain-text heading that asks nothing

    @property
    def section_index(self) -> int:
        return len(self.sections)

    def close_section(self, end: int) -> None:
        if (
            self.open_title is None
            and not self.open_has_content
            and not self.doc.text[self.open_start : end].strip()
        ):
            return  # nothing before the first heading (or only front matter, blanked)
        heading = self.open_heading
        self.sections.append(
            Section(
                index=len(self.sections),
                title=self.open_title,
                level=self.open_level,
                start=self.open_start,
                end=end,
                heading_start=heading[0] if heading else None,
                heading_end=heading[1] if heading else None,
                parents=self.open_parents,
            )
        )

    def heading(self, title: str, level: int, start: int, end: int, *, markdown: bool) -> None:
        title = _clean_inline(title)
        if markdown:
            while self.heading_stack and self.heading_stack[-1][0] >= level:
                self.heading_stack.pop()
            parents = tuple(t for _, t in self.heading_stack)
            self.heading_stack.append((level, title))
        elif _ASKS.match(title) and self.topic_path is not None:
            # A flashcard's question belongs to the deck's heading above it ("MACHINES,
            # POOLS, PRICING" then "Q: Default machine type?"), one level down.
            parents, level = self.topic_path, 2
        elif self.open_title is not None and not self.open_has_content:
            # A bare heading straight after another: the first one encloses the second.
            parents = (*self.open_parents, self.open_title)
        else:
            # A heading read from plain text sits under the marked headings above it ("##
            # Deck: Vertex AI - Prediction" over a card "Q: Endpoint types (networking)").
            parents = tuple(t for _, t in self.heading_stack)
            level = self.heading_stack[-1][0] + 1 if self.heading_stack else level
        if not markdown and not _ASKS.match(title):
            self.topic_path = (*parents, title)
        self.close_section(start)
        self.open_title, self.open_level = title, level
        self.open_start, self.open_heading = start, (start, end)
        self.open_parents, self.open_has_content = parents, False

    def untitled_section(self, start: int) -> None:
        """A heading was lost: start a section whose subject must be inferred."""
        self.close_section(start)
        self.open_title, self.open_level, self.open_start = None, 1, start
        self.open_heading, self.open_parents, self.open_has_content = None, (), False
        self.heading_stack.clear()
        self.topic_path = None

    def add(self, kind: BlockKind, start: int, end: int, **kw: object) -> int:
        start, end = _trim_span(self.doc.text, start, end)
        index = len(self.blocks)
        self.blocks.append(
            Block(
                index=index,
                kind=kind,
                section=self.section_index,
                start=start,
                end=end,
                text=self.doc.text[start:end],
                **kw,  # type: ignore[arg-type]
            )
        )
        self.open_has_content = True
        return index


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_QUOTE_MARKERS = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+")
_TAG_LINE = re.compile(r"^\s*</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>\s*$")  # "<aside>", Notion
_TASK_BOX = re.compile(r"^(\s*[-*+]\s+)(\[[ xX]\])(?=\s)")
_OBSIDIAN_COMMENT = re.compile(r"%%.*?%%")
_CALLOUT = re.compile(r"^\s*\[!([\w-]+)\][+-]?[ \t]*")  # Obsidian "> [!tip] Title"


def front_matter_end(text: str) -> int:
    """Where a Markdown file's YAML front matter (``---`` ... ``---`` at the top) ends; 0
    when it has none."""
    m = _FRONT_MATTER.match(text)
    return m.end() if m else 0


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def mask_markdown(text: str, hide: Sequence[tuple[int, int]] = ()) -> str:
    """The same text, offsets unchanged, with what is markup rather than content blanked:
    front matter, blockquote markers (so a quoted list reads as a list), lines that are one
    HTML tag, task-list boxes, Obsidian ``%%comments%%``, and the ``hide`` spans."""
    end = front_matter_end(text)
    if end:
        text = _blank(text, 0, end)
    for start, stop in hide:
        text = _blank(text, start, stop)
    out, fenced = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            line = _QUOTE_MARKERS.sub(lambda m: " " * len(m.group()), line)
            if _TAG_LINE.match(line):
                line = " " * len(line)
            line = _TASK_BOX.sub(lambda m: m.group(1) + "   ", line)
            line = _OBSIDIAN_COMMENT.sub(lambda m: " " * len(m.group()), line)
        out.append(line)
    return "\n".join(out)


def parse_document(doc: Document, hide: Sequence[tuple[int, int]] = ()) -> ParsedDocument:
    """Parse a document into sections, blocks and sentences (see the module docstring).

    Markdown is parsed with its markup blanked out (``mask_markdown``; ``hide`` adds spans
    to blank, such as Notion's property lines): offsets still point into ``doc.text``.
    """
    markdown = doc.format == "markdown"
    source = replace(doc, text=mask_markdown(doc.text, hide)) if markdown else doc
    lines = _split_lines(source.text)
    b = _Builder(source)
    i, blank_run = 0, 0
    while i < len(lines):
        line = lines[i]
        if not line.stripped:
            blank_run += 1
            i += 1
            continue
        if _FENCE.match(line.raw):
            i = _code_fence(b, lines, i)
            blank_run = 0
            continue
        run_end = i
        while (
            run_end < len(lines)
            and lines[run_end].stripped
            and not _FENCE.match(lines[run_end].raw)
        ):
            run_end += 1
        run = lines[i:run_end]
        # Two blank lines in plain text may stand for a lost heading; Markdown writes its
        # headings (a Notion callout or an HTML block leaves blank lines behind).
        lost = blank_run >= 2 and not markdown and b.open_has_content
        if lost and not _is_heading_run(run, markdown):
            b.untitled_section(line.start)
        _run(b, run, markdown)
        blank_run = 0
        i = run_end
    b.close_section(len(doc.text))
    blocks = link_lists(b.blocks)
    sentences = tuple(s for block in blocks for s in split_sentences(source.text, block))
    return ParsedDocument(doc, tuple(b.sections), tuple(blocks), sentences)


def _split_lines(text: str) -> list[_Line]:
    lines, pos = [], 0
    for raw in text.split("\n"):
        lines.append(_Line(pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return lines


def _code_fence(b: _Builder, lines: list[_Line], i: int) -> int:
    opener = _FENCE.match(lines[i].raw)
    assert opener
    j = i + 1
    while j < len(lines) and not lines[j].raw.strip().startswith(opener.group(1)):
        j += 1
    if j > i + 1:
        b.add(BlockKind.CODE, lines[i + 1].start, lines[j - 1].end)
    return j + 1


def _is_heading_run(run: list[_Line], markdown: bool) -> bool:
    first = run[0].raw
    if _MD_HEADING.match(first) or (markdown and _MD_BOLD_LINE.match(first)):
        return True
    return not markdown and len(run) == 1 and looks_like_heading(run[0].stripped)


def looks_like_heading(s: str) -> bool:
    """Whether a bare line of plain-text notes reads as a heading rather than a sentence."""
    words = s.split()
    if not words or len(words) > 12 or len(s) > 90:
        return False
    if s[-1] in ".,;:!" or s.startswith(("[", "(", ">", "$")) or BULLET.match(s):
        return False
    if s[-1] == "?" and len(words) > 8:
        return False
    if not (s[0].isupper() or s[0].isdigit()):
        return False
    titled = bool(re.match(r"[A-Z][\w&/+]*(?: [A-Z0-9][\w&/+]*){0,3} [-–—] \S", s))
    if words[-1].lower().strip("?") in _TRAILING_FUNCTION_WORDS and not titled:
        return False  # but "Transit Gateway - what it is" is a heading
    if len(words) > 6 and ":" not in s and not titled:
        alpha = [w for w in words if w[0].isalpha()]
        capitalised = sum(w[0].isupper() for w in alpha)
        return bool(alpha) and capitalised / len(alpha) >= 0.5
    return True


def _reads_as_prose(s: str) -> bool:
    """Whether a line is a sentence of running text (see _PROSE_OPENERS): "ECR replicates
    images to ..." is, "Cold HDD Lowest cost HDD ... 250" is not."""
    words = s.split()
    if len(words) < 6 or s[-1] not in ".!?":
        return False
    if words[0].lower() in _PROSE_OPENERS or any(w.lower() in _PROSE_VERBS for w in words[1:3]):
        return True
    second = words[1]
    return second.islower() and second.endswith("s") and not second.endswith("ss")


def _prose_follows(run: list[_Line], i: int) -> bool:
    """Whether the lines after line ``i`` are running text rather than the rows of a table
    flattened under it: the first one, or at least half of them, read as prose."""
    rows = []
    for line in run[i + 1 :]:
        if BULLET.match(line.raw) or NUMBERED.match(line.raw):
            break
        rows.append(_reads_as_prose(line.stripped))
    return bool(rows) and (rows[0] or 2 * sum(rows) >= len(rows))


_KEY_VALUE = re.compile(r"[A-Z][\w /&()-]{0,40}:\s+\S")  # "Price: $0.11 per MCU-hour"
# "default = 24 hours", "max record size: 1 MB": a line that sets one key to one value
_ASSIGNMENT = re.compile(r"[A-Za-z][\w ./()&+'-]{0,40}?\s*(?:=|:|->|=>)\s+\S")
_COLUMN_GAP = re.compile(r"\S(?: {2,}|\t+)\S")


def _spaced_table_at(run: list[_Line], i: int) -> bool:
    """A table pasted with its columns apart by two or more spaces: a header, then a row."""
    if i + 1 >= len(run) or not _COLUMN_GAP.search(run[i + 1].stripped):
        return False
    header = run[i].stripped
    columns = re.split(r"(?: {2,}|\t+)", header)
    return (
        len(columns) >= 2
        and len(header) <= 120
        and header[-1] not in ".,;:!?"
        and all(c[:1].isalpha() for c in columns)  # "Bundle  vCPUs  Memory  Price"
    )


def _looks_like_table_header(s: str) -> bool:
    words = s.split()
    if not 2 <= len(words) <= 14 or len(s) > 100 or s[-1] in ".,;:!?":
        return False
    alpha = [w for w in words if w[0].isalpha()]
    return len(alpha) >= 2 and all(w[0].isupper() for w in alpha)


def _run(b: _Builder, run: list[_Line], markdown: bool) -> None:
    """Turn a run of consecutive non-blank lines into headings and blocks."""
    first = run[0]
    if not markdown and _PROMPT.match(first.raw):
        b.add(BlockKind.CODE, first.start, run[-1].end)
        return
    if not markdown and len(run) == 1 and looks_like_heading(first.stripped):
        b.heading(first.stripped, 1, first.start, first.end, markdown=False)
        return
    if not markdown and _outline(run):
        # An indented outline: the title, then one item per line, nested by indentation,
        # with or without a bullet ("SKUs" > "Basic" > "- max 300 backend instances").
        b.heading(first.stripped, 1, first.start, first.end, markdown=False)
        for line in run[1:]:
            marker = list_marker(line.raw)
            start = line.start + (marker.start if marker else line.indent)
            b.add(BlockKind.BULLET, start, line.end, depth=line.indent)
        return
    i = 0
    while i < len(run):
        line = run[i]
        if _underlined(run, i):
            # "Kinesis Data Streams (KDS)" over "=====", "shard limits" over "-----"
            level = 1 if run[i + 1].stripped.startswith("=") else 2
            b.heading(line.stripped, level, line.start, line.end, markdown=True)
            i += 2
            continue
        heading = _MD_HEADING.match(line.raw)
        bold = _MD_BOLD_LINE.match(line.raw) if markdown else None
        callout = _CALLOUT.match(line.raw) if markdown else None
        if callout:
            # The callout's title, if it has one, is a paragraph of its own; its body follows.
            if line.raw[callout.end() :].strip():
                b.add(BlockKind.PARAGRAPH, line.start + callout.end(), line.end)
            i += 1
        elif heading or bold:
            title = heading.group(2) if heading else bold.group(1)  # type: ignore[union-attr]
            level = len(heading.group(1)) if heading else 6
            b.heading(title, level, line.start, line.end, markdown=True)
            i += 1
        elif "|" in line.raw and i + 1 < len(run) and _PIPE_SEP.match(run[i + 1].raw):
            i = _pipe_table(b, run, i)
        elif not markdown and _PROMPT.match(line.raw):
            j = i + 1
            while j < len(run) and not (BULLET.match(run[j].raw) or NUMBERED.match(run[j].raw)):
                j += 1
            b.add(BlockKind.CODE, line.start, run[j - 1].end)
            i = j
        elif BULLET.match(line.raw) or NUMBERED.match(line.raw) or _answer_list(run, i):
            i = _list_item(b, run, i, markdown)
        elif (
            not markdown
            and i + 1 < len(run)
            and looks_like_heading(line.stripped)
            and (
                _prose_follows(run, i)
                or _spaced_table_at(run, i + 1)
                or (i == 0 and bool(BULLET.match(run[1].raw) or _KEY_VALUE.match(run[1].stripped)))
            )
        ):
            # A heading with its text right under it, no blank line: "AWS Fargate" then
            # "Fargate is a serverless compute engine ...", or then bullets or a table.
            b.heading(line.stripped, 1, line.start, line.end, markdown=False)
            i += 1
        elif (
            not markdown
            and i + 2 < len(run)
            and _looks_like_table_header(line.stripped)
            and not any(BULLET.match(x.raw) for x in run[i + 1 : i + 3])
            and not _spaced_table_at(run, i + 1)
        ) or (not markdown and _spaced_table_at(run, i)):
            i = _flat_table(b, run, i)
        else:
            i = _paragraph(b, run, i, markdown)


def _underlined(run: list[_Line], i: int) -> bool:
    """A title over a line of "=" or "-" as long as itself, near enough: a heading in
    Markdown's setext style, which plain-text notes use too."""
    if i + 1 >= len(run) or not _UNDERLINE.match(run[i + 1].raw):
        return False
    title = run[i].stripped
    return (
        0 < len(title) <= 80
        and not BULLET.match(run[i].raw)
        and "|" not in title
        and len(run[i + 1].stripped) >= len(title) / 2
    )


def _outline(run: list[_Line]) -> bool:
    """A title line over lines all indented, at two depths or more, some without a bullet:
    notes kept as an indented outline."""
    rest = run[1:]
    if len(rest) < 3 or run[0].indent or any(line.indent == 0 for line in rest):
        return False
    unmarked = [x for x in rest if not (BULLET.match(x.raw) or NUMBERED.match(x.raw))]
    return (
        len({x.indent for x in rest}) >= 2
        and len(unmarked) >= 2
        and looks_like_heading(run[0].stripped)
    )


def _answer_list(run: list[_Line], i: int) -> bool:
    """ "A: - OpenWire (JMS)" over more items: a list that starts on its label's line."""
    return bool(
        _LABELLED_BULLET.match(run[i].raw) and i + 1 < len(run) and BULLET.match(run[i + 1].raw)
    )


def _list_item(b: _Builder, run: list[_Line], i: int, markdown: bool = True) -> int:
    line = run[i]
    marker = list_marker(line.raw)
    if marker is None:
        labelled = _LABELLED_BULLET.match(line.raw)
        assert labelled
        marker = Marker(BlockKind.BULLET, labelled.start(2))
    content = line.raw[marker.start :]
    j = i + 1
    # Continuation lines: indented deeper, or text that cannot start an item of its own.
    while j < len(run):
        nxt = run[j]
        if BULLET.match(nxt.raw) or NUMBERED.match(nxt.raw) or "|" in nxt.raw:
            break
        if _PROMPT.match(nxt.raw):
            break
        if _MD_HEADING.match(nxt.raw) or _CALLOUT.match(nxt.raw):
            break
        if nxt.indent <= line.indent and nxt.stripped[0].isupper():
            break
        if (
            not markdown
            and nxt.indent <= line.indent
            and _ASSIGNMENT.match(content.strip())
            and _ASSIGNMENT.match(nxt.stripped)
        ):
            break  # "3) partitioning: ..." then "compression for S3: GZIP, ZIP": a fact each
        j += 1
    if content.strip() or j > i + 1:
        b.add(marker.kind, line.start + marker.start, run[j - 1].end, depth=line.indent)
    return j


def _paragraph(b: _Builder, run: list[_Line], i: int, markdown: bool) -> int:
    j = i + 1
    while j < len(run):
        nxt = run[j]
        if BULLET.match(nxt.raw) or NUMBERED.match(nxt.raw) or _MD_HEADING.match(nxt.raw):
            break
        if _answer_list(run, j):
            break
        if markdown and _CALLOUT.match(nxt.raw):
            break
        if "|" in nxt.raw and j + 1 < len(run) and _PIPE_SEP.match(run[j + 1].raw):
            break
        if (
            not markdown
            and j + 2 < len(run)
            and run[j - 1].stripped.endswith(":")
            and _looks_like_table_header(nxt.stripped)
        ):
            break
        if not markdown and _spaced_table_at(run, j):
            break  # "Quota table (copied from console)" then the table
        if (
            not markdown
            and _ASSIGNMENT.match(nxt.stripped)
            and any(_ASSIGNMENT.match(run[k].stripped) for k in (i, j - 1))
        ):
            # "extended = up to 7 days" then "long term = up to 365 days": two facts, even
            # with a remark in parentheses between them
            break
        if (
            not markdown
            and run[j - 1].stripped.endswith((".", "!", "?"))
            and looks_like_heading(nxt.stripped)
            and _prose_follows(run, j)
        ):
            break  # the next heading, with no blank line before it
        j += 1
    start = run[i].start + (2 if markdown and run[i].raw.startswith("> ") else 0)
    b.add(BlockKind.PARAGRAPH, start, run[j - 1].end)
    return j


def _flat_table(b: _Builder, run: list[_Line], i: int) -> int:
    columns = _spaced_cells(run[i])
    header = b.add(BlockKind.TABLE_HEADER, run[i].start, run[i].end, cells=columns)
    j = i + 1
    while j < len(run) and not (BULLET.match(run[j].raw) or NUMBERED.match(run[j].raw)):
        cells = _spaced_cells(run[j]) if columns else ()
        aligned = len(cells) == len(columns)  # cells apart by two or more spaces, as the header
        b.add(
            BlockKind.TABLE_ROW,
            run[j].start,
            run[j].end,
            table=header,
            cells=cells if aligned else (),
        )
        j += 1
    return j


def _spaced_cells(line: _Line) -> tuple[Cell, ...]:
    """The cells of a line whose columns are two or more spaces apart ("Idle timeout  30
    minutes  8 hours"); none for a line with single spaces only."""
    if not _COLUMN_GAP.search(line.raw):
        return ()
    return tuple(
        Cell(m.group(), line.start + m.start(), line.start + m.end())
        for m in re.finditer(r"\S+(?: \S+)*", line.raw)
    )


def _pipe_cells(line: _Line) -> tuple[Cell, ...]:
    raw = line.raw
    cells = []
    links = [m.span() for m in _WIKILINK.finditer(raw)]  # "[[AWS Shield|Shield Advanced]]"
    bounds = [
        k
        for k, ch in enumerate(raw)
        if ch == "|" and (k == 0 or raw[k - 1] != "\\") and not any(s < k < e for s, e in links)
    ]
    if not bounds or raw[: bounds[0]].strip():
        bounds = [-1, *bounds]
    if raw[bounds[-1] + 1 :].strip():
        bounds.append(len(raw))
    for left, right in itertools.pairwise(bounds):
        seg = raw[left + 1 : right]
        lead = len(seg) - len(seg.lstrip())
        text = seg.strip()
        start = line.start + left + 1 + lead
        cells.append(Cell(text, start, start + len(text)))
    return tuple(cells)


def _pipe_table(b: _Builder, run: list[_Line], i: int) -> int:
    header = b.add(BlockKind.TABLE_HEADER, run[i].start, run[i].end, cells=_pipe_cells(run[i]))
    j = i + 2
    while j < len(run) and "|" in run[j].raw:
        if run[j].stripped.strip("|").strip():
            cells = _pipe_cells(run[j])
            b.add(BlockKind.TABLE_ROW, run[j].start, run[j].end, table=header, cells=cells)
        j += 1
    return j


def split_sentences(text: str, block: Block) -> list[Sentence]:
    """Sentences of one block, with document offsets. Table rows and code stay whole."""
    if block.kind is BlockKind.CODE:
        return []
    if block.kind in (BlockKind.TABLE_ROW, BlockKind.TABLE_HEADER):
        return [Sentence(block.start, block.end, block.text, block.index)]
    out: list[Sentence] = []
    start = block.start
    segment = text[block.start : block.end]
    for m in _SENTENCE_END.finditer(segment):
        end = block.start + m.end()
        word = re.search(r"(\S+)$", text[start : block.start + m.start()])
        token = word.group(1).lower().rstrip(".") if word else ""
        if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token):
            continue
        _append_sentence(out, text, start, end, block.index)
        start = end
    _append_sentence(out, text, start, block.end, block.index)
    return out


def _append_sentence(out: list[Sentence], text: str, start: int, end: int, block: int) -> None:
    start, end = _trim_span(text, start, end)
    if end > start:
        out.append(Sentence(start, end, text[start:end], block))


def _trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_WIKILINK = re.compile(r"(!?)\[\[([^\[\]|#]*)(#[^\[\]|]*)?(?:\\?\|([^\[\]]*))?\]\]")
_INLINE_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def _wikilink_text(m: re.Match[str]) -> str:
    """What Obsidian shows for a wikilink, in place: "[[Page|alias]]" -> the alias,
    "[[Page#Heading]]" -> the page, an embed "![[image.png]]" -> nothing."""
    if m.group(1):
        return " " * len(m.group())
    start, end = m.span(4) if m.group(4) is not None and m.group(4).strip() else m.span(2)
    base = m.start()
    return " " * (start - base) + m.group()[start - base : end - base] + " " * (m.end() - end)


def clean_text(text: str) -> str:
    """The same string with Markdown markup blanked out, so offsets still line up."""
    text = _WIKILINK.sub(_wikilink_text, text)
    text = _LINK.sub(
        lambda m: " " + m.group(1) + " " * (len(m.group(0)) - len(m.group(1)) - 1), text
    )
    return _INLINE_MARKUP.sub(lambda m: " " * len(m.group(0)), text)


def _clean_inline(text: str) -> str:
    return " ".join(clean_text(text).split())
