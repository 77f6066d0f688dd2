"""Bars from a CSV file in the format of tests/fixtures/btcusdt-1h.csv.

Header ``open_time_ms,open,high,low,close,volume``; one closed bar per row, open time in epoch ms
(UTC), prices as decimal strings (kept exactly). The interval is what the rows are spaced by
(the most common step, so missing bars do not change it).
"""

from __future__ import annotations

import csv
import itertools
from decimal import Decimal, InvalidOperation
from pathlib import Path

from algo_common.domain.models import Kline
from processor.backtest.data import BarSeries, interval_of, typical_step
from processor.intervals import interval_ms

COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")


def read_csv(path: Path, symbol: str, interval: str | None = None) -> BarSeries:
    """The file's bars as ``symbol`` klines; ``interval`` (if given) must match the rows' spacing."""
    rows = _rows(path)
    if len(rows) < 2:
        raise ValueError(f"{path}: need at least 2 bars, found {len(rows)}")
    open_times = [_int(path, n, row[0]) for n, row in enumerate(rows, 2)]
    for line, (previous, current) in enumerate(itertools.pairwise(open_times), 3):
        if current <= previous:
            raise ValueError(f"{path}:{line}: open time {current} is not after the previous row's {previous}")
    found = interval_of(typical_step(open_times))
    if interval is not None and interval != found:
        raise ValueError(f"{path}: bars are {found} apart, not {interval}")
    length = interval_ms(found)
    symbol = symbol.upper()
    rows_with_times = enumerate(zip(open_times, rows, strict=True), 2)
    klines = [_kline(path, n, symbol, found, length, t, row) for n, (t, row) in rows_with_times]
    return BarSeries.from_klines(klines)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise ValueError(f"{path}: header must be {','.join(COLUMNS)}, got {header}")
        return [row for row in reader if row]


def _kline(path: Path, line: int, symbol: str, interval: str, length: int, open_time: int, row: list[str]) -> Kline:
    if len(row) != len(COLUMNS):
        raise ValueError(f"{path}:{line}: expected {len(COLUMNS)} columns, got {len(row)}")
    open_, high, low, close, volume = (_decimal(path, line, v) for v in row[1:])
    return Kline(
        symbol=symbol,
        interval=interval,
        open_time=open_time,
        close_time=open_time + length - 1,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        quote_volume=Decimal(0),
        trades=0,
        closed=True,
        ts_event=open_time + length,
        ts_recv=open_time + length,
    )


def _int(path: Path, line: int, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{path}:{line}: open_time_ms {text!r} is not an integer") from None


def _decimal(path: Path, line: int, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{path}:{line}: {text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{path}:{line}: {text!r} is not a price")
    return value
