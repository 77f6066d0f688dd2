"""Files of a backtest: trades.csv, equity.csv (exact Decimals), summary.json and the equity-curve PNG."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from processor.backtest import BacktestResult
from processor.backtest.equity import exact_equity
from processor.decimals import EXACT

TRADES_CSV = "trades.csv"
EQUITY_CSV = "equity.csv"
SUMMARY_JSON = "summary.json"
EQUITY_PNG = "equity.png"


PCT = Decimal("0.0001")


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def plain(value: Decimal) -> str:
    """A decimal string without exponent (``0E-8`` -> ``0.00000000``)."""
    return format(value, "f")


def write_all(result: BacktestResult, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / TRADES_CSV, out / EQUITY_CSV, out / SUMMARY_JSON, out / EQUITY_PNG]
    write_trades(result, paths[0])
    write_equity(result, paths[1])
    write_summary(result, paths[2])
    plot_equity(result, paths[3])
    return paths


def write_trades(result: BacktestResult, path: Path) -> None:
    """One row per round trip (the last may be open); prices, fees and PnL exact, return_pct to 4 decimals."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["trade", "entry_time", "entry_time_ms", "entry_bar", "entry_price", "exit_time", "exit_time_ms",
             "exit_bar", "exit_price", "quantity", "fees", "pnl", "return_pct"]
        )  # fmt: skip
        for n, trade in enumerate(result.trades, 1):
            entry, exit_, pct = trade.entry, trade.exit, trade.return_pct()
            fees = EXACT.add(entry.fee, exit_.fee) if exit_ else entry.fee
            writer.writerow(
                [n, utc(entry.time), entry.time, entry.bar, plain(entry.price)]
                + ([utc(exit_.time), exit_.time, exit_.bar, plain(exit_.price)] if exit_ else ["open", "", "", ""])
                + [plain(entry.quantity), plain(fees), "" if trade.pnl is None else plain(trade.pnl)]
                + ["" if pct is None else plain(pct.quantize(PCT, context=EXACT))]
            )


def write_equity(result: BacktestResult, path: Path) -> None:
    """Equity at every bar close (``time``: when the bar closed): cash + position * close, exactly."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["time", "close_time_ms", "close", "position", "equity"])
        for bar, (close_time, position, equity) in zip(result.series.klines, exact_equity(result), strict=True):
            writer.writerow([utc(close_time + 1), close_time, plain(bar.close), plain(position), plain(equity)])


def write_summary(result: BacktestResult, path: Path) -> None:
    """The summary and the run's parameters as JSON (Decimals as strings)."""
    document = {
        "strategy": result.strategy,
        "params": result.params,
        "symbol": result.series.symbol,
        "interval": result.series.interval,
        "config": result.config,
        "summary": result.summary,
    }
    builtins = msgspec.to_builtins(document, builtin_types=(Decimal,))
    path.write_bytes(msgspec.json.format(msgspec.json.encode(_plain_decimals(builtins))))


def _plain_decimals(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, dict):
        return {k: _plain_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_decimals(v) for v in value]
    return value


def plot_equity(result: BacktestResult, path: Path) -> None:
    """Equity curve over the close price with the fills marked."""
    series, s = result.series, result.summary
    times = (series.close_time + 1).astype("datetime64[ms]")
    figure = Figure(figsize=(12, 7), layout="constrained")  # no pyplot: no global state, no display
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(times, result.equity, color="#1f6fb2", linewidth=1)
    top.axhline(float(s.initial_cash), color="grey", linewidth=0.8, linestyle="--")
    top.set_ylabel("equity (quote asset)")
    top.set_title(
        f"{series.symbol} {series.interval}  {result.strategy} {_params(result)}   return {s.total_return:.2%}   "
        f"max drawdown {s.max_drawdown:.2%}   trades {s.closed_trades}",
        fontsize=10,
    )
    bottom.plot(times, series.close, color="#444444", linewidth=0.8)
    for side, marker, color in (("BUY", "^", "#2ca02c"), ("SELL", "v", "#d62728")):
        fills = [f for f in result.fills if f.side == side]
        bars = np.array([f.bar for f in fills], dtype=np.int64)
        prices = [float(f.price) for f in fills]
        bottom.scatter(times[bars], prices, marker=marker, color=color, s=18, label=f"{side} fill", zorder=3)
    bottom.set_ylabel("close")
    bottom.legend(loc="upper left", fontsize=8)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
        axis.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    figure.savefig(path, dpi=110)


def _params(result: BacktestResult) -> str:
    return " ".join(f"{k}={v}" for k, v in result.params.items())
