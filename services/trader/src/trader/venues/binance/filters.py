"""Exchange filters applied before an order is sent (pure, exact Decimal arithmetic).

A MARKET order's quantity is rounded DOWN to the step (never up: that would buy more than risk
allowed), then checked against LOT_SIZE, MARKET_LOT_SIZE and NOTIONAL / MIN_NOTIONAL, priced at
the signal's reference price. An order that fails is refused here with a reason and never sent,
so the venue's ``-1013 Filter failure`` is not our normal path. A 0 disables a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from trader.venues.binance.schemas import BinanceFilter, BinanceSymbol

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class QtyRule:
    min_qty: Decimal = ZERO
    max_qty: Decimal = ZERO
    step: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """What ``exchangeInfo`` says about one symbol, as far as MARKET orders care."""

    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal = ZERO
    lot: QtyRule = QtyRule()
    market_lot: QtyRule = QtyRule()
    min_notional: Decimal = ZERO
    max_notional: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Prepared:
    """The quantity to send, or why the order must not be sent."""

    quantity: Decimal
    reject_reason: str | None = None


def round_down(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step`` (unchanged when step is 0)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def to_rules(info: BinanceSymbol) -> SymbolRules:
    """Read the filters the trader applies; unknown filter types are ignored."""
    rules = SymbolRules(info.symbol, info.status, info.baseAsset, info.quoteAsset)
    for f in info.filters:
        rules = _with_filter(rules, f)
    return rules


def _with_filter(rules: SymbolRules, f: BinanceFilter) -> SymbolRules:
    kind = f.filterType
    if kind == "PRICE_FILTER":
        return replace(rules, tick_size=f.tickSize or ZERO)
    if kind in ("LOT_SIZE", "MARKET_LOT_SIZE"):
        rule = QtyRule(f.minQty or ZERO, f.maxQty or ZERO, f.stepSize or ZERO)
        return replace(rules, lot=rule) if kind == "LOT_SIZE" else replace(rules, market_lot=rule)
    if kind == "NOTIONAL":
        low = (f.minNotional or ZERO) if f.applyMinToMarket else ZERO
        high = (f.maxNotional or ZERO) if f.applyMaxToMarket else ZERO
        return replace(rules, min_notional=max(low, rules.min_notional), max_notional=high)
    if kind == "MIN_NOTIONAL" and f.applyToMarket:
        return replace(rules, min_notional=max(f.minNotional or ZERO, rules.min_notional))
    return rules


def prepare_market_quantity(rules: SymbolRules, quantity: Decimal, ref_price: Decimal) -> Prepared:
    """Round ``quantity`` down to the step and check every quantity and notional rule."""
    step = max(rules.lot.step, rules.market_lot.step)
    qty = round_down(quantity, step)
    if rules.status != "TRADING":
        return Prepared(qty, f"symbol {rules.symbol} is {rules.status}, not TRADING")
    for name, rule in (("LOT_SIZE", rules.lot), ("MARKET_LOT_SIZE", rules.market_lot)):
        if qty <= 0 or (rule.min_qty and qty < rule.min_qty):
            return Prepared(
                qty, f"filter {name}: quantity {_t(qty)} (from {_t(quantity)}) below minQty {_t(rule.min_qty)}"
            )
        if rule.max_qty and qty > rule.max_qty:
            return Prepared(qty, f"filter {name}: quantity {_t(qty)} above maxQty {_t(rule.max_qty)}")
    notional = qty * ref_price
    if rules.min_notional and notional < rules.min_notional:
        return Prepared(qty, f"filter NOTIONAL: notional {_t(notional)} below minNotional {_t(rules.min_notional)}")
    if rules.max_notional and notional > rules.max_notional:
        return Prepared(qty, f"filter NOTIONAL: notional {_t(notional)} above maxNotional {_t(rules.max_notional)}")
    return Prepared(qty)


def _t(value: Decimal) -> str:
    """A Decimal as plain text without trailing zeros (``0.00001``, not ``1E-5``)."""
    return f"{value.normalize():f}" if value else "0"
