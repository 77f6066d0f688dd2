"""Two ``python -m processor`` replicas on the same symbols: shared out, one SIGKILLed, no signal lost or doubled.

Each symbol is processed by the replica holding its lease; the survivor of a SIGKILL takes the dead
replica's symbols over once their leases expire and resumes from the checkpoints. The signals in the
end are exactly those one processor would have produced: the offline pipeline's, once each in
MongoDB and once each on the stream.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import cast

import httpx
import pytest
import redis.asyncio as aioredis

from algo_common.domain.models import Signal
from algo_trade.servers import free_port
from processor.ownership import LEASE_PREFIX
from processor.pipeline import SymbolPipeline
from processor.signals import to_signal
from processor.store import checkpoint_key
from processor.strategies.sma_cross import SmaCross
from tests.integration.processor.processor_harness import PATH, WAIT_S, Collector, Observer, klines
from tests.support import eventually, metric_value

SYMBOLS = ("BTCUSDT", "ETHUSDT")
LAST = len(PATH) - 1


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    async def ready(self) -> bool:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as http:
            return (await http.get("/healthcheck")).status_code == 200


StartReplica = Callable[[str], Replica]


@pytest.fixture
def start_replica(redis_url: str, mongo_uri: str, db_name: str, tmp_path: Path) -> Iterator[StartReplica]:
    replicas: list[Replica] = []

    def start(name: str) -> Replica:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("PROCESSOR_")}
        env.update(
            PROCESSOR_REDIS_URL=redis_url,
            PROCESSOR_MONGO_URI=mongo_uri,
            PROCESSOR_MONGO_DB=db_name,
            PROCESSOR_HTTP_HOST="127.0.0.1",
            PROCESSOR_HTTP_PORT=str(port),
            PROCESSOR_SYMBOLS=",".join(SYMBOLS),
            PROCESSOR_FAST_PERIOD="2",
            PROCESSOR_SLOW_PERIOD="4",
            PROCESSOR_INTERVAL="1m",
            PROCESSOR_ORDER_QUANTITY="0.001",
            PROCESSOR_CONSUMER_NAME=name,
            PROCESSOR_BLOCK_MS="100",
            PROCESSOR_BACKFILL="false",
            PROCESSOR_LEASE_TTL_MS="1500",
            PROCESSOR_LEASE_RENEW_MS="300",
        )
        log_path = tmp_path / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "processor"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        replica = Replica(name, port, process, log_path)
        replicas.append(replica)
        return replica

    try:
        yield start
    finally:
        for replica in replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGTERM)
        for replica in replicas:
            try:
                replica.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait()
            print(f"--- {replica.name} log tail ---\n" + "\n".join(replica.log_path.read_text().splitlines()[-15:]))


async def owners(redis: aioredis.Redis) -> dict[str, str | None]:
    """Symbol -> name of the replica holding its lease (None: free)."""
    result: dict[str, str | None] = {}
    for symbol in SYMBOLS:
        token = await redis.get(LEASE_PREFIX + checkpoint_key("sma_cross", symbol, "1m"))
        result[symbol] = None if token is None else cast(bytes, token).decode().split(":")[1]
    return result


def single_processor_signals(symbol: str) -> list[Signal]:
    """What one processor that saw the whole path decides: the same pipeline, offline."""
    pipeline = SymbolPipeline(symbol, "1m", SmaCross(2, 4))
    return [
        to_signal(pipeline.strategy, outcome.decision, outcome.bar, Decimal("0.001"), ts_decision=0)
        for kline in klines(range(len(PATH)), symbol=symbol)
        for outcome in pipeline.on_kline(kline)
        if outcome.decision is not None
    ]


def _identity(sig: Signal) -> tuple[object, ...]:
    """Everything but the decision time (when it was decided differs between runs)."""
    return (sig.signal_id, sig.symbol, sig.side, sig.price, sig.bar_close_time, sig.ts_event, dict(sig.indicators))


async def test_a_killed_replicas_symbols_are_taken_over_without_loss_or_duplicates(
    start_replica: StartReplica, redis: aioredis.Redis, collector: Collector, observer: Observer
) -> None:
    # arrange: replica a alone owns both symbols; b joins and the symbols are shared out one each
    a = start_replica("proc-a")
    await eventually(a.ready, "replica a ready", timeout_s=WAIT_S)
    await eventually(lambda: _owned_by(redis, {"proc-a": 2}), "a owns both symbols", timeout_s=WAIT_S)
    b = start_replica("proc-b")
    await eventually(b.ready, "replica b ready", timeout_s=WAIT_S)
    await eventually(lambda: _owned_by(redis, {"proc-a": 1, "proc-b": 1}), "one symbol each", timeout_s=WAIT_S)
    for symbol in SYMBOLS:
        await collector.emit(klines(range(5), symbol=symbol))
    for symbol in SYMBOLS:
        await observer.wait_checkpoint(4, symbol)
    # act: the owner of BTCUSDT is killed while the crossing bars are arriving
    victim = a if (await owners(redis))["BTCUSDT"] == "proc-a" else b
    survivor = b if victim is a else a
    for symbol in SYMBOLS:
        await collector.emit(klines(range(5, 7), symbol=symbol))
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    for symbol in SYMBOLS:
        await collector.emit(klines(range(7, len(PATH)), symbol=symbol))
    # assert: the survivor owns both, has finished both, and the signals are one processor's
    await eventually(lambda: _owned_by(redis, {survivor.name: 2}), "survivor owns both", timeout_s=WAIT_S)
    for symbol in SYMBOLS:
        await observer.wait_checkpoint(LAST, symbol)
        await observer.wait_drained(symbol)
    published = await observer.stream_signals()
    docs = await observer.signal_docs()
    expected = [s for symbol in SYMBOLS for s in single_processor_signals(symbol)]
    assert [s.side.value for s in single_processor_signals("BTCUSDT")] == ["BUY", "SELL", "BUY"]
    assert sorted(map(_identity, published)) == sorted(map(_identity, expected))
    assert len({s.signal_id for s in published}) == len(published) == len(expected)
    assert sorted(d["_id"] for d in docs) == sorted(s.signal_id for s in expected)
    assert await survivor.ready()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{survivor.port}") as http:
        metrics = (await http.get("/metrics")).text
    assert metric_value("processor_owned_symbols", metrics) == 2
    assert metric_value("processor_lease_acquisitions_total", metrics, symbol="BTCUSDT") >= 1  # the take-over


async def _owned_by(redis: aioredis.Redis, counts: dict[str, int]) -> bool:
    held = list((await owners(redis)).values())
    return all(held.count(name) == count for name, count in counts.items()) and None not in held
