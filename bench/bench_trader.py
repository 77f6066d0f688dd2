"""Trader speed: signal published -> order acknowledged (paper), p50/p99, and signals/s per replica.

Trader replicas run as separate processes (``python -m bench.bench_trader --replica``), each the
real ``TraderService`` main loop on the paper venue, in consumer group ``trader``. Added: a
timestamp (``time.time_ns``) taken when ``Executor.handle`` returns, i.e. when the venue's
answer is durable in MongoDB (what makes the entry safe to XACK), and a
:class:`bench.trader_probe.Probe` that counts each signal's MongoDB commands and Redis round
trips and times its steps; the replica writes those records to a file when it stops. The
publisher stamps each signal just before its ``publish_once`` (the processor's call). Latency =
the two stamps' difference (one clock). The output adds, over the measured signals, the round
trips per signal by command (explaining the latency whatever the servers' speed) and p50/p99 per
step (``delivery``: publish to the entry reaching the trader, queueing included).

- latency: signals published open-loop at ``RATE`` per second, p50/p99/max over ``LATENCY_N``
  (after ``WARMUP`` unmeasured ones);
- throughput: ``BURST_N`` signals published at once, signals/s = count / (last done - first published);
- both with one replica, then two replicas in one group (``BENCH_TRADER_REPLICAS=1`` for one only).

Signals cycle over four symbols (BUYs of 0.001 at 100, limits out of the way) so two replicas
mostly update different positions. Redis and MongoDB: ``REDIS_URL`` / ``MONGO_URI`` when set,
else private servers (redis-server; mongod when on PATH, else SecantusDB). Run: ``./dev bench
trader`` (or ``uv run python -m bench trader``). docs/performance.md records the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from pymongo.asynchronous.collection import AsyncCollection

from algo_common import mongo, redis_client
from algo_common.domain.ids import signal_id
from algo_common.domain.models import Side, Signal
from algo_common.mongo import Document
from algo_common.streams import SIGNALS_STREAM, encode_signal, publish_once
from algo_trade.servers import LocalServer, mongo_server, redis_server
from bench.trader_probe import Probe, Record, summarize

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT")
RATE = 10
WARMUP = 50
LATENCY_N = 300
BURST_N = 500
TARGET_P99_MS = 3.0
OUT_ENV = "BENCH_TRADER_OUT"
"""Set in each replica's environment: where it writes its records. ``BENCH_TRADER_REPLICAS`` (default
``1,2``) chooses the replica counts measured."""


def _signal(n: int) -> Signal:
    params = {"bench": "1"}
    symbol = SYMBOLS[n % len(SYMBOLS)]
    close = 60_000 * (n + 1)
    return Signal(
        signal_id=signal_id("bench", params, symbol, "1m", close),
        strategy="bench",
        strategy_version="1",
        params=params,
        symbol=symbol,
        interval="1m",
        side=Side.BUY,
        price=Decimal("100"),
        quantity=Decimal("0.001"),
        indicators={},
        bar_open_time=close - 59_999,
        bar_close_time=close,
        ts_event=close,
        ts_decision=int(time.time() * 1000),
    )


# --- replica process -------------------------------------------------------------------------


def replica() -> None:
    """One trader replica whose executor stamps each handled signal; stamps are written on SIGTERM.

    A :class:`bench.trader_probe.Probe` also counts each signal's round trips and times its steps.
    """
    from algo_common.settings import load_settings  # noqa: PLC0415 - replica-only imports
    from trader.service import TraderService  # noqa: PLC0415
    from trader.settings import TraderSettings  # noqa: PLC0415

    probe = Probe()
    probe.install()

    async def main() -> dict[str, Record]:
        service = TraderService.create(load_settings(TraderSettings))
        executor = service.executor
        probe.attach({"ledger": service.ledger, "pre_trade": executor.pre_trade, "venue": executor._venue})
        handle = executor.handle

        async def stamped(sig: Signal, *args: Any, **kwargs: Any) -> None:
            await handle(sig, *args, **kwargs)
            probe.stamp("done", time.time_ns())

        executor.handle = stamped  # type: ignore[method-assign,assignment]
        service._process = probe.wrap_process(service._process)  # type: ignore[method-assign,assignment]
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await service.main(stop)
        await service.close()
        return probe.records

    Path(os.environ[OUT_ENV]).write_text(json.dumps(asyncio.run(main())))


# --- driver ----------------------------------------------------------------------------------


class Run:
    """Servers, replicas and the publisher of one measurement."""

    def __init__(self, redis_url: str, mongo_uri: str, work: Path) -> None:
        self.redis_url = redis_url
        self.mongo_uri = mongo_uri
        self.work = work
        self.next_n = 0

    def _replica_env(self, name: str, db: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADER_")}
        env.update(
            {
                "TRADER_REDIS_URL": self.redis_url,
                "TRADER_MONGO_URI": self.mongo_uri,
                "TRADER_MONGO_DB": db,
                "TRADER_CONSUMER_NAME": name,
                "TRADER_LOG_LEVEL": "WARNING",
                "TRADER_MAX_ORDER_NOTIONAL": "1e12",
                "TRADER_MAX_POSITION_QTY": "1e12",
                "TRADER_STARTING_BALANCE": "1e15",
                "TRADER_MAX_ORDERS_PER_MINUTE": "0",
                "TRADER_MAX_DAILY_LOSS": "0",
                "TRADER_READ_COUNT": "10",
                "TRADER_BLOCK_MS": "1000",
                OUT_ENV: str(self.work / f"{name}-{db}.json"),
            }
        )
        return env

    async def measure(self, replicas: int, mode: str) -> dict[str, Any]:
        db = f"bench_trader_{mode}_{replicas}_{int(time.time())}"
        redis = redis_client.create_redis(self.redis_url)
        await redis.flushdb()
        names = [f"bench-{i}" for i in range(replicas)]
        procs = [_spawn(self._replica_env(name, db)) for name in names]
        client = mongo.create_client(self.mongo_uri, "bench")
        orders = mongo.get_database(client, db).orders
        try:
            await self._publish([self._take() for _ in range(WARMUP)], rate=RATE, redis=redis)
            await _wait_orders(orders, WARMUP)
            batch = [self._take() for _ in range(LATENCY_N if mode == "latency" else BURST_N)]
            sent = await self._publish(batch, rate=RATE if mode == "latency" else None, redis=redis)
            await _wait_orders(orders, WARMUP + len(batch))
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                await asyncio.to_thread(proc.wait, 60)
            await redis.aclose()
            await client.drop_database(db)
            await client.close()
        records = _read_records([self.work / f"{name}-{db}.json" for name in names])
        measured = [records[sid] for sid in sent]
        for sid, record in zip(sent, measured, strict=True):
            record["steps"]["delivery"] = record["start"] - sent[sid]
        latencies = sorted((records[sid]["done"] - ns) / 1e6 for sid, ns in sent.items())
        elapsed_s = (max(records[sid]["done"] for sid in sent) - min(sent.values())) / 1e9
        return {
            "p50_ms": statistics.median(latencies),
            "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
            "max_ms": latencies[-1],
            "per_s": len(sent) / elapsed_s,
            "breakdown": summarize(measured),
        }

    def _take(self) -> Signal:
        self.next_n += 1
        return _signal(self.next_n)

    @staticmethod
    async def _publish(signals: list[Signal], rate: float | None, redis: aioredis.Redis) -> dict[str, int]:
        """Publish (open-loop at ``rate``/s, or all at once); the publish stamp of each signal."""
        sent: dict[str, int] = {}
        start = time.perf_counter()
        for i, sig in enumerate(signals):
            if rate is not None:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            fields = {b"signal_id": sig.signal_id.encode(), b"signal": encode_signal(sig)}
            sent[sig.signal_id] = time.time_ns()
            await publish_once(redis, SIGNALS_STREAM, sig.signal_id, fields, maxlen=100_000)
        return sent


def _spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.bench_trader", "--replica"], env=env, stdout=subprocess.DEVNULL
    )


def _read_records(paths: list[Path]) -> dict[str, Record]:
    records: dict[str, Record] = {}
    for path in paths:
        records.update(json.loads(path.read_text()))
    return records


async def _wait_orders(orders: AsyncCollection[Document], count: int, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while await orders.count_documents({"status": "FILLED"}) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {count} orders filled after {timeout_s}s")
        await asyncio.sleep(0.1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-trader-") as tmp:
        work = Path(tmp)
        servers: list[LocalServer] = []
        redis_url, mongo_uri = os.environ.get("REDIS_URL", ""), os.environ.get("MONGO_URI", "")
        if not redis_url:
            servers.append(redis_server(work / "redis"))
        if not mongo_uri:
            servers.append(mongo_server(work / "mongo"))
        for server in servers:
            server.start()
        redis_url = redis_url or next(s.url for s in servers if s.name == "redis")
        mongo_uri = mongo_uri or next(s.url for s in servers if s.name == "mongodb")
        try:
            run = Run(redis_url, mongo_uri, work)
            print(f"mongodb: {'MONGO_URI' if os.environ.get('MONGO_URI') else servers[-1].command[0]}")
            for replicas in (int(n) for n in os.environ.get("BENCH_TRADER_REPLICAS", "1,2").split(",")):
                lat = asyncio.run(run.measure(replicas, "latency"))
                burst = asyncio.run(run.measure(replicas, "burst"))
                verdict = "met" if lat["p99_ms"] < TARGET_P99_MS else "MISSED"
                print(
                    f"{replicas} replica(s): latency at {RATE}/s p50 {lat['p50_ms']:.2f} ms, "
                    f"p99 {lat['p99_ms']:.2f} ms ({verdict}; target < {TARGET_P99_MS} ms), max {lat['max_ms']:.2f} ms; "
                    f"burst of {BURST_N}: {burst['per_s']:.0f} signals/s "
                    f"(latency under the burst p50 {burst['p50_ms']:.0f} ms)"
                )
                for line in lat["breakdown"]:
                    print(line)
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["--replica"]:
        replica()
    else:
        main()
