"""The Dockerfiles agree with the code they package (no Docker engine needed: they are read, not built)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass

import pytest
from pydantic_settings import BaseSettings

from collector.settings import CollectorSettings
from exchange_sim.settings import SimSettings
from processor.settings import ProcessorSettings
from tests.deploy.chart import ROOT
from trader.settings import TraderSettings

PORT_FIELDS: dict[str, tuple[type[BaseSettings], str]] = {
    "collector": (CollectorSettings, "http_port"),
    "processor": (ProcessorSettings, "http_port"),
    "trader": (TraderSettings, "http_port"),
    "exchange_sim": (SimSettings, "port"),
}
SERVICES = pytest.mark.parametrize("service", sorted(PORT_FIELDS))


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def instructions(service: str) -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "services" / service / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    parsed = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, args = line.strip().partition(" ")
            parsed.append(Instruction(keyword.upper(), args.strip()))
    return parsed


def args_of(service: str, keyword: str) -> list[str]:
    return [i.args for i in instructions(service) if i.keyword == keyword]


@SERVICES
def test_both_stages_use_the_same_pinned_slim_base(service: str) -> None:
    # arrange / act
    bases = [args.split()[0] for args in args_of(service, "FROM")]
    # assert
    assert bases == ["python:3.11-slim-bookworm", "python:3.11-slim-bookworm"]


@SERVICES
def test_the_image_runs_its_own_module_as_a_numeric_non_root_user(service: str) -> None:
    # arrange / act
    entrypoint = json.loads(args_of(service, "ENTRYPOINT")[-1])
    user = args_of(service, "USER")[-1]
    # assert
    assert entrypoint == ["python", "-m", service], "exec form, so SIGTERM reaches Python"
    assert (ROOT / "services" / service / "src" / service / "__main__.py").is_file()
    assert user == "10001"


@SERVICES
def test_the_exposed_port_is_the_port_the_service_listens_on(service: str) -> None:
    # arrange
    settings, field = PORT_FIELDS[service]
    # act
    exposed = args_of(service, "EXPOSE")
    # assert
    assert exposed == [str(settings.model_fields[field].default)]


@SERVICES
def test_the_builder_installs_only_this_service_and_the_shared_library(service: str) -> None:
    # arrange
    package = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]["name"]
    # act
    syncs = [args for args in args_of(service, "RUN") if args.startswith("uv sync")]
    sources = [args.split()[0] for args in args_of(service, "COPY") if not args.startswith("--from")]
    # assert
    assert syncs
    assert all(f"--package {package}" in s and "--frozen" in s and "--no-dev" in s for s in syncs)
    assert "libs/common/src" in sources
    assert f"services/{service}/src" in sources
    assert not [s for s in sources if s.endswith("/src") and s not in ("libs/common/src", f"services/{service}/src")]
    for source in sources:
        assert (ROOT / source).exists(), f"COPY source {source} does not exist"


def test_every_workspace_member_pyproject_is_copied() -> None:
    # arrange: uv resolves the workspace from every member's pyproject.toml
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {f"{m}/pyproject.toml" for m in root["tool"]["uv"]["workspace"]["members"]}
    # act
    copied = {s for args in args_of("collector", "COPY") for s in args.split()[:-1] if s.endswith("pyproject.toml")}
    # assert
    assert members <= copied
