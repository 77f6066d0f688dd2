"""Order placement, cancellation, queries and resting-order fills, for every account.

Pure state, no I/O: the REST and WebSocket layers call it and publish the user data events it
queues (``take_events``). Money moves as on Binance spot: a LIMIT order locks ``price * qty``
quote (BUY) or ``qty`` base (SELL) while open; a BUY pays commission in the base asset (it receives
``qty - commission``), a SELL in the quote asset (it receives ``qty * price - commission``), unless
the account pays in its ``fee_asset`` (BNB) and holds enough of it; taker fills at the book's
levels, maker fills (resting orders) at the order's price.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

import msgspec

from algo_common.binance.trading_schemas import BinanceBalanceDelta, BinanceOutboundAccountPosition
from exchange_sim.encoding import EIGHT_PLACES, fixed8
from exchange_sim.symbols import SymbolSpec
from exchange_sim.trading.accounts import Account, InsufficientBalance, Keyring
from exchange_sim.trading.errors import TradingError
from exchange_sim.trading.filters import SymbolFilters
from exchange_sim.trading.matching import Level, crosses, walk
from exchange_sim.trading.orders import ZERO, Fill, Order

UserEvent = tuple[str, msgspec.Struct]
"""An event for the user data stream of an account (by name)."""
FIRST_TRADE_ID = 1_000_000
_ID_ALPHABET = string.ascii_letters + string.digits


class OrderRejected(TradingError):
    """The matching engine (or the checks before it) refused the request."""


def unknown_order() -> OrderRejected:
    return OrderRejected(-2011, "Unknown order sent.")


def no_such_order() -> OrderRejected:
    return OrderRejected(-2013, "Order does not exist.")


class MarketView(Protocol):
    """What the engine needs from the market: symbols, book levels, the last price."""

    def spec(self, symbol: str) -> SymbolSpec | None: ...

    def levels(self, symbol: str, side: str) -> list[Level]:
        """Levels an order of ``side`` takes from, best first (BUY: asks, SELL: bids)."""
        ...

    def last_price(self, symbol: str) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A validated ``POST /api/v3/order`` request."""

    symbol: str
    side: str  # BUY | SELL
    type: str  # LIMIT | MARKET | LIMIT_MAKER
    time_in_force: str  # GTC | IOC | FOK (GTC for MARKET and LIMIT_MAKER, as Binance reports)
    qty: Decimal | None
    quote_qty: Decimal | None
    price: Decimal | None
    client_order_id: str | None


class TradingEngine:
    """Every order, fill and balance of the simulator."""

    def __init__(
        self,
        keyring: Keyring,
        market: MarketView,
        clock: Callable[[], int],
        *,
        taker_rate: Decimal,
        maker_rate: Decimal,
        seed: int,
    ) -> None:
        self.keyring = keyring
        self.market = market
        self.clock = clock
        self.taker_rate = taker_rate
        self.maker_rate = maker_rate
        self.orders: dict[tuple[str, int], Order] = {}
        self._open: dict[tuple[str, int], Order] = {}  # the resting ones, checked on every market trade
        self.fills: list[Fill] = []
        self._by_client_id: dict[tuple[str, str, str], list[Order]] = {}
        self._next_order_id: dict[str, int] = {}
        self._next_trade_id: dict[str, int] = {}
        self._execution_id = 0
        self._events: list[UserEvent] = []
        self._rng = random.Random(f"{seed}:trading")

    # --- placing ----------------------------------------------------------------------------

    def spec(self, symbol: str) -> SymbolSpec:
        spec = self.market.spec(symbol)
        if spec is None:
            raise OrderRejected(-1121, "Invalid symbol.")
        return spec

    def check(self, account: Account, req: NewOrder) -> SymbolSpec:
        """Everything checked before the matching engine: symbol, filters, duplicate client id."""
        spec = self.spec(req.symbol)
        price = req.price if req.price is not None else ZERO
        failed = SymbolFilters.for_spec(spec).failure(
            req.type, price, req.qty, req.quote_qty, self.market.last_price(req.symbol)
        )
        if failed is not None:
            raise OrderRejected(-1013, f"Filter failure: {failed}")
        if req.client_order_id is not None and any(
            o.is_open for o in self._by_client_id.get((account.name, req.symbol, req.client_order_id), [])
        ):
            raise OrderRejected(-2010, "Duplicate order sent.")
        return spec

    def place(self, account: Account, req: NewOrder) -> tuple[Order, list[Fill]]:
        """Accept, match and (GTC LIMIT) rest an order; return it with the fills it made now."""
        spec = self.check(account, req)
        taking, complete = self._match(req, spec)
        if req.type == "LIMIT_MAKER" and taking:
            raise OrderRejected(-2010, "Order would immediately match and take.")
        if req.time_in_force == "FOK" and not complete:
            taking = []
        executed = sum((q for _, q in taking), ZERO)
        if req.side == "BUY":
            lock_asset = spec.quote_asset
            need = sum((p * q for p, q in taking), ZERO) if req.price is None else req.price * (req.qty or ZERO)
        else:
            lock_asset = spec.base_asset
            need = req.qty if req.qty is not None else executed
        now = self.clock()
        try:
            account.lock(lock_asset, need, now)
        except InsufficientBalance as e:
            raise OrderRejected(-2010, "Account has insufficient balance for requested action.") from e
        order = Order(
            account=account.name,
            symbol=req.symbol,
            order_id=self._next(self._next_order_id, req.symbol, 1),
            client_order_id=req.client_order_id or self.new_client_id(),
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force,
            price=req.price if req.price is not None else ZERO,
            orig_qty=req.qty if req.qty is not None else executed,
            orig_quote_qty=req.quote_qty if req.quote_qty is not None else ZERO,
            time=now,
            update_time=now,
            lock_asset=lock_asset,
            locked=need,
            can_fill=complete or req.quote_qty is None,
        )
        self.orders[(order.symbol, order.order_id)] = order
        self._by_client_id.setdefault((account.name, order.symbol, order.client_order_id), []).append(order)
        self._report(order, "NEW", now)
        fills = [self._fill(order, account, spec, price, qty, maker=False, now=now) for price, qty in taking]
        rests = req.type != "MARKET" and req.time_in_force == "GTC"
        if not rests and (order.remaining > 0 or not complete or not fills):
            self._close(order, account, "EXPIRED", now)
        if order.is_open:
            self._open[(order.symbol, order.order_id)] = order
        self._account_updates(now)
        return order, fills

    def new_client_id(self) -> str:
        """A 22-character id like Binance generates when ``newClientOrderId`` is omitted."""
        return "".join(self._rng.choice(_ID_ALPHABET) for _ in range(22))

    # --- cancelling and queries -------------------------------------------------------------

    def find(
        self, account: Account, symbol: str, order_id: int | None, client_id: str | None, missing: OrderRejected
    ) -> Order:
        """The order by id (checked against ``client_id`` if both are given) or by client id (latest)."""
        self.spec(symbol)
        if order_id is None and client_id is None:
            raise OrderRejected(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order_id is not None:
            order = self.orders.get((symbol, order_id))
            if order is None or order.account != account.name:
                raise missing
            if client_id is not None and order.client_order_id != client_id:
                raise OrderRejected(-2039, "Client order ID is not correct for this order ID.")
            return order
        assert client_id is not None
        matches = self._by_client_id.get((account.name, symbol, client_id))
        if not matches:
            raise missing
        return matches[-1]

    def cancel(
        self,
        account: Account,
        symbol: str,
        order_id: int | None,
        client_id: str | None,
        *,
        cancel_client_id: str | None = None,
        restriction: str | None = None,
    ) -> tuple[Order, str]:
        order = self.find(account, symbol, order_id, client_id, unknown_order())
        if not order.is_open:
            raise unknown_order()
        if (restriction == "ONLY_NEW" and order.status != "NEW") or (
            restriction == "ONLY_PARTIALLY_FILLED" and order.status != "PARTIALLY_FILLED"
        ):
            raise OrderRejected(-2011, "Order was not canceled due to cancel restrictions.")
        now = self.clock()
        cancel_id = cancel_client_id or self.new_client_id()
        self._close(order, account, "CANCELED", now, cancel_client_id=cancel_id)
        self._account_updates(now)
        return order, cancel_id

    def cancel_all(self, account: Account, symbol: str) -> list[tuple[Order, str]]:
        self.spec(symbol)
        return [self.cancel(account, symbol, order.order_id, None) for order in self.open_orders(account, symbol)]

    def open_orders(self, account: Account, symbol: str | None) -> list[Order]:
        return [
            o
            for o in self._open.values()
            if o.account == account.name and o.is_open and (symbol is None or o.symbol == symbol)
        ]

    # --- the market moves -------------------------------------------------------------------

    def on_market_trade(self, symbol: str, price: Decimal, qty: Decimal) -> int:
        """Fill resting orders the trade printed through (at their limit price, up to ``qty``)."""
        resting = [
            o for o in self._open.values() if o.symbol == symbol and o.is_open and crosses(o.side, price, o.price)
        ]
        if not resting:
            return 0
        resting.sort(key=lambda o: (-o.price if o.side == "BUY" else o.price, o.order_id))
        spec = self.spec(symbol)
        now, available, filled = self.clock(), qty, 0
        for order in resting:
            if available <= 0:
                break
            take = min(order.remaining, available)
            available -= take
            account = self.keyring.accounts[order.account]
            self._fill(order, account, spec, order.price, take, maker=True, now=now)
            filled += 1
        self._account_updates(now)
        return filled

    def take_events(self) -> list[UserEvent]:
        events, self._events = self._events, []
        return events

    # --- internals --------------------------------------------------------------------------

    def _match(self, req: NewOrder, spec: SymbolSpec) -> tuple[list[Level], bool]:
        levels = self.market.levels(req.symbol, req.side)
        return walk(levels, req.side, qty=req.qty, quote_qty=req.quote_qty, limit=req.price, step=spec.step_size)

    def _fill(
        self, order: Order, account: Account, spec: SymbolSpec, price: Decimal, qty: Decimal, *, maker: bool, now: int
    ) -> Fill:
        quote = price * qty
        rate = self.maker_rate if maker else self.taker_rate
        if order.side == "BUY":
            account.debit(spec.quote_asset, quote, now, from_locked=True)
            order.locked -= quote
            if order.type != "MARKET" and order.price > price:  # a better price frees the difference
                refund = (order.price - price) * qty
                account.unlock(spec.quote_asset, refund, now)
                order.locked -= refund
            commission, asset = _in_fee_asset(account, quote, rate, now) or (_commission(qty, rate), spec.base_asset)
            account.credit(spec.base_asset, qty - commission if asset == spec.base_asset else qty, now)
        else:
            account.debit(spec.base_asset, qty, now, from_locked=True)
            order.locked -= qty
            commission, asset = _in_fee_asset(account, quote, rate, now) or (_commission(quote, rate), spec.quote_asset)
            account.credit(spec.quote_asset, quote - commission if asset == spec.quote_asset else quote, now)
        order.executed_qty += qty
        order.cum_quote += quote
        order.status = "FILLED" if order.remaining <= 0 and order.can_fill else "PARTIALLY_FILLED"
        order.update_time = now
        fill = Fill(
            account=account.name,
            symbol=order.symbol,
            trade_id=self._next(self._next_trade_id, order.symbol, FIRST_TRADE_ID),
            order_id=order.order_id,
            price=price,
            qty=qty,
            quote_qty=quote,
            commission=commission,
            commission_asset=asset,
            time=now,
            is_buyer=order.side == "BUY",
            is_maker=maker,
        )
        order.fills.append(fill)
        self.fills.append(fill)
        if order.status == "FILLED":
            self._open.pop((order.symbol, order.order_id), None)
            if order.locked > 0:
                account.unlock(order.lock_asset, order.locked, now)
                order.locked = ZERO
        self._report(order, "TRADE", now, fill=fill)
        return fill

    def _close(
        self, order: Order, account: Account, status: str, now: int, *, cancel_client_id: str | None = None
    ) -> None:
        if order.locked > 0:
            account.unlock(order.lock_asset, order.locked, now)
            order.locked = ZERO
        order.status = status
        order.update_time = now
        self._open.pop((order.symbol, order.order_id), None)
        self._report(order, status, now, cancel_client_id=cancel_client_id)

    def _report(
        self, order: Order, kind: str, now: int, *, fill: Fill | None = None, cancel_client_id: str | None = None
    ) -> None:
        self._execution_id += 1
        report = order.execution_report(
            kind, event_time=now, execution_id=self._execution_id, fill=fill, cancel_client_id=cancel_client_id
        )
        self._events.append((order.account, report))

    def _account_updates(self, now: int) -> None:
        for account in self.keyring.accounts.values():
            assets = account.take_changed()
            if not assets:
                continue
            deltas = [
                BinanceBalanceDelta(a=a, f=fixed8(account.balance(a).free), l=fixed8(account.balance(a).locked))
                for a in assets
            ]
            event = BinanceOutboundAccountPosition(e="outboundAccountPosition", E=now, u=account.update_time, B=deltas)
            self._events.append((account.name, event))

    @staticmethod
    def _next(counters: dict[str, int], symbol: str, first: int) -> int:
        value = counters.get(symbol, first)
        counters[symbol] = value + 1
        return value


def _commission(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(EIGHT_PLACES, rounding=ROUND_HALF_UP)


def _in_fee_asset(account: Account, quote: Decimal, rate: Decimal, now: int) -> tuple[Decimal, str] | None:
    """The commission charged in the account's fee asset (debited here), or None when it pays as usual.

    As on Binance with "use BNB for fees": the quote value of the commission converted at the fee
    asset's price; an account without enough of it free pays in the trade's own assets instead.
    """
    if account.fee_asset is None or account.fee_asset_price is None:
        return None
    commission = _commission(quote / account.fee_asset_price, rate)
    if commission <= 0 or commission > account.free(account.fee_asset):
        return None
    account.debit(account.fee_asset, commission, now)
    return commission, account.fee_asset
