"""Market event -> signal on ``trade_signals_stream``: latency through a running processor at 1,000 events/s.

Starts Redis and MongoDB (``REDIS_URL`` / ``MONGO_URI`` when set, else private servers, as the tests
do) and ``python -m processor`` with SMA(1)/SMA(2) on 1m bars, then writes 1,000 market events a
second into ``market.BTCUSDT`` as the collector does (one XADD each): trades, and one event in
``KLINE_EVERY`` (100; env ``BENCH_KLINE_EVERY``) a closed 1m kline whose close alternates, so each
kline crosses the averages and makes one signal (store the kline, insert the signal, publish it
once under the lease's fence, move the checkpoint, ack). A reader on ``trade_signals_stream``
timestamps each signal as it arrives; the latency is that time minus the time just before the
kline's XADD, both ``perf_counter_ns`` of this process. The first ``SKIP_S`` seconds are left out
(connections, caches). Run: ``./dev bench processor`` (or ``uv run python -m bench processor``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import cast

import httpx
import redis.asyncio as aioredis

from algo_common.domain.models import Kline, MarketEvent, Trade
from algo_common.mongo import create_client, get_database
from algo_common.streams import EVENT_FIELD, SIGNALS_STREAM, decode_signal, encode_market_event, market_stream
from algo_trade.pipeline import prepare_database
from algo_trade.processes import ServiceProcess
from algo_trade.servers import free_port, mongo_server, redis_server, wait_until

RATE = 1_000
"""Market events per second."""
DURATION_S = 30.0
SKIP_S = 3.0
KLINE_EVERY = int(os.environ.get("BENCH_KLINE_EVERY", "100"))
"""One event in this many is a closed kline: 10 signals a second at 1,000 events/s by default (a live
1m strategy signals at most once a minute per symbol; ``BENCH_KLINE_EVERY=20`` loads it 5 times more)."""
UNDECIDED = 2
"""Klines without a decision: SMA(2) needs two bars, and a crossing needs a bar before it."""
TARGET_P99_MS = 3.0
SYMBOL = "BTCUSDT"
T0 = 1_700_000_040_000  # simulated minutes of the klines (a minute boundary)
MINUTE_MS = 60_000


@dataclass
class Run:
    sent: dict[int, int] = field(default_factory=dict)  # bar close time -> perf_counter_ns before its XADD
    received: dict[int, int] = field(default_factory=dict)  # bar close time -> perf_counter_ns at arrival
    events: int = 0
    started_ns: int = 0
    finished_ns: int = 0
    expected: int | None = None  # signals to wait for, once the writer is done
    complete: asyncio.Event = field(default_factory=asyncio.Event)


def market_event(i: int, now_ms: int) -> MarketEvent:
    """Event ``i``: a closed kline every KLINE_EVERY events (closes alternate 100/101), else a trade."""
    if i % KLINE_EVERY == KLINE_EVERY - 1:
        n = i // KLINE_EVERY
        price = Decimal(101 if n % 2 else 100)
        open_time = T0 + n * MINUTE_MS
        return Kline(
            symbol=SYMBOL, interval="1m", open_time=open_time, close_time=open_time + MINUTE_MS - 1,
            open=price, high=price, low=price, close=price, volume=Decimal(1), quote_volume=price,
            trades=1, closed=True, ts_event=now_ms, ts_recv=now_ms,
        )  # fmt: skip
    return Trade(
        symbol=SYMBOL, trade_id=i, price=Decimal("100.5"), qty=Decimal("0.01"), buyer_is_maker=bool(i % 2),
        ts_trade=now_ms, ts_event=now_ms, ts_recv=now_ms,
    )  # fmt: skip


async def write(redis: aioredis.Redis, run: Run, stop_at: float) -> None:
    """RATE events a second, paced against the monotonic clock (a late writer catches up, never skips)."""
    stream = market_stream(SYMBOL)
    start = time.perf_counter()
    run.started_ns = time.perf_counter_ns()
    i = 0
    while True:
        now = time.perf_counter()
        if now >= stop_at:
            break
        due = start + i / RATE
        if due > now:
            await asyncio.sleep(due - now)
        event = market_event(i, time.time_ns() // 1_000_000)
        fields = {EVENT_FIELD: encode_market_event(event)}
        if isinstance(event, Kline):
            run.sent[event.close_time] = time.perf_counter_ns()
        await redis.xadd(stream, fields, maxlen=100_000, approximate=True)  # type: ignore[arg-type]
        i += 1
    run.events = i
    run.finished_ns = time.perf_counter_ns()


async def read(redis: aioredis.Redis, run: Run, stop: asyncio.Event) -> None:
    last = b"0-0"
    while not stop.is_set():
        reply = await redis.xread({SIGNALS_STREAM: last}, count=1000, block=200)
        arrived = time.perf_counter_ns()
        for _, entries in cast(list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]], reply or []):
            for entry_id, fields in entries:
                last = entry_id
                run.received[decode_signal(fields[b"signal"]).bar_close_time] = arrived
        if run.expected is not None and len(run.received) >= run.expected:
            run.complete.set()


async def measure(redis_url: str) -> Run:
    writer_redis, reader_redis = aioredis.Redis.from_url(redis_url), aioredis.Redis.from_url(redis_url)
    run, stop = Run(), asyncio.Event()
    reader = asyncio.create_task(read(reader_redis, run, stop))
    try:
        await write(writer_redis, run, time.perf_counter() + DURATION_S)
        run.expected = len(run.sent) - UNDECIDED
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.complete.wait(), 30)
    finally:
        stop.set()
        await reader
        await writer_redis.aclose()
        await reader_redis.aclose()
    return run


async def round_trips(redis_url: str, mongo_uri: str, db: str, n: int = 300) -> dict[str, list[float]]:
    """The floor under the signal path, on the same servers: one MongoDB insert (w: majority), one Redis call."""
    client = create_client(mongo_uri, "bench")
    redis = aioredis.Redis.from_url(redis_url)
    times: dict[str, list[float]] = {"MongoDB insert_one": [], "Redis SET": []}
    try:
        collection = get_database(client, db)["bench_round_trips"]
        for i in range(n):
            start = time.perf_counter_ns()
            await collection.insert_one({"_id": i})
            times["MongoDB insert_one"].append((time.perf_counter_ns() - start) / 1e6)
            start = time.perf_counter_ns()
            await redis.set("bench:round-trip", i)
            times["Redis SET"].append((time.perf_counter_ns() - start) / 1e6)
    finally:
        await client.close()
        await redis.aclose()
    return times


@contextmanager
def servers(workdir: Path) -> Iterator[tuple[str, str]]:
    with ExitStack() as stack:
        redis_url, mongo_uri = os.environ.get("REDIS_URL", ""), os.environ.get("MONGO_URI", "")
        for name, url in (("redis", redis_url), ("mongo", mongo_uri)):
            if url:
                continue
            server = (redis_server if name == "redis" else mongo_server)(workdir / name)
            server.start()
            stack.callback(server.stop)
            if name == "redis":
                redis_url = server.url
            else:
                mongo_uri = server.url
        yield redis_url, mongo_uri


@contextmanager
def processor(workdir: Path, redis_url: str, mongo_uri: str, db: str) -> Iterator[int]:
    port = free_port()
    process = ServiceProcess(
        "processor",
        "processor",
        {
            "PROCESSOR_REDIS_URL": redis_url,
            "PROCESSOR_MONGO_URI": mongo_uri,
            "PROCESSOR_MONGO_DB": db,
            "PROCESSOR_HTTP_HOST": "127.0.0.1",
            "PROCESSOR_HTTP_PORT": str(port),
            "PROCESSOR_SYMBOLS": SYMBOL,
            "PROCESSOR_FAST_PERIOD": "1",
            "PROCESSOR_SLOW_PERIOD": "2",
            "PROCESSOR_INTERVAL": "1m",
            "PROCESSOR_BACKFILL": "false",
            "PROCESSOR_CONSUMER_NAME": "bench",
        },
        workdir / "processor.log",
    )
    process.start()
    try:
        url = f"http://127.0.0.1:{port}/healthcheck"
        wait_until(lambda: _ok(url), 60, "processor ready")
        yield port
    finally:
        process.terminate()
        process.wait(30)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def report(run: Run) -> None:
    skip_ns = run.started_ns + int(SKIP_S * 1e9)
    latencies = sorted(
        (run.received[t] - sent) / 1e6 for t, sent in run.sent.items() if t in run.received and sent >= skip_ns
    )
    missing = len(run.sent) - UNDECIDED - len(run.received)
    seconds = (run.finished_ns - run.started_ns) / 1e9
    print(
        f"  {run.events} events in {seconds:.1f} s ({run.events / seconds:.0f}/s), one in {KLINE_EVERY} a closed kline:"
    )
    print(
        f"  {len(run.sent)} klines -> {len(run.received)} signals ({missing} missing), measured after {SKIP_S:.0f} s:"
    )
    if not latencies:
        print("  no signals measured")
        return
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p90, p99 = q[49], q[89], q[98]
    verdict = "met" if p99 < TARGET_P99_MS else "NOT met"
    print(
        f"  event -> signal latency over {len(latencies)} signals: p50 {p50:.2f} ms, p90 {p90:.2f} ms,"
        f" p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms (target p99 < {TARGET_P99_MS:.0f} ms: {verdict})"
    )


def main() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    mongo = "mongod" if shutil.which("mongod") else "SecantusDB"
    print(f"  python {platform.python_version()}, {os.cpu_count()} cpus, load average {load}, MongoDB: {mongo}")
    with tempfile.TemporaryDirectory(prefix="bench-processor-") as tmp:
        workdir = Path(tmp)
        with servers(workdir) as (redis_url, mongo_uri):
            db = f"bench_{uuid.uuid4().hex[:8]}"
            prepare_database(mongo_uri, db)
            with processor(workdir, redis_url, mongo_uri, db):
                run = asyncio.run(measure(redis_url))
            floor = asyncio.run(round_trips(redis_url, mongo_uri, db))
    report(run)
    for name, values in floor.items():
        q = statistics.quantiles(values, n=100, method="inclusive")
        print(f"  one {name} round trip (processor stopped): p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms")


if __name__ == "__main__":
    main()
