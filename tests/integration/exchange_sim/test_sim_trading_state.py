"""Filter failures over REST, exchangeInfo filters, and the control API's view of every account."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.exchange_sim.sim_helpers import StartSim
from tests.integration.exchange_sim.trading_helpers import SignedClient, frozen, hmac_account, trading_state

IDLE = {"name": "idle", "balances": {"USDT": "1"}, "keys": [{"api_key": "idle-key", "secret": "idle-secret"}]}


@pytest.mark.parametrize(
    ("params", "failed"),
    [
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": "30000.005"}, "PRICE_FILTER"),
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.000015", "price": "30000"}, "LOT_SIZE"),
        ({"type": "MARKET", "quantity": "150"}, "MARKET_LOT_SIZE"),
        ({"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.0001", "price": "30000"}, "NOTIONAL"),
        ({"type": "MARKET", "quoteOrderQty": "4.99"}, "NOTIONAL"),
    ],
)
async def test_filter_failures(
    start_sim: StartSim, http: httpx.AsyncClient, params: dict[str, Any], failed: str
) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    for path in ("/api/v3/order/test", "/api/v3/order"):
        response = await client.request("POST", path, symbol="BTCUSDT", side="BUY", **params)
        assert (response.status_code, response.json()) == (400, {"code": -1013, "msg": f"Filter failure: {failed}"})
    state = await trading_state(http, sim)
    assert state["accounts"][0]["orders"] == []


async def test_exchange_info_advertises_what_orders_are_checked_against(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    sim = await start_sim(wall_time=frozen)
    info = (await http.get(f"{sim.rest_url}/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    filters = {f["filterType"]: f for f in info["symbols"][0]["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }
    assert (filters["LOT_SIZE"]["minQty"], filters["LOT_SIZE"]["maxQty"]) == ("0.00001000", "9000.00000000")
    assert filters["MARKET_LOT_SIZE"] == {
        "filterType": "MARKET_LOT_SIZE",
        "minQty": "0.00000000",
        "maxQty": "100.00000000",
        "stepSize": "0.00000000",
    }
    assert (filters["NOTIONAL"]["applyMinToMarket"], filters["NOTIONAL"]["applyMaxToMarket"]) == (True, False)
    assert {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000} in info["rateLimits"]


async def test_state_equals_what_the_api_reports(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account(), IDLE])
    client = SignedClient(http, sim)
    await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.2")
    await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
        quantity="0.1", price="40000", newClientOrderId="open-1",
    )  # fmt: skip
    await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.1", price="20000", newClientOrderId="gone-1",
    )  # fmt: skip
    await client.ok("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="gone-1")
    state = await trading_state(http, sim)
    (account,) = [a for a in state["accounts"] if a["name"] == "default"]
    queried = [await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=i) for i in (1, 2, 3)]
    assert account["orders"] == queried
    assert [o["status"] for o in account["orders"]] == ["FILLED", "NEW", "CANCELED"]
    assert account["trades"] == await client.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert account["balances"] == (await client.ok("GET", "/api/v3/account"))["balances"]
    (idle,) = [a for a in state["accounts"] if a["name"] == "idle"]
    assert (idle["orders"], idle["trades"]) == ([], [])


async def test_an_api_key_belongs_to_one_account(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    response = await http.post(f"{sim.control_url}/trading/accounts", json=hmac_account("other"))
    assert response.status_code == 400
    assert "already belongs to account default" in response.json()["error"]
