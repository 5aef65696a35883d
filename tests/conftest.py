"""Shared fixtures: the bundled notes built once per session (graph only, no model)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.build import BuildReport, build
from kg.graph.oxigraph import OxigraphStore
from kg.settings import DEFAULT_CORPUS, Settings
from kg.stores import open_graph_store

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = DEFAULT_CORPUS


@dataclass
class Built:
    settings: Settings
    report: BuildReport

    def store(self) -> OxigraphStore:
        store = open_graph_store(self.settings)
        assert isinstance(store, OxigraphStore)
        return store


@pytest.fixture(scope="session")
def corpus_graph(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled notes built into a graph (no search index)."""
    settings = Settings(data=tmp_path_factory.mktemp("corpus-graph"), embedder="fake")
    return Built(settings, build(settings))


@pytest.fixture
def corpus_store(corpus_graph: Built) -> Iterator[OxigraphStore]:
    store = corpus_graph.store()
    yield store
    store.close()


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled notes and one new Markdown note, built with the real embedding model."""
    import shutil

    notes = tmp_path_factory.mktemp("real-notes")
    shutil.copy(CORPUS / "aws-solutions-architect-notes.txt", notes)
    shutil.copy(FIXTURES / "nebula-queue.md", notes)
    settings = Settings(data=tmp_path_factory.mktemp("real-data"), embedder="minilm")
    return Built(settings, build(settings, [notes]))
