"""``kg serve`` for the benchmarks, optionally with a hash embedder of the model's width.

    python -m bench.serve --data DIR --port P [--fake-dim 384]

With ``--fake-dim`` the growth benchmark measures everything but the model (whose cost per
query does not depend on the corpus) on corpora too large to embed within its time budget.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from api.app import create_app
from api.server import run
from kg.search.embedder import FakeEmbedder
from kg.serve.runtime import Runtime
from kg.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fake-dim", type=int, default=0)
    args = parser.parse_args()
    settings = Settings(data=args.data, embedder="fake" if args.fake_dim else "minilm")
    embedder = FakeEmbedder(args.fake_dim) if args.fake_dim else None
    app = create_app(settings, runtime=Runtime(settings, embedder=embedder))
    run(app, "127.0.0.1", args.port, access_log=False)


if __name__ == "__main__":
    main()
