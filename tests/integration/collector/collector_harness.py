"""Helpers for the collector integration tests: the simulator's control API, an in-process collector,
what landed in MongoDB and on the stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import redis.asyncio as aioredis
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import MarketEvent
from algo_common.health import create_health_app
from algo_common.mongo import Document
from algo_common.streams import EVENT_FIELD, decode_market_event, market_stream
from collector.service import CollectorService
from collector.settings import CollectorSettings
from exchange_sim.runner import RunningSimulator
from tests.support import WAIT_S

SYMBOL = "BTCUSDT"


class Sim:
    """The simulator's control API (``/_sim/...``)."""

    def __init__(self, running: RunningSimulator) -> None:
        self.running = running
        self._http = httpx.AsyncClient(base_url=running.control_url + "/", timeout=10.0)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def post(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self._http.post(action, json=body or {})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def step(self, n: int = 1) -> None:
        await self.post("step", {"n": n})

    async def state(self) -> dict[str, Any]:
        response = await self._http.get("state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def symbol_state(self, symbol: str = SYMBOL) -> dict[str, Any]:
        state = await self.state()
        found: dict[str, Any] = next(s for s in state["symbols"] if s["symbol"] == symbol)
        return found

    async def trade_ids(self, symbol: str = SYMBOL) -> set[int]:
        """Ids of every trade the simulator produced for ``symbol`` (they are consecutive)."""
        state = await self.symbol_state(symbol)
        if state["first_trade_id"] is None:
            return set()
        return set(range(state["first_trade_id"], state["last_trade_id"] + 1))


def collector_settings(
    sim: RunningSimulator, redis_url: str, mongo_uri: str, db_name: str, **overrides: Any
) -> CollectorSettings:
    values: dict[str, Any] = {
        "symbols": [SYMBOL],
        "ws_base_url": sim.ws_url,
        "rest_base_url": sim.rest_url,
        "redis_url": SecretStr(redis_url),
        "mongo_uri": SecretStr(mongo_uri),
        "mongo_db": db_name,
        "http_port": 0,
        "reconnect_backoff_base_s": 0.05,
        "reconnect_backoff_cap_s": 0.5,
        "retry_base_s": 0.05,
        "retry_cap_s": 0.5,
        "shutdown_grace_s": 10.0,
    }
    values.update(overrides)
    return CollectorSettings(**values)


@dataclass
class RunningCollector:
    service: CollectorService
    task: asyncio.Task[None]
    stop_event: asyncio.Event
    health_http: httpx.AsyncClient

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        """``GET /healthcheck`` through the real health app (no socket needed)."""
        response = await self.health_http.get("/healthcheck")
        body: dict[str, Any] = response.json()
        return response.status_code, body

    async def is_ready(self, status: int = 200) -> bool:
        return (await self.readiness())[0] == status

    async def connected(self, connections: int = 1) -> bool:
        """The supervisor holds its ``connections``-th connection and reports it in readiness."""
        _, body = await self.readiness()
        return bool(self.service.supervisors[0].connections >= connections and body["dependencies"]["binance_ws"]["ok"])

    async def synced(self) -> bool:
        return all(book.book is not None for book in self.service.books.books.values())

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, WAIT_S)


@contextlib.asynccontextmanager
async def running_collector(
    settings: CollectorSettings, drain_timeout_s: float = WAIT_S
) -> AsyncIterator[RunningCollector]:
    """A collector built from ``settings`` running its main loop as a task.

    At exit the stop event is set and the loop gets ``drain_timeout_s`` to finish (as SIGTERM's grace
    period in production), then it is cancelled; an error the loop raised fails the test.
    """
    service = CollectorService.from_settings(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(service.main(stop), name="collector-main")
    transport = httpx.ASGITransport(app=create_health_app("collector", service.health))
    health_http = httpx.AsyncClient(transport=transport, base_url="http://collector")
    try:
        yield RunningCollector(service, task, stop, health_http)
    finally:
        stop.set()
        done, _ = await asyncio.wait({task}, timeout=drain_timeout_s)
        if not done:
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await health_http.aclose()
        await service.aclose()
    if done:
        task.result()


async def stream_events(redis: aioredis.Redis, symbol: str = SYMBOL) -> list[MarketEvent]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(market_stream(symbol))  # type: ignore[assignment]
    return [decode_market_event(fields[EVENT_FIELD]) for _, fields in entries]


async def mongo_trade_ids(db: AsyncDatabase[Document]) -> list[int]:
    """The ``trade_id`` of every trade document, duplicates included."""
    return [doc["trade_id"] async for doc in db.trades.find({}, {"trade_id": 1})]
