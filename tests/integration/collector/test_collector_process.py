"""``python -m collector`` configured only by env vars, as the end-to-end tests and Kubernetes run it;
and the queue bound: a sink whose database never answers drops loudly and makes the service unready."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from algo_trade.servers import free_port
from tests.integration.collector.collector_harness import (
    Sim,
    collector_settings,
    running_collector,
)
from tests.support import eventually, metric_value


def _env(sim: Sim, redis_url: str, mongo_uri: str, db_name: str, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COLLECTOR_")}
    env.update(
        {
            "COLLECTOR_SYMBOLS": "BTCUSDT",
            "COLLECTOR_STREAM_KINDS": "trade,kline_1m,depth@100ms",
            "COLLECTOR_WS_BASE_URL": sim.running.ws_url,
            "COLLECTOR_REST_BASE_URL": sim.running.rest_url,
            "COLLECTOR_REDIS_URL": redis_url,
            "COLLECTOR_MONGO_URI": mongo_uri,
            "COLLECTOR_MONGO_DB": db_name,
            "COLLECTOR_HTTP_HOST": "127.0.0.1",
            "COLLECTOR_HTTP_PORT": str(port),
            "COLLECTOR_RECONNECT_BACKOFF_BASE_S": "0.05",
            "COLLECTOR_RETRY_BASE_S": "0.05",
            "COLLECTOR_RETRY_CAP_S": "0.5",
        }
    )
    return env


async def _get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def test_collector_process_collects_serves_health_and_metrics_and_stops_on_sigterm(
    sim: Sim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document], tmp_path: Path
) -> None:
    # arrange
    port = free_port()
    log = tmp_path / "collector.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; the wait is in a thread
            [sys.executable, "-m", "collector"],
            env=_env(sim, redis_url, mongo_uri, db_name, port),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await eventually(lambda: _status_is(port, 200), "the collector process to become ready")
        # act
        await sim.step(6)
        # assert
        expected = await sim.trade_ids()
        await eventually(lambda: _stored(mongo_db, len(expected)), "the process to store every trade")
        metrics = (await _get(port, "/metrics")).text
        assert metric_value("collector_events_written_total", metrics, sink="mongodb") >= len(expected)
        assert metric_value("collector_events_received_total", metrics, symbol="BTCUSDT", kind="trade") >= len(expected)
        assert metric_value("collector_events_written_total", metrics, sink="redis") >= len(expected)
        assert metric_value("collector_event_latency_seconds_count", metrics, kind="trade") > 0
        live = await _get(port, "/healthcheck/live")
        assert live.status_code == 200
    finally:
        if process.poll() is None:
            process.terminate()
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0, log.read_text()
    text = log.read_text()
    assert "service stopped" in text
    assert "mongodb://" not in text, "a connection URI reached the log"
    assert "redis://" not in text, "a connection URI reached the log"


async def _status_is(port: int, status: int) -> bool:
    return (await _get(port, "/healthcheck")).status_code == status


async def _stored(db: AsyncDatabase[Document], count: int) -> bool:
    return await db.trades.count_documents({}) == count


async def test_full_queue_drops_counts_and_turns_unready(
    sim: Sim, redis_url: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange: a MongoDB that never answers (nothing listens on the port) and a tiny queue
    dead_mongo = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    settings = collector_settings(sim.running, redis_url, dead_mongo, db_name, queue_maxsize=5)
    dropped = metric_value("collector_events_dropped_total", reason="mongodb_queue_full")
    async with running_collector(settings, drain_timeout_s=0.5) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act
        await sim.step(10)
        # assert
        await eventually(
            lambda: _above(metric_value("collector_events_dropped_total", reason="mongodb_queue_full"), dropped),
            "drops counted",
        )
        status, body = await collector.readiness()
        assert status == 503
        assert body["dependencies"]["mongodb_queue"]["ok"] is False
        assert collector.service.mongo_sink.depth == 5
        assert not collector.task.done()


async def _above(value: float, floor: float) -> bool:
    return value > floor
