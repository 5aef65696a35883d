"""A small picture of an entity's neighbourhood in the graph, as inline SVG: the entity in the
middle, each neighbour on an ellipse around it, every edge labelled with its relation and every
neighbour a link to its own page. Drawn on the server: no script, no library, nothing fetched."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 430
MAX_NEIGHBOURS = 14
LABEL_CHARS = 24  # longer names are shortened (the full name is the node's tooltip)
CHAR_WIDTH = 6.8  # px per character at the node font size, for the box widths

# Fill and border by kind, in the pages' palette.
COLOURS = {
    "service": ("#e8efff", "#2457c5"),
    "feature": ("#e9f7ef", "#1f7a4a"),
    "category": ("#fff4e0", "#a35b00"),
    "limit": ("#f3ecfb", "#6b3fa0"),
    "provider": ("#fdecef", "#a2283f"),
    "other": ("#f1f3f6", "#5b6577"),
}


@dataclass(frozen=True)
class Node:
    label: str
    href: str | None = None
    kind: str = "other"


@dataclass(frozen=True)
class Edge:
    relation: str
    node: Node
    incoming: bool = False  # the neighbour points at the entity


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _box(x: float, y: float, node: Node, centre: bool = False) -> str:
    text = node.label if centre and len(node.label) <= 2 * LABEL_CHARS else _short(node.label)
    w = max(48.0, len(text) * CHAR_WIDTH + 20)
    h = 30.0 if centre else 26.0
    fill, stroke = COLOURS.get(node.kind, COLOURS["other"])
    box = (
        f'<g class="node {escape(node.kind)}"><title>{escape(node.label)}</title>'
        f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{2 if centre else 1.2}"/>'
        f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" '
        f'font-weight="{600 if centre else 400}">{escape(text)}</text></g>'
    )
    if node.href and not centre:
        return f'<a href="{escape(node.href)}">{box}</a>'
    return box


def neighbourhood_svg(centre: Node, edges: Sequence[Edge]) -> Markup:
    """The picture, or an empty string when the entity has no neighbours."""
    if not edges:
        return Markup("")
    shown = list(edges[:MAX_NEIGHBOURS])
    more = len(edges) - len(shown)
    if more:
        shown.append(Edge("", Node(f"+ {more} more")))
    height = HEIGHT if len(shown) > 4 else HEIGHT * 0.6  # a few neighbours need less room
    cx, cy = WIDTH / 2, height / 2
    rx, ry = WIDTH / 2 - 110, height / 2 - 40
    lines: list[str] = []
    boxes: list[str] = []
    for i, edge in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / len(shown)
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        if edge.relation:
            # the arrow ends short of the box it points at
            (x0, y0), (x1, y1) = ((x, y), (cx, cy)) if edge.incoming else ((cx, cy), (x, y))
            f0, f1 = 0.12 if not edge.incoming else 0.16, 0.84 if not edge.incoming else 0.88
            lines.append(
                f'<line x1="{x0 + (x1 - x0) * f0:.1f}" y1="{y0 + (y1 - y0) * f0:.1f}" '
                f'x2="{x0 + (x1 - x0) * f1:.1f}" y2="{y0 + (y1 - y0) * f1:.1f}" '
                'marker-end="url(#arrow)"/>'
            )
            mx, my = cx + (x - cx) * 0.5, cy + (y - cy) * 0.5
            lines.append(
                f'<text class="rel" x="{mx:.1f}" y="{my - 3:.1f}" text-anchor="middle">'
                f"{escape(edge.relation)}</text>"
            )
        boxes.append(_box(x, y, edge.node))
    boxes.append(_box(cx, cy, centre, centre=True))
    return Markup(
        f'<svg class="neighbourhood" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-label="{escape(centre.label)} and its neighbours in the graph" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#8a94a6"/></marker></defs>'
        '<g class="edges" stroke="#8a94a6" stroke-width="1.2">' + "".join(lines) + "</g>"
        '<g class="nodes">' + "".join(boxes) + "</g></svg>"
    )
