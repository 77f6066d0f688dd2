"""A seeded run of many faults of every kind against a moving market; afterwards the history is whole.

Faults, one after another (each waits until the collector is ready and in sync again): connection
cut, silent stall, skipped depth sequence id, serverShutdown, Redis restart, MongoDB outage; and
the collector rotates its connection every few seconds by itself (the 24 h rule, made short).
Then: every trade id the simulator sent since the collector's first is in MongoDB exactly once,
the closed klines have no hole, every skipped sequence id was detected and resynced, the book
equals the venue's, and the stream repeats nothing. Private Redis and MongoDB servers, so the
suite's shared ones are never stopped.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document, create_client, get_database
from algo_common.redis_client import create_redis
from algo_trade.servers import LocalServer, mongo_server, redis_server
from tests.integration.collector.collector_harness import (
    SYMBOL,
    RunningCollector,
    Sim,
    collector_settings,
    running_collector,
)
from tests.integration.collector.conftest import StartSim
from tests.integration.collector.history import klines_complete, stream_without_repeats, trades_complete
from tests.support import eventually, metric_value

SEED = 20261125
FAULTS = 24
KINDS = ("cut", "stall", "skip", "shutdown", "redis", "mongodb")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LocalServer, LocalServer]]:
    redis, mongo = redis_server(tmp_path / "redis"), mongo_server(tmp_path / "mongo")
    redis.start()
    try:
        mongo.start()
        try:
            yield redis, mongo
        finally:
            mongo.stop()
    finally:
        redis.stop()


def _plan(rng: random.Random) -> list[str]:
    """Every kind at least twice, the rest at random, in a shuffled order."""
    faults = [kind for kind in KINDS for _ in range(2)]
    faults += [rng.choice(KINDS) for _ in range(FAULTS - len(faults))]
    rng.shuffle(faults)
    return faults


async def _healthy(collector: RunningCollector) -> bool:
    return await collector.is_ready() and await collector.synced()


async def _stall_over(sim: Sim) -> bool:
    return not (await sim.state())["stalled"]


async def _gap_resyncs_reach(count: float) -> bool:
    return metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap") >= count


async def _inject(
    kind: str, rng: random.Random, sim: Sim, collector: RunningCollector, redis: LocalServer, mongo: LocalServer
) -> None:
    connections = collector.service.supervisors[0].connections
    if kind == "cut":
        await sim.post("cut")
        await eventually(lambda: collector.connected(connections + 1), "a new connection after a cut")
    elif kind == "stall":
        await sim.post("stall", {"seconds": rng.uniform(0.3, 1.2)})  # shorter or longer than stall_timeout_s
        await eventually(lambda: _stall_over(sim), "the end of the stall")
    elif kind == "skip":
        gaps = metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap")
        await sim.post("skip-sequence", {"symbol": SYMBOL, "count": rng.randint(1, 3)})
        await eventually(lambda: _gap_resyncs_reach(gaps + 1), "the skipped sequence id detected")
    elif kind == "shutdown":
        await sim.post("server-shutdown")
        await eventually(lambda: collector.connected(connections + 1), "a replacement after serverShutdown")
    elif kind == "redis":
        await asyncio.to_thread(redis.stop)
        await asyncio.to_thread(redis.start)
    else:
        await asyncio.to_thread(mongo.stop)
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # the outage's length is the fault, not a synchronisation
        await asyncio.to_thread(mongo.start)
    await eventually(lambda: _healthy(collector), f"ready and in sync after {kind}", timeout_s=60)


async def test_seeded_run_of_two_dozen_faults_leaves_a_whole_history(
    start_sim: StartSim, servers: tuple[LocalServer, LocalServer], db_name: str
) -> None:
    # arrange
    redis_proc, mongo_proc = servers
    rng = random.Random(SEED)
    faults = _plan(rng)
    sim = await start_sim(rate=30)
    settings = collector_settings(
        sim.running,
        redis_proc.url,
        mongo_proc.url,
        db_name,
        stall_timeout_s=0.6,
        rotate_after_s=4.0,
        rotation_overlap_s=0.3,
        queue_maxsize=150,
    )
    gap_resyncs = metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap")
    rotations = metric_value("collector_rotations_total", reason="lifetime")
    mongo_client = create_client(mongo_proc.url, "tests")
    db: AsyncDatabase[Document] = get_database(mongo_client, db_name)
    redis: aioredis.Redis = create_redis(redis_proc.url)
    try:
        async with running_collector(settings) as collector:
            await eventually(lambda: _healthy(collector), "the collector ready and in sync")
            # act
            for kind in faults:
                await _inject(kind, rng, sim, collector, redis_proc, mongo_proc)
            await sim.post("pause")
            # assert
            await eventually(lambda: trades_complete(db, sim, from_start=False), "every trade once", timeout_s=90)
            await eventually(lambda: klines_complete(db, sim, from_start=False), "every closed kline once")
            await eventually(lambda: _book_is_the_venues(collector, sim), "the local book at the venue's update id")
            await stream_without_repeats(redis)
    finally:
        await redis.aclose()
        await mongo_client.close()
    kinds = Counter(faults)
    assert len(faults) >= 20
    assert set(kinds) == set(KINDS)
    assert metric_value("collector_book_resyncs_total", symbol=SYMBOL, reason="gap") >= gap_resyncs + kinds["skip"]
    assert metric_value("collector_rotations_total", reason="lifetime") > rotations


async def _book_is_the_venues(collector: RunningCollector, sim: Sim) -> bool:
    """The local book at the venue's last update id; a book still to sync gets a step's diffs.

    The paused venue sends nothing, not even pings (every 20 s, as Binance's), so the collector's
    0.6 s stall timeout reconnects, and a reconnect starts the book over: a book syncs only from
    the diffs that follow, which a live market always sends and the paused simulator must be
    stepped for.
    """
    book = collector.service.books.books[SYMBOL].book
    if book is None:
        await sim.step(1)
        return False
    state = await sim.symbol_state()
    return bool(book.update_id == state["last_update_id"])
