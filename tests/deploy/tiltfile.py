"""The Tiltfile's recorded calls, from deploy/checks/tiltfile.py (Starlark with stub Tilt builtins).

That script needs starlark-pyo3 and helm from the deploy tools (``./dev test`` installs them); without them
the tests that ask skip, saying so.
"""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from typing import Any

from tests.deploy.chart import ROOT, require_tools


@cache
def tilt_calls() -> dict[str, list[dict[str, Any]]]:
    """Builtin name -> the arguments of each call, when the Tiltfile runs with its default config."""
    helm, python = require_tools()
    done = subprocess.run(
        [str(python), str(ROOT / "deploy" / "checks" / "tiltfile.py"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=os.environ | {"HELM": str(helm)},
    )
    assert done.returncode == 0, done.stderr
    calls: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    return calls
