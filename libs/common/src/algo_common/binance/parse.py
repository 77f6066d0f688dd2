"""Binance JSON -> domain models. Decoders are built once; failures become :class:`BadMessage`."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

import msgspec

from algo_common.binance.schemas import (
    BinanceAggTrade,
    BinanceBookTicker,
    BinanceCombinedMessage,
    BinanceDepthDiff,
    BinanceDepthSnapshot,
    BinanceDepthUpdate,
    BinanceKline,
    BinanceKlineRow,
    BinanceLevel,
    BinanceServerShutdown,
    BinanceTrade,
)
from algo_common.domain.models import BookDelta, BookSnapshot, BookTop, Kline, Levels, Trade
from algo_common.errors import BadMessage

T = TypeVar("T")

_combined = msgspec.json.Decoder(BinanceCombinedMessage)
_trade = msgspec.json.Decoder(BinanceTrade)
_agg_trade = msgspec.json.Decoder(BinanceAggTrade)
_kline = msgspec.json.Decoder(BinanceKline)
_depth = msgspec.json.Decoder(BinanceDepthUpdate)
_depth_text = msgspec.json.Decoder(BinanceDepthDiff)
_book_ticker = msgspec.json.Decoder(BinanceBookTicker)
_shutdown = msgspec.json.Decoder(BinanceServerShutdown)
_snapshot = msgspec.json.Decoder(BinanceDepthSnapshot)
_kline_rows = msgspec.json.Decoder(list[BinanceKlineRow])
_agg_trade_rows = msgspec.json.Decoder(list[BinanceAggTrade])


def _decode(decoder: msgspec.json.Decoder[T], raw: bytes | msgspec.Raw, what: str) -> T:
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BadMessage(f"bad {what}: {e}", bytes(raw)) from e


def decode_combined(raw: bytes) -> BinanceCombinedMessage:
    """Split a combined-stream frame into stream name and still-encoded payload."""
    return _decode(_combined, raw, "combined-stream envelope")


def stream_type(stream: str) -> str:
    """Handler key of a stream name: ``btcusdt@kline_1m`` -> ``kline``, ``x@depth@100ms`` -> ``depth``."""
    if stream.startswith("!"):
        return stream[1:]
    parts = stream.split("@")
    if len(parts) < 2:
        raise BadMessage(f"not a stream name: {stream!r}", stream)
    kind = parts[1]
    if kind.startswith("kline_"):
        return "kline"
    if kind.startswith("depth"):
        return "depth"
    return kind


def decode_trade(raw: bytes | msgspec.Raw) -> BinanceTrade:
    return _decode(_trade, raw, "trade")


def decode_agg_trade(raw: bytes | msgspec.Raw) -> BinanceAggTrade:
    return _decode(_agg_trade, raw, "aggTrade")


def decode_kline(raw: bytes | msgspec.Raw) -> BinanceKline:
    return _decode(_kline, raw, "kline")


def decode_depth_update(raw: bytes | msgspec.Raw) -> BinanceDepthUpdate:
    return _decode(_depth, raw, "depthUpdate")


def decode_depth_diff(raw: bytes | msgspec.Raw) -> BinanceDepthDiff:
    """A ``depthUpdate`` with its levels as strings, parsed by the caller.

    Binance sends every price and quantity as a string; a payload that instead carries JSON numbers
    is decoded exactly (``Decimal``, never a float) and its levels written back as decimal strings.
    """
    try:
        return _depth_text.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError):
        msg = decode_depth_update(raw)  # raises BadMessage when the payload is bad, not just numeric
    return BinanceDepthDiff(
        e=msg.e,
        E=msg.E,
        s=msg.s,
        U=msg.U,
        u=msg.u,
        b=[(str(price), str(qty)) for price, qty in msg.b],
        a=[(str(price), str(qty)) for price, qty in msg.a],
    )


def decode_book_ticker(raw: bytes | msgspec.Raw) -> BinanceBookTicker:
    return _decode(_book_ticker, raw, "bookTicker")


def decode_server_shutdown(raw: bytes | msgspec.Raw) -> BinanceServerShutdown:
    return _decode(_shutdown, raw, "serverShutdown")


def to_trade(msg: BinanceTrade, ts_recv: int) -> Trade:
    _require_positive(msg.p, msg.q, what="trade", raw=msg)
    return Trade(
        symbol=msg.s,
        trade_id=msg.t,
        price=msg.p,
        qty=msg.q,
        buyer_is_maker=msg.m,
        ts_trade=msg.T,
        ts_event=msg.E,
        ts_recv=ts_recv,
    )


def to_agg_trade(msg: BinanceAggTrade, ts_recv: int, symbol: str = "") -> Trade:
    """An aggregate trade as a :class:`Trade` whose id is the aggregate id."""
    _require_positive(msg.p, msg.q, what="aggTrade", raw=msg)
    return Trade(
        symbol=msg.s or symbol,
        trade_id=msg.a,
        price=msg.p,
        qty=msg.q,
        buyer_is_maker=msg.m,
        ts_trade=msg.T,
        ts_event=msg.E or msg.T,
        ts_recv=ts_recv,
    )


def to_kline(msg: BinanceKline, ts_recv: int) -> Kline:
    k = msg.k
    _require_positive(k.o, k.h, k.l, k.c, what="kline", raw=msg)
    return Kline(
        symbol=msg.s,
        interval=k.i,
        open_time=k.t,
        close_time=k.T,
        open=k.o,
        high=k.h,
        low=k.l,
        close=k.c,
        volume=k.v,
        quote_volume=k.q,
        trades=k.n,
        closed=k.x,
        ts_event=msg.E,
        ts_recv=ts_recv,
    )


def to_book_delta(msg: BinanceDepthUpdate, ts_recv: int) -> BookDelta:
    return BookDelta(
        symbol=msg.s,
        first_update_id=msg.U,
        final_update_id=msg.u,
        bids=_levels(msg.b),
        asks=_levels(msg.a),
        ts_event=msg.E,
        ts_recv=ts_recv,
    )


def to_book_top(msg: BinanceBookTicker, ts_recv: int) -> BookTop:
    return BookTop(
        symbol=msg.s,
        update_id=msg.u,
        bid_price=msg.b,
        bid_qty=msg.B,
        ask_price=msg.a,
        ask_qty=msg.A,
        ts_event=ts_recv,
        ts_recv=ts_recv,
    )


def parse_depth_snapshot(symbol: str, raw: bytes) -> BookSnapshot:
    snap = _decode(_snapshot, raw, "depth snapshot")
    return BookSnapshot(
        symbol=symbol.upper(),
        last_update_id=snap.lastUpdateId,
        bids=_levels(snap.bids),
        asks=_levels(snap.asks),
    )


def parse_kline_rows(symbol: str, interval: str, raw: bytes, now_ms: int) -> list[Kline]:
    """Rows of ``GET /api/v3/klines``; a row whose close time is in the future is not closed."""
    rows = _decode(_kline_rows, raw, "klines response")
    return [
        Kline(
            symbol=symbol.upper(),
            interval=interval,
            open_time=row[0],
            close_time=row[6],
            open=row[1],
            high=row[2],
            low=row[3],
            close=row[4],
            volume=row[5],
            quote_volume=row[7],
            trades=row[8],
            closed=row[6] < now_ms,
            ts_event=row[6],
            ts_recv=now_ms,
        )
        for row in rows
    ]


def parse_agg_trade_rows(symbol: str, raw: bytes, now_ms: int) -> list[Trade]:
    return [to_agg_trade(row, now_ms, symbol.upper()) for row in _decode(_agg_trade_rows, raw, "aggTrades")]


def _levels(levels: list[BinanceLevel]) -> Levels:
    for price, qty in levels:
        if not (price.is_finite() and qty.is_finite() and price > 0 and qty >= 0):
            raise BadMessage(f"bad book level [{price}, {qty}]")
    return tuple(levels)


def _require_positive(*values: Decimal, what: str, raw: object) -> None:
    for value in values:
        if not (value.is_finite() and value > 0):
            raise BadMessage(f"bad {what}: non-positive or non-finite value {value}", msgspec.json.encode(raw))
