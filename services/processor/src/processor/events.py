"""Stream entry -> market event, or :class:`BadMessage` naming why not. Pure."""

from __future__ import annotations

import msgspec

from algo_common.domain.models import BookTop, Kline, MarketEvent, Trade
from algo_common.errors import BadMessage
from algo_common.streams import EVENT_FIELD, StreamEntry, decode_market_event

KINDS: dict[type[MarketEvent], str] = {Trade: "trade", Kline: "kline", BookTop: "book_top"}
"""Metric label of each event type (the tag it carries on the stream)."""


def stream_symbol(stream: str) -> str:
    """``market.BTCUSDT`` -> ``BTCUSDT``."""
    return stream.rpartition(".")[2]


def decode_entry(entry: StreamEntry) -> MarketEvent:
    """The entry's event; raises BadMessage when it is missing, malformed or for another symbol."""
    raw = entry.fields.get(EVENT_FIELD)
    if raw is None:
        raise BadMessage("missing_field", repr(entry.fields))
    try:
        event = decode_market_event(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BadMessage("malformed", raw) from e
    if event.symbol != stream_symbol(entry.stream):
        raise BadMessage("symbol_mismatch", raw)
    return event
