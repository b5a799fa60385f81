"""The container files say what docs/deploy.md says, checked without Docker: the compose file
is valid YAML with PostgreSQL, two replicas on it and a balancer over both; the Dockerfile
takes its base as an argument and runs as a non-root user; the wheelhouse reaches the build."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from billbot.config import Settings
from billbot.storage.db import parse_database_url

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
REPLICAS = ("billbot-1", "billbot-2")


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_two_replicas_on_one_postgres() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", *REPLICAS, "lb"}
    urls = set()
    for name in REPLICAS:
        replica = services[name]
        assert replica["build"]["context"] == ".."  # this repository's Dockerfile
        assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert replica["env_file"] == ".env"
        urls.add(replica["environment"]["DATABASE_URL"])
    assert len(urls) == 1, "every replica on the same database"
    url = re.sub(r"\$\{[^}]*\}", "secret", urls.pop())
    parsed = parse_database_url(url)
    assert parsed.get_backend_name() == "postgresql" and parsed.host == "postgres"
    assert parsed.database == services["postgres"]["environment"]["POSTGRES_DB"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]


def test_the_balancer_spreads_over_every_replica_on_healthz() -> None:
    lb = _compose()["services"]["lb"]
    mounted = {volume.split(":")[0] for volume in lb["volumes"]}
    assert "./haproxy.cfg" in mounted
    config = (DEPLOY / "haproxy.cfg").read_text()
    servers = re.findall(r"^\s*server\s+\S+\s+(\S+):3000\s+check", config, re.MULTILINE)
    assert sorted(servers) == sorted(REPLICAS)
    assert "option httpchk GET /healthz" in config
    assert re.search(r"^\s*bind :3000$", config, re.MULTILINE)
    assert lb["ports"] == ["3000:3000"]


def test_the_env_example_names_only_real_settings() -> None:
    """Every variable the example offers is one billbot reads (or the compose file's own)."""
    example = (DEPLOY / "billbot.env.example").read_text()
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE)
    known = {name.upper() for name in Settings.model_fields} | {"POSTGRES_PASSWORD"}
    assert names and set(names) <= known
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (DEPLOY / "compose.yml").read_text()))
    uncommented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert required <= uncommented


def test_dockerfile_base_user_healthcheck_and_wheelhouse() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=python:3.11-slim" in dockerfile
    assert dockerfile.count("FROM ${BASE_IMAGE}") == 2
    assert "python3 -m venv /opt/venv" in dockerfile
    assert "pip install --no-index --find-links wheelhouse" in dockerfile
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*/healthz", dockerfile, re.MULTILINE | re.DOTALL)
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".env"} <= ignored
    assert not any(line.startswith(("wheelhouse", "*.whl", "**")) and "pycache" not in line
                   for line in ignored)
    assert (REPO / "wheelhouse" / "README.md").is_file()
