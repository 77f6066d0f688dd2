"""The whole pipeline as separate processes: simulator -> collector -> processor -> trader.

Real Redis, real MongoDB-compatible replica set, every service started by the same code as
``./dev up``. The simulator plays a scripted price path with exactly one upward and one
downward SMA(2)/SMA(4) crossover.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient
from redis import Redis

from algo_common.mongo import CODEC_OPTIONS
from algo_common.streams import SIGNALS_STREAM
from algo_trade.pipeline import Pipeline, PipelineOptions, wait_healthy
from algo_trade.servers import wait_until

# Bars 0-4 at 100 (SMAs tie), bar 5 closes at 110: fast 105 > slow 102.5 -> BUY at 110.
# Bar 9 closes at 120: fast 135 < slow 137.5 after 150 >= 135 -> SELL at 120. Then flat at 120, no cross.
CLOSES = ["100"] * 5 + ["110", "130", "150", "150", "120", "120", "120", "120", "120"]
QTY = Decimal("0.01")
FEE_RATE = Decimal("0.001")


@pytest.fixture
def pipeline(redis_url: str, mongo_uri: str, tmp_path: Path) -> Iterator[Pipeline]:
    Redis.from_url(redis_url).flushdb()
    options = PipelineOptions(
        workdir=tmp_path,
        fast=2,
        slow=4,
        interval="1m",
        order_quantity=str(QTY),
        mongo_db=f"e2e_{uuid.uuid4().hex[:10]}",
        redis_url=redis_url,
        mongo_uri=mongo_uri,
        extra_env={
            "exchange-sim": {"SIM_MODE": "path", "SIM_RATE": "200", "SIM_STEPS_PER_BAR": "5"},
            # fills at the signal's price, so the ledger's figures follow from the scripted closes alone
            "trader": {
                "TRADER_FEE_RATE": str(FEE_RATE),
                "TRADER_PAPER_PRICE_SOURCE": "signal",
                "TRADER_PAPER_SLIPPAGE_BPS": "0",
            },
        },
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


def test_one_up_and_one_down_crossover_make_one_round_trip(pipeline: Pipeline) -> None:
    # arrange
    mongo: MongoClient[dict[str, Any]] = MongoClient(pipeline.mongo_uri)
    db = mongo.get_database(pipeline.options.mongo_db, codec_options=CODEC_OPTIONS)
    redis = Redis.from_url(pipeline.redis_url)
    # act
    httpx.post(f"{pipeline.sim_url}/_sim/path", json={"symbol": "BTCUSDT", "closes": CLOSES}).raise_for_status()
    wait_until(lambda: db.klines.count_documents({"symbol": "BTCUSDT"}) >= len(CLOSES), 60, "every bar stored")
    wait_until(lambda: db.fills.count_documents({}) >= 2, 60, "two fills")
    wait_until(lambda: _position_qty(db) == 0, 30, "a flat position")
    # assert
    signals = list(db.trade_signals.find().sort("bar_close_time", 1))
    assert [(s["side"], s["price"]) for s in signals] == [("BUY", Decimal(110)), ("SELL", Decimal(120))]
    assert redis.xlen(SIGNALS_STREAM) == 2
    orders = list(db.orders.find())
    assert sorted(o["status"] for o in orders) == ["FILLED", "FILLED"]
    assert {o["_id"] for o in orders} == {s["_id"] for s in signals}
    assert db.fills.count_documents({}) == 2
    position = db.positions.find_one()
    assert position is not None
    assert position["realized_pnl"] == (Decimal(120) - Decimal(110)) * QTY
    assert position["fees"] == (Decimal(110) + Decimal(120)) * QTY * FEE_RATE
    counters = _counters(pipeline)
    assert counters["collector_events_received_total"] > 0
    assert counters["processor_signals_total"] == 2
    assert counters["trader_fills_total"] == 2
    mongo.close()


def _position_qty(db: Any) -> Decimal | None:
    position = db.positions.find_one()
    return None if position is None else position["qty"]


def _counters(pipeline: Pipeline) -> dict[str, float]:
    totals: dict[str, float] = {}
    for port in pipeline.service_ports().values():
        text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
