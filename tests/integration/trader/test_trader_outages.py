"""Dependency outages: the trader process turns unready, keeps retrying, and resumes by itself.

Each test stops one of the suite's real servers, so it is skipped when REDIS_URL / MONGO_URI
point at servers the suite does not own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.domain.models import Side
from algo_common.mongo import Document
from algo_common.streams import SIGNALS_STREAM, publish_once
from algo_trade.servers import LocalServer, free_port
from tests.integration.trader.trader_harness import (
    BUY,
    SELL,
    group_drained,
    make_signal,
    pending_count,
    process_env,
    publish_signal,
    signal_fields,
    start_trader_process,
    stop_process,
)
from tests.support import eventually


@pytest.fixture
async def trader_port(redis_url: str, mongo_uri: str, db_name: str, tmp_path: Path) -> AsyncIterator[int]:
    """A trader process on this test's database; yields its health port."""
    port = free_port()
    log = tmp_path / "trader.log"
    process = start_trader_process(process_env(redis_url, mongo_uri, db_name, port), log)
    await eventually(lambda: _ready_is(port, 200), "the trader to become ready")
    yield port
    assert await stop_process(process) == 0, log.read_text()


async def _ready_is(port: int, status: int) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthcheck")
    return response.status_code == status


async def _filled(db: AsyncDatabase[Document], redis: aioredis.Redis, orders: int) -> bool:
    return await db.orders.count_documents({"status": "FILLED"}) == orders and await group_drained(redis)


async def _metric_above(port: int, dependency: str) -> bool:
    """trader_dependency_errors{dependency} of the trader process is above zero."""
    async with httpx.AsyncClient(timeout=2.0) as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith("trader_dependency_errors_total{") and f'dependency="{dependency}"' in line:
            return float(line.rsplit(" ", 1)[1]) > 0
    return False


@contextlib.contextmanager
def _running_again_after(server: LocalServer) -> Iterator[None]:
    """Whatever happens in the block, the suite's server is running after it."""
    try:
        yield
    finally:
        if not server.running:
            server.start()


async def test_mongodb_outage_makes_trader_unready_and_the_signal_runs_once_after(
    mongo_server_proc: LocalServer | None,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    trader_port: int,
) -> None:
    if mongo_server_proc is None:
        pytest.skip("MONGO_URI points at a MongoDB this suite cannot stop and start")
    port = trader_port
    with _running_again_after(mongo_server_proc):
        # arrange
        await publish_signal(redis, BUY)
        await eventually(lambda: _filled(mongo_db, redis, 1), "the BUY before the outage")
        # act
        await asyncio.to_thread(mongo_server_proc.stop)
        await eventually(lambda: _ready_is(port, 503), "readiness 503 while MongoDB is down")
        await publish_signal(redis, SELL)
        await eventually(lambda: _metric_above(port, "mongodb"), "a counted MongoDB error")
        await asyncio.to_thread(mongo_server_proc.start)
        await eventually(lambda: _ready_is(port, 200), "readiness 200 after MongoDB is back")
        await eventually(lambda: _filled(mongo_db, redis, 2), "the SELL published during the outage")
    # assert
    assert await mongo_db.orders.count_documents({}) == 2
    assert await mongo_db.fills.count_documents({"client_order_id": SELL.signal_id}) == 1
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert (position["qty"], position["realized_pnl"]) == (0, Decimal("5.0025"))
    assert await pending_count(redis) == 0


async def test_redis_outage_makes_trader_unready_and_it_resumes_consuming(
    redis_server_proc: LocalServer | None,
    redis: aioredis.Redis,
    mongo_db: AsyncDatabase[Document],
    trader_port: int,
) -> None:
    if redis_server_proc is None:
        pytest.skip("REDIS_URL points at a Redis this suite cannot stop and start")
    port = trader_port
    with _running_again_after(redis_server_proc):
        # arrange
        await publish_signal(redis, BUY)
        await eventually(lambda: _filled(mongo_db, redis, 1), "the BUY before the outage")
        # act: the suite's Redis keeps no data across a restart, so the group must be recreated (and the paper
        # venue's balances are gone too, so the signal after the outage is a BUY: a SELL would be refused)
        await asyncio.to_thread(redis_server_proc.stop)
        await eventually(lambda: _ready_is(port, 503), "readiness 503 while Redis is down")
        await eventually(lambda: _metric_above(port, "redis"), "a counted Redis error")
        await asyncio.to_thread(redis_server_proc.start)
        await eventually(lambda: _ready_is(port, 200), "readiness 200 after Redis is back")
        await eventually(lambda: _published(redis), "the second BUY published after the outage")
        await eventually(lambda: _filled(mongo_db, redis, 2), "the second BUY executed")
    # assert
    assert await mongo_db.orders.count_documents({}) == 2
    assert await mongo_db.fills.count_documents({}) == 2
    position = await mongo_db.positions.find_one({"_id": "paper:BTCUSDT"})
    assert position is not None
    assert position["qty"] == Decimal("0.02")
    assert await pending_count(redis) == 0


BUY_AGAIN = make_signal(Side.BUY, "65500.35", "0.01", bar_close_time=120_000)


async def _published(redis: aioredis.Redis) -> bool:
    """Publish the second BUY (retried while the client reconnects; publish_once keeps it single)."""
    await publish_once(redis, SIGNALS_STREAM, BUY_AGAIN.signal_id, signal_fields(BUY_AGAIN), maxlen=10_000)
    return True
