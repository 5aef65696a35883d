"""docker-compose.yml and the Dockerfile agree with the code (no Docker engine needed): every
``KG_*`` variable is a Settings field with a valid value, URLs point at the services and ports
that serve them, and the image installs the pinned CPU torch before the project."""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from kg.settings import PROJECT_ROOT, Settings

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load(COMPOSE.read_text("utf-8"))
    return dict(compose["services"])


@pytest.fixture(scope="module")
def dockerfile() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text("utf-8"))
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def kg_services(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the cloudkg image."""
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("cloudkg")}


def api_services(services: dict[str, Any]) -> list[str]:
    return [n for n in kg_services(services) if n == "api" or n.startswith("api-")]


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command", [])
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


def host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port, url
    return parts.hostname, parts.port


def test_the_services(services: dict[str, Any]) -> None:
    assert {"oxigraph", "qdrant", "build"} <= set(services)
    apis = api_services(services)
    replicas = sum(services[n].get("deploy", {}).get("replicas", 1) for n in apis)
    assert replicas >= 2, "the API runs as at least two replicas"
    assert set(kg_services(services)) == {"build", *apis}


def test_every_kg_variable_is_a_setting(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, service in kg_services(services).items():
        env = environment(service)
        assert env, f"{name} has no environment"
        for var in env:
            assert var.startswith("KG_"), f"{name}: {var} is not a cloudkg setting"
            assert var[3:].lower() in Settings.model_fields, f"{name}: no Settings field for {var}"
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        settings = Settings()  # every value validates (Literal choices, numbers)
        assert settings.graph_store == "sparql"
        assert settings.vector_store == "qdrant"
        for var in env:
            monkeypatch.delenv(var)


def test_urls_point_at_the_backends(services: dict[str, Any]) -> None:
    oxigraph = command(services["oxigraph"])
    bind = oxigraph[oxigraph.index("--bind") + 1]
    oxigraph_port = int(bind.rsplit(":", 1)[1])
    for name, service in kg_services(services).items():
        env = environment(service)
        for var in ("KG_SPARQL_QUERY_URL", "KG_SPARQL_UPDATE_URL"):
            assert host_port(env[var]) == ("oxigraph", oxigraph_port), f"{name}: {var}"
        assert env["KG_SPARQL_QUERY_URL"].endswith("/query")
        assert env["KG_SPARQL_UPDATE_URL"].endswith("/update")
        assert host_port(env["KG_QDRANT_URL"]) == ("qdrant", 6333), name
    assert any(p.endswith(":6333") for p in services["qdrant"]["ports"])


def test_oxigraph_serves_the_union_default_graph(services: dict[str, Any]) -> None:
    oxigraph = services["oxigraph"]
    assert oxigraph["image"].startswith("ghcr.io/oxigraph/oxigraph")
    cmd = command(oxigraph)
    assert cmd[0] == "serve" and "--union-default-graph" in cmd
    location = cmd[cmd.index("--location") + 1]
    assert any(v.split(":")[1] == location for v in oxigraph["volumes"])
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    assert any(v.endswith(":/qdrant/storage") for v in services["qdrant"]["volumes"])


def test_health_checks_and_start_order(services: dict[str, Any]) -> None:
    for name in ("oxigraph", "qdrant", *api_services(services)):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"
    for name in api_services(services):
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
        assert services[name]["depends_on"]["build"]["condition"] == (
            "service_completed_successfully"
        )
    build = services["build"]
    assert {n: d["condition"] for n, d in build["depends_on"].items()} == {
        "oxigraph": "service_healthy",
        "qdrant": "service_healthy",
    }
    assert command(build)[:2] == ["kg", "build"]


def test_the_build_job_reads_the_mounted_corpus(services: dict[str, Any]) -> None:
    build = services["build"]
    mounts = [v.split(":") for v in build["volumes"]]
    corpus = [m for m in mounts if m[0] == "./corpus"]
    assert corpus and corpus[0][2:] == ["ro"], "./corpus is mounted read-only"
    assert environment(build)["KG_CORPUS"] == corpus[0][1]


def test_the_api_port(services: dict[str, Any], dockerfile: list[str]) -> None:
    cmd = next(line for line in dockerfile if line.startswith("CMD "))
    image_cmd = [str(c) for c in yaml.safe_load(cmd[4:])]  # exec form is a JSON list
    assert image_cmd[:2] == ["kg", "serve"]
    port = image_cmd[image_cmd.index("--port") + 1]
    assert image_cmd[image_cmd.index("--host") + 1] == "0.0.0.0"
    for name in api_services(services):
        api_cmd = command(services[name]) or image_cmd
        assert api_cmd[api_cmd.index("--port") + 1] == port
        assert all(p.split(":")[-1] == port for p in services[name]["ports"])
    assert f"EXPOSE {port}" in dockerfile


def test_the_dockerfile_installs_the_pinned_cpu_torch_first(dockerfile: list[str]) -> None:
    assert dockerfile[0] == "FROM python:3.11-slim"
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text("utf-8"))
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("torch"))
    runs = [line for line in dockerfile if line.startswith("RUN ")]
    torch = next(i for i, line in enumerate(runs) if pin in line.split())
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch]
    installs_project = re.compile(r"pip install (?:--no-deps )?(?:-e )?\.(?:\s|$)")
    project = [i for i, line in enumerate(runs) if installs_project.search(line)]
    assert project and torch < min(project), "torch is installed before the project"
    env = " ".join(line for line in dockerfile if line.startswith("ENV "))
    assert "HF_HUB_OFFLINE=1" in env
    for var in re.findall(r"\b(KG_[A-Z_]+)=", env):
        assert var[3:].lower() in Settings.model_fields


def test_the_dockerfile_checks_health(dockerfile: list[str]) -> None:
    check = next(line for line in dockerfile if line.startswith("HEALTHCHECK "))
    assert "/healthz" in check


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (PROJECT_ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".venv", "data", ".git"} <= set(ignored)
    copies = re.findall(r"^COPY (.+)$", DOCKERFILE.read_text("utf-8"), flags=re.MULTILINE)
    for path in (p for line in copies for p in line.split()[:-1]):
        assert path not in ignored and (PROJECT_ROOT / path).exists(), path
