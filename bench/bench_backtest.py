"""Backtest speed: SMA(50)/SMA(200) crossover over 1,051,200 synthetic 1-minute bars (two years).

Times the vectorised engine (target < 50 ms) and the event-driven engine, which runs the live
processor's ``SmaCross.on_bar`` on every bar with exact Decimals (target < 1 s); then both of ours
and backtesting.py and vectorbt on tests/fixtures/btcusdt-1h.csv (SMA 10/30, the reference run) and the ratios.
Each figure is the best wall-clock time of several runs (the least disturbed by other work on the
machine), with the median and the best process CPU time. Run: ``./dev bench backtest`` (or
``uv run python -m bench backtest``). docs/performance.md records the figures.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from algo_common.domain.models import Kline
from processor.backtest import BacktestConfig, BacktestResult, BarSeries, run_event_driven, run_vectorised_sma_cross
from processor.backtest.csv_source import read_csv
from processor.decimals import EXACT
from processor.strategies import build_strategy

BARS = 1_051_200
SEED = 20_240_601
FAST, SLOW = 50, 200
START_MS = 1_672_531_200_000  # 2023-01-01 00:00 UTC
MINUTE_MS = 60_000
CSV = Path(__file__).parents[1] / "tests" / "fixtures" / "btcusdt-1h.csv"
VECTOR_TARGET_S = 0.050
EVENT_TARGET_S = 1.0

T = TypeVar("T")


def synthetic_series(bars: int = BARS, seed: int = SEED) -> BarSeries:
    """A seeded geometric random walk in whole cents: 0.08 % per minute, from 30,000.00."""
    rng = np.random.default_rng(seed)
    close = np.round(3_000_000 * np.exp(np.cumsum(rng.normal(0.0, 0.0008, bars)))).astype(np.int64)
    open_ = np.concatenate(([3_000_000], close[:-1]))
    wick = np.round(np.abs(rng.normal(0.0, 800.0, (2, bars)))).astype(np.int64)
    high, low = np.maximum(open_, close) + wick[0], np.minimum(open_, close) - wick[1]
    open_time = START_MS + MINUTE_MS * np.arange(bars, dtype=np.int64)
    klines = [
        _kline(int(t), o, h, lo, c)
        for t, o, h, lo, c in zip(
            open_time.tolist(), open_.tolist(), high.tolist(), low.tolist(), close.tolist(), strict=True
        )
    ]
    return BarSeries(
        symbol="BTCUSDT",
        interval="1m",
        klines=klines,
        open_time=open_time,
        close_time=open_time + MINUTE_MS - 1,
        open_units=open_,
        close_units=close,
        scale=2,
        close=close / 100.0,
    )


def _kline(open_time: int, open_: int, high: int, low: int, close: int) -> Kline:
    def cents(units: int) -> Decimal:
        return EXACT.scaleb(Decimal(units), -2)

    return Kline(
        symbol="BTCUSDT",
        interval="1m",
        open_time=open_time,
        close_time=open_time + MINUTE_MS - 1,
        open=cents(open_),
        high=cents(high),
        low=cents(low),
        close=cents(close),
        volume=Decimal(1),
        quote_volume=Decimal(0),
        trades=1,
        closed=True,
        ts_event=open_time + MINUTE_MS,
        ts_recv=open_time + MINUTE_MS,
    )


class Timing(NamedTuple):
    best: float
    """Fastest wall-clock run, s: the figure compared with the targets."""
    median: float
    cpu: float
    """Fastest process CPU time, s: what the code costs when other work shares the cores."""


def timed(run: Callable[[], T], repeat: int) -> tuple[T, Timing]:
    """The last result and the timing of ``repeat`` runs."""
    walls: list[float] = []
    cpus: list[float] = []
    result: T | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    assert result is not None
    return result, Timing(min(walls), statistics.median(walls), min(cpus))


def backtesting_py_run(
    path: Path, fast: int, slow: int
) -> tuple[Callable[[], Any], Callable[[Any], tuple[int, float]]]:
    """backtesting.py 0.6.6 with the reference rule: (run, result -> (trades, final equity))."""
    import pandas as pd  # type: ignore[import-untyped]  # noqa: PLC0415 - comparison only (dev dependencies)
    from backtesting import Backtest, Strategy  # type: ignore[import-untyped]  # noqa: PLC0415

    frame = pd.read_csv(path)
    frame.index = pd.to_datetime(frame["open_time_ms"], unit="ms")
    frame = frame.rename(columns=str.title)[["Open", "High", "Low", "Close", "Volume"]]

    def mean(values: Any, n: int) -> Any:
        return pd.Series(values).rolling(n).mean()

    class Cross(Strategy):  # type: ignore[misc]
        def init(self) -> None:
            self.fast = self.I(mean, self.data.Close, fast)
            self.slow = self.I(mean, self.data.Close, slow)

        def next(self) -> None:
            if len(self.data) <= slow:
                return
            f0, f1, s0, s1 = self.fast[-2], self.fast[-1], self.slow[-2], self.slow[-1]
            if f0 <= s0 and f1 > s1 and not self.position:
                self.buy(size=1)
            elif f0 >= s0 and f1 < s1 and self.position:
                self.position.close()

    backtest = Backtest(frame, Cross, cash=1_000_000, commission=0, trade_on_close=False, finalize_trades=False)
    warnings.filterwarnings("ignore", message="Some trades remain open", category=UserWarning)

    def outcome(stats: Any) -> tuple[int, float]:
        return int(stats["# Trades"]), float(stats["Equity Final [$]"])

    return backtest.run, outcome


def vectorbt_run(
    path: Path, fast: int, slow: int
) -> tuple[Callable[[], Any], Callable[[Any], tuple[int, float]]] | None:
    """vectorbt with the reference rule, or None where it is not installed (dependency group ``bench``).

    Next-open fills as ours: the crossover of bar i's close, shifted one bar, fills at bar i+1's open.
    """
    try:
        import pandas as pd  # noqa: PLC0415 - comparison only
        import vectorbt as vbt  # noqa: PLC0415
    except ImportError:
        return None
    frame = pd.read_csv(path)
    frame.index = pd.to_datetime(frame["open_time_ms"], unit="ms")

    def run() -> Any:
        close, open_ = frame["close"], frame["open"]
        fast_mean, slow_mean = close.rolling(fast).mean(), close.rolling(slow).mean()
        up = (fast_mean.shift(1) <= slow_mean.shift(1)) & (fast_mean > slow_mean)
        down = (fast_mean.shift(1) >= slow_mean.shift(1)) & (fast_mean < slow_mean)
        entries = up.shift(1, fill_value=False).astype(bool)
        exits = down.shift(1, fill_value=False).astype(bool)
        return vbt.Portfolio.from_signals(
            close, entries, exits, price=open_, size=1, init_cash=1_000_000, fees=0, freq="1h"
        )

    def outcome(portfolio: Any) -> tuple[int, float]:
        return int(portfolio.trades.closed.count()), float(portfolio.final_value())

    run()  # numba compiles its kernels on the first call (~10 s): not timed
    return run, outcome


def _line(name: str, timing: Timing, target: float | None = None) -> str:
    best, median, cpu = (f"{x * 1000:8.1f} ms" for x in timing)
    verdict = (
        "" if target is None else f"  target < {target * 1000:.0f} ms: {'MET' if timing.best < target else 'NOT MET'}"
    )
    return f"  {name:<44} best {best}  median {median}  cpu {cpu}{verdict}"


def _describe(result: BacktestResult) -> str:
    s = result.summary
    return f"{s.closed_trades} closed trades, final equity {s.final_equity}, signals {s.signals}"


def bench_synthetic() -> None:
    start = time.perf_counter()
    series = synthetic_series()
    prepared = time.perf_counter() - start
    print(f"  prepared {len(series):,} synthetic 1m bars (Decimal klines + columns) in {prepared:.1f} s (not timed)")
    config = BacktestConfig()
    vector, v = timed(lambda: run_vectorised_sma_cross(series, FAST, SLOW, config), repeat=15)
    print(_line(f"vectorised SMA({FAST})/SMA({SLOW})", v, VECTOR_TARGET_S))
    event, e = timed(lambda: run_event_driven(series, build_strategy("sma_cross", FAST, SLOW), config), repeat=5)
    print(_line("event-driven (live SmaCross.on_bar, Decimal)", e, EVENT_TARGET_S))
    print(f"  per bar (best): vectorised {v.best / BARS * 1e9:.0f} ns, event-driven {e.best / BARS * 1e9:.0f} ns")
    same = vector.fills == event.fills and vector.summary == event.summary
    print(f"  both engines: {_describe(event)}; identical fills and summary: {same}")
    if not same:
        raise SystemExit("the two engines disagree")


def bench_reference_file() -> None:
    series = read_csv(CSV, "BTCUSDT")
    config = BacktestConfig()
    vector, v = timed(lambda: run_vectorised_sma_cross(series, 10, 30, config), repeat=30)
    _, e = timed(lambda: run_event_driven(series, build_strategy("sma_cross", 10, 30), config), repeat=15)
    run, outcome = backtesting_py_run(CSV, 10, 30)
    stats, b = timed(run, repeat=7)
    trades, equity = outcome(stats)
    print(f"  {CSV.name}: {len(series):,} 1h bars, SMA(10)/SMA(30), no fees, next-open fills")
    print(_line("vectorised (ours)", v))
    print(_line("event-driven (ours)", e))
    print(_line("backtesting.py 0.6.6 Backtest.run", b))
    print(f"  ours: {_describe(vector)}; backtesting.py: {trades} trades, final equity {equity:.2f}")
    print(
        f"  our time / backtesting.py's (best runs): vectorised {v.best / b.best:.4f} ({b.best / v.best:.0f}x faster),"
        f" event-driven {e.best / b.best:.3f} ({b.best / e.best:.1f}x faster)"
    )
    peer = vectorbt_run(CSV, 10, 30)
    if peer is None:
        print("  vectorbt: not installed (`./dev bench` installs the dependency group bench)")
        return
    run_vbt, outcome_vbt = peer
    portfolio, t = timed(run_vbt, repeat=15)
    vbt_trades, vbt_equity = outcome_vbt(portfolio)
    print(_line("vectorbt 1.2.0 Portfolio.from_signals", t))
    print(f"  vectorbt: {vbt_trades} trades, final equity {vbt_equity:.2f}")
    print(
        f"  our time / vectorbt's (best runs): vectorised {v.best / t.best:.4f} ({t.best / v.best:.0f}x faster),"
        f" event-driven {e.best / t.best:.3f}"
    )


def main() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, load average {load}")
    bench_synthetic()
    bench_reference_file()


if __name__ == "__main__":
    main()
