"""``algo-trade``: run the whole pipeline locally (``up``); run a strategy over history (``backtest``)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from algo_trade.backtest_command import backtest
from algo_trade.dashboard import render
from algo_trade.observe import Observer
from algo_trade.pipeline import Pipeline, PipelineOptions, wait_healthy

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
app.command()(backtest)
console = Console()


class _Stop(Exception):
    """Raised from the SIGTERM handler to leave the view loop the same way Ctrl-C does."""


@app.callback()
def _commands() -> None:
    """algo-trade developer commands."""


@app.command()
def up(
    live: Annotated[
        bool, typer.Option("--live", envvar="ALGO_TRADE_LIVE", help="Collector reads real Binance.")
    ] = False,
    symbols: Annotated[str, typer.Option(help="Comma-separated symbols.")] = "BTCUSDT",
    interval: Annotated[str, typer.Option(help="Strategy bar interval.")] = "1m",
    fast: Annotated[int, typer.Option(help="Fast SMA period (bars).")] = 5,
    slow: Annotated[int, typer.Option(help="Slow SMA period (bars).")] = 20,
    sim_rate: Annotated[float, typer.Option(help="Simulator market steps per second (10 steps = one bar).")] = 10.0,
    duration: Annotated[float, typer.Option(help="Stop after this many seconds (0 = until Ctrl-C).")] = 0.0,
    ui: Annotated[bool, typer.Option(help="Live terminal view; --no-ui prints one line per refresh.")] = True,
    workdir: Annotated[Path, typer.Option(help="Logs and local server data.")] = Path(".run"),
) -> None:
    """Start Redis and MongoDB (unless reachable), the simulator and the three services; show what flows."""
    options = PipelineOptions(
        workdir=workdir.resolve(),
        live=live,
        symbols=tuple(s.strip().upper() for s in symbols.split(",") if s.strip()),
        interval=interval,
        fast=fast,
        slow=slow,
        sim_rate=sim_rate,
    )
    pipeline = Pipeline(options)
    signal.signal(signal.SIGTERM, _raise_stop)
    # Ctrl-C must stop us even when started from a non-interactive shell, which ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with console.status("starting servers, simulator and services..."):
            pipeline.start()
            wait_healthy(pipeline, timeout_s=90)
        console.print(f"[green]pipeline up[/] redis={_safe(pipeline.redis_url)} logs={options.workdir / 'logs'}")
        _watch(pipeline, options, duration, ui)
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # stopping is bounded; a second Ctrl-C must not cut it short
            signal.signal(sig, signal.SIG_IGN)
        with console.status("stopping..."):
            pipeline.stop()
        console.print("[bold]stopped[/]: every process this command started has exited")
    failed = [p.name for p in pipeline.processes if p.exit_code not in (0, None, -signal.SIGTERM)]
    if failed:
        console.print(f"[red]exited with errors:[/] {', '.join(failed)} (see {options.workdir / 'logs'})")
        raise typer.Exit(1)


def _watch(pipeline: Pipeline, options: PipelineOptions, duration: float, ui: bool) -> None:
    observer = Observer(
        pipeline.service_ports(),
        pipeline.redis_url,
        pipeline.mongo_uri,
        options.mongo_db,
        options.symbols[0],
        (options.interval, options.fast, options.slow),
    )
    deadline = time.monotonic() + duration if duration > 0 else float("inf")
    source = "LIVE Binance" if options.live else "simulator"
    title = f"algo-trade  {source}  {options.symbols[0]}  SMA {options.fast}/{options.slow} on {options.interval} bars"
    try:
        if ui:
            with Live(render(observer.sample(), title), console=console, refresh_per_second=2) as view:
                while time.monotonic() < deadline and _all_running(pipeline):
                    time.sleep(1.0)
                    view.update(render(observer.sample(), title))
        else:
            while time.monotonic() < deadline and _all_running(pipeline):
                time.sleep(1.0)
                sample = observer.sample()
                counts = " ".join(f"{name}={sample.counts.get(name)}" for name in ("trade_signals", "orders", "fills"))
                health = " ".join(f"{s.name}={'ready' if s.ready else 'NOT READY'}" for s in sample.services)
                smas = f"sma_fast={sample.sma_fast:.2f} sma_slow={sample.sma_slow:.2f}" if sample.sma_slow else "sma=-"
                line = f"events/s={sample.events_per_s:.0f} price={sample.last_price} {smas} {counts} {health}"
                console.print(line, soft_wrap=True)  # one line per refresh, whatever the terminal width
    finally:
        observer.close()


def _all_running(pipeline: Pipeline) -> bool:
    stopped = [p.name for p in pipeline.processes if not p.running]
    if stopped:
        console.print(f"[red]{', '.join(stopped)} stopped unexpectedly[/]")
    return not stopped


def _raise_stop(*_: object) -> None:
    raise _Stop


def _safe(url: str) -> str:
    """A URL without its password, for display."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def main() -> None:
    app()
