"""Order documents follow the contract and record every status change."""

from __future__ import annotations

from decimal import Decimal

from algo_common.domain.models import Side
from tests.unit.trader.trader_builders import make_signal
from trader.orders import intent_document, is_final, order_request, rejected_document

CONTRACT_FIELDS = {
    "_id", "client_order_id", "signal_id", "symbol", "side", "type", "quantity", "status", "venue", "avg_price",
    "filled_qty", "cum_quote", "fee", "fee_asset", "reject_reason", "created_at", "updated_at", "events",
    "fill_ids", "rev",
}  # fmt: skip


def test_intent_is_submitting_under_the_signal_id() -> None:
    # arrange
    signal = make_signal(Side.SELL, quantity="2")
    # act
    order = intent_document(signal, Decimal("1.5"), "paper", "USDT", now_ms=7)
    # assert
    assert set(order) == CONTRACT_FIELDS
    assert order["_id"] == order["client_order_id"] == order["signal_id"] == signal.signal_id
    assert (order["status"], order["side"], order["type"]) == ("SUBMITTING", "SELL", "MARKET")
    assert order["quantity"] == Decimal("1.5")
    assert order["events"] == [{"status": "SUBMITTING", "ts": 7, "detail": "risk accepted; quantity cut to 1.5"}]
    assert not is_final(order)


def test_rejection_is_final_and_names_its_reason() -> None:
    # arrange
    signal = make_signal(Side.SELL)
    # act
    order = rejected_document(signal, "no position", "paper", "USDT", now_ms=7)
    # assert
    assert set(order) == CONTRACT_FIELDS
    assert (order["status"], order["reject_reason"]) == ("REJECTED", "no position")
    assert is_final(order)


def test_venue_request_uses_the_stored_quantity_and_the_signal_price() -> None:
    # arrange
    signal = make_signal(Side.SELL, price="120", quantity="2")
    order = intent_document(signal, Decimal("1"), "paper", "USDT", now_ms=7)
    # act
    request = order_request(signal, order)
    # assert
    assert (request.quantity, request.price, request.side) == (Decimal("1"), Decimal("120"), Side.SELL)
    assert request.client_order_id == signal.signal_id
