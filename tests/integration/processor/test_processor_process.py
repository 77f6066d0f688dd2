"""``python -m processor`` as the end-to-end tests run it: configured only by PROCESSOR_* variables."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from algo_trade.servers import free_port
from tests.integration.processor.processor_harness import (
    BUY_AT_5,
    SELL_AT_8,
    WAIT_S,
    Collector,
    Observer,
    assert_signals,
    klines,
)
from tests.support import eventually, metric_samples, metric_value


def _environment(**variables: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PROCESSOR_")}
    env.update(variables)
    return env


@pytest.fixture
def processor_process(redis_url: str, mongo_uri: str, db_name: str, tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    log_path = tmp_path / "processor.log"
    env = _environment(
        PROCESSOR_REDIS_URL=redis_url,
        PROCESSOR_MONGO_URI=mongo_uri,
        PROCESSOR_MONGO_DB=db_name,
        PROCESSOR_HTTP_HOST="127.0.0.1",
        PROCESSOR_HTTP_PORT=str(port),
        PROCESSOR_SYMBOLS="btcusdt",
        PROCESSOR_FAST_PERIOD="2",
        PROCESSOR_SLOW_PERIOD="4",
        PROCESSOR_INTERVAL="1m",
        PROCESSOR_ORDER_QUANTITY="0.001",
        PROCESSOR_CONSUMER_NAME="processor-subprocess",
        PROCESSOR_BLOCK_MS="100",
        PROCESSOR_BACKFILL="false",
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "processor"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield port, log_path
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


async def test_the_process_serves_health_and_metrics_signals_and_stops_on_sigterm(
    processor_process: tuple[int, Path], collector: Collector, observer: Observer
) -> None:
    port, log_path = processor_process
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

        async def ready() -> bool:
            return (await http.get("/healthcheck")).status_code == 200

        await eventually(ready, "process ready", timeout_s=WAIT_S)
        # act
        await collector.emit(klines(range(10)))
        await observer.wait_checkpoint(9)
        await observer.wait_drained()

        async def lag_reported() -> bool:
            text = (await http.get("/metrics")).text
            lag = metric_samples("processor_stream_lag", text, stream="market.BTCUSDT")
            return bool(lag) and sum(lag) == 0  # reported, and zero

        await eventually(lag_reported, "stream lag gauge", timeout_s=WAIT_S)
        metrics = (await http.get("/metrics")).text
        live = await http.get("/healthcheck/live")
    # assert
    assert_signals(await observer.signal_docs(), await observer.stream_signals(), [BUY_AT_5, SELL_AT_8])
    assert live.status_code == 200
    assert metric_value("processor_signals_total", metrics, side="BUY", symbol="BTCUSDT") == 1
    assert metric_value("processor_signals_total", metrics, side="SELL", symbol="BTCUSDT") == 1
    assert metric_value("processor_bars_total", metrics, interval="1m", symbol="BTCUSDT") == 10
    assert metric_value("processor_events_consumed_total", metrics, kind="kline", symbol="BTCUSDT") == 10
    assert metric_value("processor_signal_latency_seconds_count", metrics, symbol="BTCUSDT") == 2
    logged = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    signal_logs = [entry for entry in logged if entry.get("event") == "signal"]
    assert [entry["signal"]["side"] for entry in signal_logs] == ["BUY", "SELL"]
    assert signal_logs[0]["signal"]["indicators"] == {"fast": "102", "slow": "101"}
    assert all(entry.get("service") == "processor" for entry in logged)


async def test_a_bad_variable_stops_start_up_naming_it() -> None:
    # arrange
    env = _environment(PROCESSOR_FAST_PERIOD="20", PROCESSOR_SLOW_PERIOD="10")
    # act
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "processor", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    # assert
    assert process.returncode == 2
    assert "PROCESSOR_SLOW_PERIOD" in stderr.decode()
