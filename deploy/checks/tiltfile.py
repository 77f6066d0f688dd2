"""Run the Tiltfile offline: Starlark (starlark-pyo3) with stub Tilt builtins that record their calls.

No tilt binary exists for this machine, so the Tiltfile is parsed, linted and executed with stubs that keep
Tilt's real parameter names (an unknown keyword argument or an undefined name fails, with line and column).
Then the recorded calls are checked against the repository, for each ``config`` variant (default, --binance):
- docker_build: context, Dockerfile and target stage exist; every build arg is an ARG of the Dockerfile;
- live_update: every synced or fall-back path exists;
- helm: the chart is rendered with the real helm and the recorded values/set, and every ``k8s_resource``
  names a rendered workload, forwards a port its container listens on and depends on resources that exist;
- every image built is used by a rendered container, and every service container's image is built.
Usage (the deploy tools' venv, helm from .run/tools): ``python deploy/checks/tiltfile.py [--json] [Tiltfile]``;
``--json`` prints the calls of the default variant (tests/deploy reads them).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import starlark as sl
import yaml

ROOT = Path(__file__).resolve().parents[2]
HELM = os.environ.get("HELM", str(ROOT / ".run" / "tools" / "bin" / "helm"))
PRELUDE = """
config = struct(define_bool=_config_define_bool, define_string=_config_define_string,
                define_string_list=_config_define_string_list, parse=_config_parse)
os = struct(getenv=_os_getenv, path=struct(join=_os_path_join, exists=_os_path_exists))
"""
EXTENSIONS = {"ext://restart_process": ["docker_build_with_restart", "custom_build_with_restart"]}


class Recorder:
    """Stub builtins with Tilt's parameter names; each call is kept as a dict of its arguments."""

    def __init__(self, flags: dict[str, Any]) -> None:
        self.flags = flags
        self.calls: dict[str, list[dict[str, Any]]] = {}

    def _record(self, kind: str, **args: Any) -> dict[str, Any]:
        self.calls.setdefault(kind, []).append(args)
        return args

    def docker_build(
        self,
        ref: str,
        context: str,
        build_args: dict[str, str] | None = None,
        dockerfile: str = "Dockerfile",
        dockerfile_contents: str = "",
        live_update: list[Any] | None = None,
        match_in_env_vars: bool = False,
        ignore: list[str] | None = None,
        only: list[str] | None = None,
        entrypoint: list[str] | None = None,
        target: str = "",
        ssh: str = "",
        network: str = "",
        secret: str = "",
        extra_tag: str = "",
        container_args: list[str] | None = None,
        cache_from: list[str] | None = None,
        pull: bool = False,
        platform: str = "",
    ) -> None:
        self._record(
            "docker_build",
            ref=ref,
            context=context,
            build_args=dict(build_args or {}),
            dockerfile=dockerfile,
            target=target,
            entrypoint=list(entrypoint or []),
            live_update=list(live_update or []),
        )

    def docker_build_with_restart(
        self,
        ref: str,
        context: str,
        entrypoint: list[str] | str,
        live_update: list[Any],
        base_suffix: str = "-tilt_docker_build_with_restart_base",
        restart_file: str = "/tmp/.restart-proc",  # noqa: S108 - Tilt's default
        trigger: list[str] | None = None,
        exit_policy: str = "restart",
        **kwargs: Any,
    ) -> None:
        """ext://restart_process: a docker_build whose container restarts after each live update."""
        entry = [entrypoint] if isinstance(entrypoint, str) else list(entrypoint)
        self.docker_build(ref, context, entrypoint=entry, live_update=live_update, **kwargs)

    def sync(self, local_path: str, remote_path: str) -> dict[str, Any]:
        return {"step": "sync", "local_path": local_path, "remote_path": remote_path}

    def run(
        self, cmd: str | list[str], trigger: list[str] | str | None = None, echo_off: bool = False
    ) -> dict[str, Any]:
        return {"step": "run", "cmd": cmd}

    def fall_back_on(self, files: list[str] | str) -> dict[str, Any]:
        return {"step": "fall_back_on", "files": [files] if isinstance(files, str) else list(files)}

    def helm(
        self,
        paths: str,
        name: str = "",
        namespace: str = "",
        values: list[str] | str | None = None,
        set: list[str] | str | None = None,
        kube_version: str = "",
        skip_crds: bool = False,
    ) -> str:
        values = [values] if isinstance(values, str) else list(values or [])
        sets = [set] if isinstance(set, str) else list(set or [])
        self._record("helm", paths=paths, name=name, namespace=namespace, values=values, set=sets)
        args = [HELM, "template", name or "chart", paths, "--kube-version", "1.32.0"]
        args += ["--namespace", namespace] if namespace else []
        for file in values:
            args += ["-f", file]
        for item in sets:
            args += ["--set", item]
        done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603 - our helm
        if done.returncode != 0:
            raise ValueError(f"helm template failed: {done.stderr.strip()}")
        return done.stdout

    def k8s_yaml(self, yaml: str | list[str], allow_duplicates: bool = False) -> None:
        for item in [yaml] if isinstance(yaml, str) else yaml:
            self._record("k8s_yaml", yaml=item)

    def k8s_resource(
        self,
        workload: str = "",
        new_name: str = "",
        port_forwards: list[str] | str | int | None = None,
        extra_pod_selectors: list[dict[str, str]] | None = None,
        trigger_mode: int = 0,
        resource_deps: list[str] | None = None,
        objects: list[str] | None = None,
        auto_init: bool = True,
        pod_readiness: str = "",
        links: list[str] | None = None,
        labels: list[str] | str | None = None,
        discovery_strategy: str = "",
    ) -> None:
        forwards = port_forwards if isinstance(port_forwards, list) else [port_forwards] if port_forwards else []
        self._record(
            "k8s_resource",
            workload=workload,
            port_forwards=[str(f) for f in forwards],
            resource_deps=list(resource_deps or []),
        )

    def allow_k8s_contexts(self, contexts: list[str] | str) -> None:
        self._record("allow_k8s_contexts", contexts=contexts)

    def local_resource(
        self,
        name: str,
        cmd: str | list[str] = "",
        deps: list[str] | str | None = None,
        trigger_mode: int = 0,
        resource_deps: list[str] | None = None,
        ignore: list[str] | str | None = None,
        auto_init: bool = True,
        serve_cmd: str | list[str] = "",
        cmd_bat: str | list[str] = "",
        serve_cmd_bat: str | list[str] = "",
        allow_parallel: bool = False,
        links: list[str] | None = None,
        labels: list[str] | str | None = None,
        env: dict[str, str] | None = None,
        serve_env: dict[str, str] | None = None,
        readiness_probe: Any = None,
        dir: str = "",
        serve_dir: str = "",
    ) -> None:
        deps = [deps] if isinstance(deps, str) else list(deps or [])
        self._record("local_resource", name=name, cmd=cmd, deps=deps, resource_deps=list(resource_deps or []))

    def watch_file(self, path: str) -> None:
        self._record("watch_file", path=path)

    def read_file(self, path: str, default: str | None = None) -> str:
        file = ROOT / path
        return file.read_text() if file.exists() or default is None else default

    def _config_define_bool(self, name: str, args: bool = False, usage: str = "") -> None:
        pass

    def _config_define_string(self, name: str, args: bool = False, usage: str = "") -> None:
        pass

    def _config_define_string_list(self, name: str, args: bool = False, usage: str = "") -> None:
        pass

    def _config_parse(self) -> dict[str, Any]:
        return dict(self.flags)

    def _os_getenv(self, key: str, default: str | None = None) -> str | None:
        return os.environ.get(key, default)

    def _os_path_join(self, *parts: str) -> str:
        return str(Path(*parts))

    def _os_path_exists(self, path: str) -> bool:
        return (ROOT / path).exists()


BUILTINS = [
    "docker_build",
    "sync",
    "run",
    "fall_back_on",
    "helm",
    "k8s_yaml",
    "k8s_resource",
    "allow_k8s_contexts",
    "local_resource",
    "watch_file",
    "read_file",
    "_config_define_bool",
    "_config_define_string",
    "_config_define_string_list",
    "_config_parse",
    "_os_getenv",
    "_os_path_join",
    "_os_path_exists",
]


def execute(tiltfile: Path, flags: dict[str, Any]) -> Recorder:
    """Evaluate the Tiltfile with the stubs; raises starlark.StarlarkError with line and column."""
    recorder = Recorder(flags)
    globals_ = sl.Globals.extended_by([sl.LibraryExtension.StructType, sl.LibraryExtension.Print])
    module = sl.Module()
    for name in BUILTINS:
        module.add_callable(name, getattr(recorder, name))
    sl.eval(module, sl.parse("prelude", PRELUDE, sl.Dialect.extended()), globals_)

    def load(spec: str) -> sl.FrozenModule:
        ext = sl.Module()
        for symbol in EXTENSIONS.get(spec, []):
            ext.add_callable(symbol, getattr(recorder, symbol, recorder.docker_build_with_restart))
        if spec not in EXTENSIONS:
            raise ValueError(f"unknown extension {spec}: add its stub to deploy/checks/tiltfile.py")
        return ext.freeze()

    ast = sl.parse(str(tiltfile), tiltfile.read_text(), sl.Dialect.extended())
    lints = [str(lint) for lint in ast.lint()]
    if lints:
        raise ValueError("lint: " + "; ".join(lints))
    sl.eval(module, ast, globals_, sl.FileLoader(load))
    return recorder


def dockerfile_facts(path: Path) -> tuple[set[str], set[str]]:
    """(stage names, ARG names) of a Dockerfile."""
    text = path.read_text()
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.MULTILINE | re.IGNORECASE))
    args = {a.split("=")[0] for a in re.findall(r"^ARG\s+(\S+)", text, re.MULTILINE)}
    return stages, args


def _build_problems(build: dict[str, Any]) -> list[str]:
    ref, context = build["ref"], ROOT / build["context"]
    dockerfile = context / build["dockerfile"]
    if not dockerfile.is_file():
        return [f"{ref}: Dockerfile {dockerfile} does not exist"]
    stages, declared = dockerfile_facts(dockerfile)
    found = [f"{ref}: build arg {a} is not an ARG of the Dockerfile" for a in build["build_args"] if a not in declared]
    if build["target"] and build["target"] not in stages:
        found.append(f"{ref}: target {build['target']} is not a stage of the Dockerfile")
    for step in build["live_update"]:
        paths = [step["local_path"]] if step["step"] == "sync" else step.get("files", [])
        found += [f"{ref}: live_update path {p} does not exist" for p in paths if not (ROOT / p).exists()]
    return found


def _manifests(recorder: Recorder) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for call in recorder.calls.get("k8s_yaml", []):
        text = call["yaml"]
        if "\n" not in text:  # a path, not rendered YAML
            if not (ROOT / text).is_file():
                raise ValueError(f"k8s_yaml: {text} does not exist")
            text = (ROOT / text).read_text()
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def problems(recorder: Recorder) -> list[str]:
    builds = recorder.calls.get("docker_build", [])
    found = [p for build in builds for p in _build_problems(build)]
    for call in recorder.calls.get("helm", []):
        paths = [call["paths"], *call["values"]]
        found += [f"helm: {p} does not exist" for p in paths if not (ROOT / p).exists()]
    workloads = {
        d["metadata"]["name"]: d
        for d in _manifests(recorder)
        if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")
    }
    images = {
        c["image"].split("@")[0].rsplit(":", 1)[0]: name
        for name, w in workloads.items()
        for c in w["spec"]["template"]["spec"]["containers"]
    }
    found += [f"{b['ref']} is built but no rendered container uses it" for b in builds if b["ref"] not in images]
    built = {b["ref"] for b in builds}
    found += [
        f"{w}: image {i} is not built" for i, w in images.items() if i.startswith("algo-trade/") and i not in built
    ]
    local = {call["name"] for call in recorder.calls.get("local_resource", [])}
    if not recorder.calls.get("k8s_resource"):
        found.append("no k8s_resource: nothing is port-forwarded")
    for call in recorder.calls.get("k8s_resource", []):
        workload = workloads.get(call["workload"])
        if workload is None:
            found.append(f"k8s_resource {call['workload']}: no such rendered workload")
            continue
        ports = {
            p["containerPort"] for c in workload["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])
        }
        for forward in call["port_forwards"]:
            if int(forward.split(":")[-1]) not in ports:
                found.append(f"k8s_resource {call['workload']}: port_forward {forward} to a port it does not listen on")
        found += [
            f"k8s_resource {call['workload']}: dependency {d} is not a resource"
            for d in call["resource_deps"]
            if d not in workloads and d not in local
        ]
    for call in recorder.calls.get("local_resource", []):
        found += [
            f"local_resource {call['name']}: dep {d} does not exist" for d in call["deps"] if not (ROOT / d).exists()
        ]
    return found


VARIANTS: dict[str, dict[str, Any]] = {"default": {}, "--binance": {"binance": True}}


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--json"]
    tiltfile = Path(args[0]) if args else ROOT / "Tiltfile"
    failed = False
    for variant, flags in VARIANTS.items():
        try:
            recorder = execute(tiltfile, flags)
            found = problems(recorder)
        except (sl.StarlarkError, ValueError, TypeError) as e:
            found, recorder = [str(e)], None
        for line in found:
            print(f"{variant}: {line}", file=sys.stderr)
        failed = failed or bool(found)
        if recorder is not None and variant == "default" and "--json" in sys.argv:
            json.dump(recorder.calls, sys.stdout, default=str)
        elif recorder is not None and not found:
            counts = {kind: len(calls) for kind, calls in recorder.calls.items()}
            print(f"Tiltfile ({variant}): {counts}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
