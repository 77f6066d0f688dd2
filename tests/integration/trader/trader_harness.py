"""Helpers for the trader integration tests: signals, an in-process trader, a trader process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import redis.asyncio as aioredis
from pydantic import SecretStr

from algo_common.clock import now_ms
from algo_common.domain.ids import signal_id
from algo_common.domain.models import Side, Signal
from algo_common.streams import SIGNALS_STREAM, TRADER_GROUP, encode_signal, publish_once
from tests.support import WAIT_S
from trader.service import TraderService
from trader.settings import TraderSettings

FINAL = ["FILLED", "REJECTED", "CANCELED", "EXPIRED"]


# (id, decision time) of signals "decided now" (no explicit decision time): stamped again when
# published, so a module-level signal is as fresh as one made inside the test, however long the
# session has run (the trader rejects a signal older than TRADER_STALE_SIGNAL_MS); a signal made
# with an explicit decision time keeps it, even when it shares the id.
_DECIDED_AT_PUBLISH: set[tuple[str, int]] = set()


def make_signal(
    side: Side, price: str, quantity: str, bar_close_time: int, *, ts_decision: int | None = None
) -> Signal:
    params = {"fast": "2", "slow": "4"}
    if ts_decision is None:
        ts_decision = now_ms()
        _DECIDED_AT_PUBLISH.add((signal_id("sma_cross", params, "BTCUSDT", "1m", bar_close_time), ts_decision))
    return Signal(
        signal_id=signal_id("sma_cross", params, "BTCUSDT", "1m", bar_close_time),
        strategy="sma_cross",
        strategy_version="1",
        params=params,
        symbol="BTCUSDT",
        interval="1m",
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        indicators={"fast": Decimal(price), "slow": Decimal(price)},
        bar_open_time=bar_close_time - 59_999,
        bar_close_time=bar_close_time,
        ts_event=bar_close_time + 1,
        ts_decision=ts_decision,
    )


# A BUY of 0.01 and the SELL that closes it, on consecutive bars.
BUY = make_signal(Side.BUY, "65000.10", "0.01", bar_close_time=60_000)
SELL = make_signal(Side.SELL, "65500.35", "0.01", bar_close_time=120_000)


def signal_fields(signal: Signal) -> dict[bytes, bytes]:
    if (signal.signal_id, signal.ts_decision) in _DECIDED_AT_PUBLISH:
        signal = msgspec.structs.replace(signal, ts_decision=now_ms())
    return {b"signal_id": signal.signal_id.encode(), b"signal": encode_signal(signal)}


async def publish_signal(redis: aioredis.Redis, signal: Signal) -> None:
    entry_id = await publish_once(redis, SIGNALS_STREAM, signal.signal_id, signal_fields(signal), maxlen=10_000)
    assert entry_id is not None


async def group_drained(redis: aioredis.Redis) -> bool:
    """Every entry of the signal stream was delivered to the trader group and acknowledged."""
    groups = await redis.xinfo_groups(SIGNALS_STREAM)
    group = next((g for g in groups if g["name"] == TRADER_GROUP.encode()), None)
    return group is not None and bool(group["pending"] == 0 and group["lag"] == 0)


async def pending_count(redis: aioredis.Redis) -> int:
    summary = await redis.xpending(SIGNALS_STREAM, TRADER_GROUP)
    return int(summary["pending"])


def settings_for(redis_url: str, mongo_uri: str, db_name: str, **overrides: Any) -> TraderSettings:
    values: dict[str, Any] = {
        "redis_url": SecretStr(redis_url),
        "mongo_uri": SecretStr(mongo_uri),
        "mongo_db": db_name,
        "http_port": 0,
        "consumer_name": "trader-test",
        "block_ms": 100,
        "retry_base_s": 0.05,
        "retry_cap_s": 0.5,
        "paper_slippage_bps": Decimal(0),
    }
    values.update(overrides)
    return TraderSettings(**values)


@contextlib.asynccontextmanager
async def running_trader(settings: TraderSettings) -> AsyncIterator[TraderService]:
    """A trader whose main loop runs as a task in this event loop until the block exits."""
    service = TraderService.create(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(service.main(stop))
    try:
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT_S)
        await service.close()


def process_env(redis_url: str, mongo_uri: str, db_name: str, http_port: int, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADER_")}
    env.update(
        {
            "TRADER_REDIS_URL": redis_url,
            "TRADER_MONGO_URI": mongo_uri,
            "TRADER_MONGO_DB": db_name,
            "TRADER_HTTP_PORT": str(http_port),
            "TRADER_HTTP_HOST": "127.0.0.1",
            "TRADER_BLOCK_MS": "100",
            "TRADER_RETRY_BASE_S": "0.05",
            "TRADER_RETRY_CAP_S": "0.5",
            "TRADER_PAPER_SLIPPAGE_BPS": "0",
        }
    )
    env.update(extra)
    return env


def start_trader_process(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``python -m trader`` with ``env``; its output goes to ``log_path`` (shown when a test fails)."""
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "trader"], env=env, stdout=log, stderr=subprocess.STDOUT)


async def stop_process(process: subprocess.Popen[bytes], timeout_s: float = WAIT_S) -> int:
    """SIGTERM and wait; returns the exit status."""
    if process.poll() is None:
        process.terminate()
    return await asyncio.to_thread(process.wait, timeout_s)
