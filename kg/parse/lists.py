"""What marks a line as a list item, which line introduces a list, which item a nested item
belongs to, which label a paragraph elaborates: the links between blocks that make a list
more than its lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kg.model import Block, BlockKind

BULLET_MARK = r"(?:[•·▪◦‣●○■□➢►]|[-*+](?=\s))"
BULLET = re.compile(rf"^(\s*){BULLET_MARK}\s*(.*)$")
NUMBERED = re.compile(r"^(\s*)(?:\d{1,3}|[a-zA-Z])[.)]\s+(.*)$")


@dataclass(frozen=True, slots=True)
class Marker:
    """A list item's marker: the item's kind and where its text starts, after the marker."""

    kind: BlockKind
    start: int


def list_marker(line: str) -> Marker | None:
    """The marker a line of notes opens with ("- ", "* ", "• ", "1. ", "b) "), if any."""
    if m := BULLET.match(line):
        return Marker(BlockKind.BULLET, m.start(2))
    if m := NUMBERED.match(line):
        return Marker(BlockKind.NUMBERED, m.start(2))
    return None


def link_lists(blocks: list[Block]) -> list[Block]:
    """Point list items and tables at the line that introduces them, paragraphs at their label.

    An item's intro is the block before the list when that block ends with ``:``
    ("Types of queues:"), or the item it is nested under; later items of the same list
    share it. A paragraph's lead is the short label item right before it
    ("• Simple Routing Policy"), kept by the paragraphs that follow it.
    """
    out: list[Block] = []
    items = (BlockKind.BULLET, BlockKind.NUMBERED)
    for block in blocks:
        prev = out[-1] if out and out[-1].section == block.section else None
        if block.kind is BlockKind.TABLE_ROW:
            header = out[block.table] if block.table is not None else None
            out.append(replace(block, intro=header.intro if header else None))
        elif block.kind in (*items, BlockKind.TABLE_HEADER):
            out.append(replace(block, intro=_intro_of(block, prev, out)))
        elif block.kind is BlockKind.PARAGRAPH and prev is not None:
            if prev.kind in items and _is_label(prev) and _stands_alone(prev, out):
                out.append(replace(block, lead=prev.index))
            elif prev.kind is BlockKind.PARAGRAPH:
                out.append(replace(block, lead=prev.lead))
            else:
                out.append(block)
        else:
            out.append(block)
    return out


def _stands_alone(item: Block, out: list[Block]) -> bool:
    """An item with no sibling right before it: a label over the paragraphs that follow."""
    before = out[item.index - 1] if item.index > 0 else None
    return before is None or before.section != item.section or before.kind is not item.kind


def _intro_of(block: Block, prev: Block | None, out: list[Block]) -> int | None:
    if prev is None:
        return None
    if prev.text.rstrip().endswith(":"):
        return prev.index
    if prev.kind is BlockKind.PARAGRAPH and prev.lead is not None:
        # "• Kinesis Streams:" text "• Kinesis Firehose:" text: one list, broken by paragraphs.
        label = out[prev.lead]
        return label.intro if label.kind is block.kind and label.depth == block.depth else None
    if prev.kind not in (BlockKind.BULLET, BlockKind.NUMBERED, BlockKind.TABLE_ROW):
        return None
    if block.kind is not BlockKind.TABLE_HEADER and prev.kind is not BlockKind.TABLE_ROW:
        if prev.depth < block.depth:
            return prev.index
        for earlier in reversed(out):
            if earlier.section != block.section or earlier.kind is BlockKind.PARAGRAPH:
                break
            if earlier.kind is block.kind and earlier.depth == block.depth:
                return earlier.intro
    return None


def _is_label(block: Block) -> bool:
    """A short list item that names what the following text describes."""
    text = block.text.strip()
    return len(text.split()) <= 8 and not text.endswith((".", ";", ","))
