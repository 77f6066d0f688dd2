"""Orders and their fills as the simulator keeps them, and their Binance JSON shapes.

Every number leaves through ``fixed8`` so it prints like Binance (``"0.00100000"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from algo_common.binance.trading_schemas import (
    BinanceCanceledOrder,
    BinanceExecutionReport,
    BinanceMyTrade,
    BinanceOrder,
    BinanceOrderAck,
    BinanceOrderFill,
    BinanceOrderResult,
)
from exchange_sim.encoding import fixed8

ZERO = Decimal(0)
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
STP_MODE = "EXPIRE_MAKER"  # BTCUSDT's defaultSelfTradePreventionMode


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders (a row of ``myTrades``)."""

    account: str
    symbol: str
    trade_id: int
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def to_binance(self) -> BinanceMyTrade:
        return BinanceMyTrade(
            symbol=self.symbol,
            id=self.trade_id,
            orderId=self.order_id,
            orderListId=-1,
            price=fixed8(self.price),
            qty=fixed8(self.qty),
            quoteQty=fixed8(self.quote_qty),
            commission=fixed8(self.commission),
            commissionAsset=self.commission_asset,
            time=self.time,
            isBuyer=self.is_buyer,
            isMaker=self.is_maker,
            isBestMatch=True,
        )

    def to_order_fill(self) -> BinanceOrderFill:
        return BinanceOrderFill(
            price=fixed8(self.price),
            qty=fixed8(self.qty),
            commission=fixed8(self.commission),
            commissionAsset=self.commission_asset,
            tradeId=self.trade_id,
        )


@dataclass(slots=True)
class Order:
    """An order's full state; ``locked`` is what it still holds of ``lock_asset``."""

    account: str
    symbol: str
    order_id: int
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time: int
    lock_asset: str
    locked: Decimal = ZERO
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    fills: list[Fill] = field(default_factory=list)
    # False for a quoteOrderQty order the book could not serve in full: its last fill leaves it
    # PARTIALLY_FILLED (then EXPIRED), never FILLED, although origQty = executedQty.
    can_fill: bool = True

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    def to_ack(self) -> BinanceOrderAck:
        return BinanceOrderAck(
            symbol=self.symbol,
            orderId=self.order_id,
            orderListId=-1,
            clientOrderId=self.client_order_id,
            transactTime=self.time,
        )

    def to_result(self, fills: list[Fill] | None) -> BinanceOrderResult:
        """RESULT (``fills`` None) or FULL response of the placement, with the fills it made."""
        return BinanceOrderResult(
            symbol=self.symbol,
            orderId=self.order_id,
            orderListId=-1,
            clientOrderId=self.client_order_id,
            transactTime=self.time,
            price=fixed8(self.price),
            origQty=fixed8(self.orig_qty),
            executedQty=fixed8(self.executed_qty),
            origQuoteOrderQty=fixed8(self.orig_quote_qty),
            cummulativeQuoteQty=fixed8(self.cum_quote),
            status=self.status,
            timeInForce=self.time_in_force,
            type=self.type,
            side=self.side,
            workingTime=self.time,
            selfTradePreventionMode=STP_MODE,
            fills=msgspec.UNSET if fills is None else [f.to_order_fill() for f in fills],
        )

    def to_query(self) -> BinanceOrder:
        return BinanceOrder(
            symbol=self.symbol,
            orderId=self.order_id,
            orderListId=-1,
            clientOrderId=self.client_order_id,
            price=fixed8(self.price),
            origQty=fixed8(self.orig_qty),
            executedQty=fixed8(self.executed_qty),
            cummulativeQuoteQty=fixed8(self.cum_quote),
            status=self.status,
            timeInForce=self.time_in_force,
            type=self.type,
            side=self.side,
            stopPrice=fixed8(ZERO),
            icebergQty=fixed8(ZERO),
            time=self.time,
            updateTime=self.update_time,
            isWorking=self.type != "MARKET",
            workingTime=self.time,
            origQuoteOrderQty=fixed8(self.orig_quote_qty),
            selfTradePreventionMode=STP_MODE,
        )

    def to_canceled(self, cancel_client_id: str, transact_time: int) -> BinanceCanceledOrder:
        return BinanceCanceledOrder(
            symbol=self.symbol,
            origClientOrderId=self.client_order_id,
            orderId=self.order_id,
            orderListId=-1,
            clientOrderId=cancel_client_id,
            transactTime=transact_time,
            price=fixed8(self.price),
            origQty=fixed8(self.orig_qty),
            executedQty=fixed8(self.executed_qty),
            origQuoteOrderQty=fixed8(self.orig_quote_qty),
            cummulativeQuoteQty=fixed8(self.cum_quote),
            status=self.status,
            timeInForce=self.time_in_force,
            type=self.type,
            side=self.side,
            selfTradePreventionMode=STP_MODE,
        )

    def execution_report(
        self,
        execution_type: str,
        *,
        event_time: int,
        execution_id: int,
        fill: Fill | None = None,
        cancel_client_id: str | None = None,
    ) -> BinanceExecutionReport:
        """``executionReport`` for this order's state right after ``execution_type`` happened."""
        last_qty = fill.qty if fill else ZERO
        last_price = fill.price if fill else ZERO
        return BinanceExecutionReport(
            e="executionReport",
            E=event_time,
            s=self.symbol,
            c=cancel_client_id if cancel_client_id is not None else self.client_order_id,
            S=self.side,
            o=self.type,
            f=self.time_in_force,
            q=fixed8(self.orig_qty),
            p=fixed8(self.price),
            P=fixed8(ZERO),
            F=fixed8(ZERO),
            g=-1,
            C=self.client_order_id if cancel_client_id is not None else "",
            x=execution_type,
            X=self.status,
            r="NONE",
            i=self.order_id,
            l=fixed8(last_qty),
            z=fixed8(self.executed_qty),
            L=fixed8(last_price),
            n=fixed8(fill.commission) if fill else Decimal(0),
            N=fill.commission_asset if fill else None,
            T=fill.time if fill else event_time,
            t=fill.trade_id if fill else -1,
            I=execution_id,
            w=self.is_open and self.type != "MARKET",
            m=fill.is_maker if fill else False,
            M=False,
            O=self.time,
            Z=fixed8(self.cum_quote),
            Y=fixed8(last_qty * last_price),
            Q=fixed8(self.orig_quote_qty),
            V=STP_MODE,
            W=self.time,
        )
