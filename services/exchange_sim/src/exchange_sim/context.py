"""What the HTTP and WebSocket handlers share: the venue, the hub, faults, weights, settings.

A ``Venue`` is where market data comes from: the simulated market (``venue.SimulatedVenue``) or a
recording (``replay.ReplayVenue``). Handlers only see this protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import msgspec
from aiohttp import web

from algo_common.binance.schemas import BinanceDepthSnapshot, BinanceKlineRow
from exchange_sim.connection import ConnectionLimits
from exchange_sim.faults import Faults
from exchange_sim.hub import Hub, Publication
from exchange_sim.schemas import BinanceAggTradeRow
from exchange_sim.settings import SimSettings
from exchange_sim.symbols import SymbolSpec
from exchange_sim.weights import WeightCounter


class SymbolState(msgspec.Struct, frozen=True):
    """Per-symbol counters of ``GET /_sim/state``."""

    symbol: str
    trades_sent: int  # trades produced (each also sent as an aggTrade)
    first_trade_id: int | None
    last_trade_id: int | None
    last_update_id: int  # depth update id of the true book
    closed_bars: int  # including preloaded history
    last_price: str
    pending_path_bars: int
    best_bid: str | None
    best_ask: str | None


class Venue(Protocol):
    """Source of market data and of REST answers about it."""

    @property
    def kline_interval(self) -> str: ...

    def now_ms(self) -> int: ...

    def specs(self) -> Sequence[SymbolSpec]: ...

    def step(self) -> list[Publication]:
        """Advance one step; return what to publish (empty when idle)."""
        ...

    def steps_done(self) -> int: ...

    def depth(self, symbol: str, limit: int) -> BinanceDepthSnapshot: ...

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[BinanceKlineRow]: ...

    def agg_trades(
        self, symbol: str, from_id: int | None, start: int | None, end: int | None, limit: int
    ) -> list[BinanceAggTradeRow]: ...

    def state(self) -> list[SymbolState]: ...

    def request_skip(self, symbol: str, count: int) -> None:
        """Raise ``ValueError`` when the venue cannot do it."""
        ...

    def append_path(self, symbol: str, closes: Sequence[Decimal]) -> int:
        """Raise ``ValueError`` when the venue cannot do it or a close is invalid."""
        ...


@dataclass(slots=True)
class SimContext:
    """Everything one simulator instance is made of."""

    settings: SimSettings
    venue: Venue
    hub: Hub
    faults: Faults
    weights: WeightCounter
    limits: ConnectionLimits

    def has_symbol(self, symbol: str) -> bool:
        return any(spec.symbol == symbol for spec in self.venue.specs())

    def step(self, count: int = 1) -> int:
        """Advance the venue ``count`` steps and broadcast; return how many steps produced events."""
        productive = 0
        for _ in range(count):
            publications = self.venue.step()
            if publications:
                productive += 1
                self.hub.publish(publications)
        return productive


CONTEXT = web.AppKey("exchange_sim.context", SimContext)
