"""``kg build PATH`` says which documents it adds, updates and removes, and keeps documents
built from other paths unless ``--replace`` (graph only, fake embedder)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from kg.datadir import DataDir

from .conftest import CORPUS, FIXTURES

runner = CliRunner()


def kg_build(data: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app,
        ["build", "--data", str(data), "--graph-only", *args],
        env={"KG_EMBEDDER": "fake"},
    )
    return result.exit_code, result.stdout, result.stderr


def documents(data: Path) -> set[str]:
    manifest = DataDir(data).manifest()
    assert manifest is not None
    return set(manifest["documents"])


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    bundled, mine = tmp_path / "bundled", tmp_path / "mine"
    bundled.mkdir()
    mine.mkdir()
    shutil.copy(CORPUS / "aws-solutions-architect-notes.txt", bundled)
    shutil.copy(FIXTURES / "nebula-queue.md", mine)
    return bundled, mine


def test_building_one_folder_keeps_the_others_and_says_so(tmp_path, folders):
    bundled, mine = folders
    data = tmp_path / "data"
    code, out, _ = kg_build(data, str(bundled))
    assert code == 0 and "added 1 document: aws-solutions-architect-notes.txt" in out
    code, out, _ = kg_build(data, str(mine))
    assert code == 0
    assert "added 1 document: nebula-queue.md" in out
    assert "kept 1 document: aws-solutions-architect-notes.txt" in out and "--replace" in out
    assert documents(data) == {"aws-solutions-architect-notes.txt", "nebula-queue.md"}
    assert "2 documents" in out

    code, out, _ = kg_build(data, str(mine))
    assert code == 0 and out.startswith("up to date: 2 documents")

    (mine / "nebula-queue.md").write_text(
        (mine / "nebula-queue.md").read_text() + "\n- Each stream can have up to 12 shards.\n"
    )
    code, out, _ = kg_build(data, str(mine))
    assert "updated 1 document: nebula-queue.md" in out and "added" not in out

    code, out, _ = kg_build(data, str(mine), "--replace")
    assert code == 0 and "removed 1 document: aws-solutions-architect-notes.txt" in out
    assert "kept" not in out
    assert documents(data) == {"nebula-queue.md"}


def test_a_note_deleted_from_a_given_folder_is_removed(tmp_path, folders):
    bundled, mine = folders
    data = tmp_path / "data"
    shutil.copy(FIXTURES / "fargate.md", mine)
    kg_build(data, str(bundled))
    kg_build(data, str(mine))
    (mine / "fargate.md").unlink()
    code, out, err = kg_build(data, str(mine))
    assert code == 0 and "removed 1 document: fargate.md" in out
    assert "kept 1 document: aws-solutions-architect-notes.txt" in out
    assert err == ""  # meant to go: no warning
    assert documents(data) == {"aws-solutions-architect-notes.txt", "nebula-queue.md"}


def test_a_kept_note_whose_file_is_gone_is_removed_with_a_warning(tmp_path, folders):
    bundled, mine = folders
    data = tmp_path / "data"
    kg_build(data, str(mine))
    shutil.rmtree(mine)
    code, out, err = kg_build(data, str(bundled))
    assert code == 0
    assert "removed 1 document: nebula-queue.md" in out
    assert "nebula-queue.md: its file" in err and "is gone" in err
    assert documents(data) == {"aws-solutions-architect-notes.txt"}
