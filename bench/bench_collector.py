"""Collector speed: parse and XADD ceilings, end to end from the simulator, latency at 1k msg/s, depth diffs/s.

1. Parse alone: ``Feed.decode`` over the simulator's own frames (trade, depth diff, kline), in memory.
2. XADD alone: batches of 500 encoded trades with explicit ids, ``XADD MAXLEN ~`` each, sent as
   the stream sink sends them (one Lua script call per batch), to a private redis-server.
3. End to end: the simulator's market frames, sent by a feeder process faster than the collector
   reads them (the simulator's own process sends only a few thousand a second) -> the collector in
   this process (WebSocket, parse, local book, batched writes to a private Redis and
   MongoDB-compatible server) until every event is written. Messages/s by wall clock and by this
   process's CPU time (the collector's share of one core), and the ratio to the slower ceiling.
4. Latency at 1,000 trades/s: a feeder process sends trade frames on a WebSocket and logs each
   send time; the collector's stream sink logs when Redis acknowledges each entry's XADD (the
   entry is then in ``market.BTCUSDT``: the target's figure), and a reader process logs when it
   reads each entry (XREAD, as a consumer would); same clock (CLOCK_REALTIME); p50/p99. Split:
   send -> the collector decodes the frame, and decode -> XADD acknowledged. Run a second time
   with the MongoDB sink storing nothing, to show what the MongoDB writes (client and server, on
   the same CPUs here) add to the tail.
5. Depth: decode + apply of diffs with 20 levels per side (``Feed.decode`` + ``SymbolBook.on_delta``).

Run: ``./dev bench collector`` (or ``uv run python -m bench collector``). Figures: docs/performance.md.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import msgspec
from pydantic import SecretStr
from redis import Redis

from algo_common.binance.schemas import BinanceCombinedMessage, BinanceDepthSnapshot, BinanceDepthUpdate
from algo_common.domain.models import BookSnapshot, Trade
from algo_common.streams import EVENT_FIELD, decode_market_event, encode_market_event, market_stream
from algo_trade.servers import LocalServer, free_port, mongo_server, redis_server, wait_until
from collector.book_state import SymbolBook
from collector.feed import Feed, FeedEvent
from collector.level_book import DepthDiff
from collector.service import CollectorService
from collector.settings import CollectorSettings
from collector.sinks import SinkEvent
from collector.stream_sink import XADD_LINES, Entry
from exchange_sim.encoding import encode, fixed8
from exchange_sim.market import Market, MarketConfig
from exchange_sim.streams import stream_names

SYMBOL = "BTCUSDT"
PARSE_FRAMES = 200_000
XADD_EVENTS = 100_000
BATCH = 500
E2E_STEPS = 15_000
WARMUP_STEPS = 20
LATENCY_RATE = 1_000
LATENCY_SECONDS = 10
DEPTH_DIFFS = 100_000
END_TO_END_SHARE = 0.8
LATENCY_P99_TARGET_MS = 1.5
DEPTH_TARGET = 80_000
WRITTEN_TIMEOUT_S = 300.0

Timed = tuple[dict[int, int], dict[int, int]]
"""Trade id -> when Redis acknowledged its entry, and when the collector decoded its frame (ns)."""


def sim_market() -> Market:
    return Market(MarketConfig(symbols=(SYMBOL,), seed=7, levels_per_side=20))


def sim_frames(steps: int, market: Market | None = None) -> list[bytes]:
    """Combined-stream frames the simulator sends for ``steps`` steps (trade, depth@100ms, kline_1m)."""
    market = market or sim_market()
    frames: list[bytes] = []
    wanted = {f"{SYMBOL.lower()}@trade", f"{SYMBOL.lower()}@depth@100ms", f"{SYMBOL.lower()}@kline_1m"}
    for _ in range(steps):
        for event in market.step():
            raw = encode(event.payload)
            for name in stream_names(event.symbol, event.kind, "1m"):
                if name in wanted:
                    frames.append(encode(BinanceCombinedMessage(stream=name, data=msgspec.Raw(raw))))
    return frames


def best_rate(count: int, run: Callable[[], None], repeat: int = 3) -> float:
    """Items per second of the fastest of ``repeat`` runs (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def parse_ceiling() -> float:
    frames = sim_frames(PARSE_FRAMES // 4)
    feed = Feed([SYMBOL])
    decode = feed.decode

    def run() -> None:
        for frame in frames:
            decode(frame, 0)

    rate = best_rate(len(frames), run)
    print(f"  parse alone: {rate:,.0f} msg/s ({len(frames):,} simulator frames: trade, depth diff, kline)")
    return rate


def _trade(trade_id: int) -> Trade:
    return Trade(
        symbol=SYMBOL,
        trade_id=trade_id,
        price=Decimal("30000.12"),
        qty=Decimal("0.0125"),
        buyer_is_maker=bool(trade_id % 2),
        ts_trade=trade_id,
        ts_event=trade_id,
        ts_recv=trade_id,
    )


def xadd_ceiling(redis_url: str) -> float:
    client = Redis.from_url(redis_url)
    stream = market_stream(SYMBOL)
    events = [_trade(i) for i in range(XADD_EVENTS)]
    script = client.register_script(XADD_LINES.text)  # the sync client of this bench: its own EVALSHA wrapper
    state = {"ms": 1}

    def run() -> None:  # the events are encoded in the timed part, as the sink encodes them
        client.delete(stream)
        for start in range(0, len(events), BATCH):
            lines = b"\n".join([encode_market_event(event) for event in events[start : start + BATCH]])
            script(keys=[stream], args=[100_000, EVENT_FIELD, state["ms"], 0, lines])
            state["ms"] += 1

    rate = best_rate(len(events), run)
    client.delete(stream)
    client.close()
    print(
        f"  XADD alone: {rate:,.0f} entries/s (encoded, batches of {BATCH} as JSON lines, explicit ids, MAXLEN ~, "
        "one script call each)"
    )
    return rate


def _settings(ws: str, rest: str, redis_url: str, mongo_url: str, kinds: tuple[str, ...]) -> CollectorSettings:
    return CollectorSettings(
        symbols=(SYMBOL,),
        stream_kinds=kinds,
        ws_base_url=ws,
        rest_base_url=rest,
        redis_url=SecretStr(redis_url),
        mongo_uri=SecretStr(mongo_url),
        mongo_db=f"bench_{os.getpid()}_{time.monotonic_ns()}",
        http_port=0,
        stream_maxlen=200_000,
        queue_maxsize=2_000_000,
        trades_retention_days=0,
        depth_retention_days=0,
    )


def _feeder_app(steps: int) -> Any:
    """The simulator's market and frames, served by a feeder that outruns the collector.

    The simulator's own process steps its market and sends each frame as it goes (a few thousand
    frames a second), slower than the collector reads: the collector would idle between frames and
    write one event per round trip. Here the frames are made up front from the same ``Market``:
    ``WARMUP_STEPS`` steps' frames on connect, the REST snapshot at that point (Binance's rule: not
    older than the first buffered diff), then, on ``POST /go``, the next ``E2E_STEPS`` steps' frames
    as fast as the socket takes them.
    """
    from aiohttp import web  # noqa: PLC0415 - only in the feeder process

    market = sim_market()
    warmup = [frame.decode() for frame in sim_frames(WARMUP_STEPS, market)]  # Binance sends text frames
    book = market.symbols[SYMBOL].book
    snapshot = encode(
        BinanceDepthSnapshot(
            lastUpdateId=book.last_update_id,
            bids=[(fixed8(p), fixed8(q)) for p, q in book.bids(5000)],
            asks=[(fixed8(p), fixed8(q)) for p, q in book.asks(5000)],
        )
    )
    timed = [frame.decode() for frame in sim_frames(steps, market)]
    go = asyncio.Event()

    async def depth(_: web.Request) -> web.Response:
        return web.Response(body=snapshot, content_type="application/json")

    async def ping(_: web.Request) -> web.Response:
        return web.json_response({})

    async def count(_: web.Request) -> web.Response:
        return web.json_response({"warmup": len(warmup), "timed": len(timed)})

    async def start(_: web.Request) -> web.Response:
        go.set()
        return web.json_response({})

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        for text in warmup:
            await ws.send_str(text)
        await go.wait()
        for text in timed:
            await ws.send_str(text)
        await ws.receive()  # until the collector closes
        return ws

    app = web.Application()
    app.router.add_get("/api/v3/depth", depth)
    app.router.add_get("/api/v3/ping", ping)
    app.router.add_get("/count", count)
    app.router.add_post("/go", start)
    app.router.add_get("/stream", stream)
    return app


def _feeder_process(port: int, steps: int) -> None:
    from aiohttp import web  # noqa: PLC0415 - only in the feeder process

    web.run_app(_feeder_app(steps), host="127.0.0.1", port=port, print=None)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


async def _end_to_end(redis_url: str, mongo_url: str) -> tuple[float, float, int]:
    """Frames/s by wall clock and by this process's CPU time, and the frame count.

    The window starts once the book is synced on the warm-up frames and ends when every timed
    frame is received and written (no sink has anything pending).
    """
    port = free_port()
    feeder = multiprocessing.get_context("spawn").Process(target=_feeder_process, args=(port, E2E_STEPS), daemon=True)
    feeder.start()
    try:
        base = f"127.0.0.1:{port}"
        # the feeder makes its frames first
        await asyncio.to_thread(wait_until, lambda: _answers(f"http://{base}/api/v3/ping"), 120, "the feeder")
        async with httpx.AsyncClient() as http:
            counts = (await http.get(f"http://{base}/count")).json()
        settings = _settings(
            f"ws://{base}", f"http://{base}", redis_url, mongo_url, ("trade", "kline_1m", "depth@100ms")
        )
        service = CollectorService.from_settings(settings)
        stop = asyncio.Event()
        task = asyncio.create_task(service.main(stop))
        received0 = sum(service.metrics.received.values())  # per process: earlier runs counted too
        await _written(service, received0 + counts["warmup"])
        while service.books.books[SYMBOL].book is None:  # noqa: ASYNC110 - a benchmark polls its subject
            await asyncio.sleep(0.05)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        async with httpx.AsyncClient() as http:
            await http.post(f"http://{base}/go")
        await _written(service, received0 + counts["warmup"] + counts["timed"])
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        stop.set()
        await task
        await service.aclose()
        return counts["timed"] / wall, counts["timed"] / cpu, counts["timed"]
    finally:
        feeder.terminate()
        feeder.join(10)


async def _written(service: CollectorService, frames: int) -> None:
    """Wait until ``frames`` frames are received (this process's count) and everything is written."""
    deadline = time.monotonic() + WRITTEN_TIMEOUT_S
    while (
        (received := sum(service.metrics.received.values())) < frames
        or service.stream_sink.pending
        or service.mongo_sink.pending
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"after {WRITTEN_TIMEOUT_S:.0f} s: {received:,} of {frames:,} frames received, pending: "
                f"redis {service.stream_sink.pending}, mongodb {service.mongo_sink.pending}"
            )
        await asyncio.sleep(0.005)


def end_to_end(redis_url: str, mongo_url: str, ceiling: float) -> float:
    wall_rate, cpu_rate, frames = asyncio.run(_end_to_end(redis_url, mongo_url))
    print(
        f"  end to end: {wall_rate:,.0f} msg/s wall, {cpu_rate:,.0f} msg/s per core of collector CPU "
        f"({frames:,} frames; parse -> book -> batched Redis + MongoDB writes)"
    )
    ratio = cpu_rate / ceiling
    verdict = "met" if ratio >= END_TO_END_SHARE else "missed"
    print(f"  end to end / slower ceiling: {ratio:.2f} (target >= {END_TO_END_SHARE}: {verdict})")
    return cpu_rate


def _feeder(port: int, rate: int, seconds: int, log_path: str) -> None:
    """Another process: serve one WebSocket client trade frames at ``rate``/s, logging each send time."""
    from websockets.asyncio.server import serve  # noqa: PLC0415 - only in the feeder process

    async def handler(ws: Any) -> None:
        sent: list[str] = []
        start = time.perf_counter()
        for i in range(1, rate * seconds + 1):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            now_ns = time.time_ns()
            ms = now_ns // 1_000_000
            data = (
                f'{{"e":"trade","E":{ms},"s":"{SYMBOL}","t":{i},"p":"30000.10000000","q":"0.01000000",'
                f'"T":{ms},"m":true,"M":true}}'
            )
            await ws.send(f'{{"stream":"btcusdt@trade","data":{data}}}')
            sent.append(f"{i} {now_ns}")
        Path(log_path).write_text("\n".join(sent))  # noqa: ASYNC240 - once, after the measurement
        await ws.wait_closed()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port):
            await asyncio.Future()

    asyncio.run(main())


def _reader(redis_url: str, expected: int, out_path: str, timeout_s: float, ready: Any) -> None:
    """Another process (no GIL shared with the collector): log when each trade's entry appears."""
    client = Redis.from_url(redis_url)
    client.ping()
    ready.set()  # a reader still importing would add its start-up time to the first trades
    last: bytes | str = "0-0"  # the stream was deleted before the run: everything on it is this run's
    stream = market_stream(SYMBOL)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + timeout_s
    while len(seen) < expected and time.monotonic() < deadline:
        reply = cast(
            list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]],
            client.xread({stream: last}, count=1000, block=200),
        )
        now_ns = time.time_ns()
        for _, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                event = decode_market_event(fields[EVENT_FIELD])
                if isinstance(event, Trade):
                    seen[event.trade_id] = now_ns
    Path(out_path).write_text("\n".join(f"{k} {v}" for k, v in seen.items()))
    client.close()


def _time_trades(service: CollectorService, acked: dict[int, int], decoded: dict[int, int]) -> None:
    """Log when the collector decodes each trade's frame and when Redis acknowledges its XADD.

    Wraps the feed's ``decode`` and the sink's ``write`` on this instance only (the service calls
    ``self.feed.decode``, the sink ``self.write``); nothing else changes in the collector.
    """
    sink, feed = service.stream_sink, service.feed
    write, decode = sink.write, feed.decode

    def timed_decode(raw: bytes, ts_recv: int) -> FeedEvent:
        now_ns = time.time_ns()
        event = decode(raw, ts_recv)
        if isinstance(event, Trade):
            decoded[event.trade_id] = now_ns
        return event

    async def timed(batch: list[Entry], retry: bool) -> None:
        await write(batch, retry)
        now_ns = time.time_ns()
        for entry in batch:
            if isinstance(entry.event, Trade):
                acked[entry.event.trade_id] = now_ns

    feed.decode = timed_decode  # type: ignore[method-assign]
    sink.write = timed  # type: ignore[method-assign]


def _store_nothing(_: SinkEvent) -> None:
    return None


async def _latency_run(redis_url: str, mongo_url: str, paths: tuple[str, str], timed: Timed, mongo: bool) -> None:
    sent_path, seen_path = paths
    port = free_port()
    spawn = multiprocessing.get_context("spawn")
    expected = LATENCY_RATE * LATENCY_SECONDS
    Redis.from_url(redis_url).delete(market_stream(SYMBOL))
    ready = spawn.Event()
    reader = spawn.Process(
        target=_reader, args=(redis_url, expected, seen_path, LATENCY_SECONDS + 60.0, ready), daemon=True
    )
    feeder = spawn.Process(target=_feeder, args=(port, LATENCY_RATE, LATENCY_SECONDS, sent_path), daemon=True)
    reader.start()
    if not await asyncio.to_thread(ready.wait, 60):
        raise TimeoutError("the reader did not start")
    feeder.start()
    try:
        wait_until(lambda: _port_open(port), 30, "the feeder")
        settings = _settings(f"ws://127.0.0.1:{port}", "http://127.0.0.1:1", redis_url, mongo_url, ("trade",))
        service = CollectorService.from_settings(settings)
        _time_trades(service, *timed)
        if not mongo:
            service.mongo_sink.select = _store_nothing  # type: ignore[method-assign, assignment]
        stop = asyncio.Event()
        task = asyncio.create_task(service.main(stop))
        await asyncio.to_thread(reader.join, LATENCY_SECONDS + 90)  # the reader ends once it saw every trade
        stop.set()
        await task
        await service.aclose()
    finally:
        feeder.terminate()
        reader.terminate()


def _pairs(path: str) -> dict[int, int]:
    pairs: dict[int, int] = {}
    for line in Path(path).read_text().splitlines():
        key, value = line.split()
        pairs[int(key)] = int(value)
    return pairs


def _port_open(port: int) -> bool:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def latency(redis_url: str, mongo_url: str, mongo: bool = True) -> tuple[float, float]:
    """p50 and p99 (ms) of send -> entry in the stream; ``mongo=False``: the MongoDB sink stores nothing."""
    acked: dict[int, int] = {}
    decoded: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = (str(Path(folder) / "sent.txt"), str(Path(folder) / "seen.txt"))
        asyncio.run(_latency_run(redis_url, mongo_url, paths, (acked, decoded), mongo))
        sent = _pairs(paths[0])
        seen = _pairs(paths[1])
    in_stream = _percentiles(sent, acked)
    observed = _percentiles(sent, seen)
    read = _percentiles(sent, decoded)
    written = _percentiles(decoded, acked)
    stream = market_stream(SYMBOL)
    if mongo:
        verdict = "met" if in_stream[1] < LATENCY_P99_TARGET_MS else "missed"
        print(
            f"  latency at {LATENCY_RATE:,} trades/s, send -> entry in {stream} (XADD acknowledged): "
            f"p50 {in_stream[0]:.3f} ms, p99 {in_stream[1]:.3f} ms, max {in_stream[2]:.3f} ms over "
            f"{in_stream[3]:,} trades (target p99 < {LATENCY_P99_TARGET_MS} ms: {verdict})"
        )
        print(
            f"  latency at {LATENCY_RATE:,} trades/s, send -> entry read from {stream} by another process (XREAD): "
            f"p50 {observed[0]:.3f} ms, p99 {observed[1]:.3f} ms, max {observed[2]:.3f} ms"
        )
    else:
        print(
            f"  the same without MongoDB writes (the sink stores nothing), send -> entry in {stream}: "
            f"p50 {in_stream[0]:.3f} ms, p99 {in_stream[1]:.3f} ms, max {in_stream[2]:.3f} ms"
        )
    print(
        f"    of which send -> frame decoded: p50 {read[0]:.3f} ms, p99 {read[1]:.3f} ms; "
        f"decoded -> XADD acknowledged: p50 {written[0]:.3f} ms, p99 {written[1]:.3f} ms"
    )
    return in_stream[0], in_stream[1]


def _percentiles(sent: dict[int, int], arrived: dict[int, int]) -> tuple[float, float, float, int]:
    """p50, p99 and max in ms of arrival - send, and the count, without the first 5 % sent (warm-up)."""
    delays_ms = [(arrived[i] - sent[i]) / 1e6 for i in sorted(sent) if i in arrived]  # in sending order
    steady = sorted(delays_ms[len(delays_ms) // 20 :])
    return statistics.median(steady), steady[int(len(steady) * 0.99) - 1], steady[-1], len(steady)


def _depth_qty(rng: random.Random) -> Decimal:
    """A level's quantity as in a real recording: mostly a value not seen before, a quarter of them 0."""
    return Decimal(0) if rng.random() < 0.25 else Decimal(rng.randint(1, 10**12)).scaleb(-8)


def depth_rate() -> float:
    """Prices repeat (999 per side), quantities mostly do not (as in ``tests/fixtures/binance/recording``:
    311 distinct of 422), so every diff's quantities are checked, as in production."""
    rng = random.Random(5)
    bids = tuple((Decimal(9_000 + i), Decimal(1)) for i in range(1, 1000))
    asks = tuple((Decimal(10_000 + i), Decimal(1)) for i in range(1, 1000))
    frames = []
    for n in range(DEPTH_DIFFS):
        b = [(fixed8(9_000 + rng.randint(1, 999)), fixed8(_depth_qty(rng))) for _ in range(20)]
        a = [(fixed8(10_000 + rng.randint(1, 999)), fixed8(_depth_qty(rng))) for _ in range(20)]
        update = BinanceDepthUpdate(e="depthUpdate", E=n, s=SYMBOL, U=101 + n, u=101 + n, b=b, a=a)
        raw = encode(update)
        frames.append(encode(BinanceCombinedMessage(stream="btcusdt@depth@100ms", data=msgspec.Raw(raw))))
    feed = Feed([SYMBOL])

    def run() -> None:
        book = SymbolBook(SYMBOL)
        book.on_snapshot(BookSnapshot(symbol=SYMBOL, last_update_id=100, bids=bids, asks=asks), 0)
        for frame in frames:
            diff = feed.decode(frame, 0)
            assert isinstance(diff, DepthDiff)
            book.on_delta(diff)
        assert book.applied == len(frames)

    rate = best_rate(len(frames), run)
    verdict = "met" if rate >= DEPTH_TARGET else "missed"
    print(f"  depth: decode + apply {rate:,.0f} diffs/s (20 levels per side; target >= {DEPTH_TARGET:,}: {verdict})")
    return rate


def _servers(folder: Path) -> tuple[LocalServer, LocalServer]:
    redis, mongo = redis_server(folder / "redis"), mongo_server(folder / "mongo")
    redis.start()
    mongo.start()
    return redis, mongo


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the private servers on a kill too
    print(f"  python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    parse = parse_ceiling()
    depth_rate()
    with tempfile.TemporaryDirectory() as folder:
        redis, mongo = _servers(Path(folder))
        try:
            xadd = xadd_ceiling(redis.url)
            end_to_end(redis.url, mongo.url, min(parse, xadd))
            latency(redis.url, mongo.url)
            latency(redis.url, mongo.url, mongo=False)
        finally:
            mongo.stop()
            redis.stop()
