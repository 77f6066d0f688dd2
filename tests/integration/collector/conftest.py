from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from exchange_sim.runner import start_simulator
from exchange_sim.settings import SimSettings
from tests.integration.collector.collector_harness import SYMBOL, Sim

StartSim = Callable[..., Awaitable[Sim]]


@pytest.fixture
async def start_sim() -> AsyncIterator[StartSim]:
    """Start simulators with test settings (manual steps by default: ``rate=0``); all closed at the end."""
    started: list[Sim] = []

    async def start(**overrides: Any) -> Sim:
        values: dict[str, Any] = {"port": 0, "rate": 0, "symbols": [SYMBOL], "steps_per_bar": 5, "seed": 7}
        values.update(overrides)
        sim = Sim(await start_simulator(SimSettings(**values)))
        started.append(sim)
        return sim

    yield start
    for sim in started:
        await sim.aclose()
        await sim.running.close()


@pytest.fixture
async def sim(start_sim: StartSim) -> Sim:
    return await start_sim()
