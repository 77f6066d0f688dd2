"""The one Dockerfile agrees with the code it packages, and every build passes it the right service.

No Docker engine is needed: the Dockerfile is read, not built. skaffold.yaml, compose.yaml and the Tiltfile
each build the four images from it with build args PACKAGE, MODULE and PORT; these tests check each of those
against the service's pyproject.toml (distribution and console script) and settings (port).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from collector.settings import CollectorSettings
from exchange_sim.settings import SimSettings
from processor.settings import ProcessorSettings
from tests.deploy.chart import ROOT, load_yaml
from tests.deploy.tiltfile import tilt_calls
from trader.settings import TraderSettings

DOCKERFILE = ROOT / "Dockerfile"
BASE = "python:3.11-slim-bookworm"
PORT_FIELDS: dict[str, tuple[type[BaseSettings], str]] = {
    "collector": (CollectorSettings, "http_port"),
    "processor": (ProcessorSettings, "http_port"),
    "trader": (TraderSettings, "http_port"),
    "exchange_sim": (SimSettings, "port"),
}
"""Service (MODULE, its directory under services/) -> the settings field of the port it listens on."""
IMAGES = {"collector": "collector", "processor": "processor", "trader": "trader", "exchange-sim": "exchange_sim"}
"""Image name (algo-trade/<name>) -> MODULE."""


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def stages() -> list[Stage]:
    """The Dockerfile's stages and their instructions, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    parsed: list[Stage] = []
    for line in filter(str.strip, joined.splitlines()):
        keyword, _, args = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            words = args.split()
            parsed.append(Stage(base=words[0], name=words[2] if len(words) == 3 else ""))
        else:
            parsed[-1].instructions.append((keyword.upper(), args.strip()))
    return parsed


def expected_build_args(module: str) -> dict[str, str]:
    """What a build of service MODULE must pass: its distribution name and its listening port."""
    package = tomllib.loads((ROOT / "services" / module / "pyproject.toml").read_text())["project"]["name"]
    settings, port_field = PORT_FIELDS[module]
    return {"PACKAGE": package, "MODULE": module, "PORT": str(settings.model_fields[port_field].default)}


def test_every_stage_uses_the_same_pinned_slim_base() -> None:
    # arrange / act
    parsed = stages()
    names = {s.name for s in parsed}
    external = [s.base for s in parsed if s.base not in names]
    # assert
    assert external == [BASE] * len(external)
    assert len(external) >= 2, "a builder and a runtime stage at least"
    assert ":latest" not in DOCKERFILE.read_text()


def test_the_shipped_image_is_the_last_stage_and_runs_as_a_numeric_non_root_user() -> None:
    # arrange
    by_name = {s.name: s for s in stages()}
    final = stages()[-1]
    # act: follow the final stage's parents up to the external base
    chain = [final]
    while chain[-1].base in by_name:
        chain.append(by_name[chain[-1].base])
    users = [u for stage in reversed(chain) for u in stage.args("USER")]
    entrypoints = [e for stage in reversed(chain) for e in stage.args("ENTRYPOINT")]
    copies = final.args("COPY")
    # assert
    assert final.name == "runtime"
    assert users[-1] == "10001"
    assert json.loads(entrypoints[-1]) == ["/opt/venv/bin/service"], "exec form, so SIGTERM reaches Python"
    assert copies == ["--from=builder /opt/venv /opt/venv"], "root owns the shipped venv"


def test_the_entrypoint_is_the_console_script_of_the_built_package() -> None:
    # arrange
    builder = stages()[0]
    # act
    runs = " ".join(builder.args("RUN"))
    # assert: the builder links /opt/venv/bin/service to the script named after PACKAGE
    assert 'ln -s "$PACKAGE" /opt/venv/bin/service' in runs
    for module in PORT_FIELDS:
        project = tomllib.loads((ROOT / "services" / module / "pyproject.toml").read_text())["project"]
        assert project["scripts"][project["name"]] == f"{module}.__main__:main"
        assert (ROOT / "services" / module / "src" / module / "__main__.py").is_file()


def test_the_builder_installs_only_the_chosen_service_and_the_shared_library() -> None:
    # arrange
    builder = stages()[0]
    # act
    declared = {a.split("=")[0] for a in builder.args("ARG")}
    syncs = [args for args in builder.args("RUN") if args.startswith("uv sync")]
    sources = [args.split()[0] for args in builder.args("COPY")]
    # assert
    assert declared == {"PACKAGE", "MODULE", "PORT"}
    assert len(syncs) == 2
    assert all('--package "$PACKAGE"' in s and "--frozen" in s and "--no-dev" in s for s in syncs)
    assert "--no-editable" in syncs[-1]
    assert [s for s in sources if s.endswith("/src")] == ["libs/common/src", "services/${MODULE}/src"]
    for source in sources:
        assert (ROOT / source.replace("${MODULE}", "collector")).exists(), f"COPY source {source} does not exist"


def test_every_variable_a_stage_uses_is_declared_in_that_stage() -> None:
    # arrange
    environment = {"PATH", "PACKAGE", "MODULE", "PORT"}
    # act
    undeclared = {}
    for stage in stages():
        declared = {a.split("=")[0] for a in stage.args("ARG")}
        used = {v for _, args in stage.instructions for v in re.findall(r"\$\{?([A-Z_]+)", args)} & environment
        undeclared[stage.name] = sorted(used - declared - {"PATH"})
    # assert
    assert all(names == [] for names in undeclared.values()), undeclared


def test_every_workspace_member_pyproject_is_copied() -> None:
    # arrange: uv resolves the workspace from every member's pyproject.toml
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members = {f"{m}/pyproject.toml" for m in root["tool"]["uv"]["workspace"]["members"]}
    # act
    copied = {s for args in stages()[0].args("COPY") for s in args.split()[:-1] if s.endswith("pyproject.toml")}
    # assert
    assert members <= copied


def _skaffold_builds() -> dict[str, tuple[str, dict[str, str]]]:
    config = load_yaml(ROOT / "skaffold.yaml")
    return {
        a["image"].removeprefix("algo-trade/"): (a["docker"]["dockerfile"], a["docker"].get("buildArgs", {}))
        for a in config["build"]["artifacts"]
    }


def _compose_builds() -> dict[str, tuple[str, dict[str, str]]]:
    services: dict[str, Any] = load_yaml(ROOT / "compose.yaml")["services"]
    return {
        name: (s["build"].get("dockerfile", "Dockerfile"), s["build"].get("args", {}))
        for name, s in services.items()
        if "build" in s
    }


def _tilt_builds() -> dict[str, tuple[str, dict[str, str]]]:
    return {
        call["ref"].removeprefix("algo-trade/"): (call.get("dockerfile", "Dockerfile"), call.get("build_args", {}))
        for call in tilt_calls()["docker_build"]
    }


@pytest.mark.parametrize(
    "builds", [_skaffold_builds, _compose_builds, _tilt_builds], ids=["skaffold", "compose", "tilt"]
)
def test_each_build_passes_the_service_its_package_module_and_port(builds: Any) -> None:
    # arrange
    expected = {image: ("Dockerfile", expected_build_args(module)) for image, module in IMAGES.items()}
    # act
    found = builds()
    # assert
    assert found == expected
