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
