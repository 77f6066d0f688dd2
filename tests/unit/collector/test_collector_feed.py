"""The feed turns each recorded Binance message type into the right domain event, exactly."""

from __future__ import annotations

import os
import random
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from algo_common.domain.models import BookDelta, BookSnapshot, BookTop, Kline, Trade
from algo_common.errors import BadMessage
from collector.book_state import SymbolBook
from collector.feed import BadFrame, DropReason, Feed, ServerShutdown, truncated
from collector.level_book import DepthDiff

WS = Path(__file__).parents[2] / "fixtures" / "binance" / "ws"
TS_RECV = 1_700_000_000_123


def _fixture(name: str) -> bytes:
    return (WS / name).read_bytes()


def _wrapped(stream: str, name: str) -> bytes:
    """An unwrapped payload fixture inside a combined-stream envelope, as our connection receives it."""
    return b'{"stream":"' + stream.encode() + b'","data":' + _fixture(name) + b"}"


def test_spot_trade_maps_every_field() -> None:
    # arrange
    feed = Feed(["ETHUSDT"])
    # act
    event = feed.decode(_fixture("ws_spot_trade.json"), TS_RECV)
    # assert
    assert event == Trade(
        symbol="ETHUSDT",
        trade_id=705291099,
        price=Decimal("4149.74000000"),
        qty=Decimal("0.43870000"),
        buyer_is_maker=True,
        ts_trade=1639351062243,
        ts_event=1639351062244,
        ts_recv=TS_RECV,
    )
    assert isinstance(event, Trade)
    assert str(event.price) == "4149.74000000"
    assert event.event_id == "ETHUSDT:trade:705291099"


@pytest.mark.parametrize(
    ("name", "symbol", "expected"),
    [
        (
            "ws_spot_agg_trade.json",
            "ETHUSDT",
            Trade(
                symbol="ETHUSDT",
                trade_id=226532,
                price=Decimal("1632.46000000"),
                qty=Decimal("0.34305000"),
                buyer_is_maker=False,
                ts_trade=1675759520847,
                ts_event=1675759520848,
                ts_recv=TS_RECV,
            ),
        ),
        (
            "recording_spot_agg_trade.json",
            "NKNUSDT",
            Trade(
                symbol="NKNUSDT",
                trade_id=15683430,
                price=Decimal("0.35280000"),
                qty=Decimal("58.00000000"),
                buyer_is_maker=False,
                ts_trade=1633998523963,
                ts_event=1633998523963,
                ts_recv=TS_RECV,
            ),
        ),
    ],
)
def test_agg_trade_maps_to_a_trade_keyed_by_aggregate_id(name: str, symbol: str, expected: Trade) -> None:
    # arrange
    feed = Feed([symbol])
    # act
    event = feed.decode(_fixture(name), TS_RECV)
    # assert
    assert event == expected


def test_recorded_spot_kline_is_an_open_bar() -> None:
    # arrange
    feed = Feed(["NKNUSDT"])
    # act
    event = feed.decode(_fixture("recording_spot_kline.json"), TS_RECV)
    # assert
    assert event == Kline(
        symbol="NKNUSDT",
        interval="1m",
        open_time=1633998480000,
        close_time=1633998539999,
        open=Decimal("0.35270000"),
        high=Decimal("0.35280000"),
        low=Decimal("0.35220000"),
        close=Decimal("0.35280000"),
        volume=Decimal("25877.00000000"),
        quote_volume=Decimal("9116.04600000"),
        trades=30,
        closed=False,
        ts_event=1633998523963,
        ts_recv=TS_RECV,
    )


def test_closed_kline_keeps_exact_decimals_and_its_id() -> None:
    # arrange
    feed = Feed(["BTCUSDT"])
    # act
    event = feed.decode(_wrapped("btcusdt@kline_1m", "kline_stream_closed.json"), TS_RECV)
    # assert
    assert isinstance(event, Kline)
    assert event.closed
    assert (event.open, event.high, event.low, event.close) == (
        Decimal("0.0010"),
        Decimal("0.0025"),
        Decimal("0.0010"),
        Decimal("0.0020"),
    )
    assert str(event.quote_volume) == "1.0000"
    assert (event.open_time, event.close_time, event.trades, event.ts_event) == (
        1638747660000,
        1638747719999,
        100,
        1638747660000,
    )
    assert event.event_id == "BTCUSDT:kline:1m:1638747660000"


def test_recorded_spot_depth_update_maps_ids_and_levels() -> None:
    # arrange
    feed = Feed(["NKNUSDT"])
    # act
    event = feed.decode(_fixture("recording_spot_depth_update.json"), TS_RECV)
    # assert: levels stay the venue's strings; as Decimals they are exactly the recorded ones
    assert isinstance(event, DepthDiff)
    assert event.bids[0] == ("0.35130000", "6195.00000000")
    assert event.to_book_delta() == BookDelta(
        symbol="NKNUSDT",
        first_update_id=499869750,
        final_update_id=499869752,
        bids=(
            (Decimal("0.35130000"), Decimal("6195.00000000")),
            (Decimal("0.34750000"), Decimal("5548.00000000")),
            (Decimal("0.34640000"), Decimal("6222.00000000")),
        ),
        asks=(),
        ts_event=1633998512068,
        ts_recv=TS_RECV,
    )


def test_futures_depth_update_ignores_futures_only_fields() -> None:
    # arrange
    feed = Feed(["BTCUSDT"])
    # act
    event = feed.decode(_wrapped("btcusdt@depth@100ms", "ws_futures_depth_update.json"), TS_RECV)
    # assert
    assert isinstance(event, DepthDiff)
    assert (event.first_update_id, event.final_update_id, event.ts_event) == (390497796, 390497878, 1571889248277)
    delta = event.to_book_delta()
    assert delta.bids[0] == (Decimal("7403.89"), Decimal("0.002"))
    assert delta.asks[-1] == (Decimal("7407.20"), Decimal("0.175"))
    assert len(delta.bids) == len(delta.asks) == 5


@pytest.mark.parametrize(
    ("name", "symbol", "update_id", "bid", "ask"),
    [
        ("recording_spot_book_ticker.json", "NKNUSDT", 499869768, ("0.35210000", "672.00000000"),
         ("0.35260000", "3199.00000000")),
        ("ws_spot_ticker_book.json", "ETHUSDT", 12711621188, ("4507.24000000", "2.35950000"),
         ("4507.25000000", "2.84570000")),
    ],
)  # fmt: skip
def test_book_ticker_maps_to_a_venue_top(
    name: str, symbol: str, update_id: int, bid: tuple[str, str], ask: tuple[str, str]
) -> None:
    # arrange
    feed = Feed([symbol])
    # act
    event = feed.decode(_fixture(name), TS_RECV)
    # assert
    assert event == BookTop(
        symbol=symbol,
        update_id=update_id,
        bid_price=Decimal(bid[0]),
        bid_qty=Decimal(bid[1]),
        ask_price=Decimal(ask[0]),
        ask_qty=Decimal(ask[1]),
        ts_event=TS_RECV,
        ts_recv=TS_RECV,
    )


def test_server_shutdown_is_its_own_event() -> None:
    # arrange
    raw = b'{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}}'
    # act
    event = Feed(["BTCUSDT"]).decode(raw, TS_RECV)
    # assert
    assert event == ServerShutdown(ts_event=1770123456789, ts_recv=TS_RECV)


_TRADE = (
    b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":7,'
    b'"p":%s,"q":"1.5","T":1,"m":true}}'
)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json at all", DropReason.BAD_ENVELOPE),
        (b'{"stream":"btcusdt@trade","data":', DropReason.BAD_ENVELOPE),
        (b'{"data":{}}', DropReason.BAD_ENVELOPE),
        (b'["btcusdt@trade"]', DropReason.BAD_ENVELOPE),
        (b'{"stream":"btcusdt","data":{}}', DropReason.BAD_ENVELOPE),
        (b'{"stream":"btcusdt@ticker","data":{}}', DropReason.UNKNOWN_STREAM),
        (_TRADE % b'"abc"', DropReason.BAD_PAYLOAD),
        (_TRADE % b'"-1"', DropReason.BAD_PAYLOAD),
        (_TRADE % b'"0"', DropReason.BAD_PAYLOAD),
        (_TRADE % b'"NaN"', DropReason.BAD_PAYLOAD),
        (b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","p":"1","q":"1","T":1,"m":true}}',
         DropReason.BAD_PAYLOAD),  # no trade id
        (b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":4,"b":[],"a":[]}}',
         DropReason.BAD_PAYLOAD),  # U > u
        (b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1",true]],'
         b'"a":[]}}', DropReason.BAD_PAYLOAD),  # not a level at all; bad level values: the book's tests
        (b'{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":7,"p":"1","q":"1","T":1,"m":true}}',
         DropReason.UNKNOWN_SYMBOL),
        (b'{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":7,"p":"1","q":"1","T":1,"m":true}}',
         DropReason.UNKNOWN_SYMBOL),
    ],
)  # fmt: skip
def test_malformed_frames_raise_bad_message_with_a_reason(raw: bytes, reason: DropReason) -> None:
    # arrange
    feed = Feed(["BTCUSDT"])
    # act / assert
    with pytest.raises(BadMessage) as info:
        feed.decode(raw, TS_RECV)
    assert isinstance(info.value, BadFrame)
    assert info.value.drop_reason is reason
    assert info.value.raw == raw


_DEPTH = b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":%d,"u":%d,"b":[[%s,%s]],"a":[]}}'


def _live_book() -> SymbolBook:
    """A book of BTCUSDT synced at update 10."""
    book = SymbolBook("BTCUSDT")
    book.on_snapshot(
        BookSnapshot(symbol="BTCUSDT", last_update_id=10, bids=(), asks=((Decimal(10**6), Decimal(1)),)), 0
    )
    return book


@pytest.mark.parametrize(
    ("price", "qty"),
    [(b'"0"', b'"1"'), (b'"1"', b'"-1"'), (b'"NaN"', b'"1"'), (b'"1"', b'"Infinity"'), (b'"1e30"', b'"1"'),
     (b'"0.0000000000000000001"', b'"1"'), (b"-1", b"1"), (b'"abc"', b'"1"')],
)  # fmt: skip
@pytest.mark.parametrize("live", [True, False])
def test_a_bad_depth_level_is_refused_by_the_book_whether_live_or_buffered(
    price: bytes, qty: bytes, live: bool
) -> None:
    # arrange: the feed decodes the diff (levels are checked where they are applied)
    feed = Feed(["BTCUSDT"])
    book = _live_book() if live else SymbolBook("BTCUSDT")
    diff = feed.decode(_DEPTH % (11, 11, price, qty), TS_RECV)
    assert isinstance(diff, DepthDiff)
    # act / assert: refused; a live book is discarded (its update ids would have a hole anyway)
    with pytest.raises(BadMessage):
        book.on_delta(diff)
    assert book.book is None
    assert book.buffered == 0


def test_number_depth_levels_are_exact() -> None:
    # arrange: numbers instead of strings are decoded as Decimals, never through a float
    raw = _DEPTH % (1, 2, b"0.1", b"3.30000000")
    # act
    event = Feed(["BTCUSDT"]).decode(raw, TS_RECV)
    # assert
    assert isinstance(event, DepthDiff)
    assert event.to_book_delta().bids == ((Decimal("0.1"), Decimal("3.30000000")),)


def test_random_depth_levels_never_escape_as_anything_but_bad_message() -> None:
    # arrange: valid envelopes whose level strings are random text, applied to a live book
    rng = random.Random(7)
    alphabet = "0123456789.-+eE nN_aIi"
    feed = Feed(["BTCUSDT"])
    book = _live_book()
    # act: each diff is applied or refused as a bad message (the book then syncs again), nothing else
    refused = 0
    for update in range(11, 2011):
        price, qty = ("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(2))
        try:
            diff = feed.decode(_DEPTH % (update, update, msgspec.json.encode(price), msgspec.json.encode(qty)), TS_RECV)
            assert isinstance(diff, DepthDiff)
            book.on_delta(diff)
        except BadMessage:
            refused += 1
            book = _live_book()
            book.on_snapshot(BookSnapshot(symbol="BTCUSDT", last_update_id=update, bids=(), asks=()), 0)
    # assert: some random strings are valid numbers; whatever the book holds is a valid level
    assert 0 < refused < 2000
    assert book.book is not None
    assert all(p.is_finite() and p > 0 and q.is_finite() and q > 0 for p, q in book.book.bids())


def test_number_prices_are_exact() -> None:
    # arrange: Binance sends strings, but a JSON number must not pass through a binary float
    raw = _TRADE % b"0.1"
    # act
    event = Feed(["BTCUSDT"]).decode(raw, TS_RECV)
    # assert
    assert isinstance(event, Trade)
    assert event.price == Decimal("0.1")


def test_random_bytes_never_escape_as_anything_but_bad_message() -> None:
    # arrange
    rng = random.Random(20240601)
    feed = Feed(["BTCUSDT"])
    frames = [os.urandom(0)] + [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))) for _ in range(500)]
    # act
    reasons = set()
    for raw in frames:
        with pytest.raises(BadFrame) as info:
            feed.decode(raw, TS_RECV)
        reasons.add(info.value.drop_reason)
    # assert
    assert reasons == {DropReason.BAD_ENVELOPE}


def test_truncated_keeps_log_lines_short_and_printable() -> None:
    # arrange
    raw = b"\xff\xfe" + b"x" * 1000
    # act
    text = truncated(raw, limit=10)
    # assert
    assert text == "\\xff\\xfexxxxxxxx...(+992 bytes)"
