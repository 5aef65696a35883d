"""kg build / export / sparql: incremental, atomic, and kind to bad input."""

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from typer.testing import CliRunner

from api.cli import app
from kg import build as build_module
from kg.build import BuildError, build
from kg.datadir import DataDir
from kg.settings import Settings

from .conftest import CORPUS, FIXTURES

runner = CliRunner()


def kg(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    shutil.copy(CORPUS / "aws-solutions-architect-notes.txt", folder)
    shutil.copy(FIXTURES / "nebula-queue.md", folder)
    return folder


def test_build_is_incremental_and_rebuilding_unchanged_notes_is_free(tmp_path, notes):
    settings = Settings(data=tmp_path / "data", embedder="fake")
    first = build(settings, [notes])
    assert first.extracted == 2 and not first.up_to_date
    again = build(settings, [notes])
    assert again.up_to_date and again.generation == first.generation
    assert again.seconds < 0.5
    (notes / "nebula-queue.md").write_text(
        (notes / "nebula-queue.md").read_text() + "\n- Each stream can have up to 12 shards.\n"
    )
    third = build(settings, [notes])
    assert third.extracted == 1  # only the changed note
    assert third.generation != first.generation
    assert third.limits == first.limits + 1
    (notes / "nebula-queue.md").unlink()
    fourth = build(settings, [notes])
    assert fourth.documents == 1 and fourth.services < third.services


def test_a_failed_build_leaves_the_previous_data_live(tmp_path, notes, monkeypatch):
    settings = Settings(data=tmp_path / "data", embedder="fake")
    good = build(settings, [notes])
    data = DataDir(settings.data)

    def crash(store):
        raise RuntimeError("disk full")

    (notes / "extra.md").write_text(
        "# Amazon Zephyr Cache\n\nAmazon Zephyr Cache is a cache service.\n"
    )
    monkeypatch.setattr(build_module, "validate", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        build(settings, [notes])
    assert data.current_id() == good.generation
    code, out, _ = kg(
        "sparql",
        "--data",
        str(settings.data),
        "--format",
        "json",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/cloudkg/ontology#Service> }",
    )
    assert (
        code == 0 and int(json.loads(out)["results"]["bindings"][0]["n"]["value"]) == good.services
    )
    monkeypatch.undo()
    fixed = build(settings, [notes])  # the next build cleans up the unpublished generation
    assert fixed.generation != good.generation
    assert len(list(settings.data.glob("gen-*"))) == 2


def test_bad_input_is_reported_by_name_and_the_rest_still_builds(tmp_path, notes):
    (notes / "empty.md").write_text("")
    (notes / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (notes / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    data = tmp_path / "data"
    code, out, err = kg(
        "build", str(notes), str(tmp_path / "missing.md"), "--data", str(data), "--graph-only"
    )
    assert code == 0, err
    for name in ("empty.md", "photo.txt", "latin1.txt", "missing.md"):
        assert name in err
    assert "Traceback" not in out + err
    assert "2 documents" in out


def test_nothing_to_build_exits_non_zero_without_a_traceback(tmp_path):
    (tmp_path / "empty.md").write_text(" \n")
    code, out, err = kg(
        "build",
        str(tmp_path / "empty.md"),
        str(tmp_path / "nope"),
        "--data",
        str(tmp_path / "d"),
        "--graph-only",
    )
    assert code == 1
    assert "nothing to build" in err and "empty.md" in err and "nope" in err
    assert "Traceback" not in out + err
    with pytest.raises(BuildError):
        build(Settings(data=tmp_path / "d"), [tmp_path / "nope"])


def test_export_formats(corpus_graph, tmp_path):
    data = str(corpus_graph.settings.data)
    nq = tmp_path / "g.nq"
    assert kg("export", "--data", data, "--format", "nq", "-o", str(nq))[0] == 0
    dataset = ox.Dataset(ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name for q in dataset}
    assert len(graphs) > 100  # one per cited passage, plus document/lexicon/ontology graphs
    ttl = tmp_path / "g.ttl"
    assert kg("export", "--data", data, "--format", "ttl", "-o", str(ttl))[0] == 0
    g = rdflib.Graph().parse(ttl, format="turtle")
    assert len(g) > 1000
    code, out, _ = kg("export", "--data", data, "--format", "jsonld")
    assert code == 0 and json.loads(out)
    code, _, err = kg("export", "--data", data, "--format", "xml")
    assert code == 2 and "unknown format" in err


def test_sparql_command(corpus_graph):
    data = str(corpus_graph.settings.data)
    query = (
        "PREFIX ckg: <https://w3id.org/cloudkg/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>"
        " SELECT ?q ?max WHERE { ?s skos:altLabel 'SQS' ; ckg:hasLimit ?l . ?l ckg:quantity ?q ;"
        " ckg:maxValue ?max } ORDER BY ?q"
    )
    code, out, _ = kg("sparql", "--data", data, query)
    assert code == 0 and "message size" in out and "256000" in out
    code, out, _ = kg("sparql", "--data", data, "--format", "csv", query)
    assert code == 0 and out.splitlines()[0].strip() == "q,max"
    code, _, err = kg("sparql", "--data", data, "SELECT * WHERE { ?s ?p }")
    assert code == 2 and "malformed query" in err and "1:" in err
    code, _, err = kg("sparql", "--data", "/nonexistent/data", "ASK {}")
    assert code == 1 and "kg build" in err


def test_every_command_has_help_and_is_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        code, out, _ = kg(name, "--help")
        assert code == 0 and "Usage" in out
        assert f"kg {name}" in readme, f"README does not mention `kg {name}`"


def test_ask_refuses_what_the_api_refuses_before_opening_anything(tmp_path, monkeypatch):
    empty = str(tmp_path / "no-build")  # nothing is opened: the checks come first
    code, _, err = kg("ask", "x" * 5000, "--data", empty)
    assert code == 2 and "too long: 5000 characters; the limit is 2000" in err
    code, _, err = kg("ask", "   ", "--data", empty)
    assert code == 2 and "empty" in err
    monkeypatch.setenv("KG_MAX_QUESTION_CHARS", "20")
    code, _, err = kg("ask", "How large can an SQS message be?", "--data", empty)
    assert code == 2 and "the limit is 20" in err
    assert not (tmp_path / "no-build").exists()
