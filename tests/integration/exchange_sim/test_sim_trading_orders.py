"""Signed order endpoints: placement, fills across book levels, queries, cancels, balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.integration.exchange_sim.sim_helpers import DEADLINE_S, StartSim
from tests.integration.exchange_sim.trading_helpers import (
    NOW_MS,
    SignedClient,
    balances,
    book,
    frozen,
    hmac_account,
    trading_state,
)
from tests.support import eventually

TAKER = Decimal("0.001")
ZERO = Decimal(0)


async def test_market_buy_walks_the_book_levels(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    asks = [(Decimal(p), Decimal(q)) for p, q in (await book(http, sim))["asks"]]
    qty = asks[0][1] + asks[1][1] + asks[2][1] / 2
    qty = qty.quantize(Decimal("0.00001"))
    # act
    response = await client.order(side="BUY", type="MARKET", quantity=str(qty), newClientOrderId="sig-1")
    # assert
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["type"], body["side"], body["clientOrderId"]) == ("FILLED", "MARKET", "BUY", "sig-1")
    assert body["transactTime"] == NOW_MS
    fills = [(Decimal(f["price"]), Decimal(f["qty"])) for f in body["fills"]]
    assert fills == [asks[0], asks[1], (asks[2][0], qty - asks[0][1] - asks[1][1])]
    assert Decimal(body["executedQty"]) == qty
    assert Decimal(body["cummulativeQuoteQty"]) == sum(p * q for p, q in fills)
    assert [f["commissionAsset"] for f in body["fills"]] == ["BTC"] * 3
    assert [Decimal(f["commission"]) for f in body["fills"]] == [
        (q * TAKER).quantize(Decimal("1E-8")) for _, q in fills
    ]
    assert body["origQty"] == f"{qty:.8f}"
    assert response.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert response.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    state = balances(await trading_state(http, sim))
    spent = sum(p * q for p, q in fills)
    commission = sum(Decimal(f["commission"]) for f in body["fills"])
    assert state["USDT"] == (Decimal("10000000") - spent, ZERO)
    assert state["BTC"] == (Decimal(100) + qty - commission, ZERO)


async def test_quote_order_qty_market_buy_spends_at_most_the_quote(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    body = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="1000")
    assert body["status"] == "FILLED"
    assert body["origQuoteOrderQty"] == "1000.00000000"
    spent = Decimal(body["cummulativeQuoteQty"])
    assert Decimal(1000) - Decimal(body["fills"][-1]["price"]) * Decimal("0.00001") < spent <= Decimal(1000)
    assert body["origQty"] == body["executedQty"]


async def test_market_order_on_a_thin_book_expires_partly_filled(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, levels_per_side=2, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    bids = [(Decimal(p), Decimal(q)) for p, q in (await book(http, sim))["bids"]]
    available = sum(q for _, q in bids)
    body = await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET", quantity="50")
    assert (body["status"], body["origQty"]) == ("EXPIRED", "50.00000000")
    assert Decimal(body["executedQty"]) == available
    assert [(Decimal(f["price"]), Decimal(f["qty"])) for f in body["fills"]] == bids
    assert {f["commissionAsset"] for f in body["fills"]} == {"USDT"}
    state = balances(await trading_state(http, sim))
    assert state["BTC"] == (Decimal(100) - available, ZERO)  # the unfilled rest is not kept locked


async def test_resting_limit_order_locks_funds_and_cancels(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    placed = await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.5", price="29000", newClientOrderId="rest-1",
    )  # fmt: skip
    assert (placed["status"], placed["fills"], placed["executedQty"]) == ("NEW", [], "0.00000000")
    assert balances(await trading_state(http, sim))["USDT"] == (Decimal(10_000_000 - 14_500), Decimal(14_500))
    queried = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="rest-1")
    assert (queried["orderId"], queried["status"], queried["isWorking"]) == (placed["orderId"], "NEW", True)
    assert queried["price"] == "29000.00000000"
    open_orders = await client.ok("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert [o["clientOrderId"] for o in open_orders] == ["rest-1"]
    canceled = await client.ok(
        "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"], newClientOrderId="cancel-1"
    )
    assert (canceled["status"], canceled["origClientOrderId"], canceled["clientOrderId"]) == (
        "CANCELED",
        "rest-1",
        "cancel-1",
    )
    assert balances(await trading_state(http, sim))["USDT"] == (Decimal(10_000_000), ZERO)
    assert await client.ok("GET", "/api/v3/openOrders") == []
    again = await client.request("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
    assert (again.status_code, again.json()) == (400, {"code": -2011, "msg": "Unknown order sent."})


async def test_resting_orders_fill_when_the_market_trades_through(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, mode="path", trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    buy = await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.001", price="29900",
    )  # fmt: skip
    sell = await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
        quantity="0.001", price="31000",
    )  # fmt: skip
    await http.post(f"{sim.control_url}/path", json={"symbol": "BTCUSDT", "closes": ["29800"]})
    await http.post(f"{sim.control_url}/step", json={"n": 10})
    filled = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=buy["orderId"])
    assert (filled["status"], filled["executedQty"], filled["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.00100000",
        "29.90000000",
    )
    untouched = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=sell["orderId"])
    assert untouched["status"] == "NEW"
    trades = await client.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT", orderId=buy["orderId"])
    assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.001")
    assert all(t["isMaker"] and t["isBuyer"] and t["price"] == "29900.00000000" for t in trades)


async def test_duplicate_client_order_id_only_among_open_orders(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    limit = {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01", "price": "29000"}
    first = await client.order(newClientOrderId="same-id", **limit)
    assert first.status_code == 200
    duplicate = await client.order(newClientOrderId="same-id", **limit)
    assert (duplicate.status_code, duplicate.json()) == (400, {"code": -2010, "msg": "Duplicate order sent."})
    assert "X-MBX-ORDER-COUNT-10S" not in duplicate.headers
    await client.ok("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="same-id")
    reused = await client.order(newClientOrderId="same-id", **limit)
    assert reused.status_code == 200
    assert reused.json()["orderId"] == first.json()["orderId"] + 1
    market = await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="filled-id")
    assert market.json()["status"] == "FILLED"
    # A filled order's id can be sent again: Binance makes a second order, so clients must query first.
    assert (
        await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="filled-id")
    ).status_code == 200


async def test_query_and_cancel_errors(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    placed = (await client.order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="q-1")).json()
    cases: list[tuple[str, dict[str, Any], int, int, str]] = [
        ("GET", {"orderId": 999}, 400, -2013, "Order does not exist."),
        ("GET", {"origClientOrderId": "nope"}, 400, -2013, "Order does not exist."),
        ("GET", {}, 400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
        (
            "GET",
            {"orderId": placed["orderId"], "origClientOrderId": "other"},
            400,
            -2039,
            "Client order ID is not correct for this order ID.",
        ),
        ("DELETE", {"orderId": 999}, 400, -2011, "Unknown order sent."),
        ("DELETE", {"orderId": placed["orderId"]}, 400, -2011, "Unknown order sent."),  # already filled
    ]
    for method, params, status, code, msg in cases:
        response = await client.request(method, "/api/v3/order", symbol="BTCUSDT", **params)
        assert (response.status_code, response.json()) == (status, {"code": code, "msg": msg}), (method, params)
    bad_symbol = await client.request("GET", "/api/v3/order", symbol="NOPEUSDT", orderId=1)
    assert bad_symbol.json() == {"code": -1121, "msg": "Invalid symbol."}
    none_open = await client.request("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert none_open.json()["code"] == -2011


async def test_cancel_all_open_orders(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    for i, price in enumerate(("29000", "29100")):
        await client.ok(
            "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
            quantity="0.01", price=price, newClientOrderId=f"all-{i}",
        )  # fmt: skip
    canceled = await client.ok("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert [(c["origClientOrderId"], c["status"]) for c in canceled] == [("all-0", "CANCELED"), ("all-1", "CANCELED")]
    assert balances(await trading_state(http, sim))["USDT"] == (Decimal(10_000_000), ZERO)


async def test_time_in_force_and_limit_maker(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, levels_per_side=2, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    asks = [(Decimal(p), Decimal(q)) for p, q in (await book(http, sim))["asks"]]
    base = {"side": "BUY", "type": "LIMIT", "price": str(asks[0][0])}
    too_much = str(asks[0][1] + Decimal("0.5"))
    ioc = (await client.order(timeInForce="IOC", quantity=too_much, **base)).json()
    assert (ioc["status"], Decimal(ioc["executedQty"])) == ("EXPIRED", asks[0][1])
    fok = (await client.order(timeInForce="FOK", quantity=too_much, **base)).json()
    assert (fok["status"], fok["executedQty"], fok["fills"]) == ("EXPIRED", "0.00000000", [])
    maker = await client.order(side="BUY", type="LIMIT_MAKER", quantity="0.01", price=str(asks[0][0]))
    assert maker.json() == {"code": -2010, "msg": "Order would immediately match and take."}
    resting = await client.order(side="BUY", type="LIMIT_MAKER", quantity="0.01", price="29000")
    assert set(resting.json()) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}  # ACK
    assert balances(await trading_state(http, sim))["USDT"][1] == Decimal(290)


async def test_response_types(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    ack = (await client.order(side="BUY", type="MARKET", quantity="0.001", newOrderRespType="ACK")).json()
    assert ack == {
        "symbol": "BTCUSDT",
        "orderId": 1,
        "orderListId": -1,
        "clientOrderId": ack["clientOrderId"],
        "transactTime": NOW_MS,
    }
    assert len(ack["clientOrderId"]) == 22
    result = (await client.order(side="BUY", type="MARKET", quantity="0.001", newOrderRespType="RESULT")).json()
    assert "fills" not in result
    assert list(result) == [
        "symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "price", "origQty", "executedQty",
        "origQuoteOrderQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side", "workingTime",
        "selfTradePreventionMode",
    ]  # fmt: skip


async def test_account_balances_and_my_trades(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account(balances={"USDT": "1000", "ETH": "0"})])
    client = SignedClient(http, sim)
    for _ in range(3):
        await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    account = await client.ok("GET", "/api/v3/account", omitZeroBalances="true")
    assert [b["asset"] for b in account["balances"]] == ["BTC", "USDT"]
    assert (account["accountType"], account["canTrade"], account["takerCommission"]) == ("SPOT", True, 10)
    assert account["commissionRates"]["taker"] == "0.00100000"
    full = await client.ok("GET", "/api/v3/account")
    assert [b["asset"] for b in full["balances"]] == ["BTC", "ETH", "USDT"]
    trades = await client.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    ids = [t["id"] for t in trades]
    assert ids == sorted(ids)
    assert len(ids) >= 3
    assert [t["id"] for t in await client.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT", fromId=ids[1], limit=1)] == [
        ids[1]
    ]
    assert [t["id"] for t in await client.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT", limit=1)] == [ids[-1]]
    first = trades[0]
    assert Decimal(first["quoteQty"]) == Decimal(first["price"]) * Decimal(first["qty"])
    broke = await client.order(side="BUY", type="MARKET", quantity="1")
    assert broke.json() == {"code": -2010, "msg": "Account has insufficient balance for requested action."}


async def test_running_market_fills_a_resting_order(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    """With the market loop running (not stepped by hand), the hook fills resting orders."""
    sim = await start_sim(wall_time=frozen, rate=100, volatility=0.002, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    # the market holds still while the order is placed just under the last price, so it rests
    (await http.post(f"{sim.control_url}/pause")).raise_for_status()
    last = Decimal((await http.get(f"{sim.control_url}/state")).json()["symbols"][0]["last_price"])
    placed = await client.ok(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        quantity="0.001", price=str(last - Decimal("0.01")),
    )  # fmt: skip
    assert placed["status"] == "NEW"
    (await http.post(f"{sim.control_url}/resume")).raise_for_status()

    async def filled() -> bool:
        order = await client.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
        return order["status"] == "FILLED"  # type: ignore[no-any-return]

    await eventually(filled, "the walk to trade through the resting BUY", timeout_s=DEADLINE_S)
