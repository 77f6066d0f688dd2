"""The CLI serves until SIGTERM; replay mode serves the real recording over WebSocket and REST."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from algo_common.binance import parse
from algo_common.domain.book import OrderBook
from tests.integration.exchange_sim.sim_helpers import DEADLINE_S, StartSim, control, open_ws, recv_json

RECORDING = Path(__file__).parents[2] / "fixtures" / "binance" / "recording"


async def read_json_line(stream: asyncio.StreamReader, event: str) -> dict[str, Any]:
    while True:
        line = await asyncio.wait_for(stream.readline(), DEADLINE_S)
        assert line, f"the process ended before logging {event}"
        record = json.loads(line)
        if record.get("event") == event:
            return record  # type: ignore[no-any-return]


async def test_cli_logs_json_serves_and_stops_cleanly_on_sigterm(http: httpx.AsyncClient) -> None:
    # arrange
    env = {**os.environ, "SIM_PORT": "0", "SIM_RATE": "50", "SIM_SYMBOLS": "BTCUSDT,ETHUSDT"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "exchange_sim", "--start-price", "2500", env=env, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    try:
        listening = await read_json_line(process.stdout, "exchange_sim_listening")
        # act
        ping = await http.get(f"{listening['rest_url']}/api/v3/ping")
        info = await http.get(f"{listening['rest_url']}/api/v3/exchangeInfo")
        process.send_signal(signal.SIGTERM)
        await read_json_line(process.stdout, "exchange_sim_stopped")
        code = await asyncio.wait_for(process.wait(), DEADLINE_S)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # assert
    assert listening["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert listening["level"] == "info"
    assert "timestamp" in listening
    assert ping.json() == {}
    assert [s["symbol"] for s in info.json()["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    assert code == 0


async def test_replay_serves_recorded_frames_and_snapshots(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange: a client following NKNUSDT with Binance's procedure
    sim = await start_sim(mode="replay", replay_dir=str(RECORDING))
    ws = await open_ws(http, sim, "/stream?streams=nknusdt@depth@100ms/nknusdt@bookTicker/nknusdt@aggTrade")
    response = await http.get(f"{sim.rest_url}/api/v3/depth", params={"symbol": "NKNUSDT", "limit": 1000})
    book = OrderBook(parse.parse_depth_snapshot("NKNUSDT", response.content))
    # act
    stepped = await control(http, sim, "step", n=400)
    received: dict[str, int] = {}
    applied = 0
    while sum(received.values()) < 150 + 74 + 1:
        message = await recv_json(ws)
        received[message["stream"]] = received.get(message["stream"], 0) + 1
        if message["stream"] == "nknusdt@depth@100ms":
            delta = parse.to_book_delta(parse.decode_depth_update(json.dumps(message["data"]).encode()), ts_recv=0)
            applied += book.apply(delta)
    # assert: the reference numbers of the recording (fixtures PROVENANCE.md)
    assert stepped["steps"] == 265
    assert received == {"nknusdt@depth@100ms": 150, "nknusdt@bookTicker": 74, "nknusdt@aggTrade": 1}
    assert (applied, book.update_id, book.depth) == (149, 499870179, (614, 994))
    best_bid, best_ask = book.best_bid(), book.best_ask()
    assert best_bid is not None
    assert best_ask is not None
    assert (f"{best_bid[0]:.8f}", f"{best_ask[0]:.8f}") == ("0.35270000", "0.35310000")
    info = (await http.get(f"{sim.rest_url}/api/v3/exchangeInfo")).json()
    assert [s["symbol"] for s in info["symbols"]] == ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"]
    await ws.close()
