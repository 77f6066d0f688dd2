"""Keepalive like Binance: server pings with a payload, a missing pong or the lifetime ends a connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from tests.integration.exchange_sim.sim_helpers import DEADLINE_S, StartSim, open_ws, sim_state
from tests.support import eventually


@pytest.fixture
async def raw_client() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that answers nothing by itself (aiohttp with ``autoping=False``), to watch the frames."""
    async with aiohttp.ClientSession(trust_env=False) as session:
        yield session


async def test_pings_carry_a_payload_and_answered_pings_keep_the_connection(
    start_sim: StartSim, raw_client: aiohttp.ClientSession, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim(ping_interval_s=0.05, pong_timeout_s=2.0, max_incoming_per_s=100)
    async with raw_client.ws_connect(f"{sim.ws_url}/ws/btcusdt@trade", autoping=False) as ws:
        # act: answer six pings
        payloads: list[bytes] = []
        while len(payloads) < 6:
            message = await ws.receive(timeout=DEADLINE_S)
            assert message.type is aiohttp.WSMsgType.PING
            payloads.append(message.data)
            await ws.pong(message.data)
        # assert
        assert all(payloads)
        assert len(set(payloads)) == 6
        assert not ws.closed

        async def pongs_counted() -> bool:
            return (await sim_state(http, sim))["pongs_received"] >= 6  # type: ignore[no-any-return]

        await eventually(pongs_counted, "six pongs to be counted", timeout_s=DEADLINE_S)
        state = await sim_state(http, sim)
        assert state["pings_sent"] >= 6
        assert state["closed_pong_timeout"] == 0


async def test_an_unanswered_ping_closes_the_connection(
    start_sim: StartSim, raw_client: aiohttp.ClientSession, http: httpx.AsyncClient
) -> None:
    # arrange
    sim = await start_sim(ping_interval_s=0.05, pong_timeout_s=0.2)
    async with raw_client.ws_connect(f"{sim.ws_url}/ws/btcusdt@trade", autoping=False) as ws:
        # act: read but never answer
        kinds = []
        while True:
            message = await ws.receive(timeout=DEADLINE_S)
            kinds.append(message.type)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
        # assert
        assert aiohttp.WSMsgType.PING in kinds
        assert (await sim_state(http, sim))["closed_pong_timeout"] == 1


async def test_a_client_that_pongs_on_its_own_stays_connected(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange: websockets answers pings automatically; six pings span more than the pong timeout
    sim = await start_sim(ping_interval_s=0.1, pong_timeout_s=0.3, max_incoming_per_s=100)
    ws = await open_ws(http, sim, "/ws/btcusdt@trade", ping_interval=None)

    async def six_pongs() -> bool:
        return (await sim_state(http, sim))["pongs_received"] >= 6  # type: ignore[no-any-return]

    # act
    await eventually(six_pongs, "six pongs", timeout_s=DEADLINE_S)
    # assert
    assert ws.state is State.OPEN
    assert (await sim_state(http, sim))["closed_pong_timeout"] == 0
    await ws.close()


async def test_connections_end_after_their_lifetime(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    sim = await start_sim(max_connection_s=0.2)
    ws = await open_ws(http, sim, "/ws/btcusdt@trade")
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), DEADLINE_S)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1000
    assert closed.value.rcvd.reason == "Connection lifetime exceeded"
    assert (await sim_state(http, sim))["closed_lifetime"] == 1
