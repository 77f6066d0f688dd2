"""What runs where: shards, MongoDB members, the simulator, autoscaling, disruption budgets, network flows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.deploy.chart import (
    CHART,
    DEV_VALUES,
    PRODUCTION_VALUES,
    VALUES_FILES,
    Manifest,
    RenderError,
    render,
    render_text,
)

VALUES = pytest.mark.parametrize("values", list(VALUES_FILES.values()), ids=list(VALUES_FILES))


def _symbols(workload: Manifest, env_name: str) -> list[str]:
    container = workload["spec"]["template"]["spec"]["containers"][0]
    value = next(e["value"] for e in container["env"] if e["name"] == env_name)
    return str(value).split(",")


@VALUES
def test_each_symbol_has_exactly_one_collector_and_one_processor(values: Path | None) -> None:
    # arrange / act
    rendered = render(values)
    collectors = rendered.workloads_of("collector")
    processors = rendered.workloads_of("processor")
    collected = [s for w in collectors for s in _symbols(w, "COLLECTOR_SYMBOLS")]
    processed = [s for w in processors for s in _symbols(w, "PROCESSOR_SYMBOLS")]
    # assert
    assert collected
    assert sorted(collected) == sorted(set(collected)) == sorted(processed)
    for workload in collectors + processors:
        assert workload["kind"] == "StatefulSet"
        assert workload["spec"]["replicas"] == 1


def test_production_values_run_two_shards() -> None:
    # arrange / act
    rendered = render(PRODUCTION_VALUES)
    # assert
    assert [w["metadata"]["name"] for w in rendered.workloads_of("collector")] == [
        "algo-trade-collector-0",
        "algo-trade-collector-1",
    ]
    assert _symbols(rendered.named("StatefulSet", "algo-trade-processor-1"), "PROCESSOR_SYMBOLS") == [
        "BNBUSDT",
        "SOLUSDT",
    ]


def test_a_symbol_in_two_shards_is_refused(tmp_path: Path) -> None:
    # arrange
    values = tmp_path / "values.yaml"
    values.write_text("shards:\n  - [BTCUSDT, ETHUSDT]\n  - [ETHUSDT]\n")
    # act / assert
    with pytest.raises(RenderError, match="ETHUSDT is in more than one shard"):
        render_text(values)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("images.tag=latest", "images.tag"),
        ("processor.config.MONGO_URI=mongodb://u:p@h", "MONGO_URI"),
        ("mongodb.replicas=2", "mongodb.replicas"),
        ("mongodb.enabled=false", "externalMongodb.existingSecret"),
        ("trader.keda.minReplicaCount=0", "minReplicaCount"),
        ("trader.keda.redisAddress=redis://:pw@redis:6379", "redisAddress"),
    ],
)
def test_the_values_schema_refuses_unsafe_values(setting: str, message: str) -> None:
    # act / assert
    with pytest.raises(RenderError, match=message):
        render_text(None, (setting,))


@pytest.mark.parametrize(("values", "members"), [(None, 3), (DEV_VALUES, 1), (PRODUCTION_VALUES, 3)])
def test_mongodb_is_a_replica_set_of_the_configured_size(values: Path | None, members: int) -> None:
    # arrange / act
    rendered = render(values)
    mongodb = rendered.named("StatefulSet", "algo-trade-mongodb")
    bootstrap = next(c for c in mongodb["spec"]["template"]["spec"]["containers"] if c["name"] == "bootstrap")
    hosts = next(e["value"] for e in bootstrap["env"] if e["name"] == "RS_MEMBERS").split(",")
    # assert
    assert mongodb["spec"]["replicas"] == members
    assert len(hosts) == members
    assert hosts[0] == "algo-trade-mongodb-0.algo-trade-mongodb-headless:27017"
    assert "--keyFile=/keyfile/keyfile" in mongodb["spec"]["template"]["spec"]["containers"][0]["args"]
    assert mongodb["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    headless = rendered.named("Service", "algo-trade-mongodb-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True


def test_redis_persists_with_aof_and_never_evicts() -> None:
    # arrange / act
    rendered = render(None)
    config = rendered.named("ConfigMap", "algo-trade-redis-config")["data"]["redis.conf"]
    redis = rendered.named("StatefulSet", "algo-trade-redis")
    # assert
    assert "appendonly yes" in config
    assert "appendfsync always" in config
    assert "maxmemory-policy noeviction" in config
    assert redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"


def test_the_simulator_runs_only_with_the_dev_values() -> None:
    # arrange / act
    default, dev = render(None), render(DEV_VALUES)
    collector_config = dev.named("ConfigMap", "algo-trade-collector")["data"]
    # assert
    assert default.workloads_of("exchange-sim") == []
    assert [w["kind"] for w in dev.workloads_of("exchange-sim")] == ["Deployment"]
    assert collector_config["COLLECTOR_WS_BASE_URL"] == "ws://algo-trade-exchange-sim:9900"
    assert collector_config["COLLECTOR_REST_BASE_URL"] == "http://algo-trade-exchange-sim:9900"
    assert "COLLECTOR_WS_BASE_URL" not in default.named("ConfigMap", "algo-trade-collector")["data"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [(None, ["algo-trade-trader"]), (DEV_VALUES, []), (PRODUCTION_VALUES, ["algo-trade-trader"])],
)
def test_only_the_trader_autoscales_by_default(values: Path | None, expected: list[str]) -> None:
    # arrange / act
    rendered = render(values)
    hpas = rendered.of_kind("HorizontalPodAutoscaler")
    # assert
    assert [h["metadata"]["name"] for h in hpas] == expected
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        workload = rendered.named(target["kind"], target["name"])
        assert "replicas" not in workload["spec"], "the HPA owns the replica count"
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_processor_autoscaling_targets_each_shard_when_enabled() -> None:
    # act
    rendered = render(PRODUCTION_VALUES, "processor.autoscaling.enabled=true")
    # assert
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in rendered.of_kind("HorizontalPodAutoscaler")}
    assert targets == {"algo-trade-trader", "algo-trade-processor-0", "algo-trade-processor-1"}


@VALUES
def test_every_component_has_a_disruption_budget_and_a_topology_spread(values: Path | None) -> None:
    # arrange / act
    rendered = render(values)
    budgets = [p["spec"]["selector"]["matchLabels"] for p in rendered.of_kind("PodDisruptionBudget")]
    # assert
    for workload in rendered.workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        if labels["app.kubernetes.io/component"] == "redis":
            continue  # a single Redis: a budget could only block drains
        assert any(all(labels.get(k) == v for k, v in b.items()) for b in budgets), workload["metadata"]["name"]
        if values != DEV_VALUES:
            assert workload["spec"]["template"]["spec"]["topologySpreadConstraints"]


@VALUES
def test_network_policies_deny_by_default_and_select_every_pod(values: Path | None) -> None:
    # arrange / act
    rendered = render(values)
    policies = rendered.of_kind("NetworkPolicy")
    deny = rendered.named("NetworkPolicy", "algo-trade-default-deny")["spec"]
    allow = [p["spec"] for p in policies if p["metadata"]["name"] != "algo-trade-default-deny"]
    # assert
    assert "ingress" not in deny
    assert "egress" not in deny
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    for workload in rendered.workloads():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert all(labels.get(k) == v for k, v in deny["podSelector"]["matchLabels"].items())
        selected = [p for p in allow if all(labels.get(k) == v for k, v in p["podSelector"]["matchLabels"].items())]
        assert len(selected) == 1, workload["metadata"]["name"]


def _egress_ports(policy: Manifest) -> set[int]:
    rules = policy["spec"]["egress"]
    return {p["port"] for rule in rules if any("ipBlock" in peer for peer in rule["to"]) for p in rule["ports"]}


@pytest.mark.parametrize(
    ("sets", "processor_ports"),
    [((), {443}), (("processor.config.BACKFILL=false",), set())],
    ids=["backfill", "no-backfill"],
)
def test_only_what_calls_binance_reaches_it(sets: tuple[str, ...], processor_ports: set[int]) -> None:
    # arrange / act: the processor calls Binance REST only for its warm-up backfill
    rendered = render(None, *sets)
    ports = {
        name: _egress_ports(rendered.named("NetworkPolicy", f"algo-trade-{name}"))
        for name in ("collector", "processor", "trader")
    }
    # assert
    assert ports == {"collector": {443, 9443}, "processor": processor_ports, "trader": {443}}
    assert rendered.named("NetworkPolicy", "algo-trade-redis")["spec"]["egress"] == []


def test_with_the_simulator_collector_and_processor_reach_it_and_only_they() -> None:
    # arrange / act
    rendered = render(DEV_VALUES)
    sim_ingress = rendered.named("NetworkPolicy", "algo-trade-exchange-sim")["spec"]["ingress"]
    processor_config = rendered.named("ConfigMap", "algo-trade-processor")["data"]

    def reaches_sim(name: str) -> bool:
        egress = rendered.named("NetworkPolicy", f"algo-trade-{name}")["spec"]["egress"]
        return any(
            peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component") == "exchange-sim"
            and {"protocol": "TCP", "port": 9900} in rule["ports"]
            for rule in egress
            for peer in rule["to"]
        )

    # assert
    assert processor_config["PROCESSOR_REST_BASE_URL"] == "http://algo-trade-exchange-sim:9900"
    assert {name: reaches_sim(name) for name in ("collector", "processor", "trader")} == {
        "collector": True,
        "processor": True,
        "trader": False,
    }
    allowed = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in sim_ingress[0]["from"]}
    assert allowed == {"collector", "processor"}


def test_service_monitors_render_only_where_the_operator_api_exists() -> None:
    # arrange / act
    without = render(None).of_kind("ServiceMonitor")
    with_api = render(None, api_versions=("monitoring.coreos.com/v1",)).of_kind("ServiceMonitor")
    # assert
    assert without == []
    assert sorted(m["metadata"]["name"] for m in with_api) == [
        "algo-trade-collector",
        "algo-trade-processor",
        "algo-trade-trader",
    ]


def test_notes_print_a_port_forward_for_every_health_and_metrics_port(tmp_path: Path) -> None:
    # arrange: a copy of the chart whose NOTES.txt is an ordinary template (helm template skips NOTES.txt)
    copy = tmp_path / "algo-trade"
    shutil.copytree(CHART, copy)
    notes = (copy / "templates" / "NOTES.txt").read_text().splitlines()
    (copy / "templates" / "NOTES.txt").unlink()
    (copy / "templates" / "notes.yaml").write_text("notes: |\n" + "".join(f"  {line}\n" for line in notes))
    # act
    text = render_text(copy / "values-dev.yaml", chart=copy, show_only="templates/notes.yaml")
    # assert
    for line in (
        "port-forward statefulset/algo-trade-collector-0 8080:8080",
        "port-forward statefulset/algo-trade-processor-0 8082:8082",
        "port-forward deployment/algo-trade-trader 8083:8083",
        "port-forward deployment/algo-trade-exchange-sim 9900:9900",
        "localhost:8080/healthcheck",
        "localhost:8080/metrics",
    ):
        assert line in text


def test_an_empty_peer_list_opens_nothing(tmp_path: Path) -> None:
    # arrange: NetworkPolicy reads an empty `from` as "from anywhere"
    values = tmp_path / "values.yaml"
    values.write_text("networkPolicy:\n  metricsFrom: []\n  dns: []\n")
    # act
    rendered = render(values)
    policies = {p["metadata"]["name"]: p["spec"] for p in rendered.of_kind("NetworkPolicy")}
    # assert
    assert policies["algo-trade-trader"]["ingress"] == []
    assert all(rule["to"] for spec in policies.values() for rule in spec.get("egress", []))
