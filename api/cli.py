"""The ``kg`` command: build, serve, ask, search, sparql, export, mcp.

A surface over the library, like the HTTP API beside it (``serve`` and ``mcp`` start those).

Settings come from ``KG_*`` environment variables; flags given here override them.
User mistakes (a missing file, a malformed query, an empty data folder) end with a one-line
message and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kg.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(
    name="kg",
    help="cloudkg: a knowledge graph and semantic search over cloud-architecture notes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DataOpt = Annotated[
    Path | None, typer.Option("--data", "-d", help="Data folder (default: $KG_DATA or ./data).")
]


def settings_from(**overrides: Any) -> Settings:
    """Environment settings with the flags the user gave on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def warn(message: str) -> None:
    typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)


@app.command()
def build(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Notes files or folders (Markdown, text, CSV/TSV, XLSX, HTML, DOCX; see "
            "--formats); default: the bundled corpus."
        ),
    ] = None,
    data: DataOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when nothing changed.")] = False,
    graph_only: Annotated[
        bool, typer.Option("--graph-only", help="Skip the search index (no model needed).")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Build exactly PATHS: remove documents of the previous build that are not "
            "among them (default: keep them).",
        ),
    ] = False,
    formats: Annotated[
        bool, typer.Option("--formats", help="List the formats the build reads, and exit.")
    ] = False,
) -> None:
    """Build the graph and search index from notes, incrementally and atomically.

    Documents built before from files outside PATHS are kept (read again from their files)
    unless --replace is given; the output lists what was added, updated, removed and kept."""
    if formats:
        show_formats()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kg.build import BuildError
    from kg.build import build as run_build
    from kg.datadir import BuildLockedError

    settings = settings_from(data=data)
    columns = (TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, transient=True, disable=not sys.stderr.isatty()) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            report = run_build(
                settings,
                paths or None,
                progress=progress,
                search=not graph_only,
                force=force,
                keep=not replace,
            )
        except (BuildError, BuildLockedError) as exc:
            raise fail(str(exc)) from None
    for message in report.warnings:
        warn(message)
    if report.skipped:
        warn(f"{len(report.skipped)} not read:")
        for line in report.skipped:
            typer.echo(f"  {line}", err=True)
    for line in _changes(report, replace):
        typer.echo(line)
    if report.up_to_date:
        typer.echo(f"up to date: {report.documents} documents unchanged ({report.seconds:.2f} s)")
    else:
        typer.echo(
            f"built {report.generation} in {report.seconds:.2f} s: {report.documents} documents "
            f"({report.extracted} extracted), {report.passages} cited passages, "
            f"{report.services} services, {report.features} features, {report.limits} limits, "
            f"{report.relations} relations, {report.triples} triples; "
            f"{report.search_passages} search passages ({report.encoded} encoded)"
        )
    if report.violations:
        warn(f"{len(report.violations)} SHACL violations:")
        for v in report.violations[:20]:
            typer.echo(f"  {v}", err=True)


def show_formats() -> None:
    """What ``kg build`` reads, by format, and what it leaves out."""
    from kg.parse import FORMATS, NOT_READ

    for fmt in FORMATS:
        typer.echo(f"{fmt.name:<9} {' '.join(fmt.suffixes):<20} {fmt.reads}")
    typer.echo("\nnot read (listed with the reason in the build summary):")
    reasons: dict[str, list[str]] = {}
    for suffix, reason in NOT_READ.items():
        reasons.setdefault(reason, []).append(suffix)
    for reason, suffixes in reasons.items():
        typer.echo(f"  {' '.join(suffixes)}: {reason}")
    typer.echo("  hidden files and folders (.obsidian/, .git/), any other suffix")


def _changes(report: Any, replace: bool) -> list[str]:
    """ "added 1 document: a.md" lines: what this build changes against the previous one."""

    def names(ids: list[str]) -> str:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        return f"{len(ids)} document{'' if len(ids) == 1 else 's'}: {shown}"

    lines = [
        f"{verb} {names(ids)}"
        for verb, ids in (
            ("added", report.added),
            ("updated", report.updated),
            ("removed", report.removed),
        )
        if ids
    ]
    if report.kept and not report.up_to_date:
        them = "it" if len(report.kept) == 1 else "them"
        lines.append(f"kept {names(report.kept)} (not among the paths; --replace removes {them})")
    return lines


@app.command()
def serve(
    data: DataOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (default 8000, or $PORT).", envvar="PORT")] = 8000,
) -> None:
    """Serve the API: /ask, /search, /sparql, /v1 (chat), /mcp, /docs. Builds the bundled
    notes first when the data folder holds no build."""
    from api.app import create_app
    from api.server import run
    from kg.datadir import DataDir

    settings = settings_from(data=data)
    if settings.graph_store == "oxigraph" and DataDir(settings.data).current() is None:
        typer.echo(f"no build in {settings.data}: building {settings.corpus} first", err=True)
        build(
            paths=None,
            data=settings.data,
            force=False,
            graph_only=False,
            replace=False,
            formats=False,
        )
    run(create_app(settings), host, port)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the notes.")],
    data: DataOpt = None,
    k: Annotated[int, typer.Option(min=1, max=50, help="Passages to show.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full /ask JSON.")] = False,
) -> None:
    """Answer a question from the built notes, with the route and the sources."""
    from dataclasses import asdict

    from kg.serve.runtime import NotReadyError, Runtime

    settings = settings_from(data=data)
    if not question.strip():
        raise fail("the question is empty", 2)
    limit = settings.max_question_chars  # the limit /ask and the tools apply
    if len(question) > limit:
        raise fail(f"the question is too long: {len(question)} characters; the limit is {limit}", 2)
    runtime = Runtime(settings)
    try:
        answer = runtime.engine().ask(question, k)
    except NotReadyError as exc:
        raise fail(str(exc)) from None
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(asdict(answer), indent=2, default=str))
        return
    if answer.route == "none":
        typer.echo("The notes do not cover this.")
        reason = answer.analysis.get("reason")
        if reason:
            typer.echo(f"  ({reason})")
    else:
        typer.echo(answer.answer)
    typer.secho(f"\nroute: {answer.route}   confidence: {answer.confidence:.2f}", dim=True)
    sources = [f.source for f in answer.facts if f.source] or []
    seen = set()
    for src in sources:
        key = (src.document, src.start)
        if key in seen:
            continue
        seen.add(key)
        typer.echo(f"  [{src.document} {src.start}-{src.end}] {src.text}")
    if answer.passages and not sources:
        for hit in answer.passages[:k]:
            typer.echo(
                f"  [{hit.document} {hit.start}-{hit.end}] {' '.join(hit.text.split())[:200]}"
            )


EXPORT_FORMATS = {"ttl": "TURTLE", "nt": "N_TRIPLES", "nq": "N_QUADS", "jsonld": "JSON_LD"}


@app.command()
def export(
    data: DataOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="ttl, nt, nq or jsonld.")] = "ttl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Export the graph. ``nq`` keeps the named graphs (provenance); the others merge them."""
    from kg.graph.export import export_graph

    if format not in EXPORT_FORMATS:
        raise fail(f"unknown format {format!r}: choose one of {', '.join(EXPORT_FORMATS)}", 2)
    settings = settings_from(data=data)
    try:
        payload = export_graph(settings, format)
    except LookupError as exc:
        raise fail(str(exc)) from None
    if output is None:
        sys.stdout.buffer.write(payload)
    else:
        output.write_bytes(payload)
        typer.echo(f"wrote {len(payload):,} bytes to {output}", err=True)


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="A SPARQL 1.1 query (or @file.rq).")],
    data: DataOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
) -> None:
    """Run a read-only SPARQL query against the built graph."""
    from kg.graph.export import run_query_table

    if query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise fail(f"{query[1:]}: {exc.strerror}") from None
    if format not in ("table", "json", "csv"):
        raise fail(f"unknown format {format!r}: choose table, json or csv", 2)
    from kg.sparql import BadRequest, SparqlError

    settings = settings_from(data=data)
    try:
        typer.echo(run_query_table(settings, query, format))
    except BadRequest as exc:
        raise fail(
            f"malformed query: {exc.message}" if exc.code == "malformed_query" else exc.message, 2
        ) from None
    except SparqlError as exc:
        raise fail(exc.message) from None


@app.command()
def mcp(data: DataOpt = None) -> None:
    """Serve the tools (ask, search, sparql, describe) to an MCP client over stdio."""
    import anyio

    from api.mcp import serve_stdio

    anyio.run(serve_stdio, settings_from(data=data))


def main() -> None:
    app()


if __name__ == "__main__":
    main()


__all__ = ["app", "json", "main"]
