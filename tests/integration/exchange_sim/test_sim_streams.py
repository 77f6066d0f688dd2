"""WebSocket streams: envelopes, raw payloads, control messages, limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from algo_common.binance import parse
from tests.integration.exchange_sim.sim_helpers import (
    DEADLINE_S,
    StartSim,
    control,
    open_ws,
    recv_json,
    recv_until,
    sim_state,
)
from tests.support import eventually

STREAMS = [
    "btcusdt@trade",
    "btcusdt@aggTrade",
    "btcusdt@kline_1m",
    "btcusdt@depth@100ms",
    "btcusdt@depth",
    "btcusdt@bookTicker",
]
DECODERS = {
    "trade": parse.decode_trade,
    "aggTrade": parse.decode_agg_trade,
    "kline": parse.decode_kline,
    "depth": parse.decode_depth_update,
    "bookTicker": parse.decode_book_ticker,
}


async def test_combined_stream_delivers_an_envelope_for_each_stream_type(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim(steps_per_bar=2)
    ws = await open_ws(http, sim, "/stream?streams=" + "/".join(STREAMS))
    # act
    await control(http, sim, "step", n=2)
    # assert
    seen: dict[str, int] = {}
    closed_kline = False
    while set(seen) != set(STREAMS) or not closed_kline:
        raw = await recv_json(ws)
        message = parse.decode_combined(json.dumps(raw).encode())
        payload = DECODERS[parse.stream_type(message.stream)](message.data)
        seen[message.stream] = seen.get(message.stream, 0) + 1
        closed_kline = closed_kline or (message.stream == "btcusdt@kline_1m" and raw["data"]["k"]["x"])
        assert getattr(payload, "s") == "BTCUSDT"  # noqa: B009 - every payload type has it
    assert seen["btcusdt@depth"] == seen["btcusdt@depth@100ms"] == 2
    await ws.close()


async def test_raw_stream_sends_bare_payloads(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    ws = await open_ws(http, sim, "/ws/btcusdt@trade/btcusdt@bookTicker")
    await control(http, sim, "step")
    trade = await recv_until(ws, lambda m: m.get("e") == "trade")
    ticker = await recv_until(ws, lambda m: "e" not in m)
    assert "stream" not in trade
    assert parse.decode_trade(json.dumps(trade).encode()).t == 1
    assert set(ticker) == {"u", "s", "b", "B", "a", "A"}
    await ws.close()


async def test_control_messages_subscribe_list_property_unsubscribe(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim()
    ws = await open_ws(http, sim, "/ws")

    async def call(method: str, params: list[Any] | None, request_id: int) -> Any:
        await ws.send(json.dumps({"method": method, "params": params or [], "id": request_id}))
        return await recv_until(ws, lambda m: m.get("id") == request_id)

    # act / assert
    assert await call("SUBSCRIBE", ["btcusdt@aggTrade", "btcusdt@depth"], 1) == {"result": None, "id": 1}
    assert await call("LIST_SUBSCRIPTIONS", None, 3) == {"result": ["btcusdt@aggTrade", "btcusdt@depth"], "id": 3}
    assert await call("GET_PROPERTY", ["combined"], 2) == {"result": False, "id": 2}
    await control(http, sim, "step")
    assert (await recv_until(ws, lambda m: m.get("e") == "aggTrade"))["s"] == "BTCUSDT"
    assert await call("SET_PROPERTY", ["combined", True], 5) == {"result": None, "id": 5}
    assert await call("UNSUBSCRIBE", ["btcusdt@aggTrade"], 312) == {"result": None, "id": 312}
    await control(http, sim, "step")
    first = await recv_json(ws)
    assert first["stream"] == "btcusdt@depth"  # enveloped now, and no aggTrade any more
    assert first["data"]["e"] == "depthUpdate"
    await ws.close()


async def test_unknown_symbols_are_accepted_and_stay_silent(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    ws = await open_ws(http, sim, "/stream?streams=xyzusdt@trade/btcusdt@trade")
    await control(http, sim, "step", n=3)
    streams = {(await recv_json(ws))["stream"] for _ in range(4)}
    assert streams == {"btcusdt@trade"}
    await ws.close()


async def test_more_than_five_incoming_messages_a_second_disconnects(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    sim = await start_sim()
    ws = await open_ws(http, sim, "/ws")
    for request_id in range(20):
        try:
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
        except ConnectionClosed:
            break
    replies = [await recv_json(ws) for _ in range(5)]
    with pytest.raises(ConnectionClosed) as closed:
        await recv_json(ws)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert [reply["id"] for reply in replies] == [0, 1, 2, 3, 4]
    assert (await sim_state(http, sim))["closed_rate_limit"] == 1


async def test_stream_limit_per_connection(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(max_streams=2)
    with pytest.raises(InvalidStatus) as refused:
        await open_ws(http, sim, "/stream?streams=a@trade/b@trade/c@trade")
    assert refused.value.response.status_code == 400
    ws = await open_ws(http, sim, "/stream?streams=a@trade/b@trade")
    await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["c@trade"], "id": 7}))
    reply = await recv_json(ws)
    assert (reply["code"], reply["id"]) == (2, 7)
    await ws.close()


async def test_connections_are_counted(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    first = await open_ws(http, sim, "/ws/btcusdt@trade")
    second = await open_ws(http, sim, "/stream?streams=btcusdt@trade")
    assert (await sim_state(http, sim))["connections_active"] == 2
    await first.close()
    await second.close()

    async def all_gone() -> bool:
        state = await sim_state(http, sim)
        return state["connections_active"] == 0 and state["connections_total"] == 2  # type: ignore[no-any-return]

    await eventually(all_gone, "both connections to end", timeout_s=DEADLINE_S)
