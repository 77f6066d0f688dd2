"""Backtest bars from MongoDB ``klines``: stored bars of the interval, or bars built from stored 1m klines."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from typer.testing import CliRunner

from algo_common.domain.models import Kline
from algo_common.mongo import Document, insert_or_ignore, to_document
from algo_trade.cli import app
from processor.backtest.csv_source import read_csv
from processor.backtest.mongo_source import load_bars

CSV = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"
MINUTE = 60_000
HOUR = 3_600_000
T0 = 1_700_002_800_000  # an hour boundary


async def store(db: AsyncDatabase[Document], klines: list[Kline]) -> None:
    await insert_or_ignore(db.klines, [to_document(k, doc_id=k.event_id) for k in klines])


def minute(i: int, close: str, *, symbol: str = "BTCUSDT") -> Kline:
    price = Decimal(close)
    return Kline(
        symbol=symbol,
        interval="1m",
        open_time=T0 + i * MINUTE,
        close_time=T0 + (i + 1) * MINUTE - 1,
        open=price - 1,
        high=price + 2,
        low=price - 2,
        close=price,
        volume=Decimal("0.5"),
        quote_volume=price / 2,
        trades=2,
        closed=True,
        ts_event=T0 + (i + 1) * MINUTE + 3,
        ts_recv=T0 + (i + 1) * MINUTE + 7,
    )


async def test_stored_bars_of_the_interval_load_exactly_as_from_csv(mongo_db: AsyncDatabase[Document]) -> None:
    # arrange
    expected = read_csv(CSV, "BTCUSDT").klines[:600]
    await store(mongo_db, list(expected))
    # act
    series = await load_bars(mongo_db, "btcusdt", "1h")
    # assert
    assert list(series.klines) == list(expected)
    assert (series.symbol, series.interval, series.scale) == ("BTCUSDT", "1h", 8)


async def test_hourly_bars_are_built_from_1m_klines_and_an_unfinished_hour_is_left_out(
    mongo_db: AsyncDatabase[Document],
) -> None:
    # arrange: 2 full hours and 30 minutes of a third, plus another symbol's minutes
    await store(mongo_db, [minute(i, str(100 + i)) for i in range(150)])
    await store(mongo_db, [minute(i, "5", symbol="ETHUSDT") for i in range(120)])
    # act
    series = await load_bars(mongo_db, "BTCUSDT", "1h")
    # assert
    first, second = series.klines
    assert (first.open_time, first.close_time, second.open_time) == (T0, T0 + HOUR - 1, T0 + HOUR)
    assert (first.open, first.high, first.low, first.close) == (Decimal(99), Decimal(161), Decimal(98), Decimal(159))
    assert (first.volume, first.trades) == (Decimal(30), 120)
    assert second.close == Decimal(219)


async def test_no_klines_at_all_is_an_error_naming_what_was_looked_for(mongo_db: AsyncDatabase[Document]) -> None:
    with pytest.raises(ValueError, match="no closed BTCUSDT klines of 4h or 1m"):
        await load_bars(mongo_db, "BTCUSDT", "4h")


async def test_the_cli_backtests_mongodb_bars_like_the_csv_file(
    mongo_db: AsyncDatabase[Document], mongo_uri: str, db_name: str, tmp_path: Path
) -> None:
    # arrange
    await store(mongo_db, list(read_csv(CSV, "BTCUSDT").klines))
    args = ["backtest", "--data", "mongodb", "--mongo-uri", mongo_uri, "--mongo-db", db_name, "--interval", "1h"]
    args += ["--fast", "50", "--slow", "200", "--fee", "0", "--out", str(tmp_path)]
    # act: in a thread, because the command runs its own event loop
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    # assert
    assert result.exit_code == 0, result.output
    assert "1,028,584.70" in result.output
    assert f"MongoDB {db_name}.klines BTCUSDT 1h" in " ".join(result.output.split())
    assert mongo_uri not in result.output
    assert (tmp_path / "equity.png").exists()
