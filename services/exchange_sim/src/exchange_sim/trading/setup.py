"""Wire the trading side into the simulator app: state, routes, the market-trade hook."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from aiohttp import web

from exchange_sim.settings import SimSettings
from exchange_sim.trading import control, handlers, ws_api
from exchange_sim.trading.accounts import Keyring
from exchange_sim.trading.engine import TradingEngine
from exchange_sim.trading.faults import TradingFaults
from exchange_sim.trading.hook import MatchingVenue, VenueMarketView
from exchange_sim.trading.limits import BanTracker, OrderCounter
from exchange_sim.trading.state import TRADING, TradingClock, TradingState
from exchange_sim.trading.userstream import UserStreams


def install(app: web.Application, settings: SimSettings, venue: MatchingVenue, wall_time: Callable[[], float]) -> None:
    """Create the trading state for ``app`` and register its endpoints.

    ``venue`` must be the app's venue, so resting orders see every trade the market makes.
    """
    clock = TradingClock(wall_time, settings.trading_clock_skew_ms)
    keyring = Keyring()
    for config in settings.trading_accounts:
        keyring.configure(config, clock.now_ms())
    engine = TradingEngine(
        keyring,
        VenueMarketView(venue),
        clock.now_ms,
        taker_rate=settings.trading_taker_commission,
        maker_rate=settings.trading_maker_commission,
        seed=settings.seed,
    )
    faults = TradingFaults()
    state = TradingState(
        settings=settings,
        wall_time=wall_time,
        keyring=keyring,
        engine=engine,
        orders=OrderCounter(settings.trading_orders_per_10s, settings.trading_orders_per_day, wall_time),
        bans=BanTracker(settings.trading_ban_after, settings.trading_ban_s, wall_time),
        faults=faults,
        streams=UserStreams(faults),
        clock=clock,
    )

    def on_trade(symbol: str, price: Decimal, qty: Decimal) -> None:
        if engine.on_market_trade(symbol, price, qty):
            state.publish_events()

    venue.on_trade = on_trade
    app[TRADING] = state
    handlers.add_routes(app)
    ws_api.add_routes(app)
    control.add_routes(app)
