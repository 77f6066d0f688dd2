"""Cross-references of skaffold.yaml that its JSON schema cannot see.

Reads skaffold.yaml as JSON on stdin (run.sh converts it) and checks: the chart, values files, build
contexts, Dockerfiles and the service a MODULE build arg names exist, and every built image is handed to the
chart through a ``setValueTemplates`` entry (else the cluster would run an old image). Exit 1 on any problem.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any


def _template_key(image: str) -> str:
    """skaffold's template variable of an image: non-alphanumerics become underscores."""
    return "IMAGE_FULLY_QUALIFIED_" + re.sub(r"[^A-Za-z0-9]", "_", image)


def problems(config: dict[str, Any], root: Path) -> list[str]:
    found = []
    artifacts = config["build"]["artifacts"]
    for artifact in artifacts:
        context = root / artifact["context"]
        if not (context / artifact["docker"]["dockerfile"]).is_file():
            found.append(f"{artifact['image']}: Dockerfile {artifact['docker']['dockerfile']} does not exist")
        module = artifact["docker"].get("buildArgs", {}).get("MODULE", "")
        if not (context / "services" / module / "src" / module).is_dir():
            found.append(f"{artifact['image']}: build arg MODULE={module!r} is not a service under services/")
    for release in config["manifests"]["helm"]["releases"]:
        paths = [release["chartPath"], *release.get("valuesFiles", [])]
        found += [f"{release['name']}: {path} does not exist" for path in paths if not (root / path).exists()]
        templates = " ".join(release.get("setValueTemplates", {}).values())
        found += [
            f"{release['name']}: image {a['image']} is built but not passed to the chart ({_template_key(a['image'])})"
            for a in artifacts
            if "{{." + _template_key(a["image"]) + "}}" not in templates
        ]
    return found


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path()
    found = problems(json.load(sys.stdin), root)
    for line in found:
        print(line)
    print(f"skaffold.yaml cross-references: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
