"""The metric names the services expose on /metrics, taken from their code and rendered by the real exporter.

Two sources, each run in a fresh process (the OpenTelemetry provider is global, one per process):
- ``code``: every ``create_counter`` / ``create_up_down_counter`` / ``create_histogram`` / ``create_gauge``
  (and ``create_observable_*``) call in libs/common and services/*/src, found in the syntax tree, whoever added
  it and wherever; each is created again with its name, kind and unit on the process's provider
  (``algo_common.telemetry.setup_metrics``: the services' reader and views), given one sample, and the
  Prometheus exposition is scraped: unit suffixes, ``_total`` and ``_bucket/_sum/_count`` come from the exporter
  itself, not from rules written here. Process CPU/memory (prometheus_client's process collector) come along.
- ``factories``: the services' own ``metrics.py`` factories are called, a sample is recorded on every
  instrument they return, and the exposition is scraped: a cross-check that the code scan misses nothing.
Usage: ``python -m tests.deploy.exposed_metrics code|factories`` prints a JSON list of sample names;
``exposition`` prints the factories' /metrics text (for ``promtool check metrics``).
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import importlib
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
SOURCES = [ROOT / "libs" / "common" / "src", *sorted((ROOT / "services").glob("*/src"))]
CREATE = {
    "create_counter": "counter",
    "create_up_down_counter": "up_down_counter",
    "create_histogram": "histogram",
    "create_gauge": "gauge",
    "create_observable_counter": "counter",
    "create_observable_up_down_counter": "up_down_counter",
    "create_observable_gauge": "gauge",
}
"""Meter method -> the synchronous kind that is exposed under the same name."""
SCRAPE_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
"""Series Prometheus adds to every scrape target itself."""


@dataclass(frozen=True)
class Instrument:
    name: str
    kind: str
    unit: str
    where: str


def _literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def instruments_in_code() -> tuple[list[Instrument], list[str]]:
    """(every instrument created in the services' code, creations whose name or unit is not a literal)."""
    found, unresolved = [], []
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in CREATE:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                keywords = {k.arg: k.value for k in node.keywords}
                name = _literal(node.args[0] if node.args else keywords.get("name"))
                unit = _literal(keywords["unit"]) if "unit" in keywords else ""
                if name is None or unit is None:
                    unresolved.append(where)
                else:
                    found.append(Instrument(name, CREATE[node.func.attr], unit, where))
    return found, unresolved


def _sample(instrument: Any) -> None:
    """One observation on a synchronous instrument, so the exporter shows it."""
    from opentelemetry.metrics import Counter, Histogram, UpDownCounter, _Gauge  # noqa: PLC0415

    if isinstance(instrument, Histogram):
        instrument.record(0.01)
    elif isinstance(instrument, Counter | UpDownCounter):
        instrument.add(1)
    elif isinstance(instrument, _Gauge):
        instrument.set(1)
    elif isinstance(instrument, collections.Counter):
        instrument[("BTCUSDT", "trade")] += 1  # a tally an observable counter reads: the collector's (symbol, kind)


def _exposition() -> str:
    from algo_common.telemetry import render_prometheus  # noqa: PLC0415

    body, _ = render_prometheus()
    return body.decode()


def _scrape() -> list[str]:
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    return sorted({s.name for family in text_string_to_metric_families(_exposition()) for s in family.samples})


def expose_code() -> list[str]:
    """Sample names of every instrument the code scan found (run in a fresh process)."""
    from algo_common.telemetry import get_meter, setup_metrics  # noqa: PLC0415

    setup_metrics("metric-names")
    meter = get_meter("metric-names")
    create = {
        "counter": meter.create_counter,
        "up_down_counter": meter.create_up_down_counter,
        "histogram": meter.create_histogram,
        "gauge": meter.create_gauge,
    }
    for instrument in instruments_in_code()[0]:
        _sample(create[instrument.kind](instrument.name, unit=instrument.unit))
    return _scrape()


def _record_factories() -> None:
    """Call the services' metrics.py factories and record a sample on every instrument they return."""
    from algo_common.telemetry import setup_metrics  # noqa: PLC0415

    setup_metrics("metric-names")
    for path in sorted((ROOT / "services").glob("*/src/*/metrics.py")):
        module = importlib.import_module(f"{path.parent.name}.metrics")
        for bundle in _factory_results(module):
            for field in dataclasses.fields(bundle):
                _sample(getattr(bundle, field.name))


def _factory_results(module: Any) -> list[Any]:
    """What the module's argument-less factories return: functions, and ``create`` classmethods."""
    results = []
    for _, member in inspect.getmembers(module):
        if getattr(member, "__module__", None) != module.__name__:
            continue
        factory = getattr(member, "create", None) if inspect.isclass(member) else member
        if callable(factory) and not inspect.isclass(factory) and _takes_no_arguments(factory):
            result = factory()
            if dataclasses.is_dataclass(result) and not isinstance(result, type):
                results.append(result)
    return results


def _takes_no_arguments(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters)


@cache
def _run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.deploy.exposed_metrics", mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def exposed(source: str) -> frozenset[str]:
    """Sample names from ``code`` or ``factories``, each computed in its own fresh interpreter."""
    return frozenset(json.loads(_run(source)))


def factories_exposition() -> str:
    """The /metrics text of the services' instruments (with their descriptions), from a fresh interpreter."""
    return _run("exposition")


def _main(mode: str) -> str:
    if mode == "code":
        return json.dumps(expose_code())
    _record_factories()
    return json.dumps(_scrape()) if mode == "factories" else _exposition()


if __name__ == "__main__":
    sys.stdout.write(_main(sys.argv[1]))
