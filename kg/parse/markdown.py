"""Markdown dialects -> a parsed document with the metadata the file states about itself.

``Document.text`` is the file itself. Obsidian and static-site front matter (YAML between
``---`` lines at the top) gives ``title``, ``tags``, ``aliases``, ``provider`` and any other
plain key; Notion's page properties (the ``Key: value`` lines under the title of an
exported page, whose file name ends in a 32-digit page id) give the same. Both are blanked
out of the parse, so they never read as notes. Wikilinks, callouts, quoted lists and task
boxes are handled by the Markdown parser itself (``kg.parse.notes``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from kg.model import Document
from kg.parse.notes import ParseError, Reading, decode_text, front_matter_end, parse_document

# Names people write for a provider -> the ontology's provider ids (id:provider/...).
_PROVIDERS = {
    "aws": "aws",
    "amazon": "aws",
    "amazon web services": "aws",
    "azure": "azure",
    "microsoft azure": "azure",
    "microsoft": "azure",
    "gcp": "google-cloud",
    "google": "google-cloud",
    "google cloud": "google-cloud",
    "google cloud platform": "google-cloud",
    "google-cloud": "google-cloud",
}
_NOTION_PAGE = re.compile(r"\s[0-9a-f]{32}$")
_PROPERTY = re.compile(r"^([A-Z][\w ()/&.-]{0,40}):[ \t]+(\S.*)$")


def provider_id(name: str) -> str:
    """A provider as the ontology names it: "AWS" -> "aws", "GCP" -> "google-cloud"; other
    names lower-cased with dashes for spaces."""
    key = " ".join(name.lower().replace("_", " ").split())
    return _PROVIDERS.get(key, key.replace(" ", "-"))


def metadata_value(value: object) -> str | None:
    """A front-matter value as text: lists joined by ", ", dates in ISO 8601, None dropped."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list | tuple):
        items = [metadata_value(v) for v in value]
        return ", ".join(i for i in items if i) or None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text or None


def normalise_metadata(raw: Mapping[str, object]) -> dict[str, str]:
    """Keys lower-cased; ``tags`` without their ``#``; ``provider`` as an ontology id."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        text = metadata_value(value)
        if text is None:
            continue
        name = str(key).strip().lower()
        if name in ("tags", "tag"):
            name, text = "tags", ", ".join(t.strip().lstrip("#") for t in text.split(","))
        if name in ("provider", "cloud"):
            name, text = "provider", provider_id(text)
        out.setdefault(name, text)
    return out


def read_markdown(path: Path, doc_id: str) -> Reading:
    text = decode_text(path.read_bytes(), path)
    notices: list[str] = []
    meta: dict[str, str] = {}
    end = front_matter_end(text)
    if end:
        block = text[:end].strip().strip("-").strip(".")
        try:
            loaded = yaml.safe_load(block)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            notices.append(f"{path}: front matter is not valid YAML{where}; its keys are ignored")
            loaded = None
        if isinstance(loaded, dict):
            meta.update(normalise_metadata(loaded))
    hide: list[tuple[int, int]] = []
    if _NOTION_PAGE.search(path.stem):
        props, span = notion_properties(text)
        if span:
            hide.append(span)
            for key, value in normalise_metadata(props).items():
                meta.setdefault(key, value)
    if not text[end:].strip():
        raise ParseError(f"{path}: empty file (front matter only)")
    doc = Document(doc_id, str(path), text, "markdown", meta)
    return Reading(parse_document(doc, hide), tuple(notices))


def notion_properties(text: str) -> tuple[dict[str, str], tuple[int, int] | None]:
    """The title and the property lines right under it on a Notion page ("Created: ...",
    "Tags: a, b"), and the span of those lines; nothing when the page has no properties."""
    m = re.match(r"\A\s*# ([^\n]*)\n\n", text)
    if not m:
        return {}, None
    props: dict[str, str] = {"title": m.group(1).strip()}
    pos = m.end()
    for line in text[pos:].split("\n"):
        p = _PROPERTY.match(line)
        if not p:
            break
        props[p.group(1)] = p.group(2).strip()
        pos += len(line) + 1
    if len(props) < 2 or (pos < len(text) and text[pos - 1 : pos + 1].strip()):
        return {}, None  # properties end with a blank line, or they are not properties
    return props, (m.end(), pos)
