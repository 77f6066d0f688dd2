"""Pure parts of the simulator's trading side: book walking, filters, the engine's bookkeeping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.binance.trading_schemas import BinanceExecutionReport
from exchange_sim.symbols import SymbolSpec
from exchange_sim.trading.accounts import Keyring
from exchange_sim.trading.config import AccountConfig
from exchange_sim.trading.engine import NewOrder, OrderRejected, TradingEngine
from exchange_sim.trading.filters import SymbolFilters
from exchange_sim.trading.matching import Level, floor_to_step, walk

D = Decimal
ASKS = [(D("100.00"), D("1")), (D("101.00"), D("2")), (D("102.00"), D("3"))]
BIDS = [(D("99.00"), D("1")), (D("98.00"), D("2"))]
SPEC = SymbolSpec.derive("BTCUSDT", D(30000))


def test_walk_by_quantity_takes_levels_in_order() -> None:
    assert walk(ASKS, "BUY", qty=D("2.5")) == ([(D(100), D(1)), (D(101), D("1.5"))], True)
    assert walk(ASKS, "BUY", qty=D(7)) == (ASKS, False)  # book exhausted: incomplete
    assert walk(ASKS, "BUY", qty=D(5), limit=D(101)) == ([(D(100), D(1)), (D(101), D(2))], False)
    assert walk(BIDS, "SELL", qty=D(2), limit=D(99)) == ([(D(99), D(1))], False)


def test_walk_by_quote_quantity_stops_below_one_step() -> None:
    fills, complete = walk(ASKS, "BUY", quote_qty=D(250), step=D("0.1"))
    assert fills == [(D(100), D(1)), (D(101), D("1.4"))]
    assert complete
    with pytest.raises(ValueError, match="exactly one"):
        walk(ASKS, "BUY", qty=D(1), quote_qty=D(1))


def test_floor_to_step() -> None:
    assert floor_to_step(D("1.23456789"), D("0.001")) == D("1.234")
    assert floor_to_step(D("1.234567891"), D(0)) == D("1.23456789")


@pytest.mark.parametrize(
    ("order_type", "price", "qty", "quote", "failed"),
    [
        ("LIMIT", "30000.01", "0.001", None, None),
        ("LIMIT", "30000.001", "0.001", None, "PRICE_FILTER"),
        ("LIMIT", "0.001", "1", None, "PRICE_FILTER"),
        ("LIMIT", "1000000.01", "0.001", None, "PRICE_FILTER"),
        ("LIMIT", "30000", "0.000001", None, "LOT_SIZE"),
        ("LIMIT", "30000", "0.000015", None, "LOT_SIZE"),
        ("LIMIT", "10", "9000.00001", None, "LOT_SIZE"),
        ("LIMIT", "30000", "0.0001", None, "NOTIONAL"),  # 3 < 5
        ("LIMIT", "999999", "9.1", None, "NOTIONAL"),  # above maxNotional
        ("MARKET", "0", "100.00001", None, "MARKET_LOT_SIZE"),
        ("MARKET", "0", "0.0001", None, "NOTIONAL"),  # at the reference price 30000: 3 < 5
        ("MARKET", "0", None, "4.99", "NOTIONAL"),
        ("MARKET", "0", None, "20000000", None),  # max notional is not applied to MARKET
    ],
)
def test_filters(order_type: str, price: str, qty: str | None, quote: str | None, failed: str | None) -> None:
    filters = SymbolFilters.for_spec(SPEC)
    quantity = None if qty is None else D(qty)
    quote_qty = None if quote is None else D(quote)
    assert filters.failure(order_type, D(price), quantity, quote_qty, D(30000)) == failed


def test_exchange_info_filters_are_the_checked_values() -> None:
    names = [f.__struct_config__.tag for f in SymbolFilters.for_spec(SPEC).to_binance()]
    assert names == ["PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL"]


class Book:
    """A fixed book for the engine."""

    def __init__(self, asks: list[Level], bids: list[Level]) -> None:
        self.asks, self.bids = asks, bids

    def spec(self, symbol: str) -> SymbolSpec | None:
        return SPEC if symbol == "BTCUSDT" else None

    def levels(self, symbol: str, side: str) -> list[Level]:
        return self.asks if side == "BUY" else self.bids

    def last_price(self, symbol: str) -> Decimal:
        return D(30000)


def engine(balances: dict[str, Decimal]) -> tuple[TradingEngine, Keyring]:
    keyring = Keyring()
    keyring.configure(AccountConfig(name="a", balances=balances), 0)
    book = Book(asks=[(D(30001), D(1)), (D(30010), D(1))], bids=[(D(29999), D(1))])
    eng = TradingEngine(keyring, book, lambda: 1000, taker_rate=D("0.001"), maker_rate=D("0.0005"), seed=1)
    return eng, keyring


def limit(side: str, price: str, qty: str, tif: str = "GTC", client_id: str | None = None) -> NewOrder:
    return NewOrder("BTCUSDT", side, "LIMIT", tif, D(qty), None, D(price), client_id)


def test_limit_buy_locks_quote_and_refunds_price_improvement() -> None:
    eng, keyring = engine({"USDT": D(100_000)})
    account = keyring.accounts["a"]
    order, fills = eng.place(account, limit("BUY", "30005", "1.5"))
    assert [(f.price, f.qty) for f in fills] == [(D(30001), D(1))]
    assert order.status == "PARTIALLY_FILLED"
    assert order.locked == D("0.5") * D(30005)
    usdt = account.balance("USDT")
    assert (usdt.free, usdt.locked) == (D(100_000) - D(30001) - order.locked, order.locked)
    assert account.balance("BTC").free == D(1) - D("0.001")
    eng.on_market_trade("BTCUSDT", D(30005), D("0.2"))  # maker fill at the order's price, up to the trade's qty
    assert order.executed_qty == D("1.2")
    assert (order.fills[-1].is_maker, order.fills[-1].commission) == (True, D("0.0001"))
    eng.on_market_trade("BTCUSDT", D(30006), D(5))  # above a BUY's limit: no fill
    assert order.executed_qty == D("1.2")
    eng.on_market_trade("BTCUSDT", D(30000), D(5))
    assert (order.status, order.locked, account.balance("USDT").locked) == ("FILLED", D(0), D(0))
    kinds = [e.x if isinstance(e, BinanceExecutionReport) else type(e).__name__ for _, e in eng.take_events()]
    assert kinds == [
        "NEW",
        "TRADE",
        "BinanceOutboundAccountPosition",
        "TRADE",
        "BinanceOutboundAccountPosition",
        "TRADE",
        "BinanceOutboundAccountPosition",
    ]


def test_rejections_leave_balances_alone() -> None:
    eng, keyring = engine({"USDT": D(100)})
    account = keyring.accounts["a"]
    with pytest.raises(OrderRejected) as insufficient:
        eng.place(account, limit("BUY", "30000", "0.01"))
    assert (insufficient.value.code, insufficient.value.status) == (-2010, 400)
    with pytest.raises(OrderRejected) as maker:
        eng.place(account, NewOrder("BTCUSDT", "BUY", "LIMIT_MAKER", "GTC", D("0.001"), None, D(30001), None))
    assert maker.value.msg == "Order would immediately match and take."
    with pytest.raises(OrderRejected) as symbol:
        eng.place(account, NewOrder("ETHUSDT", "BUY", "MARKET", "GTC", D(1), None, None, None))
    assert symbol.value.code == -1121
    assert account.balance("USDT").free == D(100)
    assert eng.take_events() == []


def test_cancel_frees_the_lock_and_reports_both_ids() -> None:
    eng, keyring = engine({"BTC": D(2)})
    account = keyring.accounts["a"]
    order, _ = eng.place(account, limit("SELL", "31000", "1", client_id="mine"))
    assert account.balance("BTC").locked == D(1)
    eng.take_events()
    canceled, cancel_id = eng.cancel(account, "BTCUSDT", None, "mine", cancel_client_id="undo")
    assert (canceled is order, cancel_id, order.status) == (True, "undo", "CANCELED")
    assert (account.balance("BTC").free, account.balance("BTC").locked) == (D(2), D(0))
    report = eng.take_events()[0][1]
    assert isinstance(report, BinanceExecutionReport)
    assert (report.c, report.C, report.x) == ("undo", "mine", "CANCELED")
    with pytest.raises(OrderRejected) as again:
        eng.cancel(account, "BTCUSDT", order.order_id, None)
    assert again.value.code == -2011


def test_quote_order_short_of_liquidity_expires_without_claiming_filled() -> None:
    eng, keyring = engine({"USDT": D(1_000_000)})
    order, fills = eng.place(
        keyring.accounts["a"], NewOrder("BTCUSDT", "BUY", "MARKET", "GTC", None, D(100_000), None, None)
    )
    assert [f.qty for f in fills] == [D(1), D(1)]
    assert (order.status, order.orig_qty, order.executed_qty, order.orig_quote_qty) == (
        "EXPIRED",
        D(2),
        D(2),
        D(100_000),
    )
    statuses = [e.X for _, e in eng.take_events() if isinstance(e, BinanceExecutionReport)]
    assert statuses == ["NEW", "PARTIALLY_FILLED", "PARTIALLY_FILLED", "EXPIRED"]
    assert keyring.accounts["a"].balance("USDT").free == D(1_000_000) - D(30001) - D(30010)
