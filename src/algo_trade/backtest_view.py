"""The summary table ``algo-trade backtest`` prints."""

from __future__ import annotations

from decimal import Decimal

from rich.table import Table

from algo_trade.backtest_output import utc
from processor.backtest import BacktestResult
from processor.decimals import EXACT

CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    return f"{value.quantize(CENT, context=EXACT):,}"


def summary_table(result: BacktestResult, source: str) -> Table:
    s, c = result.summary, result.config
    params = " ".join(f"{k}={v}" for k, v in result.params.items())
    table = Table(title=f"backtest: {result.strategy} {params}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    ignored = ", ".join(f"{k} {v}" for k, v in sorted(s.ignored_signals.items())) or "none"
    period = f"{utc(s.first_open_time)} .. {utc(s.last_close_time + 1)} UTC"
    rows = [
        ("data", f"{source}: {s.bars:,} {result.series.interval} bars, {period}"),
        ("fills", f"{c.fill}, fee {c.fee_rate}, slippage {c.slippage}, quantity {c.quantity}"),
        ("initial cash", money(s.initial_cash)),
        ("final equity", money(s.final_equity)),
        ("total return", f"{float(s.total_return):.4%}"),
        ("realized PnL", money(s.realized_pnl)),
        ("unrealized PnL", money(s.unrealized_pnl) + (" (position open)" if s.open_position else "")),
        ("fees", money(s.fees)),
        ("closed trades", f"{s.closed_trades:,}"),
        ("winning trades", f"{s.winning_trades:,}" + (f" ({s.win_rate:.2%})" if s.win_rate is not None else "")),
        ("max drawdown", f"{s.max_drawdown:.4%}"),
        ("Sharpe (annualised)", "n/a" if s.sharpe is None else f"{s.sharpe:.3f}"),
        ("exposure", f"{s.exposure:.2%}"),
        ("signals", f"{s.signals:,} (not filled: {ignored})"),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, value)
    return table
