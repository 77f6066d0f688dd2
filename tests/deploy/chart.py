"""Render the Helm chart with the real helm binary and read the manifests back as plain data.

helm and the deploy tools' Python (its PyYAML turns the rendered YAML into JSON) are installed by
``./dev test`` under ``.run/tools``; without them these tests skip, saying so, and the rest of the suite runs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[2]
CHART = ROOT / "charts" / "algo-trade"
TOOLS = ROOT / ".run" / "tools"
DEV_VALUES = CHART / "values-dev.yaml"
PRODUCTION_VALUES = CHART / "values-production.yaml"
VALUES_FILES: dict[str, Path | None] = {"default": None, "dev": DEV_VALUES, "production": PRODUCTION_VALUES}
"""Every values file the chart ships, by name (default = values.yaml alone)."""

PIPELINE = {"collector": "COLLECTOR", "processor": "PROCESSOR", "trader": "TRADER", "exchange-sim": "SIM"}
"""Pipeline components (the app.kubernetes.io/component label) and their env prefixes."""
HTTP_PORT_ENV = {"collector": "COLLECTOR_HTTP_PORT", "processor": "PROCESSOR_HTTP_PORT"}
HTTP_PORT_ENV |= {"trader": "TRADER_HTTP_PORT", "exchange-sim": "SIM_PORT"}

_TO_JSON = "import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)"

Manifest = dict[str, Any]


class RenderError(Exception):
    """helm refused to render; the message is helm's."""


def helm_binary() -> Path | None:
    """``.run/tools/bin/helm`` (what ./dev installs), else a helm on PATH."""
    local = TOOLS / "bin" / "helm"
    if local.is_file():
        return local
    found = shutil.which("helm")
    return Path(found) if found else None


def yaml_python() -> Path | None:
    python = TOOLS / "deploy-venv" / "bin" / "python"
    return python if python.is_file() else None


def require_tools() -> tuple[Path, Path]:
    """helm and the YAML-reading Python, or skip the test with the reason."""
    helm, python = helm_binary(), yaml_python()
    if helm is None or python is None:
        pytest.skip("deploy tools not installed (helm, .run/tools/deploy-venv): `./dev test` installs them")
    return helm, python


@cache
def render_text(
    values: Path | None = None,
    sets: tuple[str, ...] = (),
    api_versions: tuple[str, ...] = (),
    chart: Path = CHART,
    show_only: str | None = None,
) -> str:
    """The chart as ``helm template algo-trade`` renders it (namespace algo-trade, Kubernetes 1.32)."""
    helm, _ = require_tools()
    args = [str(helm), "template", "algo-trade", str(chart), "--namespace", "algo-trade", "--kube-version", "1.32.0"]
    if show_only is not None:
        args += ["--show-only", show_only]
    if values is not None:
        args += ["-f", str(values)]
    for item in sets:
        args += ["--set", item]
    for api in api_versions:
        args += ["--api-versions", api]
    done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
    if done.returncode != 0:
        raise RenderError(done.stderr.strip())
    return done.stdout


def to_manifests(text: str) -> list[Manifest]:
    _, python = require_tools()
    done = subprocess.run([str(python), "-c", _TO_JSON], input=text, capture_output=True, text=True, check=True)
    manifests: list[Manifest] = json.loads(done.stdout)
    return manifests


def load_yaml(path: Path) -> Any:
    """One YAML document as plain data, read by the tools venv's PyYAML."""
    return to_manifests(path.read_text())[0]


@cache
def _render_json(values: Path | None, sets: tuple[str, ...], api_versions: tuple[str, ...]) -> str:
    return json.dumps(to_manifests(render_text(values, sets, api_versions)))


def render(values: Path | None = None, *sets: str, api_versions: tuple[str, ...] = ()) -> Rendered:
    """Render and parse; each call returns fresh objects (tests may not share mutations)."""
    return Rendered(json.loads(_render_json(values, sets, api_versions)))


@dataclass(frozen=True)
class Container:
    """One container of one workload, with what the tests ask about it."""

    workload: Manifest
    spec: Manifest
    init: bool

    @property
    def component(self) -> str:
        return str(self.workload["metadata"]["labels"]["app.kubernetes.io/component"])

    @property
    def name(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}/{self.spec['name']}"

    @property
    def pod(self) -> Manifest:
        pod: Manifest = self.workload["spec"]["template"]["spec"]
        return pod


@dataclass(frozen=True)
class Rendered:
    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest:
        matches = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    def workloads(self) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] in ("Deployment", "StatefulSet")]

    def workloads_of(self, component: str) -> list[Manifest]:
        return [w for w in self.workloads() if w["metadata"]["labels"]["app.kubernetes.io/component"] == component]

    def containers(self, *, init: bool = True) -> Iterator[Container]:
        for workload in self.workloads():
            pod = workload["spec"]["template"]["spec"]
            for spec in pod["containers"]:
                yield Container(workload, spec, init=False)
            if init:
                for spec in pod.get("initContainers", []):
                    yield Container(workload, spec, init=True)

    def environment(self, container: Container) -> tuple[dict[str, str], dict[str, Manifest]]:
        """(plain values from env and envFrom ConfigMaps, valueFrom sources by name) of a container."""
        plain: dict[str, str] = {}
        for source in container.spec.get("envFrom", []):
            plain |= self.named("ConfigMap", source["configMapRef"]["name"]).get("data", {})
        refs: dict[str, Manifest] = {}
        for entry in container.spec.get("env", []):
            if "valueFrom" in entry:
                refs[entry["name"]] = entry["valueFrom"]
            else:
                plain[entry["name"]] = entry["value"]
        return plain, refs
