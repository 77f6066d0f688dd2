"""``algo-exchange-sim``: run the Binance-compatible simulator until SIGTERM or SIGINT.

Settings come from ``SIM_*`` environment variables; a CLI flag overrides its variable.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import structlog
from pydantic import ValidationError

from algo_common.logging import configure_logging
from exchange_sim.runner import start_simulator
from exchange_sim.settings import SimSettings

log = structlog.get_logger("exchange_sim")

_FLAGS: dict[str, type] = {
    "host": str,
    "port": int,
    "symbols": str,
    "mode": str,
    "seed": int,
    "rate": float,
    "kline_interval": str,
    "steps_per_bar": int,
    "max_trades_per_step": int,
    "volatility": float,
    "levels_per_side": int,
    "start_price": str,
    "start_time_ms": int,
    "path_closes": str,
    "history_csv": Path,
    "history_symbol": str,
    "replay_dir": Path,
    "ping_interval_s": float,
    "pong_timeout_s": float,
    "max_connection_s": float,
    "max_incoming_per_s": int,
    "max_streams": int,
    "send_queue_size": int,
    "weight_limit": int,
    "trading_taker_commission": str,
    "trading_maker_commission": str,
    "trading_orders_per_10s": int,
    "trading_orders_per_day": int,
    "trading_ban_after": int,
    "trading_ban_s": float,
    "trading_clock_skew_ms": int,
    "log_level": str,
}


def parse_args(argv: Sequence[str] | None = None) -> SimSettings:
    """Settings from the environment, overridden by the flags given."""
    parser = argparse.ArgumentParser(prog="algo-exchange-sim", description=__doc__)
    for name, kind in _FLAGS.items():
        field = SimSettings.model_fields[name]
        help_text = (field.description or "").replace("%", "%%")  # argparse formats help with %
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None, help=help_text)
    args = vars(parser.parse_args(argv))
    overrides = {name: value for name, value in args.items() if value is not None}
    return SimSettings(**overrides)


async def serve(settings: SimSettings) -> None:
    """Serve until a stop signal, then close connections (1001) and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    sim = await start_simulator(settings)
    log.info(
        "exchange_sim_listening",
        rest_url=sim.rest_url,
        ws_url=sim.ws_url,
        control_url=sim.control_url,
        port=sim.port,
        mode=settings.mode,
        symbols=settings.symbols,
        rate=settings.rate,
    )
    await stop.wait()
    log.info("exchange_sim_stopping")
    await sim.close()
    log.info("exchange_sim_stopped")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_args(argv)
    except ValidationError as e:
        for error in e.errors():
            name = "SIM_" + "_".join(str(part) for part in error["loc"]).upper()
            print(f"algo-exchange-sim: invalid setting {name}: {error['msg']}", file=sys.stderr)
        return 2
    configure_logging("exchange_sim", settings.log_level)
    try:
        asyncio.run(serve(settings))
    except (OSError, ValueError) as e:
        log.error("exchange_sim_failed", error=str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
