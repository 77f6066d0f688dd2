"""Stream entries -> market events; anything else is a BadMessage with a reason for the metric."""

from __future__ import annotations

from decimal import Decimal

import pytest

from algo_common.domain.models import BookTop
from algo_common.errors import BadMessage
from algo_common.streams import StreamEntry, encode_market_event
from processor.events import decode_entry, stream_symbol
from processor.lag import group_backlog
from tests.unit.processor.processor_builders import make_kline


def _entry(fields: dict[bytes, bytes], stream: str = "market.BTCUSDT") -> StreamEntry:
    return StreamEntry(stream, b"1-0", fields)


def test_a_kline_entry_decodes_to_the_kline() -> None:
    # arrange
    k = make_kline(1_700_000_040_000, "42.5")
    # act
    event = decode_entry(_entry({b"event": encode_market_event(k)}))
    # assert
    assert event == k


def test_other_market_events_decode_too() -> None:
    # arrange
    top = BookTop(
        symbol="BTCUSDT",
        update_id=7,
        bid_price=Decimal(1),
        bid_qty=Decimal(2),
        ask_price=Decimal(3),
        ask_qty=Decimal(4),
        ts_event=1,
        ts_recv=2,
    )
    # act / assert
    assert decode_entry(_entry({b"event": encode_market_event(top)})) == top


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"other": b"x"}, "missing_field"),
        ({b"event": b"not json"}, "malformed"),
        ({b"event": b'{"type": "kline", "symbol": "BTCUSDT"}'}, "malformed"),
        ({b"event": b'{"type": "unknown"}'}, "malformed"),
    ],
)
def test_bad_entries_raise_bad_message_with_a_reason(fields: dict[bytes, bytes], reason: str) -> None:
    with pytest.raises(BadMessage) as error:
        decode_entry(_entry(fields))
    assert error.value.reason == reason


def test_an_event_of_another_symbol_on_this_stream_is_rejected() -> None:
    # arrange
    raw = encode_market_event(make_kline(1_700_000_040_000, "1", symbol="ETHUSDT"))
    # act / assert
    with pytest.raises(BadMessage) as error:
        decode_entry(_entry({b"event": raw}))
    assert error.value.reason == "symbol_mismatch"
    assert stream_symbol("market.ETHUSDT") == "ETHUSDT"


def test_group_backlog_is_pending_plus_lag() -> None:
    # arrange
    reply = [
        {"name": b"trader", "pending": 9, "lag": 9},
        {"name": b"processor", "pending": 2, "lag": 3},
    ]
    # act / assert
    assert group_backlog(reply, "processor") == 5
    assert group_backlog([{"name": b"processor", "pending": 2, "lag": None}], "processor") is None
    assert group_backlog(reply, "missing") is None
