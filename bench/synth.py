"""Synthetic corpora N times the bundled notes, for measuring how costs grow.

Copy ``i`` of the notes renames every service it mentions to a made-up one (``AWS Zorvex7``,
with the heading that names it written as a product heading so the extractor discovers it)
and shifts every number, so each copy adds its own services, limits and passages: the graph
grows with the text, as it would with more real notes.

    python -m bench.synth --copies 10 --out /tmp/notes-10x
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from kg.lexicon import Lexicon
from kg.settings import DEFAULT_CORPUS

_SYLLABLES = "zor vex lin qua mor tel fen dra kil bru sen hal pix rom tav jun".split()


def fake_name(index: int, copy: int) -> str:
    """A pronounceable made-up product name, distinct per (service, copy)."""
    a = _SYLLABLES[index % len(_SYLLABLES)]
    b = _SYLLABLES[(index // len(_SYLLABLES) + copy) % len(_SYLLABLES)]
    return f"{a.capitalize()}{b}{copy}"


def rewrite(text: str, copy: int, lexicon: Lexicon) -> str:
    """One copy of a note with renamed services and shifted numbers."""
    matcher = lexicon.matcher(kinds=("service",))
    names: dict[str, str] = {}
    pieces: list[str] = []
    pos = 0
    for m in matcher.find(text):
        key = m.keys[0]
        if key not in names:
            names[key] = fake_name(len(names), copy)
        pieces.append(text[pos : m.start])
        line_start = text.rfind("\n", 0, m.start) + 1
        heading = m.start == line_start and text[m.end : m.end + 1] == ":"
        pieces.append(f"AWS {names[key]}" if heading else names[key])
        pos = m.end
    pieces.append(text[pos:])
    renamed = "".join(pieces)
    # Shift numbers that stand alone ("5 TB" -> "8 TB"), never digits inside names.
    return re.sub(
        r"(?<![\w.$,])(\d{1,6})(?![\w,.]\d)",
        lambda n: str(int(n.group(1)) + copy % 7),
        renamed,
    )


def make_corpus(copies: int, out: Path, source: Path = DEFAULT_CORPUS) -> list[Path]:
    """Write ``copies`` rewritten copies of every note under ``source`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    lexicon = Lexicon.load()
    written = []
    for note in sorted(source.glob("*")):
        if not note.is_file():
            continue
        text = note.read_text(encoding="utf-8")
        for i in range(copies):
            target = out / f"{note.stem}-{i:03d}{note.suffix}"
            target.write_text(text if i == 0 else rewrite(text, i, lexicon), encoding="utf-8")
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    files = make_corpus(args.copies, args.out)
    size = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} notes, {size / 1e6:.1f} MB, to {args.out}")


if __name__ == "__main__":
    main()
