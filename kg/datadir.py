"""The data folder: immutable build generations, a pointer to the live one, and caches.

```
DATA/
  CURRENT          name of the live generation (replaced atomically when a build publishes)
  gen-<id>/        one complete build: graph/ (Oxigraph), vectors/, passages.jsonl, manifest.json
  cache/           extraction results and embeddings, keyed by content hash
  build.lock       held while a build runs
```

A build writes a new generation next to the live one and publishes it by replacing CURRENT;
a build that fails or is interrupted leaves a stray folder that the next build removes, and the
previous generation stays live and untouched. Readers open generations read-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KEEP_GENERATIONS = 2  # the live one and the one before it, which running servers may hold


class BuildLockedError(RuntimeError):
    """Another build holds the data folder."""


class DataDir:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    def current(self) -> Path | None:
        """The live generation, or None before the first build."""
        try:
            name = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        gen = self.root / name
        return gen if gen.is_dir() else None

    def current_id(self) -> str | None:
        gen = self.current()
        return gen.name if gen else None

    def manifest(self) -> dict[str, Any] | None:
        gen = self.current()
        if gen is None:
            return None
        try:
            data: dict[str, Any] = json.loads((gen / "manifest.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive for the duration of a build; fails at once if another build runs."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "build.lock").open("w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BuildLockedError(f"another build is running on {self.root}") from None
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def new_generation(self) -> Path:
        """A fresh, empty folder for a build; published only by ``publish``."""
        self._remove_unpublished()
        gen = self.root / f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
        gen.mkdir(parents=True)
        (gen / ".incomplete").touch()
        return gen

    def publish(self, gen: Path) -> None:
        """Make ``gen`` live in one atomic rename, then prune old generations."""
        (gen / ".incomplete").unlink(missing_ok=True)
        _fsync_tree(gen)
        tmp = self.root / "CURRENT.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(gen.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.root / "CURRENT")
        _fsync_dir(self.root)
        self._prune(keep=gen)

    def _generations(self) -> list[Path]:
        return sorted(p for p in self.root.glob("gen-*") if p.is_dir())

    def _remove_unpublished(self) -> None:
        for gen in self._generations():
            if (gen / ".incomplete").exists():
                shutil.rmtree(gen, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        published = [g for g in self._generations() if not (g / ".incomplete").exists()]
        stale = [g for g in published if g != keep][: max(0, len(published) - KEEP_GENERATIONS)]
        for gen in stale:
            shutil.rmtree(gen, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(Path(dirpath) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))
