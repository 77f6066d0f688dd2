"""Combined-stream frames -> domain events, through a dispatch table keyed by stream type.

Everything the venue sends passes here once; whatever cannot be decoded into a valid domain event
raises :class:`BadFrame` (a :class:`BadMessage`) with a low-cardinality ``drop_reason`` for the
``collector_events_dropped`` metric. The caller logs, counts and skips it; the feed keeps no state
that one bad frame could corrupt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import msgspec

from algo_common.binance import parse
from algo_common.domain.models import BookTop, Kline, Trade
from algo_common.errors import BadMessage
from collector.level_book import DepthDiff

RAW_LOG_LIMIT = 256
"""Bytes of a rejected frame kept in the log line."""
ROUTE_CACHE_LIMIT = 4096
"""Stream names whose handler is remembered (one connection names at most 1024 streams)."""


@dataclass(frozen=True, slots=True)
class ServerShutdown:
    """The venue will close this connection soon (``!serverShutdown``): reconnect now."""

    ts_event: int
    ts_recv: int


FeedEvent = Trade | Kline | DepthDiff | BookTop | ServerShutdown
"""What one frame becomes. A :class:`BookTop` from the feed is the venue's ``bookTicker``,
used to cross-check the local book, never published as our own top of book. A :class:`DepthDiff`
keeps its levels as the venue's strings, unchecked: the book checks them as it applies them."""

Handler = Callable[[msgspec.Raw, int], FeedEvent]


class DropReason(StrEnum):
    BAD_ENVELOPE = "bad_envelope"  # not JSON, or not {"stream": .., "data": ..}
    UNKNOWN_STREAM = "unknown_stream"  # a stream type we have no handler for
    UNKNOWN_SYMBOL = "unknown_symbol"  # a symbol we do not collect, or stream and payload disagree
    BAD_PAYLOAD = "bad_payload"  # missing field, wrong type, non-numeric or non-positive value


class BadFrame(BadMessage):
    """A frame that was skipped, with the metric label saying why."""

    def __init__(self, drop_reason: DropReason, detail: str, raw: bytes) -> None:
        super().__init__(detail, raw)
        self.drop_reason = drop_reason


def truncated(raw: bytes | str, limit: int = RAW_LOG_LIMIT) -> str:
    """A frame safe to put in a log line: at most ``limit`` bytes, undecodable bytes escaped."""
    data = raw.encode() if isinstance(raw, str) else raw
    text = data[:limit].decode("utf-8", errors="backslashreplace")
    return text + f"...(+{len(data) - limit} bytes)" if len(data) > limit else text


class Feed:
    """Decodes frames of the combined stream for a fixed set of symbols."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self._symbols = frozenset(symbol.upper() for symbol in symbols)
        self._routes: dict[str, tuple[Handler, str]] = {}  # stream name -> (handler, its symbol)
        self._handlers: dict[str, Handler] = {
            "trade": self._on_trade,
            "aggTrade": self._on_agg_trade,
            "kline": self._on_kline,
            "depth": self._on_depth,
            "bookTicker": self._on_book_ticker,
            "serverShutdown": self._on_server_shutdown,
        }

    def decode(self, raw: bytes, ts_recv: int) -> FeedEvent:
        """One frame -> one domain event; raises :class:`BadFrame` for anything else."""
        try:
            envelope = parse.decode_combined(raw)
        except BadMessage as e:
            raise BadFrame(DropReason.BAD_ENVELOPE, e.reason, raw) from e
        route = self._routes.get(envelope.stream) or self._route(envelope.stream, raw)
        try:
            event = route[0](envelope.data, ts_recv)
        except BadMessage as e:
            raise BadFrame(DropReason.BAD_PAYLOAD, e.reason, raw) from e
        if not isinstance(event, ServerShutdown) and (event.symbol != route[1] or event.symbol not in self._symbols):
            raise BadFrame(DropReason.UNKNOWN_SYMBOL, f"symbol {event.symbol!r} on stream {envelope.stream!r}", raw)
        return event

    def _route(self, stream: str, raw: bytes) -> tuple[Handler, str]:
        """Handler and symbol of a stream name not seen yet (remembered: names repeat on every frame)."""
        try:
            kind = parse.stream_type(stream)
        except BadMessage as e:
            raise BadFrame(DropReason.BAD_ENVELOPE, e.reason, raw) from e
        handler = self._handlers.get(kind)
        if handler is None:
            raise BadFrame(DropReason.UNKNOWN_STREAM, f"no handler for stream {stream!r}", raw)
        route = (handler, stream.partition("@")[0].upper())
        if len(self._routes) < ROUTE_CACHE_LIMIT:
            self._routes[stream] = route
        return route

    @staticmethod
    def _on_trade(data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        return parse.to_trade(parse.decode_trade(data), ts_recv)

    @staticmethod
    def _on_agg_trade(data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        msg = parse.decode_agg_trade(data)
        if not msg.s or not msg.E:
            raise BadMessage("aggTrade event without symbol or event time", bytes(data))
        return parse.to_agg_trade(msg, ts_recv)

    @staticmethod
    def _on_kline(data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        msg = parse.decode_kline(data)
        if msg.k.s != msg.s:
            raise BadMessage(f"kline of {msg.k.s!r} in an event of {msg.s!r}", bytes(data))
        return parse.to_kline(msg, ts_recv)

    def _on_depth(self, data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        msg = parse.decode_depth_diff(data)
        if msg.u < msg.U:
            raise BadMessage(f"depthUpdate with U {msg.U} > u {msg.u}", bytes(data))
        return DepthDiff(  # levels unchecked: the book checks them as it applies them (LevelBook.apply)
            symbol=msg.s,
            first_update_id=msg.U,
            final_update_id=msg.u,
            bids=msg.b,
            asks=msg.a,
            ts_event=msg.E,
            ts_recv=ts_recv,
        )

    @staticmethod
    def _on_book_ticker(data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        top = parse.to_book_top(parse.decode_book_ticker(data), ts_recv)
        for value in (top.bid_price, top.ask_price, top.bid_qty, top.ask_qty):
            if not value.is_finite() or value < 0:
                raise BadMessage(f"bad bookTicker value {value}", bytes(data))
        return top

    @staticmethod
    def _on_server_shutdown(data: msgspec.Raw, ts_recv: int) -> FeedEvent:
        return ServerShutdown(ts_event=parse.decode_server_shutdown(data).E, ts_recv=ts_recv)
