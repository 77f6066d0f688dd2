"""Helpers for the simulator's integration tests: they wait on conditions, never on sleeps."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx
from websockets.asyncio.client import ClientConnection, connect

from exchange_sim import RunningSimulator
from tests.support import eventually

DEADLINE_S = 10.0


class StartSim(Protocol):
    async def __call__(self, wall_time: Callable[[], float] = ..., **settings: Any) -> RunningSimulator: ...


async def control(http: httpx.AsyncClient, sim: RunningSimulator, action: str, **body: Any) -> dict[str, Any]:
    response = await http.post(f"{sim.control_url}/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def sim_state(http: httpx.AsyncClient, sim: RunningSimulator) -> dict[str, Any]:
    response = await http.get(f"{sim.control_url}/state")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def open_ws(http: httpx.AsyncClient, sim: RunningSimulator, path: str, **kwargs: Any) -> ClientConnection:
    """Connect and wait until the simulator has registered the connection and its streams."""
    before = (await sim_state(http, sim))["connections_total"]
    ws = await connect(sim.ws_url + path, proxy=None, open_timeout=DEADLINE_S, **kwargs)

    async def registered() -> bool:
        return (await sim_state(http, sim))["connections_total"] > before  # type: ignore[no-any-return]

    await eventually(registered, f"connection to {path}", timeout_s=DEADLINE_S)
    return ws


async def recv_json(ws: ClientConnection, within: float = DEADLINE_S) -> Any:
    """The next frame, decoded; fail after ``within`` seconds."""
    return json.loads(await asyncio.wait_for(ws.recv(), within))


async def recv_until(ws: ClientConnection, match: Callable[[Any], bool], within: float = DEADLINE_S) -> Any:
    """Read frames until one matches; return it."""
    deadline = time.monotonic() + within
    while True:
        message = await recv_json(ws, max(0.01, deadline - time.monotonic()))
        if match(message):
            return message
