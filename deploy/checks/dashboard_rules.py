"""Every PromQL expression of Grafana dashboards as a Prometheus rule file, for ``promtool check rules``.

promtool 2.42 has no stand-alone PromQL check, so each panel target becomes a recording rule (label ``src``:
file#panelId/refId) after Grafana's variables are replaced by literals of the right type. JSON is YAML, so
the output is printed as JSON. A dashboard without any expression is an error (the check would pass vacuously).
Usage: ``python3 deploy/checks/dashboard_rules.py DASHBOARD.json... > rules.yaml && promtool check rules rules.yaml``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_VARIABLE = re.compile(r"\$\{[A-Za-z0-9_]+(?::[A-Za-z0-9_]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[A-Za-z0-9_]+\]\]")


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in (collapsed) rows."""
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def to_promql(expr: str) -> str:
    """The expression with Grafana's interval variables as durations and other variables as a literal."""
    for name, value in _INTERVALS.items():
        expr = expr.replace(name, value).replace("${" + name[1:] + "}", value)
    return _VARIABLE.sub("grafana_variable", expr)


def rules(path: Path) -> list[dict[str, Any]]:
    dashboard = json.loads(path.read_text())
    return [
        {
            "record": "dashboard:check",
            "expr": to_promql(target["expr"]),
            "labels": {"src": f"{path.name}#{p['id']}/{target['refId']}"},
        }
        for p in panels(dashboard.get("panels", []))
        for target in p.get("targets", [])
        if target.get("expr")
    ]


def main() -> int:
    found = [rule for arg in sys.argv[1:] for rule in rules(Path(arg))]
    if not found:
        print("no PromQL expression found", file=sys.stderr)
        return 1
    json.dump({"groups": [{"name": "dashboard-expressions", "rules": found}]}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
