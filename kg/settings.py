"""One typed settings object, read from ``KG_*`` environment variables at the edge."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ByteSize, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
DEFAULT_CORPUS = PROJECT_ROOT / "corpus"
MAX_QUESTION_CHARS = 2000  # the default of Settings.max_question_chars


class Settings(BaseSettings):
    """Everything configurable. CLI flags override the environment, which overrides defaults."""

    model_config = SettingsConfigDict(env_prefix="KG_", extra="ignore")

    data: Path = Field(Path("data"), description="folder holding the built graph and indexes")
    corpus: Path = Field(DEFAULT_CORPUS, description="notes built when no path is given")

    graph_store: Literal["oxigraph", "sparql"] = "oxigraph"
    sparql_query_url: str | None = None
    sparql_update_url: str | None = None
    sparql_store_user: str | None = None
    sparql_store_password: SecretStr | None = None
    sparql_store_token: SecretStr | None = None
    sparql_store_auth: Literal["auto", "basic", "digest"] = Field(
        "auto", description="auto: the scheme the server asks for (Digest or Basic), when it asks"
    )
    sparql_server: Literal["auto", "virtuoso", "oxigraph", "fuseki", "generic"] = Field(
        "auto", description="the kind of SPARQL server; auto: from its Server header"
    )

    vector_store: Literal["faiss", "qdrant"] = "faiss"
    qdrant_url: str | None = None
    qdrant_collection: str = "cloudkg_passages"

    embedder: Literal["minilm", "minilm-torch", "fake"] = Field(
        "minilm", description="minilm (int8, ONNX Runtime), minilm-torch or fake (tests)"
    )
    torch_threads: int = Field(
        1, ge=1, description="cores per encode, torch or ONNX; see docs/performance.md"
    )

    update_token: SecretStr | None = None
    sparql_timeout: float = Field(30.0, gt=0)
    sparql_max_rows: int = Field(10_000, ge=1)
    sparql_workers: int = Field(2, ge=1)
    sparql_max_bytes: ByteSize = Field(
        ByteSize(16 * 2**20), gt=0, description="bytes of one SPARQL answer (16MiB, 1GB, ...)"
    )
    sparql_max_memory: ByteSize = Field(
        ByteSize(2**30), ge=0, description="memory a SPARQL query or update may allocate; 0: no cap"
    )

    allowed_origins: str = Field(
        "", description="comma-separated browser origins /mcp serves besides loopback ones"
    )

    max_question_chars: int = Field(
        MAX_QUESTION_CHARS,
        ge=1,
        description="longest question or search query, everywhere: API, chat, tools, CLI",
    )

    public_base: str | None = Field(
        None,
        description="the public URL of this server (e.g. https://kg.example.org/); "
        "pages link resource IRIs there. Default: the host and root path of each request",
    )
