"""Validate the custom resources of rendered manifests against their CRD schemas (kubernetes-validate has none).

Prometheus Operator (ServiceMonitor, PrometheusRule) and KEDA (ScaledObject, TriggerAuthentication) resources
are checked with the pydantic models of PyPI ``cloudcoil-models-prometheus-operator`` / ``cloudcoil-models-keda``
(generated from the CRDs: types, required fields, enums). The models ignore unknown keys, so every key of the
manifest that the validated model does not give back is reported as unknown too (a typo like ``intervall``).
``--expect`` names kinds that must be present, so a render that lost them does not pass vacuously.
Usage (the deploy tools' venv): ``python deploy/checks/crds.py [--expect Kind,Kind] RENDERED.yaml...``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from cloudcoil.models.keda.v1alpha1 import ScaledObject, TriggerAuthentication
from cloudcoil.models.prometheus_operator.v1 import PodMonitor, PrometheusRule, ServiceMonitor
from pydantic import BaseModel, ValidationError

MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ServiceMonitor,
    ("monitoring.coreos.com/v1", "PodMonitor"): PodMonitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): PrometheusRule,
    ("keda.sh/v1alpha1", "ScaledObject"): ScaledObject,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): TriggerAuthentication,
}


def unknown_keys(given: Any, kept: Any, path: str = "") -> list[str]:
    """Keys of ``given`` that the validated model dropped (``kept`` is its dump), as dotted paths."""
    if isinstance(given, dict) and isinstance(kept, dict):
        found = [f"{path}.{key}".lstrip(".") for key in given if key not in kept]
        for key in given.keys() & kept.keys():
            found += unknown_keys(given[key], kept[key], f"{path}.{key}")
        return found
    if isinstance(given, list) and isinstance(kept, list):
        return [
            k for i, (g, d) in enumerate(zip(given, kept, strict=False)) for k in unknown_keys(g, d, f"{path}[{i}]")
        ]
    return []


def problems(doc: dict[str, Any], model: type[BaseModel]) -> list[str]:
    try:
        validated = model.model_validate(doc)
    except ValidationError as e:
        return [f"{err['loc']}: {err['msg']}" for err in e.errors()]
    kept = validated.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return [f"unknown field {key}" for key in unknown_keys(doc, kept)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expect", default="", help="comma-separated kinds that must be present")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    failed, seen = 0, set()
    for file in args.files:
        for doc in yaml.safe_load_all(file.read_text()):
            model = MODELS.get((doc.get("apiVersion"), doc.get("kind"))) if isinstance(doc, dict) else None
            if model is None:
                continue
            seen.add(doc["kind"])
            name = f"{file.name}: {doc['kind']}/{doc.get('metadata', {}).get('name')}"
            found = problems(doc, model)
            failed += bool(found)
            print(f"{'FAIL' if found else 'ok  '} {name}" + "".join(f"\n     {p}" for p in found))
    missing = {k for k in args.expect.split(",") if k} - seen
    if missing:
        print(f"expected kinds not rendered: {', '.join(sorted(missing))}")
    return 1 if failed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
