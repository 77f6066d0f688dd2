"""The live terminal view of ``algo-trade up`` (rich)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from algo_trade.observe import PipelineView


def render(view: PipelineView, title: str) -> RenderableType:
    return Group(
        Panel(_market(view), title=title, border_style="cyan"),
        _services(view),
        _signals(view),
        _fills_and_positions(view),
        Text("Ctrl-C stops everything this command started.", style="dim"),
    )


def _market(view: PipelineView) -> RenderableType:
    table = Table.grid(padding=(0, 3))
    bar = view.last_bar
    table.add_row(
        Text(f"market events/s {view.events_per_s:8.1f}", style="bold"),
        Text(f"last price {view.last_price or '-'}"),
        Text(f"last closed bar {_time(bar.close_time) if bar else '-'} close {bar.close if bar else '-'}"),
    )
    table.add_row(Text(f"SMA fast {_short(view.sma_fast)}"), Text(f"SMA slow {_short(view.sma_slow)}"), Text(""))
    counts = "  ".join(f"{name} {count}" for name, count in view.counts.items())
    return Group(table, Text(f"MongoDB documents: {counts or 'unavailable'}", style="dim"))


def _services(view: PipelineView) -> RenderableType:
    table = Table(title="services", expand=True)
    for column in ("service", "ready", "dependencies", "counters"):
        table.add_column(column)
    for service in view.services:
        ready = {True: Text("ready", "green"), False: Text("NOT READY", "bold red"), None: Text("down", "red")}
        deps = " ".join(f"{'✔' if ok else '✘'} {name}" for name, ok in service.dependencies.items())
        counters = "  ".join(
            f"{name.split('_', 1)[1].removesuffix('_total')}={value:g}" for name, value in service.counters.items()
        )
        table.add_row(service.name, ready[service.ready], deps, counters)
    return table


def _signals(view: PipelineView) -> RenderableType:
    table = Table(title="latest signals (MongoDB trade_signals)", expand=True)
    for column in ("bar close", "symbol", "side", "price", "fast", "slow", "id"):
        table.add_column(column)
    for sig in view.signals:
        indicators: dict[str, Any] = sig.get("indicators", {})
        side = Text(sig.get("side", ""), "green" if sig.get("side") == "BUY" else "red")
        table.add_row(
            _time(sig.get("bar_close_time")),
            sig.get("symbol", ""),
            side,
            str(sig.get("price", "")),
            _short(indicators.get("fast")),
            _short(indicators.get("slow")),
            str(sig.get("_id", ""))[:12],
        )
    return table


def _fills_and_positions(view: PipelineView) -> RenderableType:
    fills = Table(title="latest fills", expand=True)
    for column in ("time", "side", "qty", "price", "fee"):
        fills.add_column(column)
    for fill in view.fills:
        fills.add_row(
            _time(fill.get("ts")),
            fill.get("side", ""),
            str(fill.get("qty")),
            str(fill.get("price")),
            str(fill.get("fee")),
        )
    positions = Table(title="positions", expand=True)
    for column in ("position", "qty", "avg entry", "realized P&L", "fees"):
        positions.add_column(column)
    for pos in view.positions:
        positions.add_row(
            str(pos.get("_id")),
            str(pos.get("qty")),
            _short(pos.get("avg_entry_price")),
            str(pos.get("realized_pnl")),
            str(pos.get("fees")),
        )
    grid = Table.grid(expand=True)
    grid.add_column(ratio=1)
    grid.add_column(ratio=1)
    grid.add_row(fills, positions)
    return grid


def _time(ms: object) -> str:
    if not isinstance(ms, int):
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short(value: object) -> str:
    return "-" if value is None else f"{value:.2f}" if not isinstance(value, str) else value
