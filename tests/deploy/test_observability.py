"""The dashboard and the alerts point at metrics the services really expose, and ship with the chart.

Metric names come from the code (tests/deploy/exposed_metrics.py: every instrument created in the services'
source, rendered by the real OpenTelemetry Prometheus exporter and scraped), never from a list kept here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from algo_common.streams import SIGNALS_STREAM, TRADER_GROUP
from tests.deploy.chart import (
    CHART,
    DEV_VALUES,
    PRODUCTION_VALUES,
    ROOT,
    VALUES_FILES,
    load_yaml,
    render,
)
from tests.deploy.exposed_metrics import SCRAPE_SERIES, exposed, factories_exposition, instruments_in_code

DASHBOARDS = sorted((CHART / "files" / "dashboards").glob("*.json"))
ALERTS = CHART / "files" / "prometheus" / "alerts.yaml"
ALERT_TESTS = sorted((ROOT / "deploy" / "checks").glob("alerts*_test.yaml"))
OPERATOR = ("monitoring.coreos.com/v1",)
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless"}
_KEYWORDS |= {"offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (not functions, keywords, labels or durations)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![0-9.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("(") or match.group().lower() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def dashboard_exprs() -> dict[str, str]:
    """file#panel/refId -> PromQL of every dashboard target."""
    return {
        f"{path.name}#{panel['id']}/{target['refId']}": target["expr"]
        for path in DASHBOARDS
        for panel in panels(json.loads(path.read_text())["panels"])
        for target in panel.get("targets", [])
    }


def alert_rules() -> dict[str, dict[str, Any]]:
    groups: list[dict[str, Any]] = load_yaml(ALERTS)["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (job, le) (rate(a_seconds_bucket{job=~"x|y"}[5m]))', {"a_seconds_bucket"}),
        ("histogram_quantile(0.99, b) > 2.5 and on () c or vector(0)", {"b", "c"}),
        ('up{job="collector"} == 1 unless on (job, instance) d_total', {"up", "d_total"}),
        ("deriv(e[10m]) > 0", {"e"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    # act / assert
    assert metric_names(expr) == names


def test_the_code_scan_resolves_every_instrument() -> None:
    # act
    found, unresolved = instruments_in_code()
    # assert: an instrument named by a variable could not be checked
    assert unresolved == []
    assert {i.name.split("_")[0] for i in found} >= {"collector", "processor", "trader"}


def test_the_code_scan_sees_every_instrument_the_metric_factories_create() -> None:
    # arrange / act
    from_code, from_factories = exposed("code"), exposed("factories")
    # assert
    assert from_factories - from_code == set()
    assert "processor_signal_latency_seconds_bucket" in from_code, "unit suffix and histogram series"
    assert "trader_orders_total" in from_code, "counter suffix"
    assert "process_resident_memory_bytes" in from_code, "process memory of every service"


def test_the_services_metrics_pass_promtool_check_metrics() -> None:
    # arrange
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) not installed: `./dev test` installs it")
    text = factories_exposition()
    # act: naming lint (snake_case, base units, counters' _total, help text)
    done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    # assert
    assert "collector_events_received_total" in text
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_metric_the_dashboard_uses_is_exposed_by_a_service() -> None:
    # arrange
    known = exposed("code") | SCRAPE_SERIES
    exprs = dashboard_exprs()
    # act
    missing = {src: sorted(metric_names(expr) - known) for src, expr in exprs.items()}
    # assert
    assert len(exprs) >= 20
    assert {src: names for src, names in missing.items() if names} == {}


def test_every_metric_an_alert_uses_is_exposed_by_a_service() -> None:
    # arrange
    known = exposed("code") | SCRAPE_SERIES
    rules = alert_rules()
    # act
    missing = {name: sorted(metric_names(rule["expr"]) - known) for name, rule in rules.items()}
    # assert
    assert len(rules) >= 10
    assert {name: names for name, names in missing.items() if names} == {}


def test_every_alert_has_a_unit_test_that_fires_it_on_exposed_series() -> None:
    # arrange
    known = exposed("code") | SCRAPE_SERIES
    tests = [test for path in ALERT_TESTS for test in load_yaml(path)["tests"]]
    # act
    fired = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    series = {s["series"].split("{")[0] for test in tests for s in test["input_series"]}
    # assert
    assert set(alert_rules()) - fired == set()
    assert series - known == set(), "unit tests must feed series the services expose"


def test_every_alert_has_a_severity_and_a_summary() -> None:
    # act / assert
    for name, rule in alert_rules().items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"], name
        assert name.startswith("AlgoTrade"), name


def test_dashboard_panels_have_unique_ids_no_overlap_and_the_datasource_variable() -> None:
    for path in DASHBOARDS:
        # arrange
        dashboard = json.loads(path.read_text())
        items = list(panels(dashboard["panels"]))
        # act
        cells = [
            (x, y)
            for p in items
            for x in range(p["gridPos"]["x"], p["gridPos"]["x"] + p["gridPos"]["w"])
            for y in range(p["gridPos"]["y"], p["gridPos"]["y"] + p["gridPos"]["h"])
        ]
        variables = {v["name"] for v in dashboard["templating"]["list"]}
        # assert
        assert len({p["id"] for p in items}) == len(items), path.name
        assert len(set(cells)) == len(cells), f"{path.name}: panels overlap"
        assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in items)
        assert dashboard["uid"]
        assert "datasource" in variables
        for panel in items:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
                assert panel["targets"], panel["title"]


def test_the_dashboard_covers_every_service() -> None:
    # arrange
    used = {name for expr in dashboard_exprs().values() for name in metric_names(expr)}
    # act
    prefixes = {name.split("_")[0] for name in used}
    # assert
    assert {"collector", "processor", "trader", "process", "up"} <= prefixes
    for metric in (
        "collector_events_received_total",
        "collector_book_resyncs_total",
        "collector_gaps_total",
        "collector_queue_depth",
        "processor_signal_latency_seconds_bucket",
        "processor_signals_total",
        "trader_orders_total",
        "trader_fills_total",
        "trader_signals_rejected_total",
        "trader_realized_pnl",
        "trader_position_qty",
    ):
        assert metric in used, metric


@pytest.mark.parametrize("values", list(VALUES_FILES.values()), ids=list(VALUES_FILES))
def test_the_chart_ships_the_dashboard_for_the_grafana_sidecar(values: Path | None) -> None:
    # arrange / act
    rendered = render(values)
    config_map = rendered.named("ConfigMap", "algo-trade-dashboard")
    # assert
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["algo-trade.json"]) == json.loads(DASHBOARDS[0].read_text())


def test_the_prometheus_rule_carries_the_alert_file_where_the_operator_exists() -> None:
    # arrange / act
    without = render(None).of_kind("PrometheusRule")
    rules = render(PRODUCTION_VALUES, api_versions=OPERATOR).of_kind("PrometheusRule")
    disabled = render(None, "metrics.prometheusRule.enabled=false", api_versions=OPERATOR).of_kind("PrometheusRule")
    # assert
    assert without == disabled == []
    assert len(rules) == 1
    assert rules[0]["spec"] == load_yaml(ALERTS)
    assert rules[0]["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_service_monitors_name_the_jobs_the_alerts_and_compose_use() -> None:
    # arrange
    monitors = render(None, api_versions=OPERATOR).of_kind("ServiceMonitor")
    services = {s["metadata"]["name"]: s for s in render(None).of_kind("Service")}
    compose_jobs = {
        job["job_name"] for job in load_yaml(ROOT / "deploy" / "compose" / "prometheus.yml")["scrape_configs"]
    }
    # act
    jobs = {
        services[f"algo-trade-{m['metadata']['name'].split('-')[-1]}"]["metadata"]["labels"][m["spec"]["jobLabel"]]
        for m in monitors
    }
    # assert
    assert jobs == compose_jobs == {"collector", "processor", "trader"}
    assert 'job=~"collector|processor|trader"' in alert_rules()["AlgoTradeServiceDown"]["expr"]


def test_keda_is_off_by_default() -> None:
    # act / assert
    for values in VALUES_FILES.values():
        assert render(values).of_kind("ScaledObject") == []


def test_keda_scales_the_trader_on_its_consumer_group_and_replaces_the_cpu_hpa() -> None:
    # arrange / act
    rendered = render(PRODUCTION_VALUES, "trader.keda.enabled=true")
    scaled = rendered.named("ScaledObject", "algo-trade-trader")["spec"]
    auth = rendered.named("TriggerAuthentication", "algo-trade-trader-redis")["spec"]
    streams = next(t for t in scaled["triggers"] if t["type"] == "redis-streams")
    trader = rendered.named("Deployment", "algo-trade-trader")
    # assert
    assert scaled["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "algo-trade-trader"}
    assert streams["metadata"]["stream"] == SIGNALS_STREAM
    assert streams["metadata"]["consumerGroup"] == TRADER_GROUP
    assert streams["metadata"]["address"] == "algo-trade-redis.algo-trade.svc:6379"
    assert streams["authenticationRef"]["name"] == "algo-trade-trader-redis"
    assert auth["secretTargetRef"] == [{"parameter": "password", "name": "algo-trade-redis", "key": "redis-password"}]
    assert {t["type"] for t in scaled["triggers"]} == {"redis-streams", "cpu"}
    assert "replicas" not in trader["spec"], "KEDA owns the replica count"
    assert [h["metadata"]["name"] for h in rendered.of_kind("HorizontalPodAutoscaler")] == []


def test_keda_operator_may_reach_redis_only_when_keda_is_on() -> None:
    # arrange / act
    def redis_ingress(*sets: str) -> list[dict[str, Any]]:
        ingress: list[dict[str, Any]] = render(None, *sets).named("NetworkPolicy", "algo-trade-redis")["spec"][
            "ingress"
        ]
        return ingress

    off, on = redis_ingress(), redis_ingress("trader.keda.enabled=true")
    # assert
    assert len(off) == 1
    assert on[:1] == off
    assert on[1]["from"][0]["podSelector"]["matchLabels"] == {"app": "keda-operator"}
    assert on[1]["ports"] == [{"protocol": "TCP", "port": 6379}]


def test_keda_with_an_external_redis_needs_its_address() -> None:
    # arrange
    external = ("redis.enabled=false", "externalRedis.existingSecret=ext-redis", "trader.keda.enabled=true")
    # act
    rendered = render(None, *external, "trader.keda.redisAddress=redis.example:6380")
    streams = rendered.named("ScaledObject", "algo-trade-trader")["spec"]["triggers"][0]
    # assert
    assert streams["metadata"]["address"] == "redis.example:6380"
    assert rendered.of_kind("TriggerAuthentication") == [], "no password Secret named"


def test_only_tilt_makes_the_service_root_filesystems_writable() -> None:
    # arrange / act
    rendered = render(DEV_VALUES, "development.writableRootFilesystem=true")
    writable = {c.component for c in rendered.containers() if not c.spec["securityContext"]["readOnlyRootFilesystem"]}
    # assert
    assert writable == {"collector", "processor", "trader", "exchange-sim"}
    for values in (CHART / "values.yaml", DEV_VALUES, PRODUCTION_VALUES):
        assert "writableRootFilesystem: true" not in values.read_text()
