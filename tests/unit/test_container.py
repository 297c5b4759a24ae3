"""The Dockerfile and the compose example, checked with parsers (no Docker engine runs here)."""

from __future__ import annotations

from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).parents[2]


def _instructions() -> list[dict[str, str]]:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return list(parser.structure)


def _final_stage(instructions: list[dict[str, str]]) -> list[dict[str, str]]:
    last_from = max(i for i, ins in enumerate(instructions) if ins["instruction"] == "FROM")
    return instructions[last_from:]


def test_multi_stage_slim_base() -> None:
    """Two stages, both on a slim Python base."""
    froms = [ins["value"] for ins in _instructions() if ins["instruction"] == "FROM"]
    assert len(froms) >= 2
    assert all("slim" in value for value in froms)


def test_final_stage_runs_as_non_root() -> None:
    """The final stage switches to a non-root user before the entrypoint."""
    users = [ins["value"].strip() for ins in _final_stage(_instructions()) if ins["instruction"] == "USER"]
    assert users
    assert users[-1] not in {"root", "0", "0:0"}


def test_only_the_wheel_is_installed_and_no_dev_tools() -> None:
    """The final stage installs the built wheel, not the source tree or test/dev tools."""
    final = _final_stage(_instructions())
    runs = " ".join(ins["value"] for ins in final if ins["instruction"] == "RUN")
    copies = [ins["value"] for ins in final if ins["instruction"] == "COPY"]
    assert "/wheels" in runs
    assert all("--from=build" in value for value in copies)
    for tool in ("pytest", "ruff", "mypy", "[test]", "gcc", "build-essential", "git "):
        assert tool not in runs


def test_entrypoint_healthcheck_and_no_secrets() -> None:
    """`sfsync worker` is the entrypoint, a HEALTHCHECK hits /healthz, and no secret is baked in."""
    final = _final_stage(_instructions())
    kinds = {ins["instruction"]: ins["value"] for ins in final}
    assert '"sfsync"' in kinds["ENTRYPOINT"]
    assert '"worker"' in kinds["CMD"]
    assert "/healthz" in kinds["HEALTHCHECK"]
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").upper()
    for secret in ("CLIENT_SECRET=", "PASSWORD=", "PRIVATE_KEY=", "ACCESS_TOKEN="):
        assert secret not in text


def test_compose_has_postgres_and_two_workers() -> None:
    """compose.yaml runs PostgreSQL and two workers that mount config, jobs and secrets read-only."""
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert "postgres" in services
    workers = [name for name in services if name.startswith("worker")]
    assert len(workers) == 2
    for name in workers:
        volumes = services[name]["volumes"]
        assert any(v.endswith(":ro") and "/run/secrets" in v for v in volumes)
        assert all(
            not str(k).endswith(("PASSWORD", "SECRET", "TOKEN")) for k in services[name]["environment"]
        )
