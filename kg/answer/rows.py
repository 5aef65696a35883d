"""Typed views of the rows the answer templates return."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kg import vocab
from kg.answer.catalog import Catalog
from kg.answer.compose import amount
from kg.model import Fact, Source, Term
from kg.text.units import Dimension

UNIT_DIMENSION = {d.unit_iri: d for d in Dimension}
BOUND_NAMES = {"min": "minimum", "max": "maximum", "default": "default", "value": "value"}
BOUND_PREDICATES = {
    "min": "minValue",
    "max": "maxValue",
    "default": "defaultValue",
    "value": "value",
}
PREDICATE_LABELS = {
    "supports": "supports",
    "hasFeature": "has feature",
    "chargedBy": "charged by",
    "replicatesTo": "replicates to",
    "worksWith": "works with",
    "inCategory": "in category",
    "usedFor": "used for",
}

Span = tuple[str, int, int]  # (document, start, end)


def value(row: dict[str, Any], key: str) -> str | None:
    term = row.get(key)
    return term.value if term is not None else None


def source_of(row: dict[str, Any]) -> Source:
    return Source(
        document=value(row, "doc") or "",
        section=value(row, "section"),
        start=int(value(row, "start") or 0),
        end=int(value(row, "end") or 0),
        text=value(row, "text") or "",
    )


@dataclass(frozen=True)
class LimitRow:
    """A limit with its subject and its source passage (LIMITS and FEATURE_LIMITS rows)."""

    entity: str
    subject: str
    subject_label: str
    limit: str
    quantity: str
    bounds: dict[str, Decimal]
    dimension: Dimension | None
    unit: str
    per: str | None
    kind: str | None
    stated: str
    source: Source

    @classmethod
    def of(cls, row: dict[str, Any], catalog: Catalog) -> LimitRow:
        unit = row["unit"].value
        return cls(
            entity=row["entity"].value,
            subject=row["subject"].value,
            subject_label=catalog.label(row["subject"].value),
            limit=row["limit"].value,
            quantity=row["quantity"].value,
            bounds={
                k: Decimal(row[k].value) for k in ("min", "max", "default", "value") if k in row
            },
            dimension=UNIT_DIMENSION.get(unit),
            unit=unit,
            per=value(row, "per"),
            kind=value(row, "kind"),
            stated=row["stated"].value,
            source=source_of(row),
        )

    @property
    def span(self) -> Span:
        return (self.source.document, self.source.start, self.source.end)

    def first(self, *keys: str | None) -> Decimal | None:
        """The first of these bounds the limit states."""
        for key in keys:
            if key is not None and key in self.bounds:
                return self.bounds[key]
        return None

    def facts(self) -> list[Fact]:
        """One fact per stated bound: "message size (maximum) = 256 KB", with its source."""
        subject = Term(self.subject_label, self.subject)
        per = self.per if self.dimension is Dimension.USD else None
        out = []
        for key, v in self.bounds.items():
            shown = amount(v, self.dimension, per, self.stated) if self.dimension else str(v)
            out.append(
                Fact(
                    subject,
                    Term(
                        f"{self.quantity} ({BOUND_NAMES[key]})", vocab.CKG + BOUND_PREDICATES[key]
                    ),
                    Term(shown, self.limit, float(v), self.unit),
                    self.source,
                )
            )
        return out


@dataclass(frozen=True)
class RelatedRow:
    """An object an entity is related to (RELATED rows)."""

    entity: str
    predicate: str  # local name: "supports", "hasFeature" ...
    object: str
    label: str
    kind: str | None
    is_service: bool
    source: Source

    @classmethod
    def of(cls, row: dict[str, Any], catalog: Catalog) -> RelatedRow:
        """A row, with the object's kind and type taken from the catalog (cheaper than
        joining them in, and the same data)."""
        entry = catalog.entries.get(row["object"].value)
        return cls(
            entity=row["entity"].value,
            predicate=row["predicate"].value.rsplit("#", 1)[-1],
            object=row["object"].value,
            label=catalog.label(row["object"].value),
            kind=entry.feature_kind if entry is not None else None,
            is_service=entry is not None and entry.kind == "service",
            source=source_of(row),
        )

    @property
    def span(self) -> Span:
        return (self.source.document, self.source.start, self.source.end)

    def reading_order(self) -> tuple[str, int, int]:
        """Facts in the order the notes state them: by passage, then by place in it."""
        pos = self.source.text.lower().find(self.label.lower())
        return (self.source.document, self.source.start, pos if pos >= 0 else len(self.source.text))
