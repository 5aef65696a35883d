"""HTML (web clippers, OneNote and Evernote exports) -> headings, paragraphs, lists, tables.

Parsed with Beautiful Soup over lxml. Scripts, styles, forms, navigation (``<nav>``,
``<footer>``, ARIA navigation/banner/contentinfo/search roles) and hidden elements are
dropped. ``Document.text`` is the readable text written out as Markdown (``kg.parse.layout``);
each block's ``locator`` is the XPath of the element it came from
(``/html/body/div[2]/ul/li[3]``), so a citation can name the place in the page.

Pages exported without heading elements, as OneNote writes them, get their headings from
the presentation: a short line set larger than the body text is a heading, the largest
size the top level; a short line that is all bold, at body size, is the level below. A page
with neither is one section under its ``<title>``, and the build summary says so.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import Declaration, Doctype, ProcessingInstruction

from kg.parse.layout import Layout, TableCell, squash
from kg.parse.notes import ParseError, Reading

_DROP = frozenset(
    "script style noscript template nav footer svg iframe form button select textarea "
    "canvas object embed map head title meta link audio video".split()
)
_DROP_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCK = frozenset(
    "p div section article main body html blockquote figure figcaption address center dd dt "
    "dl details summary header aside en-note hgroup fieldset legend caption".split()
)
_FONT_SIZE = re.compile(r"font-size\s*:\s*([\d.]+)\s*(pt|px|em|rem)?", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def read_html(path: Path, doc_id: str) -> Reading:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(f"{path}: binary file, not HTML")
    soup = BeautifulSoup(raw, "lxml")
    meta: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = squash(soup.title.get_text())
    keywords = soup.find("meta", attrs={"name": re.compile("^keywords$", re.I)})
    if isinstance(keywords, Tag) and keywords.get("content"):
        meta["tags"] = squash(str(keywords["content"]))
    root = soup.body or soup
    for tag in root.find_all(_dropped):
        tag.decompose()
    if not root.get_text(strip=True):
        raise ParseError(f"{path}: empty page (no text in the HTML body)")
    layout = Layout(doc_id, str(path), "html", meta)
    walker = _Walker(layout, _heading_levels(root))
    notices = []
    if not walker.levels:
        if meta.get("title"):
            layout.heading(meta["title"], 1)
            how = "one section under its <title>"
        else:
            how = "one untitled section"
        notices.append(f"{path}: no headings in the page; read as {how}")
    walker.walk(root)
    walker.flush()
    if not layout.blocks:
        raise ParseError(f"{path}: empty page (no text in the HTML body)")
    return Reading(layout.finish(), tuple(notices))


def _dropped(tag: Tag) -> bool:
    if tag.name in _DROP:
        return True
    role = str(tag.get("role") or "").lower()
    hidden = tag.has_attr("hidden") or str(tag.get("aria-hidden") or "").lower() == "true"
    return role in _DROP_ROLES or hidden or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))


def xpath(tag: Tag, cache: dict[int, dict[int, str]] | None = None) -> str:
    """The element's XPath from the root: an index only where same-named siblings exist.
    ``cache`` keeps each parent's steps, so a page with many siblings costs linear time."""
    cache = {} if cache is None else cache
    steps = []
    node: Tag | None = tag
    while node is not None and node.name != "[document]":
        parent = node.parent
        if parent is None:
            steps.append(node.name)
            break
        if id(parent) not in cache:
            children = [c for c in parent.children if isinstance(c, Tag)]
            totals = Counter(c.name for c in children)
            seen: Counter[str] = Counter()
            named = {}
            for c in children:
                seen[c.name] += 1
                named[id(c)] = f"{c.name}[{seen[c.name]}]" if totals[c.name] > 1 else c.name
            cache[id(parent)] = named
        steps.append(cache[id(parent)][id(node)])
        node = parent
    return "/" + "/".join(reversed(steps))


# --- headings from presentation ------------------------------------------------------------


def _heading_levels(root: Tag) -> dict[int, int]:
    """Heading level by element id: the h1..h6 elements when the page has any, otherwise
    short lines set large or bold (see the module docstring)."""
    marked = root.find_all(list(_HEADINGS))
    if marked:
        return {id(h): _HEADINGS[h.name] for h in marked}
    lines = [t for t in root.find_all(["p", "div"]) if _is_line(t)]
    sizes = Counter[float]()
    for t in lines:
        size = _font_size(t)
        if size is not None:
            sizes[size] += len(t.get_text())
    body = sizes.most_common(1)[0][0] if sizes else None
    candidates: list[tuple[Tag, float | None, bool]] = []
    for t in lines:
        text = squash(t.get_text())
        if not text or len(text) > 100 or len(text.split()) > 12 or text[-1] in ".,;:!":
            continue
        if t.find_parent(["li", "td", "th", "table"]):
            continue
        size = _font_size(t)
        larger = size is not None and body is not None and size > body
        if larger or _all_bold(t):
            candidates.append((t, size if larger else None, larger))
    ranks = sorted({s for _, s, larger in candidates if larger and s is not None}, reverse=True)
    levels = {}
    for t, size, larger in candidates:
        levels[id(t)] = ranks.index(size) + 1 if larger and size is not None else len(ranks) + 1
    return levels


def _is_line(tag: Tag) -> bool:
    """A p or div with text and no block inside it."""
    return not tag.find(["p", "div", "ul", "ol", "table", "li", *_HEADINGS]) and bool(
        tag.get_text(strip=True)
    )


def _font_size(tag: Tag) -> float | None:
    """The font size (in points) set on the element or on an element wrapping all its text."""
    node: Tag | None = tag
    while node is not None:
        m = _FONT_SIZE.search(str(node.get("style") or ""))
        if m:
            value, unit = float(m.group(1)), (m.group(2) or "px").lower()
            return value * 0.75 if unit == "px" else value * 12 if unit in ("em", "rem") else value
        children = [c for c in node.children if not (isinstance(c, str) and not c.strip())]
        node = children[0] if len(children) == 1 and isinstance(children[0], Tag) else None
    return None


def _all_bold(tag: Tag) -> bool:
    texts = [s for s in tag.find_all(string=True) if s.strip()]
    return bool(texts) and all(_in_bold(s, tag) for s in texts)


def _in_bold(text: NavigableString, top: Tag) -> bool:
    node = text.parent
    while node is not None:
        if node.name in ("b", "strong") or _BOLD_STYLE.search(str(node.get("style") or "")):
            return True
        if node is top:
            return False
        node = node.parent
    return False


# --- the walk ------------------------------------------------------------------------------


class _Walker:
    def __init__(self, layout: Layout, levels: dict[int, int]) -> None:
        self.layout = layout
        self.levels = levels
        self.buffer: list[str] = []
        self.where: Tag | None = None  # the block the buffered text belongs to
        self.container: Tag | None = None  # the innermost block element being walked
        self.paths: dict[int, dict[int, str]] = {}  # xpath steps, by parent

    def xpath(self, tag: Tag) -> str:
        return xpath(tag, self.paths)

    def flush(self) -> None:
        text = "".join(self.buffer)
        if text.strip():
            self.layout.paragraph(text, self.xpath(self.where) if self.where else None)
        self.buffer, self.where = [], None

    def walk(self, node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype | Declaration | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                if child.strip() and self.where is None:
                    self.where = self.container or node
                self.buffer.append(str(child))
            elif isinstance(child, Tag):
                self.element(child)

    def element(self, tag: Tag) -> None:
        name = tag.name
        if id(tag) in self.levels:
            self.flush()
            self.layout.heading(tag.get_text(" "), self.levels[id(tag)])
        elif name in ("ul", "ol"):
            self.flush()
            self.list(tag, 0)
        elif name == "table":
            self.flush()
            self.table(tag)
        elif name == "pre":
            self.flush()
            self.layout.code(tag.get_text(), self.xpath(tag))
        elif name == "br":
            self.buffer.append("\n")
        elif name == "hr":
            self.flush()
        elif name == "img":
            pass
        elif name in _BLOCK or name == "li":
            self.flush()
            outer, self.container = self.container, tag
            self.walk(tag)
            self.flush()
            self.container = outer
        else:
            self.walk(tag)  # inline: its text joins the paragraph around it

    def list(self, tag: Tag, depth: int) -> None:
        numbered = tag.name == "ol"
        for li in tag.find_all("li", recursive=False) or tag.find_all("li"):
            if li.find_parent(["ul", "ol"]) is not tag:
                continue
            self.layout.item(
                _text(li, skip=("ul", "ol")), numbered=numbered, depth=depth, locator=self.xpath(li)
            )
            for sub in li.find_all(["ul", "ol"]):
                if sub.find_parent("li") is li:
                    self.list(sub, depth + 1)

    def table(self, tag: Tag) -> None:
        rows = [tr for tr in tag.find_all("tr") if tr.find_parent("table") is tag]
        grid = [[c for c in tr.find_all(["td", "th"]) if c.parent is tr] for tr in rows]
        width = max((sum(_span(c) for c in r) for r in grid), default=0)
        layout_table = width <= 1 or any(
            c.find(["table", "ul", "ol", *_HEADINGS]) for r in grid for c in r
        )
        if layout_table:  # a table used to lay the page out: read its cells as the page
            outer = self.container
            for row in grid:
                for cell in row:
                    self.container = cell
                    self.walk(cell)
                    self.flush()
            self.container = outer
            return
        kept: list[tuple[list[TableCell], str]] = []
        for tr, row in zip(rows, grid, strict=True):
            cells = []
            for c in row:
                cells.append(TableCell(_text(c)))
                cells += [TableCell("")] * (_span(c) - 1)
            if any(c.text.strip() for c in cells):
                kept.append((cells, self.xpath(tr)))
        if kept:
            self.layout.table(kept[0][0], [r for r, _ in kept[1:]], [p for _, p in kept])


def _span(cell: Tag) -> int:
    try:
        return max(1, int(str(cell.get("colspan") or 1)))
    except ValueError:
        return 1


def _text(tag: Tag, skip: tuple[str, ...] = ()) -> str:
    """The text of an element, blocks and ``<br>`` apart by newlines, ``skip`` elements out."""
    parts: list[str] = []

    def visit(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype | Declaration | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag) and child.name not in skip:
                if child.name == "br":
                    parts.append("\n")
                elif child.name in _BLOCK or child.name in ("li", "tr", *_HEADINGS):
                    parts.append("\n")
                    visit(child)
                    parts.append("\n")
                else:
                    visit(child)

    visit(tag)
    return "".join(parts)
