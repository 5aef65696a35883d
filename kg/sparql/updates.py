"""How a SPARQL Update becomes a new generation without copying the store.

Generations are immutable (``kg/datadir.py``): an update never writes the live one. The new
generation gets hard links to every file of the live one except the graph, and a manifest
without the build key (``link_generation``); the update worker then makes the graph a RocksDB
checkpoint of the live graph (``Store.backup``: its SST files hard-linked, nothing copied and no
info logs carried over) and applies the update to it. An update therefore costs what the
update itself writes plus a number of links that depends on how many files the store has, not
on how much data it holds or on how many updates came before. Before, the whole graph folder
was copied, RocksDB's ``LOG.old.*`` files included, and they piled up with every update.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path


def link_generation(src: Path, dst: Path) -> None:
    """Everything of generation ``src`` but its graph into ``dst``: files hard-linked (or copied
    where links are not possible); the manifest rewritten without its build key, so that the
    next ``kg build`` rebuilds from the notes instead of taking the updated graph for an
    up-to-date build."""
    for entry in src.iterdir():
        target = dst / entry.name
        if entry.name in (".incomplete", "graph") or target.exists():
            continue
        if entry.name == "manifest.json":
            try:
                manifest = json.loads(entry.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
            manifest.pop("build_key", None)
            manifest["sparql_update"] = {
                "from": src.name,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            target.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        elif entry.is_dir():
            shutil.copytree(entry, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(target))


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
