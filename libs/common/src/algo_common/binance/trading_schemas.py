"""msgspec Structs of Binance spot trading JSON: orders, trades, account, user data, WS API.

Shared by the trader (decodes) and the exchange simulator (encodes), so both agree field for
field with ``../shared/BINANCE.md`` §5-§6. Field names are Binance's (``cummulativeQuoteQty`` with
its double m). Prices, quantities, commissions and balances are ``Decimal`` (JSON strings); ids,
counts and times are integers (ms). Conditional fields default to ``msgspec.UNSET``: absent when
decoded without them, omitted when encoded unset.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

# --- REST: orders ---------------------------------------------------------------------------------


class BinanceOrderAck(msgspec.Struct, frozen=True):
    """``POST /api/v3/order`` with ``newOrderRespType=ACK``."""

    symbol: str
    orderId: int  # noqa: N815
    orderListId: int  # -1 unless part of an order list  # noqa: N815
    clientOrderId: str  # noqa: N815
    transactTime: int  # ms  # noqa: N815


class BinanceOrderFill(msgspec.Struct, frozen=True):
    """One entry of ``fills`` in a FULL order response."""

    price: Decimal
    qty: Decimal
    commission: Decimal
    commissionAsset: str  # noqa: N815
    tradeId: int  # noqa: N815


class BinanceOrderResult(msgspec.Struct, frozen=True):
    """``POST /api/v3/order`` with ``RESULT`` (no ``fills``) or ``FULL`` (with ``fills``)."""

    symbol: str
    orderId: int  # noqa: N815
    orderListId: int  # noqa: N815
    clientOrderId: str  # noqa: N815
    transactTime: int  # noqa: N815
    price: Decimal  # 0 for MARKET
    origQty: Decimal  # noqa: N815
    executedQty: Decimal  # noqa: N815
    origQuoteOrderQty: Decimal  # noqa: N815
    cummulativeQuoteQty: Decimal  # sic  # noqa: N815
    status: str  # NEW | PARTIALLY_FILLED | FILLED | CANCELED | REJECTED | EXPIRED | EXPIRED_IN_MATCH
    timeInForce: str  # GTC | IOC | FOK  # noqa: N815
    type: str  # LIMIT | MARKET | LIMIT_MAKER | ...
    side: str  # BUY | SELL
    workingTime: int  # noqa: N815
    selfTradePreventionMode: str  # noqa: N815
    fills: list[BinanceOrderFill] | msgspec.UnsetType = msgspec.UNSET  # FULL only
    expiryReason: str | msgspec.UnsetType = msgspec.UNSET  # noqa: N815 - on expired orders (2026-03)


class BinanceOrder(msgspec.Struct, frozen=True):
    """``GET /api/v3/order`` and each element of ``GET /api/v3/openOrders``."""

    symbol: str
    orderId: int  # noqa: N815
    orderListId: int  # noqa: N815
    clientOrderId: str  # noqa: N815
    price: Decimal
    origQty: Decimal  # noqa: N815
    executedQty: Decimal  # noqa: N815
    cummulativeQuoteQty: Decimal  # noqa: N815
    status: str
    timeInForce: str  # noqa: N815
    type: str
    side: str
    stopPrice: Decimal  # noqa: N815
    icebergQty: Decimal  # noqa: N815
    time: int  # creation, ms
    updateTime: int  # noqa: N815
    isWorking: bool  # noqa: N815
    workingTime: int  # noqa: N815
    origQuoteOrderQty: Decimal  # noqa: N815
    selfTradePreventionMode: str  # noqa: N815
    expiryReason: str | msgspec.UnsetType = msgspec.UNSET  # noqa: N815


class BinanceCanceledOrder(msgspec.Struct, frozen=True):
    """``DELETE /api/v3/order`` and each element of ``DELETE /api/v3/openOrders``."""

    symbol: str
    origClientOrderId: str  # the order's client id  # noqa: N815
    orderId: int  # noqa: N815
    orderListId: int  # noqa: N815
    clientOrderId: str  # the cancel request's id  # noqa: N815
    transactTime: int  # noqa: N815
    price: Decimal
    origQty: Decimal  # noqa: N815
    executedQty: Decimal  # noqa: N815
    origQuoteOrderQty: Decimal  # noqa: N815
    cummulativeQuoteQty: Decimal  # noqa: N815
    status: str  # CANCELED
    timeInForce: str  # noqa: N815
    type: str
    side: str
    selfTradePreventionMode: str  # noqa: N815


class BinanceMyTrade(msgspec.Struct, frozen=True):
    """One element of ``GET /api/v3/myTrades``."""

    symbol: str
    id: int  # trade id
    orderId: int  # noqa: N815
    orderListId: int  # noqa: N815
    price: Decimal
    qty: Decimal
    quoteQty: Decimal  # noqa: N815
    commission: Decimal
    commissionAsset: str  # noqa: N815
    time: int
    isBuyer: bool  # noqa: N815
    isMaker: bool  # noqa: N815
    isBestMatch: bool  # noqa: N815


# --- REST: account --------------------------------------------------------------------------------


class BinanceBalance(msgspec.Struct, frozen=True):
    asset: str
    free: Decimal
    locked: Decimal


class BinanceCommissionRates(msgspec.Struct, frozen=True):
    maker: Decimal
    taker: Decimal
    buyer: Decimal
    seller: Decimal


class BinanceAccount(msgspec.Struct, frozen=True):
    """``GET /api/v3/account``."""

    makerCommission: int  # basis points  # noqa: N815
    takerCommission: int  # noqa: N815
    buyerCommission: int  # noqa: N815
    sellerCommission: int  # noqa: N815
    commissionRates: BinanceCommissionRates  # noqa: N815
    canTrade: bool  # noqa: N815
    canWithdraw: bool  # noqa: N815
    canDeposit: bool  # noqa: N815
    brokered: bool
    requireSelfTradePrevention: bool  # noqa: N815
    preventSor: bool  # noqa: N815
    updateTime: int  # noqa: N815
    accountType: str  # "SPOT"  # noqa: N815
    balances: list[BinanceBalance]
    permissions: list[str]
    uid: int


# --- user data stream events (inside {"subscriptionId": N, "event": {...}}) ------------------------


class BinanceExecutionReport(msgspec.Struct, frozen=True):
    """``executionReport``: one per order change (NEW, TRADE, CANCELED, EXPIRED, REJECTED...)."""

    e: str  # event type, "executionReport"
    E: int  # event time, ms
    s: str  # symbol
    c: str  # client order id (of the cancel request for a cancel)
    S: str  # side
    o: str  # order type
    f: str  # time in force
    q: Decimal  # order quantity
    p: Decimal  # order price
    P: Decimal  # stop price
    F: Decimal  # iceberg quantity
    g: int  # order list id, -1
    C: str  # original client order id of a canceled order, "" otherwise
    x: str  # execution type: NEW | CANCELED | REPLACED | REJECTED | TRADE | EXPIRED | TRADE_PREVENTION
    X: str  # order status
    r: str  # reject reason, "NONE"
    i: int  # order id
    l: Decimal  # last executed quantity  # noqa: E741
    z: Decimal  # cumulative filled quantity
    L: Decimal  # last executed price
    n: Decimal  # commission of this execution ("0" without a trade)
    N: str | None  # commission asset (null without a trade)
    T: int  # transaction time
    t: int  # trade id, -1 without a trade
    I: int  # execution id  # noqa: E741
    w: bool  # is the order on the book?
    m: bool  # is this trade the maker side?
    M: bool  # ignore
    O: int  # order creation time  # noqa: E741
    Z: Decimal  # cumulative quote quantity
    Y: Decimal  # last quote quantity (L * l)
    Q: Decimal  # quote order quantity
    V: str  # self-trade prevention mode
    W: int | msgspec.UnsetType = msgspec.UNSET  # working time (orders that reached the book)
    eR: str | msgspec.UnsetType = msgspec.UNSET  # noqa: N815 - expiry reason


class BinanceBalanceDelta(msgspec.Struct, frozen=True):
    """An entry of ``outboundAccountPosition.B``."""

    a: str  # asset
    f: Decimal  # free
    l: Decimal  # locked  # noqa: E741


class BinanceOutboundAccountPosition(msgspec.Struct, frozen=True):
    """``outboundAccountPosition``: balances of the assets that may have changed."""

    e: str  # "outboundAccountPosition"
    E: int  # event time
    u: int  # time of the last account update
    B: list[BinanceBalanceDelta]  # balances


class BinanceBalanceUpdate(msgspec.Struct, frozen=True):
    """``balanceUpdate``: a deposit, withdrawal or transfer changed one asset's free balance."""

    e: str  # "balanceUpdate"
    E: int  # event time
    a: str  # asset
    d: Decimal  # balance delta (signed)
    T: int  # clear time


class BinanceEventStreamTerminated(msgspec.Struct, frozen=True):
    """``eventStreamTerminated``: the subscription ended (unsubscribe, logout)."""

    e: str  # "eventStreamTerminated"
    E: int


class BinanceUserEventType(msgspec.Struct, frozen=True):
    """Just the ``e`` of a user data event, to pick its decoder."""

    e: str


class BinanceUserDataMessage(msgspec.Struct, frozen=True):
    """``{"subscriptionId": 0, "event": {...}}``; ``serverShutdown`` comes without ``subscriptionId``."""

    event: msgspec.Raw
    subscriptionId: int | msgspec.UnsetType = msgspec.UNSET  # noqa: N815


# --- WebSocket API (wss://ws-api.binance.com/ws-api/v3) ------------------------------------------

WsApiId = int | str | None


class BinanceWsApiRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """``{"id": .., "method": .., "params": {..}}``; signed params follow the WS API payload rule."""

    id: WsApiId
    method: str
    params: dict[str, object] = msgspec.field(default_factory=dict)


class BinanceWsApiError(msgspec.Struct, frozen=True):
    code: int
    msg: str


class BinanceWsApiResponse(msgspec.Struct, frozen=True):
    """``{"id", "status", "result"}`` or ``{"id", "status", "error": {"code", "msg"}}``."""

    id: WsApiId
    status: int  # HTTP-like: 200, 400, 401, 403, 409, 418, 429, 5xx
    result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    error: BinanceWsApiError | msgspec.UnsetType = msgspec.UNSET
    rateLimits: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET  # noqa: N815


class BinanceSubscriptionResult(msgspec.Struct, frozen=True):
    """``result`` of ``userDataStream.subscribe`` / ``userDataStream.subscribe.signature``."""

    subscriptionId: int  # noqa: N815
