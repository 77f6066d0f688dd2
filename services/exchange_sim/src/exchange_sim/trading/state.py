"""Everything the trading side is made of, shared by its REST, WebSocket and control handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from exchange_sim.settings import SimSettings
from exchange_sim.trading.accounts import Keyring
from exchange_sim.trading.engine import TradingEngine
from exchange_sim.trading.faults import TradingFaults
from exchange_sim.trading.limits import BanTracker, OrderCounter
from exchange_sim.trading.userstream import UserStreams

if TYPE_CHECKING:
    from exchange_sim.trading.ws_api import WsApiConnection


class TradingClock:
    """The trading server's clock: wall clock plus a skew (a fault, or ``trading_clock_skew_ms``).

    Not the simulated market clock, which runs fast or stands still: a client that offsets its
    clock by ``GET /api/v3/time`` must stay inside ``recvWindow`` between two syncs.
    """

    def __init__(self, wall_time: Callable[[], float], skew_ms: int = 0) -> None:
        self.wall_time = wall_time
        self.skew_ms = skew_ms

    def now_ms(self) -> int:
        return int(self.wall_time() * 1000) + self.skew_ms


@dataclass(slots=True)
class TradingState:
    """Accounts, orders, limits, faults and user stream connections of one simulator."""

    settings: SimSettings
    wall_time: Callable[[], float]
    keyring: Keyring
    engine: TradingEngine
    orders: OrderCounter
    bans: BanTracker
    faults: TradingFaults
    streams: UserStreams
    clock: TradingClock
    connections: set[WsApiConnection] = field(default_factory=set)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def publish_events(self) -> None:
        self.streams.publish(self.engine.take_events())


TRADING = web.AppKey("exchange_sim.trading", TradingState)
