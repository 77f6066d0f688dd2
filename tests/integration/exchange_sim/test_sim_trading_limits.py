"""Request weights, ORDERS counts, 429 with Retry-After, then the escalating 418 ban."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.exchange_sim.sim_helpers import StartSim
from tests.integration.exchange_sim.trading_helpers import FROZEN_NOW, SignedClient, frozen, hmac_account


class WallClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = FROZEN_NOW

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("method", "path", "params", "weight"),
    [
        ("GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 1}, 4),
        ("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}, 6),
        ("GET", "/api/v3/openOrders", {}, 80),
        ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}, 20),
        ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": 1}, 5),
        ("GET", "/api/v3/account", {}, 20),
        ("POST", "/api/v3/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}, 1),
        ("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}, 0),
        ("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0"}, 1),
        ("DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": 5}, 1),
    ],
)
async def test_request_weights(
    start_sim: StartSim, http: httpx.AsyncClient, method: str, path: str, params: dict[str, Any], weight: int
) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    response = await SignedClient(http, sim).request(method, path, **params)
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == str(weight), response.text


async def test_order_count_limit_gives_429_with_retry_after(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_orders_per_10s=2, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    counts = []
    for _ in range(2):
        response = await client.order(side="BUY", type="MARKET", quantity="0.001")
        counts.append((response.headers["X-MBX-ORDER-COUNT-10S"], response.headers["X-MBX-ORDER-COUNT-1D"]))
    assert counts == [("1", "1"), ("2", "2")]
    refused = await client.order(side="BUY", type="MARKET", quantity="0.001")
    assert (refused.status_code, refused.json()) == (
        429,
        {"code": -1015, "msg": "Too many new orders; current limit is 2 orders per 10 SECOND."},
    )
    assert refused.headers["Retry-After"] == "10"  # FROZEN_NOW is on a 10-second boundary
    info = (await http.get(f"{sim.rest_url}/api/v3/exchangeInfo")).json()
    assert {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 2} in info["rateLimits"]


async def test_429_then_418_ban_that_escalates(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    clock = WallClock()
    sim = await start_sim(
        wall_time=clock, weight_limit=40, trading_ban_after=2, trading_ban_s=120, trading_accounts=[hmac_account()]
    )
    client = SignedClient(http, sim, clock_ms=lambda: int(clock.now * 1000))
    statuses = [(await client.request("GET", "/api/v3/account")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = await client.request("GET", "/api/v3/account")
    assert (limited.status_code, limited.headers["Retry-After"], limited.json()["code"]) == (429, "30", -1003)
    await client.request("GET", "/api/v3/account")  # second request ignoring the 429
    banned = await client.request("GET", "/api/v3/account")
    assert (banned.status_code, banned.headers["Retry-After"]) == (418, "120")
    assert banned.json()["code"] == -1003
    assert "IP banned until" in banned.json()["msg"]
    market = await http.get(f"{sim.rest_url}/api/v3/depth", params={"symbol": "BTCUSDT"})
    assert market.status_code == 418  # a ban is per IP, for every endpoint
    clock.now += 121  # ban over, new weight window
    assert (await client.request("GET", "/api/v3/account")).status_code == 200
    for _ in range(5):
        await client.request("GET", "/api/v3/account")
    again = await client.request("GET", "/api/v3/account")
    assert (again.status_code, again.headers["Retry-After"]) == (418, "240")


async def test_market_data_429_counts_toward_the_ban(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, weight_limit=10, trading_ban_after=1)
    statuses = [
        (await http.get(f"{sim.rest_url}/api/v3/depth", params={"symbol": "BTCUSDT"})).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 429, 429, 418]
