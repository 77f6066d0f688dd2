"""Order updates: fills deduplicated by id, status only forward, one event per change, none per replay."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from algo_common.domain.models import OrderStatus, Side
from tests.unit.trader.trader_builders import make_fill, make_signal
from trader.order_updates import UpdatePlan, next_status, plan_update
from trader.orders import Document, intent_document
from trader.venues.base import OrderResult

S = OrderStatus


def _order() -> Document:
    return intent_document(make_signal(Side.BUY, quantity="1"), Decimal("1"), "paper", "USDT", now_ms=1)


def _applied(order: Document, plan: UpdatePlan) -> Document:
    """The order as MongoDB stores it after the plan's update (enough of $set/$push/$inc for these tests)."""
    after = dict(order)
    after.update(plan.order_update["$set"])
    after["events"] = [*order["events"], plan.order_update["$push"]["events"]]
    after["fill_ids"] = [*order["fill_ids"], *plan.order_update["$push"]["fill_ids"]["$each"]]
    after["rev"] = order["rev"] + plan.order_update["$inc"]["rev"]
    return after


def test_fills_add_up_into_average_price_and_fee() -> None:
    # arrange
    fills = (make_fill(Side.BUY, "100", "0.5", fee="0.05", n=1), make_fill(Side.BUY, "110", "0.5", fee="0.055", n=2))
    # act
    plan = plan_update(_order(), OrderResult(client_order_id="order", status=S.FILLED, fills=fills), now_ms=9)
    # assert
    assert plan is not None
    fields = plan.order_update["$set"]
    assert fields["status"] == "FILLED"
    assert (fields["filled_qty"], fields["cum_quote"], fields["avg_price"], fields["fee"]) == (
        Decimal("1"),
        Decimal("105"),
        Decimal("105"),
        Decimal("0.105"),
    )
    assert plan.order_update["$push"]["events"] == {
        "status": "FILLED",
        "ts": 9,
        "detail": "",
        "fills": ["order-1", "order-2"],
    }
    assert plan.filter == {"_id": _order()["_id"], "rev": 0}


def test_replayed_update_changes_nothing() -> None:
    # arrange
    update = OrderResult(client_order_id="order", status=S.FILLED, fills=(make_fill(Side.BUY, "100", "1", n=1),))
    first = plan_update(_order(), update, now_ms=9)
    assert first is not None
    # act
    again = plan_update(_applied(_order(), first), update, now_ms=10)
    # assert
    assert again is None


def test_partial_then_full_fill_adds_only_the_new_fill() -> None:
    # arrange
    one = make_fill(Side.BUY, "100", "0.4", fee="0.04", n=1)
    two = make_fill(Side.BUY, "101", "0.6", fee="0.0606", n=2)
    partial = plan_update(_order(), OrderResult(client_order_id="o", status=S.PARTIALLY_FILLED, fills=(one,)), 5)
    assert partial is not None
    order = _applied(_order(), partial)
    # act: the FILLED report repeats the first fill, as a full query result does
    plan = plan_update(order, OrderResult(client_order_id="o", status=S.FILLED, fills=(one, two)), 6)
    # assert
    assert plan is not None
    assert [f.fill_id for f in plan.new_fills] == ["order-2"]
    assert plan.order_update["$set"]["filled_qty"] == Decimal("1.0")
    assert plan.order_update["$set"]["cum_quote"] == Decimal("100.6")
    assert plan.filter["rev"] == 1


def test_stale_status_is_ignored_but_its_new_fill_is_taken() -> None:
    # arrange: FILLED arrived first, the PARTIALLY_FILLED report with the first fill arrives late
    two = make_fill(Side.BUY, "101", "0.6", n=2)
    filled = plan_update(_order(), OrderResult(client_order_id="o", status=S.FILLED, fills=(two,)), 5)
    assert filled is not None
    order = _applied(_order(), filled)
    # act
    plan = plan_update(
        order,
        OrderResult(client_order_id="o", status=S.PARTIALLY_FILLED, fills=(make_fill(Side.BUY, "100", "0.4"),)),
        6,
    )
    # assert
    assert plan is not None
    assert plan.status is S.FILLED
    assert [f.fill_id for f in plan.new_fills] == ["order-1"]
    assert "PARTIALLY_FILLED ignored" in plan.order_update["$push"]["events"]["detail"]


def test_same_fill_twice_in_one_update_counts_once() -> None:
    # arrange
    fill = make_fill(Side.BUY, "100", "1", n=7)
    # act
    plan = plan_update(_order(), OrderResult(client_order_id="o", status=S.FILLED, fills=(fill, fill)), 5)
    # assert
    assert plan is not None
    assert plan.order_update["$set"]["filled_qty"] == Decimal("1")


@pytest.mark.parametrize(
    ("current", "reported", "expected"),
    [
        (S.SUBMITTING, S.NEW, S.NEW),
        (S.NEW, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.NEW, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.CANCELED, S.CANCELED),
        (S.SUBMITTING, S.EXPIRED, S.EXPIRED),
        (S.FILLED, S.CANCELED, S.FILLED),
        (S.REJECTED, S.FILLED, S.REJECTED),
        (S.NEW, S.SUBMITTING, S.NEW),
    ],
)
def test_status_moves_only_forward(current: OrderStatus, reported: OrderStatus, expected: OrderStatus) -> None:
    # act / assert
    assert next_status(current, reported) is expected


def test_rejection_reason_is_kept() -> None:
    # act
    plan = plan_update(
        _order(), OrderResult(client_order_id="o", status=S.REJECTED, reject_reason="insufficient balance"), 5
    )
    # assert
    assert plan is not None
    assert plan.order_update["$set"]["reject_reason"] == "insufficient balance"
    assert plan.new_fills == ()


def test_commissions_are_kept_per_asset_and_fee_counts_the_quote_asset_only() -> None:
    # arrange: a Binance BUY pays in the base asset, or in BNB when the account says so
    in_base = msgspec.structs.replace(make_fill(Side.BUY, "30000", "0.01", fee="0.00001", n=1), fee_asset="BTC")
    in_bnb = msgspec.structs.replace(make_fill(Side.BUY, "30000", "0.01", fee="0.0004", n=2), fee_asset="BNB")
    in_quote = make_fill(Side.BUY, "30000", "0.01", fee="0.3", n=3)
    first = plan_update(_order(), OrderResult(client_order_id="order", status=S.PARTIALLY_FILLED, fills=(in_base,)), 9)
    assert first is not None
    # act
    second = plan_update(
        _applied(_order(), first), OrderResult(client_order_id="order", status=S.FILLED, fills=(in_bnb, in_quote)), 10
    )
    # assert
    assert second is not None
    fields = second.order_update["$set"]
    assert fields["commissions"] == {"BTC": Decimal("0.00001"), "BNB": Decimal("0.0004"), "USDT": Decimal("0.3")}
    assert fields["fee"] == Decimal("0.3")
