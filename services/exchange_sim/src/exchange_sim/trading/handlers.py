"""Signed REST trading endpoints: order place/test/query/cancel, open orders, trades, account.

Errors are raised as ``TradingError``; ``middleware.trading_middleware`` turns them into Binance's
error body and adds the weight headers. Successful placements carry ``X-MBX-ORDER-COUNT-10S``
and ``-1D``; past an ORDERS limit the answer is 429 with ``-1015`` and ``Retry-After``.
"""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from algo_common.binance.trading_schemas import BinanceAccount, BinanceBalance, BinanceCommissionRates
from exchange_sim.encoding import fixed8
from exchange_sim.rest import json_response
from exchange_sim.schemas import BinanceEmpty
from exchange_sim.trading import params as p
from exchange_sim.trading.accounts import Account
from exchange_sim.trading.auth import signed_request
from exchange_sim.trading.engine import no_such_order, unknown_order
from exchange_sim.trading.errors import TradingError
from exchange_sim.trading.state import TRADING, TradingState

ORDER_PATH = "/api/v3/order"
ORDER_TEST_PATH = "/api/v3/order/test"
OPEN_ORDERS_PATH = "/api/v3/openOrders"
MY_TRADES_PATH = "/api/v3/myTrades"
ACCOUNT_PATH = "/api/v3/account"
MAX_TRADES_WINDOW_MS = 24 * 3600 * 1000


async def _signed(request: web.Request) -> tuple[TradingState, Account, p.Params]:
    state = request.app[TRADING]
    key, params = await signed_request(request, state.keyring, state.now_ms())
    return state, state.keyring.accounts[key.account], params


async def new_order(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    order_request, resp_type = p.new_order(params)
    hit = state.orders.hit(account.name)
    if hit is not None:
        raise TradingError(
            -1015,
            f"Too many new orders; current limit is {hit.limit} orders per {hit.interval}.",
            status=429,
            retry_after_s=hit.retry_after_s,
        )
    try:
        order, fills = state.engine.place(account, order_request)
    finally:
        state.publish_events()
    counts = state.orders.add(account.name)
    if resp_type == "ACK":
        body: object = order.to_ack()
    else:
        body = order.to_result(fills if resp_type == "FULL" else None)
    response = json_response(body)
    for suffix, count in counts.items():
        response.headers[f"X-MBX-ORDER-COUNT-{suffix}"] = str(count)
    return response


async def test_order(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    order_request, _ = p.new_order(params)
    state.engine.check(account, order_request)
    return json_response(BinanceEmpty())


async def query_order(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    order = state.engine.find(
        account,
        p.text(params, "symbol"),
        p.integer(params, "orderId"),
        p.optional_text(params, "origClientOrderId"),
        no_such_order(),
    )
    return json_response(order.to_query())


async def cancel_order(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    try:
        order, cancel_id = state.engine.cancel(
            account,
            p.text(params, "symbol"),
            p.integer(params, "orderId"),
            p.optional_text(params, "origClientOrderId"),
            cancel_client_id=p.client_id(params, "newClientOrderId"),
            restriction=p.cancel_restriction(params),
        )
    finally:
        state.publish_events()
    return json_response(order.to_canceled(cancel_id, order.update_time))


async def cancel_open_orders(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    symbol = p.text(params, "symbol")
    state.engine.spec(symbol)
    if not state.engine.open_orders(account, symbol):
        raise unknown_order()
    try:
        canceled = state.engine.cancel_all(account, symbol)
    finally:
        state.publish_events()
    return json_response([order.to_canceled(cancel_id, order.update_time) for order, cancel_id in canceled])


async def open_orders(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    symbol = p.optional_text(params, "symbol")
    if symbol is not None:
        state.engine.spec(symbol)
    return json_response([order.to_query() for order in state.engine.open_orders(account, symbol)])


async def my_trades(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    symbol = p.text(params, "symbol")
    state.engine.spec(symbol)
    order_id, from_id = p.integer(params, "orderId"), p.integer(params, "fromId")
    start, end = p.integer(params, "startTime"), p.integer(params, "endTime")
    limit = p.limit(params, 500, 1000)
    if start is not None and end is not None and end - start > MAX_TRADES_WINDOW_MS:
        raise TradingError(-1127, "More than 24 hours between startTime and endTime.")
    rows = [
        f
        for f in state.engine.fills
        if f.account == account.name
        and f.symbol == symbol
        and (order_id is None or f.order_id == order_id)
        and (from_id is None or f.trade_id >= from_id)
        and (start is None or f.time >= start)
        and (end is None or f.time <= end)
    ]
    chosen = rows[:limit] if from_id is not None or start is not None else rows[-limit:]
    return json_response([f.to_binance() for f in chosen])


async def account_info(request: web.Request) -> web.Response:
    state, account, params = await _signed(request)
    omit_zero = params.get("omitZeroBalances") == "true"
    balances = [
        BinanceBalance(asset=asset, free=fixed8(b.free), locked=fixed8(b.locked))
        for asset, b in sorted(account.balances.items())
        if not (omit_zero and b.free == 0 and b.locked == 0)
    ]
    maker, taker = state.engine.maker_rate, state.engine.taker_rate
    body = BinanceAccount(
        makerCommission=int(maker * 10_000),
        takerCommission=int(taker * 10_000),
        buyerCommission=0,
        sellerCommission=0,
        commissionRates=BinanceCommissionRates(
            maker=fixed8(maker), taker=fixed8(taker), buyer=fixed8(Decimal(0)), seller=fixed8(Decimal(0))
        ),
        canTrade=True,
        canWithdraw=True,
        canDeposit=True,
        brokered=False,
        requireSelfTradePrevention=False,
        preventSor=False,
        updateTime=account.update_time,
        accountType="SPOT",
        balances=balances,
        permissions=["SPOT"],
        uid=account.uid,
    )
    return json_response(body)


def add_routes(app: web.Application) -> None:
    app.router.add_post(ORDER_PATH, new_order)
    app.router.add_post(ORDER_TEST_PATH, test_order)
    app.router.add_get(ORDER_PATH, query_order)
    app.router.add_delete(ORDER_PATH, cancel_order)
    app.router.add_get(OPEN_ORDERS_PATH, open_orders)
    app.router.add_delete(OPEN_ORDERS_PATH, cancel_open_orders)
    app.router.add_get(MY_TRADES_PATH, my_trades)
    app.router.add_get(ACCOUNT_PATH, account_info)
