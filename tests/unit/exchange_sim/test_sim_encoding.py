"""Every message the simulator sends decodes with our own Binance decoders and looks like Binance."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from algo_common.binance import parse
from exchange_sim.encoding import encode, fixed8
from exchange_sim.faults import server_shutdown_frames
from exchange_sim.hub import _envelope
from exchange_sim.market import Market, MarketConfig, MarketEvent
from exchange_sim.venue import SimulatedVenue

RECORDING = Path(__file__).parents[2] / "fixtures" / "binance" / "recording" / "BINANCE.ws.1.0"
EIGHT_DECIMALS = re.compile(r"^\d+\.\d{8}$")
DECODERS = {
    "trade": parse.decode_trade,
    "aggTrade": parse.decode_agg_trade,
    "kline": parse.decode_kline,
    "depth": parse.decode_depth_update,
    "bookTicker": parse.decode_book_ticker,
}


@pytest.fixture(scope="module")
def events() -> list[MarketEvent]:
    market = Market(MarketConfig(steps_per_bar=3))
    return [event for _ in range(9) for event in market.step()]


def numeric_strings(value: object) -> list[str]:
    """Every string that a Binance payload uses for a number (all strings but names and flags)."""
    if isinstance(value, dict):
        return [s for key, item in value.items() if key not in {"e", "s", "i", "B"} for s in numeric_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in numeric_strings(item)]
    return [value] if isinstance(value, str) else []


def as_number(value: object) -> object:
    try:
        return Decimal(value) if isinstance(value, str) else value
    except ArithmeticError:
        return value


def assert_subset(decoded: object, sent: object) -> None:
    """``decoded`` (builtins of a decoded Struct) equals ``sent`` (JSON) on every key it has."""
    if isinstance(decoded, dict):
        assert isinstance(sent, dict)
        for key, value in decoded.items():
            assert key in sent, key
            assert_subset(value, sent[key])
    elif isinstance(decoded, (list, tuple)):
        assert isinstance(sent, list)
        assert len(decoded) == len(sent)
        for mine, theirs in zip(decoded, sent, strict=True):
            assert_subset(mine, theirs)
    else:
        assert as_number(decoded) == as_number(sent)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(0), "0.00000000"),
        (Decimal("0E-8"), "0.00000000"),
        (Decimal("0.00000012"), "0.00000012"),
        (Decimal("11783.31"), "11783.31000000"),
        (Decimal("1E+6"), "1000000.00000000"),
    ],
)
def test_decimals_print_with_eight_places_like_binance(value: Decimal, text: str) -> None:
    assert encode([fixed8(value)]) == f'["{text}"]'.encode()


@pytest.mark.parametrize("kind", list(DECODERS))
def test_each_stream_payload_round_trips_through_our_decoders(events: list[MarketEvent], kind: str) -> None:
    # arrange
    sent = [event for event in events if event.kind == kind]
    assert sent
    for event in sent:
        raw = encode(event.payload)
        # act
        decoded = DECODERS[kind](raw)
        # assert: every field our decoder knows has the value that was sent
        assert_subset(msgspec.to_builtins(decoded), json.loads(raw))
        assert all(EIGHT_DECIMALS.match(s) for s in numeric_strings(json.loads(raw)))


def test_payloads_convert_to_domain_events(events: list[MarketEvent]) -> None:
    by_kind = {event.kind: encode(event.payload) for event in events}
    trade = parse.to_trade(parse.decode_trade(by_kind["trade"]), ts_recv=1)
    kline = parse.to_kline(parse.decode_kline(by_kind["kline"]), ts_recv=1)
    delta = parse.to_book_delta(parse.decode_depth_update(by_kind["depth"]), ts_recv=1)
    top = parse.to_book_top(parse.decode_book_ticker(by_kind["bookTicker"]), ts_recv=1)
    assert trade.symbol == kline.symbol == delta.symbol == top.symbol == "BTCUSDT"
    assert top.bid_price < top.ask_price


def test_combined_envelope_decodes_to_stream_and_payload(events: list[MarketEvent]) -> None:
    raw = encode(events[0].payload)
    message = parse.decode_combined(_envelope("btcusdt@trade", raw))
    assert message.stream == "btcusdt@trade"
    assert bytes(message.data) == raw
    assert parse.stream_type(message.stream) == "trade"


def test_payload_keys_match_a_real_binance_recording(events: list[MarketEvent]) -> None:
    # arrange: one real payload per stream type from the recorded combined stream
    real: dict[str, dict[str, Any]] = {}
    for line in RECORDING.read_text().splitlines():
        if ": {" not in line:
            continue
        envelope = json.loads(line.partition(": ")[2])
        real.setdefault(parse.stream_type(envelope["stream"]), envelope["data"])
    # act
    ours: dict[str, dict[str, Any]] = {event.kind: json.loads(encode(event.payload)) for event in events}
    # assert
    for kind in ("aggTrade", "depth", "bookTicker", "kline"):
        assert set(ours[kind]) == set(real[kind]), kind
    assert set(ours["kline"]["k"]) == set(real["kline"]["k"])
    assert set(ours["trade"]) == {"e", "E", "s", "t", "p", "q", "T", "m", "M"}  # no b/a since 2024-06


def test_rest_shapes_decode_with_our_parsers(events: list[MarketEvent]) -> None:
    market = Market(MarketConfig(steps_per_bar=3))
    venue = SimulatedVenue(market)
    for _ in range(7):
        venue.step()
    snapshot = parse.parse_depth_snapshot("btcusdt", encode(venue.depth("BTCUSDT", 5)))
    assert snapshot.last_update_id == market.symbols["BTCUSDT"].book.last_update_id
    assert len(snapshot.bids) == len(snapshot.asks) == 5
    rows = encode(venue.klines("BTCUSDT", "1m", None, None, 500))
    klines = parse.parse_kline_rows("BTCUSDT", "1m", rows, now_ms=market.clock.now_ms())
    assert [k.closed for k in klines] == [True, True, False]
    assert all(len(row) == 12 and row[11] == "0" for row in json.loads(rows))
    aggs = parse.parse_agg_trade_rows("BTCUSDT", encode(venue.agg_trades("BTCUSDT", 1, None, None, 3)), now_ms=0)
    assert [t.trade_id for t in aggs] == [1, 2, 3]
    assert set(json.loads(encode(venue.agg_trades("BTCUSDT", 1, None, None, 1)))[0]) == set("apqflTmM")


def test_server_shutdown_frames_raw_and_combined() -> None:
    raw, combined = server_shutdown_frames(1770123456789)
    assert json.loads(raw) == {"e": "serverShutdown", "E": 1770123456789}
    message = parse.decode_combined(combined)
    assert message.stream == "!serverShutdown"
    assert parse.decode_server_shutdown(message.data).E == 1770123456789
