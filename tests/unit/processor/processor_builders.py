"""Builders for the processor's unit tests: the reference hourly bars and klines."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from algo_common.domain.models import Kline

CSV_PATH = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


def load_hourly_bars() -> list[Kline]:
    """tests/fixtures/btcusdt-1h.csv as closed 1h bars, oldest first (price strings unchanged)."""
    with CSV_PATH.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [
        Kline(
            symbol="BTCUSDT",
            interval="1h",
            open_time=int(row["open_time_ms"]),
            close_time=int(row["open_time_ms"]) + HOUR_MS - 1,
            open=Decimal(row["open"]),
            high=Decimal(row["high"]),
            low=Decimal(row["low"]),
            close=Decimal(row["close"]),
            volume=Decimal(row["volume"]),
            quote_volume=Decimal(0),
            trades=0,
            closed=True,
            ts_event=int(row["open_time_ms"]) + HOUR_MS,
            ts_recv=int(row["open_time_ms"]) + HOUR_MS,
        )
        for row in rows
    ]


def make_kline(
    open_time: int,
    close: str | Decimal,
    *,
    open: str | Decimal | None = None,
    high: str | Decimal | None = None,
    low: str | Decimal | None = None,
    volume: str = "1",
    interval: str = "1m",
    closed: bool = True,
    symbol: str = "BTCUSDT",
    trades: int = 1,
) -> Kline:
    """A 1m kline (by default) with sensible high/low around open and close."""
    close_d = Decimal(close)
    open_d = Decimal(open) if open is not None else close_d
    length = {"1m": MINUTE_MS, "1h": HOUR_MS}[interval]
    return Kline(
        symbol=symbol,
        interval=interval,
        open_time=open_time,
        close_time=open_time + length - 1,
        open=open_d,
        high=Decimal(high) if high is not None else max(open_d, close_d),
        low=Decimal(low) if low is not None else min(open_d, close_d),
        close=close_d,
        volume=Decimal(volume),
        quote_volume=Decimal(volume) * close_d,
        trades=trades,
        closed=closed,
        ts_event=open_time + length + 5,
        ts_recv=open_time + length + 9,
    )
