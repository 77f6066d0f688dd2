"""Cross-references of compose.yaml that its JSON schema cannot see.

Reads compose.yaml as JSON on stdin (run.sh converts it) and checks: every ``depends_on`` names a
service, every named volume is declared, every bind-mount source, build context, Dockerfile and the
service a MODULE build arg names exists, and no service publishes a port another already publishes.
Prints one line per problem; exit 1 if any.
Usage: ``python -c '<yaml to json>' < compose.yaml | python3 deploy/checks/compose_refs.py [ROOT]``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _depends_on(name: str, service: dict[str, Any], services: set[str]) -> list[str]:
    wanted = service.get("depends_on", [])
    targets = list(wanted) if isinstance(wanted, dict | list) else []
    return [f"{name}: depends_on {t!r} is not a service" for t in targets if t not in services]


def _volumes(name: str, service: dict[str, Any], declared: set[str], root: Path) -> list[str]:
    problems = []
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else str(volume.get("source", ""))
        if source.startswith((".", "/")):
            if not (root / source).exists():
                problems.append(f"{name}: bind-mount source {source} does not exist")
        elif source and source not in declared:
            problems.append(f"{name}: volume {source!r} is not declared under volumes:")
    return problems


def _build(name: str, service: dict[str, Any], root: Path) -> list[str]:
    build = service.get("build")
    if build is None:
        return []
    context = root / (build if isinstance(build, str) else build.get("context", "."))
    dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
    found = [] if dockerfile.is_file() else [f"{name}: Dockerfile {dockerfile} does not exist"]
    module = "" if isinstance(build, str) else str(build.get("args", {}).get("MODULE", ""))
    if not (context / "services" / module / "src" / module).is_dir():
        found.append(f"{name}: build arg MODULE={module!r} is not a service under services/")
    return found


def _host_ports(services: dict[str, dict[str, Any]]) -> list[str]:
    owners: dict[str, str] = {}
    problems = []
    for name, service in services.items():
        for port in service.get("ports", []):
            host = str(port).rsplit(":", 1)[0] if ":" in str(port) else str(port)
            if host in owners:
                problems.append(f"{name}: host port {host} is already published by {owners[host]}")
            owners[host] = name
    return problems


def problems(compose: dict[str, Any], root: Path) -> list[str]:
    services: dict[str, dict[str, Any]] = compose.get("services", {})
    declared = set(compose.get("volumes") or {})
    found = []
    for name, service in services.items():
        found += _depends_on(name, service, set(services))
        found += _volumes(name, service, declared, root)
        found += _build(name, service, root)
    return found + _host_ports(services)


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path()
    found = problems(json.load(sys.stdin), root)
    for line in found:
        print(line)
    print(f"compose.yaml cross-references: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
