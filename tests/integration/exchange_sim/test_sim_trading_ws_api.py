"""User data stream over the WebSocket API: subscribe, events in order, unsubscribe, faults."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import aiohttp
import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from algo_common.binance.signing import Signer, ws_api_payload
from algo_common.binance.trading_schemas import (
    BinanceExecutionReport,
    BinanceOutboundAccountPosition,
    BinanceUserDataMessage,
    BinanceUserEventType,
)
from exchange_sim import RunningSimulator
from tests.integration.exchange_sim.sim_helpers import DEADLINE_S, StartSim, recv_json
from tests.integration.exchange_sim.trading_helpers import (
    HMAC_SIGNER,
    NOW_MS,
    SignedClient,
    ed25519_key,
    frozen,
    hmac_account,
    trading_control,
    trading_state,
)
from tests.support import eventually


def signed_params(signer: Signer, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"apiKey": signer.api_key, "timestamp": NOW_MS, **extra}
    params["signature"] = signer.sign(ws_api_payload(params))
    return params


async def open_api(sim: RunningSimulator) -> ClientConnection:
    return await connect(f"{sim.ws_url}/ws-api/v3", proxy=None, open_timeout=DEADLINE_S)


async def call(ws: ClientConnection, request_id: object, method: str, **params: Any) -> Any:
    await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
    return await recv_json(ws)


async def subscribed(sim: RunningSimulator, signer: Signer = HMAC_SIGNER) -> ClientConnection:
    ws = await open_api(sim)
    reply = await call(ws, "sub", "userDataStream.subscribe.signature", **signed_params(signer))
    assert reply == {"id": "sub", "status": 200, "result": {"subscriptionId": 0}}
    return ws


async def events(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [await recv_json(ws) for _ in range(count)]


async def test_ping_time_and_unknown_method(start_sim: StartSim) -> None:
    sim = await start_sim(wall_time=frozen)
    async with await open_api(sim) as ws:
        assert await call(ws, 1, "ping") == {"id": 1, "status": 200, "result": {}}
        assert await call(ws, 2, "time") == {"id": 2, "status": 200, "result": {"serverTime": NOW_MS}}
        unknown = await call(ws, 3, "order.place")
        assert (unknown["id"], unknown["status"], unknown["error"]["code"]) == (3, 400, -1020)


async def test_market_fill_events_in_order(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    async with await subscribed(sim) as ws:
        body = (
            await SignedClient(http, sim).order(side="BUY", type="MARKET", quantity="0.001", newClientOrderId="e-1")
        ).json()
        fills = body["fills"]
        frames = await events(ws, 2 + len(fills))
    assert all(set(f) == {"subscriptionId", "event"} and f["subscriptionId"] == 0 for f in frames)
    kinds = [(f["event"]["e"], f["event"].get("x"), f["event"].get("X")) for f in frames]
    assert kinds == [("executionReport", "NEW", "NEW")] + [("executionReport", "TRADE", "PARTIALLY_FILLED")] * (
        len(fills) - 1
    ) + [("executionReport", "TRADE", "FILLED"), ("outboundAccountPosition", None, None)]
    new, *trades = (msgspec.json.decode(json.dumps(f["event"]), type=BinanceExecutionReport) for f in frames[:-1])
    assert (new.c, new.i, new.t, new.n, new.N, new.l, new.z) == (
        "e-1",
        body["orderId"],
        -1,
        Decimal(0),
        None,
        Decimal(0),
        Decimal(0),
    )
    assert (frames[0]["event"]["n"], frames[0]["event"]["q"]) == ("0", "0.00100000")
    executions = [r.I for r in [new, *trades]]
    assert executions == sorted(set(executions))
    for report, fill in zip(trades, fills, strict=True):
        assert (report.t, report.L, report.l) == (fill["tradeId"], Decimal(fill["price"]), Decimal(fill["qty"]))
        assert (report.n, report.N, report.Y) == (Decimal(fill["commission"]), "BTC", report.L * report.l)
        assert (report.T, report.O, report.C, report.r, report.g) == (NOW_MS, NOW_MS, "", "NONE", -1)
    assert Decimal(body["cummulativeQuoteQty"]) == trades[-1].Z
    assert trades[-1].z == Decimal("0.001")
    position = msgspec.json.decode(json.dumps(frames[-1]["event"]), type=BinanceOutboundAccountPosition)
    assert [b.a for b in position.B] == ["BTC", "USDT"]
    state = await trading_state(http, sim)
    free = {b["asset"]: b["free"] for b in state["accounts"][0]["balances"]}
    assert {asset: free[asset] for asset in ("BTC", "USDT")} == {b.a: f"{b.f:.8f}" for b in position.B}


async def test_cancel_events_and_unsubscribe(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    async with await subscribed(sim) as ws:
        await client.ok(
            "POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
            quantity="0.5", price="35000", newClientOrderId="c-1",
        )  # fmt: skip
        placed = await events(ws, 2)
        assert [(f["event"]["e"], f["event"].get("x")) for f in placed] == [
            ("executionReport", "NEW"),
            ("outboundAccountPosition", None),
        ]
        assert placed[0]["event"]["w"] is True
        assert placed[1]["event"]["B"] == [{"a": "BTC", "f": "99.50000000", "l": "0.50000000"}]
        await client.ok("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="c-1", newClientOrderId="undo")
        canceled = await events(ws, 2)
        report = canceled[0]["event"]
        assert (report["x"], report["X"], report["c"], report["C"], report["w"]) == (
            "CANCELED",
            "CANCELED",
            "undo",
            "c-1",
            False,
        )
        assert canceled[1]["event"]["B"] == [{"a": "BTC", "f": "100.00000000", "l": "0.00000000"}]
        assert await call(ws, 9, "userDataStream.unsubscribe") == {"id": 9, "status": 200, "result": {}}
        terminated = await recv_json(ws)
        assert terminated == {"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": NOW_MS}}
        await client.ok("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert await call(ws, 10, "ping") == {"id": 10, "status": 200, "result": {}}  # no event came before it


async def test_session_logon_with_ed25519_then_subscribe(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen)
    signer, pem = ed25519_key()
    await trading_control(
        http,
        sim,
        "accounts",
        name="ed",
        balances={"USDT": "1000"},
        keys=[{"api_key": signer.api_key, "public_key_pem": pem}],
    )
    async with await open_api(sim) as ws:
        early = await call(ws, 1, "userDataStream.subscribe")
        assert (early["status"], early["error"]["code"]) == (401, -2015)
        logon = await call(ws, 2, "session.logon", **signed_params(signer))
        assert logon["status"] == 200
        assert (logon["result"]["apiKey"], logon["result"]["authorizedSince"]) == (signer.api_key, NOW_MS)
        assert await call(ws, 3, "userDataStream.subscribe") == {
            "id": 3,
            "status": 200,
            "result": {"subscriptionId": 0},
        }
        twice = await call(ws, 4, "userDataStream.subscribe")
        assert (twice["status"], twice["error"]["code"]) == (400, -2035)
        await SignedClient(http, sim, signer).ok(
            "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"
        )
        first = msgspec.json.decode(await ws.recv(), type=BinanceUserDataMessage)
        assert msgspec.json.decode(first.event, type=BinanceUserEventType).e == "executionReport"


async def test_subscribe_errors(start_sim: StartSim) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    async with await open_api(sim) as ws:
        bad = signed_params(HMAC_SIGNER)
        bad["signature"] = "0" * 64
        reply = await call(ws, 1, "userDataStream.subscribe.signature", **bad)
        assert reply == {
            "id": 1,
            "status": 400,
            "error": {"code": -1022, "msg": "Signature for this request is not valid."},
        }
        stale = signed_params(HMAC_SIGNER, timestamp=NOW_MS - 6000)
        assert (await call(ws, 2, "userDataStream.subscribe.signature", **stale))["error"]["code"] == -1021
        windowed = signed_params(HMAC_SIGNER, timestamp=NOW_MS - 6000, recvWindow=7000)
        assert (await call(ws, 3, "userDataStream.subscribe.signature", **windowed))["status"] == 200
        unknown = await call(
            ws, 4, "userDataStream.subscribe.signature", apiKey="nobody", timestamp=NOW_MS, signature="x"
        )
        assert (unknown["status"], unknown["error"]["code"]) == (401, -2015)
        hmac_logon = await call(ws, 5, "session.logon", **signed_params(HMAC_SIGNER))
        assert hmac_logon["error"]["code"] == -4056


async def test_dropped_events_and_disconnect(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    client = SignedClient(http, sim)
    limit = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01"}
    async with await subscribed(sim) as ws:
        await trading_control(http, sim, "drop-events", count=2)
        await client.ok("POST", "/api/v3/order", price="29000", newClientOrderId="lost", **limit)
        await client.ok("POST", "/api/v3/order", price="29001", newClientOrderId="seen", **limit)
        first = await recv_json(ws)
        assert (first["event"]["e"], first["event"]["c"]) == ("executionReport", "seen")
        state = await trading_state(http, sim)
        assert state["user_stream"]["events_dropped"] == 2
        assert state["user_stream"]["subscriptions"] == 1
        assert (await trading_control(http, sim, "disconnect"))["connections"] == 1
        await ws.wait_closed()

    async def unsubscribed() -> bool:
        return (await trading_state(http, sim))["user_stream"]["subscriptions"] == 0  # type: ignore[no-any-return]

    await eventually(unsubscribed, "the cut connection's subscription to end", timeout_s=DEADLINE_S)


async def test_server_shutdown(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(wall_time=frozen, trading_accounts=[hmac_account()])
    async with await subscribed(sim) as ws:
        assert (await trading_control(http, sim, "server-shutdown"))["connections"] == 1
        assert await recv_json(ws) == {"event": {"e": "serverShutdown", "E": NOW_MS}}
        await ws.send(json.dumps({"id": 1, "method": "ping"}))
        assert await recv_json(ws) == {"id": 1, "status": 200, "result": {}}  # still open: the client reconnects


async def test_server_pings_and_drops_a_silent_client(start_sim: StartSim) -> None:
    sim = await start_sim(wall_time=frozen, ping_interval_s=0.1, pong_timeout_s=0.25)
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{sim.ws_url}/ws-api/v3", autoping=False) as ws:
        first = await ws.receive(timeout=DEADLINE_S)
        assert (first.type, first.data) == (aiohttp.WSMsgType.PING, b"1")
        await ws.pong(first.data)
        second = await ws.receive(timeout=DEADLINE_S)
        assert (second.type, second.data) == (aiohttp.WSMsgType.PING, b"2")
        while (msg := await ws.receive(timeout=DEADLINE_S)).type is aiohttp.WSMsgType.PING:
            pass  # never answered: the server gives up after pong_timeout_s
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
