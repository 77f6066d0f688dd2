"""compose.yaml runs the same images with settings the services really have."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.chart import ROOT, load_yaml
from tests.deploy.test_chart_config import SETTINGS

SERVICES = {"collector": "COLLECTOR_", "processor": "PROCESSOR_", "trader": "TRADER_", "exchange-sim": "SIM_"}
PORTS = {"collector": 8080, "processor": 8082, "trader": 8083, "exchange-sim": 9900}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    services: dict[str, Any] = load_yaml(ROOT / "compose.yaml")["services"]
    return services


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_variable_is_a_setting_of_the_service(compose: dict[str, Any], name: str) -> None:
    # arrange
    settings = SETTINGS[name]
    known = {SERVICES[name] + field.upper() for field in settings.model_fields}
    # act
    unknown = set(compose[name].get("environment", {})) - known
    # assert
    assert unknown == set()


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_each_service_publishes_and_checks_the_port_it_listens_on(compose: dict[str, Any], name: str) -> None:
    # arrange
    port = PORTS[name]
    # act
    service = compose[name]
    # assert
    assert service["ports"] == [f"{port}:{port}"]
    assert f"127.0.0.1:{port}/" in service["healthcheck"]["test"][-1]
    assert service["image"] == f"algo-trade/{name}:0.1.0"
    assert service["read_only"] is True


def test_the_collector_reads_the_simulator_and_every_service_shares_one_database(compose: dict[str, Any]) -> None:
    # act
    collector = compose["collector"]["environment"]
    uris = {compose[n]["environment"][f"{SERVICES[n]}MONGO_URI"] for n in ("collector", "processor", "trader")}
    # assert
    assert collector["COLLECTOR_WS_BASE_URL"] == "ws://exchange-sim:9900"
    assert uris == {"mongodb://mongodb:27017/?replicaSet=rs0"}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path (relative to the repository root) of a service's bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            mounts[target] = source.removeprefix("./")
    return mounts


def test_prometheus_loads_the_chart_alert_rules(compose: dict[str, Any]) -> None:
    # arrange
    mounts = _mounts(compose["prometheus"])
    config_host = ROOT / mounts["/etc/prometheus/prometheus.yml"]
    # act: each rule_files pattern, relative to the config file in the container, resolved on the host
    loaded = set()
    for pattern in load_yaml(config_host)["rule_files"]:
        container_dir, _, glob = f"/etc/prometheus/{pattern}".rpartition("/")
        loaded |= {p.relative_to(ROOT).as_posix() for p in (ROOT / mounts[container_dir]).glob(glob)}
    # assert
    assert loaded == {"charts/algo-trade/files/prometheus/alerts.yaml"}


def test_grafana_provisions_the_chart_dashboard(compose: dict[str, Any]) -> None:
    # arrange
    mounts = _mounts(compose["grafana"])
    provisioning = ROOT / mounts["/etc/grafana/provisioning"]
    # act
    providers = load_yaml(provisioning / "dashboards" / "dashboards.yaml")["providers"]
    folders = {mounts[p["options"]["path"]] for p in providers}
    # assert
    assert folders == {"charts/algo-trade/files/dashboards"}
    assert list((ROOT / "charts/algo-trade/files/dashboards").glob("*.json"))
