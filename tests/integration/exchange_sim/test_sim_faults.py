"""Faults on demand: cut, stall, skipped sequence, serverShutdown, injected frames, pause, slow clients."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

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


async def test_cut_drops_every_connection_without_a_close_frame(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim()
    raw = await open_ws(http, sim, "/ws/btcusdt@trade")
    combined = await open_ws(http, sim, "/stream?streams=btcusdt@trade")
    # act
    assert (await control(http, sim, "cut")) == {"connections": 2}
    # assert
    for ws in (raw, combined):
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), DEADLINE_S)
        assert closed.value.rcvd is None  # no close frame: the TCP connection was dropped

    async def none_left() -> bool:
        return (await sim_state(http, sim))["connections_active"] == 0  # type: ignore[no-any-return]

    await eventually(none_left, "connections to be gone", timeout_s=DEADLINE_S)


async def test_stall_sends_nothing_and_frames_of_the_stall_are_lost(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim()
    ws = await open_ws(http, sim, "/ws/btcusdt@depth")
    await control(http, sim, "step")
    before = await recv_json(ws)
    # act
    await control(http, sim, "stall", seconds=60)
    await control(http, sim, "step", n=3)
    during = await sim_state(http, sim)
    await control(http, sim, "stall", seconds=0)
    await control(http, sim, "step")
    after = await recv_json(ws)
    # assert: the first frame after the stall is the diff of the step after it; a gap for the client
    assert during["stalled"] is True
    assert during["frames_lost_in_stall"] == 3
    assert after["U"] > before["u"] + 1
    assert after["u"] == (await sim_state(http, sim))["symbols"][0]["last_update_id"]
    await ws.close()


async def test_stall_also_stops_pings(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(ping_interval_s=0.02, pong_timeout_s=30, max_incoming_per_s=1000)
    ws = await open_ws(http, sim, "/ws/btcusdt@trade", ping_interval=None)

    async def pinging() -> bool:
        return (await sim_state(http, sim))["pings_sent"] >= 2  # type: ignore[no-any-return]

    await eventually(pinging, "pings", timeout_s=DEADLINE_S)
    await control(http, sim, "stall", seconds=60)
    stalled_at = (await sim_state(http, sim))["pings_sent"]
    # observe for 10 ping intervals: at most one ping already on its way when the stall began
    watch_until = time.monotonic() + 0.2
    while time.monotonic() < watch_until:
        assert (await sim_state(http, sim))["pings_sent"] <= stalled_at + 1
    await control(http, sim, "stall", seconds=0)

    async def pinging_again() -> bool:
        return (await sim_state(http, sim))["pings_sent"] >= stalled_at + 2  # type: ignore[no-any-return]

    await eventually(pinging_again, "pings after the stall", timeout_s=DEADLINE_S)
    await ws.close()


async def test_skip_sequence_makes_the_next_diff_jump(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    ws = await open_ws(http, sim, "/ws/btcusdt@depth@100ms")
    await control(http, sim, "step")
    first = await recv_json(ws)
    await control(http, sim, "skip-sequence", symbol="BTCUSDT", count=2)
    await control(http, sim, "step", n=2)
    jumped, next_one = await recv_json(ws), await recv_json(ws)
    assert jumped["U"] == first["u"] + 3
    assert next_one["U"] == jumped["u"] + 1
    await ws.close()


async def test_server_shutdown_event_raw_and_combined(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    raw = await open_ws(http, sim, "/ws/btcusdt@trade")
    combined = await open_ws(http, sim, "/stream?streams=btcusdt@trade")
    assert (await control(http, sim, "server-shutdown")) == {"connections": 2}
    now = (await sim_state(http, sim))["time_ms"]
    assert await recv_json(raw) == {"e": "serverShutdown", "E": now}
    assert await recv_json(combined) == {"stream": "!serverShutdown", "data": {"e": "serverShutdown", "E": now}}
    await raw.close()
    await combined.close()


async def test_inject_sends_a_raw_text_frame_to_everyone(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim()
    raw = await open_ws(http, sim, "/ws/btcusdt@trade")
    combined = await open_ws(http, sim, "/stream?streams=btcusdt@trade")
    text = '{"stream":"btcusdt@trade","data":{"e":"trade","p":not json'
    assert (await control(http, sim, "inject", text=text)) == {"connections": 2}
    for ws in (raw, combined):
        assert await asyncio.wait_for(ws.recv(), DEADLINE_S) == text
        await ws.close()


async def test_pause_stops_the_market_loop_and_resume_restarts_it(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim(rate=500)

    async def stepping() -> bool:
        return (await sim_state(http, sim))["steps"] > 5  # type: ignore[no-any-return]

    await eventually(stepping, "the market loop to step", timeout_s=DEADLINE_S)
    # act
    assert (await control(http, sim, "pause")) == {"paused": True}
    paused_at = (await sim_state(http, sim))["steps"]
    await control(http, sim, "step", n=3)  # manual steps still work while paused
    for _ in range(5):
        await control(http, sim, "step", n=1)
    # assert: only the manual steps happened
    assert (await sim_state(http, sim))["steps"] == paused_at + 8
    assert (await control(http, sim, "resume")) == {"paused": False}

    async def moving_again() -> bool:
        return (await sim_state(http, sim))["steps"] > paused_at + 8  # type: ignore[no-any-return]

    await eventually(moving_again, "the market loop to resume", timeout_s=DEADLINE_S)


async def test_path_appends_scripted_bars(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim(mode="path", steps_per_bar=3)
    ws = await open_ws(http, sim, "/ws/btcusdt@kline_1m")
    # act
    queued = await control(http, sim, "path", symbol="BTCUSDT", closes=["30100.5", "29999.99"])
    stepped = await control(http, sim, "step", n=10)
    # assert
    assert queued == {"symbol": "BTCUSDT", "pending": 2}
    assert stepped["steps"] == 6  # two bars of three steps, then idle
    closed = [
        (await recv_until(ws, lambda m: m["k"]["x"]))["k"]["c"],
        (await recv_until(ws, lambda m: m["k"]["x"]))["k"]["c"],
    ]
    assert closed == ["30100.50000000", "29999.99000000"]
    state = (await sim_state(http, sim))["symbols"][0]
    assert (state["closed_bars"], state["pending_path_bars"], state["last_price"]) == (2, 0, "29999.99000000")
    await ws.close()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("path", {"symbol": "BTCUSDT", "closes": ["1.001"]}),
        ("path", {"symbol": "NOPE", "closes": ["1"]}),
        ("skip-sequence", {"symbol": "NOPE"}),
        ("stall", {"seconds": -1}),
        ("stall", {}),
        ("step", {"n": 0}),
    ],
)
async def test_bad_control_requests_are_refused(
    start_sim: StartSim, http: httpx.AsyncClient, action: str, body: dict[str, object]
) -> None:
    sim = await start_sim()
    response = await http.post(f"{sim.control_url}/{action}", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


async def test_a_client_that_stops_reading_is_dropped_without_blocking_others(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    # arrange: a hand-made client that completes the handshake and then never reads
    sim = await start_sim(send_queue_size=8)
    reader, writer = await asyncio.open_connection(sim.host, sim.port)
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: sim\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), DEADLINE_S)).startswith(b"HTTP/1.1 101")
    big = "x" * 1_000_000
    # act: 1 MB frames until the kernel buffers fill, the writer blocks and the queue overflows
    deadline = time.monotonic() + DEADLINE_S
    while (await sim_state(http, sim))["dropped_slow"] == 0:
        assert time.monotonic() < deadline, "the slow client was never dropped"
        await control(http, sim, "inject", text=big)
    # assert: the server still serves others
    healthy = await open_ws(http, sim, "/ws/btcusdt@trade")
    await control(http, sim, "step")
    assert (await recv_json(healthy))["e"] == "trade"
    assert (await sim_state(http, sim))["connections_active"] == 1
    await healthy.close()
    writer.close()
