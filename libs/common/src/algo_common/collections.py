"""Collection names and their indexes: one definition for every service.

Several services touch the same collection (the collector writes ``klines``, the processor reads
them), so each creates the indexes of the collections it uses from this one table: identical
specifications make ``create_indexes`` a no-op instead of a name conflict.
"""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel

TRADES = "trades"
KLINES = "klines"
DEPTH = "depth"
TRADE_SIGNALS = "trade_signals"
PROCESSOR_STATE = "processor_state"
ORDERS = "orders"
FILLS = "fills"
POSITIONS = "positions"
DAILY_PNL = "daily_pnl"

INDEXES: dict[str, list[IndexModel]] = {
    TRADES: [IndexModel([("symbol", ASCENDING), ("ts_trade", ASCENDING)], name="symbol_ts_trade")],
    KLINES: [
        IndexModel(
            [("symbol", ASCENDING), ("interval", ASCENDING), ("open_time", ASCENDING)],
            name="symbol_interval_open_time",
            unique=True,
        )
    ],
    DEPTH: [IndexModel([("symbol", ASCENDING), ("ts_event", ASCENDING)], name="symbol_ts_event")],
    TRADE_SIGNALS: [IndexModel([("symbol", ASCENDING), ("bar_close_time", ASCENDING)], name="symbol_bar_close_time")],
    PROCESSOR_STATE: [],
    ORDERS: [
        IndexModel([("symbol", ASCENDING), ("created_at", ASCENDING)], name="symbol_created_at"),
        IndexModel([("status", ASCENDING)], name="status"),
    ],
    FILLS: [
        IndexModel([("client_order_id", ASCENDING)], name="client_order_id"),
        IndexModel([("symbol", ASCENDING), ("ts", ASCENDING)], name="symbol_ts"),
    ],
    POSITIONS: [IndexModel([("venue", ASCENDING)], name="venue")],
    DAILY_PNL: [IndexModel([("venue", ASCENDING), ("day", ASCENDING)], name="venue_day")],
}


EVENT_TIME = "event_time"
"""BSON date of a market document's venue time, set on every ``trades`` and ``depth`` document by the
collector: the field their TTL indexes expire on (a TTL index only works on a date field)."""
TTL_INDEX = "ttl_event_time"


def ttl_index(retention_s: int) -> IndexModel:
    """The TTL index of a high-volume market collection: documents go ``retention_s`` after their event time."""
    return IndexModel([(EVENT_TIME, ASCENDING)], name=TTL_INDEX, expireAfterSeconds=retention_s)


def indexes_for(*collections: str) -> dict[str, list[IndexModel]]:
    """The index table restricted to the collections a service uses."""
    return {name: INDEXES[name] for name in collections}
