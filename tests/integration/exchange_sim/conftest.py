"""In-process simulators on port 0 (the test steps the market) and an HTTP client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from exchange_sim import RunningSimulator, SimSettings, start_simulator
from tests.binance_doc_keys import doc_example_account
from tests.integration.exchange_sim.sim_helpers import DEADLINE_S, StartSim


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Start simulators (``rate=0``: the test steps the market; the documentation key's account) and close them."""
    running: list[RunningSimulator] = []

    async def start(wall_time: Callable[[], float] = time.time, **settings: Any) -> RunningSimulator:
        sim = await start_simulator(
            SimSettings(**{"port": 0, "rate": 0, "trading_accounts": [doc_example_account()], **settings}),
            wall_time=wall_time,
        )
        running.append(sim)
        return sim

    yield start
    for sim in running:
        await sim.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=DEADLINE_S) as client:
        yield client
