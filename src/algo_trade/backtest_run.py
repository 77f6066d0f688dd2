"""``algo-trade backtest`` glue: options -> bars (CSV or MongoDB) -> the processor's backtest engines.

The engines, strategies and bar building belong to the processor package, so a backtest runs the
very code the live processor runs; this module only chooses the inputs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from algo_common.mongo import create_client, get_database
from processor.backtest import BacktestConfig, BacktestResult, BarSeries, run_event_driven, run_vectorised_sma_cross
from processor.backtest.csv_source import read_csv
from processor.backtest.event_engine import Progress
from processor.backtest.mongo_source import load_bars
from processor.strategies import build_strategy

MONGODB = "mongodb"
DEFAULT_MONGO_INTERVAL = "1h"


class Engine(StrEnum):
    EVENT = "event"
    VECTOR = "vector"


@dataclass(frozen=True)
class DataSource:
    """A CSV file, or MongoDB (``--data mongodb`` with ``mongo_uri``, or ``--data mongodb://...``)."""

    data: str
    symbol: str
    interval: str | None
    mongo_uri: str
    mongo_db: str

    @property
    def is_mongo(self) -> bool:
        return self.data == MONGODB or self.data.startswith(("mongodb://", "mongodb+srv://"))

    def describe(self) -> str:
        """For display: never the URI, which may hold a password."""
        if self.is_mongo:
            return f"MongoDB {self.mongo_db}.klines {self.symbol.upper()} {self.interval or DEFAULT_MONGO_INTERVAL}"
        return self.data


@dataclass(frozen=True)
class StrategyChoice:
    name: str  # registry name: sma_cross, ema_rsi
    fast: int
    slow: int
    rsi_period: int = 14
    rsi_overbought: Decimal = Decimal(70)


def load_series(source: DataSource) -> BarSeries:
    if not source.is_mongo:
        return read_csv(Path(source.data), source.symbol, source.interval)
    uri = source.data if source.data != MONGODB else source.mongo_uri
    return asyncio.run(_load_mongo(uri, source.mongo_db, source.symbol, source.interval or DEFAULT_MONGO_INTERVAL))


async def _load_mongo(uri: str, db_name: str, symbol: str, interval: str) -> BarSeries:
    client = create_client(uri, "algo-trade-backtest")
    try:
        return await load_bars(get_database(client, db_name), symbol, interval)
    finally:
        await client.close()


def run(
    series: BarSeries,
    choice: StrategyChoice,
    config: BacktestConfig,
    engine: Engine,
    progress: Progress | None = None,
) -> BacktestResult:
    """One backtest; the vectorised engine exists for the SMA crossover only."""
    if engine is Engine.VECTOR:
        if choice.name != "sma_cross":
            raise ValueError(f"the vectorised engine runs sma-cross only, not {choice.name.replace('_', '-')}")
        return run_vectorised_sma_cross(series, choice.fast, choice.slow, config)
    strategy = build_strategy(
        choice.name, choice.fast, choice.slow, rsi_period=choice.rsi_period, rsi_overbought=choice.rsi_overbought
    )
    return run_event_driven(series, strategy, config, progress)
