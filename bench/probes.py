"""The blind probes: notes written from a topic and a style alone, never from the code.

Each half (``tuning``, ``holdout``) is built together with the bundled notes, as a user
would drop new notes next to them, and every question of the half is asked in-process.
Reported per file, per style and overall, with the graph's correctness: the services the
notes describe that became services of their provider, and facts pinned on a service of a
provider other than the note's.

    python -m bench.probes --half tuning            # build (cached) and score
    python -m bench.probes --half holdout --json out.json
    python -m bench.probes --half tuning --verbose  # every failure

Only the tuning half's failures are looked at when changing the code; the holdout half is
reported, never fixed by name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.scoring import load_questions, score_one, summary
from kg import vocab
from kg.build import build
from kg.serve.runtime import Runtime
from kg.settings import DEFAULT_CORPUS, Settings
from kg.text.words import norm_key

PROBES = ROOT / "bench" / "probes"
MANIFEST = json.loads((PROBES / "manifest.json").read_text(encoding="utf-8"))
STATEMENTS = (
    vocab.sparql_prefixes(("ckg", "rdf", "rdfs", "skos", "prov"))
    + """
SELECT ?subject ?provider ?doc ?text WHERE {
  GRAPH ?g { ?subject ?p ?o }
  ?g ckg:document ?doc ; ckg:text ?text .
  ?subject a ckg:Service ; ckg:provider ?provider .
  FILTER(?p != rdf:type && ?p != rdfs:label && ?p != skos:altLabel)
}"""
)
SERVICES = (
    vocab.sparql_prefixes(("ckg", "rdfs", "skos", "prov"))
    + """
SELECT ?s ?name ?provider ?doc WHERE {
  ?s a ckg:Service ; prov:wasDerivedFrom ?passage .
  ?passage ckg:document ?doc .
  { ?s rdfs:label ?name } UNION { ?s skos:altLabel ?name }
  OPTIONAL { ?s ckg:provider ?provider }
}"""
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_SLUGS = {vocab.slug(name): name for name in MANIFEST["files"]}


def note_of(doc_iri: str) -> str | None:
    """The manifest entry a document (by its IRI) belongs to: a file, or a folder of pages."""
    local = doc_iri.rsplit("/", 1)[-1]
    return next((name for slug, name in _SLUGS.items() if local.startswith(slug)), None)


def build_half(half: str, data: Path, *, force: bool = False) -> None:
    settings = Settings(data=data)
    report = build(settings, [DEFAULT_CORPUS, PROBES / half / "notes"], force=force)
    log(
        f"built {half}: {report.documents} documents, {report.services} services, "
        f"{report.limits} limits in {report.seconds:.1f} s"
    )
    for warning in report.warnings:
        log(f"  warning: {warning}")


def graph_figures(runtime: Runtime, half: str) -> dict[str, Any]:
    """Services found per note, and facts pinned on another provider's service."""
    engine = runtime.engine()
    names: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for row in engine.store.select(SERVICES):
        note = note_of(row["doc"].value)
        if note is not None:
            provider = row["provider"].value.rsplit("/", 1)[-1] if row.get("provider") else None
            names[note].add((norm_key(row["name"].value), provider))
    found, expected, missing = 0, 0, []
    for note, meta in MANIFEST["files"].items():
        if meta["half"] != half:
            continue
        for service in meta["services"]:
            expected += 1
            key = norm_key(service)
            if any(
                (key == n or n.endswith(" " + key) or key.endswith(" " + n))
                and (p is None or p in meta["providers"])
                for n, p in names[note]
            ):
                found += 1
            else:
                missing.append(f"{note}: {service}")
    wrong: list[str] = []
    for row in engine.store.select(STATEMENTS):
        note = note_of(row["doc"].value)
        if note is None:
            continue
        providers = MANIFEST["files"][note]["providers"]
        provider = row["provider"].value.rsplit("/", 1)[-1]
        if provider in providers:
            continue
        label = engine.catalog.label(row["subject"].value)
        if norm_key(label) in norm_key(row["text"].value):
            continue  # the sentence names that service itself ("vs AWS SQS")
        wrong.append(f"{note}: {label}: {row['text'].value[:80]}")
    return {
        "services_found": [found, expected],
        "services_missing": missing,
        "facts_on_other_provider": len(wrong),
        "facts_on_other_provider_examples": sorted(set(wrong))[:20],
    }


def evaluate(half: str, data: Path, verbose: bool = False) -> dict[str, Any]:
    runtime = Runtime(Settings(data=data))
    engine = runtime.engine()
    per_file: dict[str, list[dict[str, Any]]] = {}
    failures: list[str] = []
    started = time.perf_counter()
    for path in sorted((PROBES / half / "questions").glob("*.jsonl")):
        results = []
        for q in load_questions([path]):
            answer = engine.ask(q["question"])
            res = json.loads(json.dumps(asdict(answer), default=str))
            r = score_one(q, res)
            results.append(r)
            if not r["pass"]:
                failures.append(
                    f"FAIL {q['id']} [{q['type']}] {q['question']}\n"
                    f"     route={res['route']} conf={res['confidence']} "
                    f"answer={res['answer'][:160]!r}"
                )
        per_file[path.stem] = results
    seconds = time.perf_counter() - started
    if verbose:
        print("\n".join(failures))
    styles: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stem, results in per_file.items():
        meta = next((m for n, m in MANIFEST["files"].items() if n.startswith(stem)), None)
        styles[meta["style"] if meta else "?"] += results
    everything = [r for rs in per_file.values() for r in rs]
    out = {
        "half": half,
        "overall": summary(everything),
        "files": {stem: summary(rs) for stem, rs in per_file.items()},
        "styles": {style: summary(rs) for style, rs in sorted(styles.items())},
        "graph": graph_figures(runtime, half),
        "seconds_per_question": seconds / max(1, len(everything)),
        "results": everything,
    }
    runtime.close()
    return out


def table(out: dict[str, Any]) -> str:
    lines = [f"## {out['half']}", "", "| file | score | fact | list | passage | none | confident |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")

    def cells(s: dict[str, Any]) -> str:
        types = " | ".join(
            "{}/{}".format(*s["types"].get(t, [0, 0])) for t in ("fact", "list", "passage", "none")
        )
        return (
            f"{s['accuracy']:.0%} ({s['passed']}/{s['questions']}) | {types} | "
            f"{s['confident'][0]}/{s['confident'][1]}"
        )

    for stem, s in out["files"].items():
        lines.append(f"| {stem} | {cells(s)} |")
    lines.append(f"| **all** | {cells(out['overall'])} |")
    lines += ["", "| style | score |", "|---|---:|"]
    for style, s in out["styles"].items():
        lines.append(f"| {style} | {s['accuracy']:.0%} ({s['passed']}/{s['questions']}) |")
    g = out["graph"]
    lines += [
        "",
        f"services found: {g['services_found'][0]}/{g['services_found'][1]}; "
        f"facts on another provider's service: {g['facts_on_other_provider']}; "
        f"grounded: {out['overall']['grounded']:.0%}",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--half", choices=("tuning", "holdout"), required=True)
    ap.add_argument("--data", type=Path, help="data folder (default data/probes-HALF)")
    ap.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    ap.add_argument("--verbose", action="store_true", help="print every failure")
    ap.add_argument("--json", type=Path, help="write the full results here")
    args = ap.parse_args()
    data = args.data or ROOT / "data" / f"probes-{args.half}"
    build_half(args.half, data, force=args.force)
    out = evaluate(args.half, data, verbose=args.verbose)
    print(table(out))
    if args.verbose and out["graph"]["services_missing"]:
        print("missing services:", "; ".join(out["graph"]["services_missing"]))
        print("\n".join(out["graph"]["facts_on_other_provider_examples"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
