"""aiohttp application: Binance REST + WebSocket on one port, the control API, the market loop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from exchange_sim import rest, sim_api, ws
from exchange_sim.bars import Bar, load_history_csv
from exchange_sim.connection import ConnectionLimits
from exchange_sim.context import CONTEXT, SimContext, Venue
from exchange_sim.faults import Faults
from exchange_sim.hub import Hub
from exchange_sim.intervals import interval_ms
from exchange_sim.market import Market, MarketConfig
from exchange_sim.settings import SimSettings
from exchange_sim.trading import setup as trading_setup
from exchange_sim.trading.hook import MatchingVenue
from exchange_sim.trading.middleware import trading_middleware
from exchange_sim.venue import SimulatedVenue
from exchange_sim.weights import WeightCounter

log = structlog.get_logger(__name__)

MAX_CATCH_UP_STEPS = 1000
"""Steps run at once when the loop fell behind; beyond that the backlog is forgotten."""


def create_app(settings: SimSettings, *, wall_time: Callable[[], float] = time.time) -> web.Application:
    """The simulator as an aiohttp app; ``wall_time`` drives the rate-limit windows and the trading clock."""
    faults = Faults()
    venue = MatchingVenue(build_venue(settings))  # resting orders fill on the market's trades
    ctx = SimContext(
        settings=settings,
        venue=venue,
        hub=Hub(faults),
        faults=faults,
        weights=WeightCounter(settings.weight_limit, wall_time),
        limits=ConnectionLimits(
            ping_interval_s=settings.ping_interval_s,
            pong_timeout_s=settings.pong_timeout_s,
            max_connection_s=settings.max_connection_s,
            max_incoming_per_s=settings.max_incoming_per_s,
            max_streams=settings.max_streams,
            send_queue_size=settings.send_queue_size,
        ),
    )
    app = web.Application(middlewares=[trading_middleware, rest.binance_middleware])
    app[CONTEXT] = ctx
    trading_setup.install(app, settings, venue, wall_time)
    rest.add_routes(app)
    ws.add_routes(app)
    sim_api.add_routes(app)
    app.cleanup_ctx.append(_market_loop)
    app.on_shutdown.append(_close_connections)
    return app


def build_venue(settings: SimSettings) -> Venue:
    """The market data source chosen by ``settings.mode``."""
    if settings.mode == "replay":
        from exchange_sim.replay import ReplayVenue  # noqa: PLC0415 - only replay mode needs it

        assert settings.replay_dir is not None
        return ReplayVenue.load(settings.replay_dir)
    history: dict[str, list[Bar]] = {}
    if settings.history_csv is not None:
        symbol = settings.history_symbol or settings.symbols[0]
        history[symbol] = load_history_csv(settings.history_csv, interval_ms(settings.kline_interval))
    config = MarketConfig(
        symbols=tuple(settings.symbols),
        mode="path" if settings.mode == "path" else "walk",
        seed=settings.seed,
        interval=settings.kline_interval,
        steps_per_bar=settings.steps_per_bar,
        max_trades_per_step=settings.max_trades_per_step,
        start_price=settings.start_price,
        start_time_ms=settings.start_time_ms,
        volatility=settings.volatility,
        levels_per_side=settings.levels_per_side,
        path=tuple(settings.path_closes),
        history=history,
    )
    return SimulatedVenue(Market(config))


async def _market_loop(app: web.Application) -> AsyncIterator[None]:
    ctx = app[CONTEXT]
    task = asyncio.create_task(_run_market(ctx)) if ctx.settings.rate > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _run_market(ctx: SimContext) -> None:
    """Step at ``rate`` per second of wall time unless paused; never burst after falling behind."""
    period = 1.0 / ctx.settings.rate
    started, done = time.monotonic(), 0
    try:
        while True:
            due = int((time.monotonic() - started) / period) - done
            if due > MAX_CATCH_UP_STEPS:
                done += due - MAX_CATCH_UP_STEPS
                due = MAX_CATCH_UP_STEPS
            if due > 0 and not ctx.faults.paused:
                ctx.step(due)
            done += max(due, 0)
            await asyncio.sleep(max(0.0, started + (done + 1) * period - time.monotonic()))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("market_loop_failed")
        raise


async def _close_connections(app: web.Application) -> None:
    await app[CONTEXT].hub.close_all()
