"""Trading faults: 5xx before or after execution, lost responses, forced 429/418, reset."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.exchange_sim.sim_helpers import StartSim
from tests.integration.exchange_sim.trading_helpers import (
    SignedClient,
    frozen,
    hmac_account,
    trading_control,
    trading_state,
)

UNKNOWN = {
    "code": -1007,
    "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
}


def orders_of(state: dict[str, object]) -> list[dict[str, object]]:
    accounts = state["accounts"]
    assert isinstance(accounts, list)
    return [order for account in accounts for order in account["orders"]]


async def test_5xx_before_execution_places_nothing(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    await trading_control(http, sim, "fail", count=1, mode="before", status=502)
    failed = await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="sig-a")
    assert (failed.status_code, failed.json()) == (502, UNKNOWN)
    assert orders_of(await trading_state(http, sim)) == []
    lookup = await client.request("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="sig-a")
    assert lookup.json()["code"] == -2013
    retried = await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="sig-a")
    assert retried.json()["status"] == "FILLED"


async def test_5xx_after_execution_the_order_exists(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    await trading_control(http, sim, "fail", count=1, mode="after", status=503)
    failed = await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="sig-b")
    assert (failed.status_code, failed.json()) == (503, UNKNOWN)
    found = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="sig-b")
    assert found["status"] == "FILLED"
    state = await trading_state(http, sim)
    assert [o["clientOrderId"] for o in orders_of(state)] == ["sig-b"]
    assert state["requests_failed"] == 1


@pytest.mark.parametrize("lost_as", ["close", "timeout"])
async def test_response_lost_after_execution(start_sim: StartSim, lost_as: str) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    async with httpx.AsyncClient(trust_env=False, timeout=0.5) as impatient:
        client = SignedClient(impatient, sim)
        await trading_control(impatient, sim, "fail", count=1, mode="after", lost_as=lost_as, hold_s=1.5)
        with pytest.raises(httpx.TransportError):
            await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="sig-c")
        found = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="sig-c")
        assert found["status"] == "FILLED"


async def test_fault_targets_only_the_chosen_requests(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    await trading_control(http, sim, "fail", count=2, target="cancel", mode="before", status=500)
    assert (await client.order(side="BUY", type="MARKET", quantity="0.001")).status_code == 200
    assert (await client.request("GET", "/api/v3/openOrders")).status_code == 200
    assert (await trading_state(http, sim))["pending_faults"]["request_faults"] == 2
    assert (await client.request("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=1)).status_code == 500
    await trading_control(http, sim, "reset")
    assert (await trading_state(http, sim))["pending_faults"]["request_faults"] == 0


@pytest.mark.parametrize(("status", "code"), [(429, -1015), (418, -1003)])
async def test_forced_rate_limit(start_sim: StartSim, http: httpx.AsyncClient, status: int, code: int) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    await trading_control(http, sim, "rate-limit", count=1, status=status, retry_after_s=7)
    refused = await client.order(side="BUY", type="MARKET", quantity="0.001")
    assert (refused.status_code, refused.headers["Retry-After"], refused.json()["code"]) == (status, "7", code)
    assert orders_of(await trading_state(http, sim)) == []
    assert (await client.order(side="BUY", type="MARKET", quantity="0.001")).status_code == 200
