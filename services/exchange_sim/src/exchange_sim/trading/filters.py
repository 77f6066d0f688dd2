"""Symbol filters: the values ``exchangeInfo`` advertises and the checks orders must pass.

One source for both, so a client that applies the advertised filters is never rejected and a
client that does not gets Binance's ``-1013 "Filter failure: <NAME>"``. Values are BTCUSDT's
(2026): tick 0.01, step 0.00001, LOT_SIZE max 9000, MARKET_LOT_SIZE max 100, NOTIONAL min 5
(applied to MARKET), max 9,000,000 (not applied to MARKET). A 0 disables its rule (documented for
PRICE_FILTER; assumed for the quantity filters, see BINANCE.md §7).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.encoding import fixed8
from exchange_sim.schemas import (
    BinanceLotSizeFilter,
    BinanceMarketLotSizeFilter,
    BinanceNotionalFilter,
    BinancePriceFilter,
    BinanceSymbolFilter,
)
from exchange_sim.symbols import SymbolSpec

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class QtyRule:
    min_qty: Decimal
    max_qty: Decimal
    step: Decimal

    def passes(self, qty: Decimal) -> bool:
        if self.min_qty and qty < self.min_qty:
            return False
        if self.max_qty and qty > self.max_qty:
            return False
        return not (self.step and qty % self.step != 0)


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """The filters of one symbol."""

    min_price: Decimal
    max_price: Decimal
    tick_size: Decimal
    lot: QtyRule
    market_lot: QtyRule
    min_notional: Decimal
    apply_min_to_market: bool
    max_notional: Decimal
    apply_max_to_market: bool
    avg_price_mins: int = 5

    @classmethod
    def for_spec(cls, spec: SymbolSpec) -> SymbolFilters:
        return cls(
            min_price=spec.tick_size,
            max_price=Decimal(1_000_000),
            tick_size=spec.tick_size,
            lot=QtyRule(spec.step_size, Decimal(9000), spec.step_size),
            market_lot=QtyRule(ZERO, Decimal(100), ZERO),
            min_notional=Decimal(5),
            apply_min_to_market=True,
            max_notional=Decimal(9_000_000),
            apply_max_to_market=False,
        )

    def price_passes(self, price: Decimal) -> bool:
        if self.min_price and price < self.min_price:
            return False
        if self.max_price and price > self.max_price:
            return False
        return not (self.tick_size and price % self.tick_size != 0)

    def notional_passes(self, notional: Decimal, *, market: bool) -> bool:
        if (not market or self.apply_min_to_market) and notional < self.min_notional:
            return False
        return not ((not market or self.apply_max_to_market) and self.max_notional and notional > self.max_notional)

    def failure(
        self, order_type: str, price: Decimal, qty: Decimal | None, quote_qty: Decimal | None, ref_price: Decimal
    ) -> str | None:
        """Name of the first filter the order breaks (Binance's order of evaluation), else None.

        ``ref_price`` prices MARKET notionals (the last trade price here, Binance's avgPriceMins
        window being too coarse for a simulated minute).
        """
        market = order_type == "MARKET"
        if not market and not self.price_passes(price):
            return "PRICE_FILTER"
        if qty is not None and not self.lot.passes(qty):
            return "LOT_SIZE"
        if market and qty is not None and not self.market_lot.passes(qty):
            return "MARKET_LOT_SIZE"
        if market:
            notional = quote_qty if quote_qty is not None else (qty or ZERO) * ref_price
        else:
            notional = price * (qty or ZERO)
        if not self.notional_passes(notional, market=market):
            return "NOTIONAL"
        return None

    def to_binance(self) -> list[BinanceSymbolFilter]:
        """The ``filters`` array of ``exchangeInfo``, strings with 8 decimals."""
        return [
            BinancePriceFilter(
                minPrice=fixed8(self.min_price), maxPrice=fixed8(self.max_price), tickSize=fixed8(self.tick_size)
            ),
            BinanceLotSizeFilter(
                minQty=fixed8(self.lot.min_qty), maxQty=fixed8(self.lot.max_qty), stepSize=fixed8(self.lot.step)
            ),
            BinanceMarketLotSizeFilter(
                minQty=fixed8(self.market_lot.min_qty),
                maxQty=fixed8(self.market_lot.max_qty),
                stepSize=fixed8(self.market_lot.step),
            ),
            BinanceNotionalFilter(
                minNotional=fixed8(self.min_notional),
                applyMinToMarket=self.apply_min_to_market,
                maxNotional=fixed8(self.max_notional),
                applyMaxToMarket=self.apply_max_to_market,
                avgPriceMins=self.avg_price_mins,
            ),
        ]
