"""The ``algo-trade backtest`` command: options, progress bar, summary table, output files."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from algo_trade.backtest_run import DataSource, Engine, StrategyChoice, load_series, run
from algo_trade.pipeline import DEFAULT_MONGO_URI
from processor.backtest import BacktestConfig, BacktestResult, BarSeries, FillAt


class StrategyName(StrEnum):
    """CLI names of the processor's strategies (registry names with '-' for '_')."""

    SMA_CROSS = "sma-cross"
    EMA_RSI = "ema-rsi"


PROGRESS_MIN_BARS = 50_000
"""Runs over fewer bars finish before a progress bar would help."""

console = Console()


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise typer.BadParameter(f"{text!r} is not a finite number")
    return value


def backtest(
    data: Annotated[str, typer.Option(help="CSV file (open_time_ms,open,high,low,close,volume), or 'mongodb'.")],
    symbol: Annotated[str, typer.Option(help="Symbol of the bars.")] = "BTCUSDT",
    interval: Annotated[
        str | None, typer.Option(help="Bar interval; CSV: checked against the file (default: its spacing); mongodb: 1h")
    ] = None,
    strategy: Annotated[StrategyName, typer.Option(help="Strategy.")] = StrategyName.SMA_CROSS,
    fast: Annotated[int, typer.Option(help="Fast moving-average period (bars).")] = 50,
    slow: Annotated[int, typer.Option(help="Slow moving-average period (bars).")] = 200,
    rsi: Annotated[int, typer.Option(help="RSI period (ema-rsi).")] = 14,
    overbought: Annotated[str, typer.Option(help="ema-rsi buys only while RSI is below this.")] = "70",
    fee: Annotated[str, typer.Option(help="Fee rate per fill, of the notional (0.001 = 0.1 %).")] = "0.001",
    slippage: Annotated[str, typer.Option(help="Price slippage per fill, a fraction (BUY pays more).")] = "0",
    fill: Annotated[FillAt, typer.Option(help="Fill at the next bar's open or at the signal bar's close.")] = (
        FillAt.NEXT_OPEN
    ),
    quantity: Annotated[str, typer.Option(help="Base-asset quantity of every position.")] = "1",
    cash: Annotated[str, typer.Option(help="Initial cash (quote asset).")] = "1000000",
    engine: Annotated[Engine, typer.Option(help="event: bar by bar through on_bar; vector: numpy (sma-cross).")] = (
        Engine.EVENT
    ),
    out: Annotated[Path, typer.Option(help="Directory for trades.csv, equity.csv, summary.json, equity.png.")] = Path(
        "backtest-out"
    ),
    mongo_uri: Annotated[str, typer.Option(envvar="MONGO_URI", help="MongoDB URI for --data mongodb.")] = (
        DEFAULT_MONGO_URI
    ),
    mongo_db: Annotated[str, typer.Option(help="MongoDB database.")] = "btc_data",
) -> None:
    """Run a strategy over history with the live processor's code: trades, equity curve, summary, plot."""
    choice = StrategyChoice(strategy.value.replace("-", "_"), fast, slow, rsi, _decimal(overbought))
    source = DataSource(data, symbol.upper(), interval, mongo_uri, mongo_db)
    try:
        config = BacktestConfig(_decimal(cash), _decimal(quantity), _decimal(fee), _decimal(slippage), fill)
        with console.status(f"loading {source.describe()} ..."):
            series = load_series(source)
        result = _run(series, choice, config, engine)
    except (ValueError, OSError) as e:
        console.print(f"[red]backtest failed:[/] {e}")
        raise typer.Exit(1) from None
    from algo_trade.backtest_output import write_all  # noqa: PLC0415 - matplotlib loads slowly; `up` never needs it
    from algo_trade.backtest_view import summary_table  # noqa: PLC0415

    console.print(summary_table(result, source.describe()))
    paths = write_all(result, out)
    console.print("wrote " + ", ".join(str(p) for p in paths))


def _run(series: BarSeries, choice: StrategyChoice, config: BacktestConfig, engine: Engine) -> BacktestResult:
    if engine is Engine.VECTOR or len(series) < PROGRESS_MIN_BARS:
        return run(series, choice, config, engine)
    columns = (TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("bars", total=len(series))
        return run(series, choice, config, engine, lambda done: progress.update(task, completed=done))
