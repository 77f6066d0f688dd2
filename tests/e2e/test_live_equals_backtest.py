"""Live equals backtest: the bars the simulator plays through collector -> processor give exactly the
signals the backtest gives on the same bars (same ids, sides, bar times, prices, indicator values).

The pipeline is the one ``./dev up`` runs (separate processes, real Redis and MongoDB); the simulator
plays a seeded price path in ``path`` mode. The processor runs SMA(3)/SMA(7) on 3-minute bars it
builds from the collector's 1-minute klines; the backtest reads the klines the collector stored
(``--data mongodb``: the same bar builder) and runs the same strategy code, filling at the close.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from pymongo import AsyncMongoClient, MongoClient
from redis import Redis

from algo_common.domain.ids import signal_id
from algo_common.domain.models import Signal
from algo_common.mongo import CODEC_OPTIONS, Document, get_database
from algo_common.streams import SIGNALS_STREAM, decode_signal
from algo_trade.pipeline import Pipeline, PipelineOptions, wait_healthy
from algo_trade.servers import wait_until
from processor.backtest import BacktestConfig, BarSeries, FillAt, run_event_driven
from processor.backtest.mongo_source import load_bars
from processor.decimals import VALUE
from processor.store import checkpoint_key
from processor.strategies import build_strategy

FAST, SLOW, INTERVAL = 3, 7, "3m"
MINUTES = 120
QTY = Decimal("0.01")


def closes() -> list[str]:
    """120 one-minute closes: flat (the SMAs tie), then three triangle waves (a cross up, then down, each).

    Whatever minute the 3-minute grid starts at (the simulator starts at the current minute), the
    decisions alternate BUY, SELL, ... starting with BUY, so the backtest fills every one of them.
    """
    price, path = Decimal(30_000), [Decimal(30_000)] * 21
    for _ in range(3):
        for step in [Decimal(20)] * 15 + [Decimal(-20)] * 15:
            price += step
            path.append(price)
    path += [price] * (MINUTES - len(path))
    return [str(p) for p in path]


@pytest.fixture
def pipeline(redis_url: str, mongo_uri: str, tmp_path: Path) -> Iterator[Pipeline]:
    Redis.from_url(redis_url).flushdb()
    options = PipelineOptions(
        workdir=tmp_path,
        fast=FAST,
        slow=SLOW,
        interval=INTERVAL,
        order_quantity=str(QTY),
        mongo_db=f"e2e_{uuid.uuid4().hex[:10]}",
        redis_url=redis_url,
        mongo_uri=mongo_uri,
        extra_env={"exchange-sim": {"SIM_MODE": "path", "SIM_RATE": "200", "SIM_STEPS_PER_BAR": "5"}},
    )
    running = Pipeline(options)
    try:
        running.start()
        wait_healthy(running, timeout_s=60)
        yield running
    finally:
        running.stop()
        for process in running.processes:
            print(f"--- {process.name} log tail ---\n" + _tail(process.log_path))


def test_the_live_signals_are_exactly_the_backtests_on_the_same_bars(pipeline: Pipeline) -> None:
    # arrange
    mongo: MongoClient[dict[str, Any]] = MongoClient(pipeline.mongo_uri)
    db = mongo.get_database(pipeline.options.mongo_db, codec_options=CODEC_OPTIONS)
    redis = Redis.from_url(pipeline.redis_url)
    path = closes()
    # act: the simulator plays the path; the collector records it; the processor decides live
    httpx.post(f"{pipeline.sim_url}/_sim/path", json={"symbol": "BTCUSDT", "closes": path}).raise_for_status()
    wait_until(lambda: db.klines.count_documents({"symbol": "BTCUSDT"}) >= MINUTES, 60, "every minute stored")
    series = asyncio.run(_stored_bars(pipeline))
    last_bar = series.klines[-1]
    wait_until(lambda: _checkpoint(db) == last_bar.close_time, 60, "the processor at the last bar")
    # ...and the backtest runs the same strategy over the bars the collector stored
    strategy = build_strategy("sma_cross", FAST, SLOW)
    result = run_event_driven(series, strategy, BacktestConfig(quantity=QTY, fill=FillAt.CLOSE))
    # assert
    assert result.summary.signals == len(result.fills) >= 6  # every decision filled: nothing ignored
    expected = [
        (
            signal_id(strategy.name, strategy.params(), "BTCUSDT", INTERVAL, series.klines[f.signal_bar].close_time),
            f.side.value,
            series.klines[f.signal_bar].close_time,
            f.price,
        )
        for f in result.fills
    ]
    live_docs = list(db.trade_signals.find().sort("bar_close_time", 1))
    live = [(d["_id"], d["side"], d["bar_close_time"], d["price"]) for d in live_docs]
    assert live == expected
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], redis.xrange(SIGNALS_STREAM))
    published = [decode_signal(fields[b"signal"]) for _, fields in entries]
    assert sorted(_key(s) for s in published) == sorted(expected)
    assert all(d["indicators"] == _indicators(series, FAST, SLOW, d["bar_close_time"]) for d in live_docs)
    mongo.close()


async def _stored_bars(pipeline: Pipeline) -> BarSeries:
    client: AsyncMongoClient[Document] = AsyncMongoClient(pipeline.mongo_uri)
    try:
        return await load_bars(get_database(client, pipeline.options.mongo_db), "BTCUSDT", INTERVAL)
    finally:
        await client.close()


def _checkpoint(db: Any) -> int | None:
    doc = db.processor_state.find_one({"_id": checkpoint_key("sma_cross", "BTCUSDT", INTERVAL)})
    return None if doc is None else int(doc["last_bar_close_time"])


def _key(sig: Signal) -> tuple[str, str, int, Decimal]:
    return sig.signal_id, sig.side.value, sig.bar_close_time, sig.price


def _indicators(series: BarSeries, fast: int, slow: int, close_time: int) -> dict[str, Decimal]:
    """The SMAs at the bar closing at ``close_time``, from the backtest's bars (28 digits, as the strategy)."""
    upto = [k.close for k in series.klines if k.close_time <= close_time]
    return {"fast": _mean(upto[-fast:]), "slow": _mean(upto[-slow:])}


def _mean(values: list[Decimal]) -> Decimal:
    return VALUE.divide(sum(values, Decimal(0)), Decimal(len(values)))


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
