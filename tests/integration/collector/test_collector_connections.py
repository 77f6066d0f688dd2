"""More streams than one connection carries: the collector opens several, each symbol on one of them."""

from __future__ import annotations

import redis.asyncio as aioredis
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from tests.integration.collector.collector_harness import Sim, collector_settings, running_collector
from tests.integration.collector.conftest import StartSim
from tests.support import eventually

SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"]
KINDS = ["trade", "depth@100ms"]


async def _every_trade_stored(db: AsyncDatabase[Document], sim: Sim) -> bool:
    for symbol in SYMBOLS:
        expected = await sim.trade_ids(symbol)
        stored = {doc["trade_id"] async for doc in db.trades.find({"symbol": symbol}, {"trade_id": 1})}
        if not expected or stored != expected:
            return False
    return True


async def test_streams_beyond_one_connection_open_more_connections_and_lose_nothing(
    start_sim: StartSim, redis: aioredis.Redis, redis_url: str, mongo_uri: str, db_name: str,
    mongo_db: AsyncDatabase[Document],
) -> None:  # fmt: skip
    # arrange: the venue carries at most 4 streams per connection (it refuses more with HTTP 400);
    # 3 symbols x 2 kinds = 6 streams
    sim = await start_sim(symbols=SYMBOLS, max_streams=4)
    settings = collector_settings(
        sim.running, redis_url, mongo_uri, db_name, symbols=SYMBOLS, stream_kinds=KINDS, max_streams_per_connection=4
    )
    async with running_collector(settings) as collector:
        # assert: two connections, a symbol's streams on one of them
        assert collector.service.plan == [("BTCUSDT", "ETHUSDT"), ("BNBUSDT",)]

        async def both_connected() -> bool:
            status, body = await collector.readiness()
            deps = body["dependencies"]
            return status == 200 and deps["binance_ws"]["ok"] and deps["binance_ws_2"]["ok"]

        await eventually(both_connected, "both connections up and the collector ready")
        # act: trades on every symbol, then every connection cut, then more trades
        await sim.step(6)
        await eventually(lambda: _every_trade_stored(mongo_db, sim), "every trade of the first steps")
        await sim.post("cut")

        async def reconnected() -> bool:
            return all(ws.connections >= 2 for ws in collector.service.supervisors) and await both_connected()

        await eventually(reconnected, "both connections back")
        await sim.step(6)
        await eventually(lambda: _every_trade_stored(mongo_db, sim), "every trade, none lost across the cut")
        await eventually(collector.synced, "every symbol's local book synced again")
    # assert: each trade exactly once
    for symbol in SYMBOLS:
        ids = [doc["trade_id"] async for doc in mongo_db.trades.find({"symbol": symbol}, {"trade_id": 1})]
        assert len(ids) == len(set(ids)) == len(await sim.trade_ids(symbol))
