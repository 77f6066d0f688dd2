"""The real Binance recording, served by the simulator in replay mode, through the whole collector.

The simulator sends the 265 recorded frames byte for byte over the combined stream and answers
``GET /api/v3/depth`` with the recorded snapshots; the collector's own WebSocket client, feed,
book sync and sinks handle them. The final books equal the reference numbers of
``shared/data/README.md`` section 2 (output of its independent ``replay_check.py``), with 0 gaps.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pymongo.asynchronous.database import AsyncDatabase

from algo_common.mongo import Document
from tests.integration.collector.collector_harness import RunningCollector, collector_settings, running_collector
from tests.integration.collector.conftest import StartSim
from tests.support import eventually, metric_value

RECORDING = Path(__file__).parents[2] / "fixtures" / "binance" / "recording"
FRAMES = 265

# symbol: (last applied u, best bid, best ask, levels bid/ask, bookTicker checks)
REFERENCE = {
    "NKNUSDT": (499870179, "0.35270000", "0.35310000", (614, 994), 19),
    "LRCBTC": (259345563, "0.00000637", "0.00000638", (176, 1000), 6),
    "BLZETH": (281916638, "0.00006547", "0.00006560", (173, 999), 1),
    "RUNEEUR": (15602513, "6.25100000", "6.26900000", (222, 468), 0),
}


async def _books_at_reference(collector: RunningCollector) -> bool:
    books = collector.service.books.books
    return all(
        books[symbol].book is not None and books[symbol].book.update_id == last_u  # type: ignore[union-attr]
        for symbol, (last_u, *_) in REFERENCE.items()
    )


async def test_the_recording_through_the_collector_gives_the_reference_books_with_no_gap(
    start_sim: StartSim, redis_url: str, mongo_uri: str, db_name: str, mongo_db: AsyncDatabase[Document]
) -> None:
    # arrange
    sim = await start_sim(mode="replay", replay_dir=RECORDING, symbols=list(REFERENCE))
    settings = collector_settings(
        sim.running,
        redis_url,
        mongo_uri,
        db_name,
        symbols=list(REFERENCE),
        stream_kinds=["depth@100ms", "bookTicker", "kline_1m", "aggTrade"],
    )
    gaps = metric_value("collector_book_resyncs_total", reason="gap")
    async with running_collector(settings) as collector:
        await eventually(collector.connected, "the collector to connect")
        # act
        await sim.step(FRAMES)
        # assert
        await eventually(lambda: _books_at_reference(collector), "every book at its last recorded update id")
        for symbol, (_, bid, ask, levels, checks) in REFERENCE.items():
            state = collector.service.books.books[symbol]
            book = state.book
            assert book is not None
            best_bid, best_ask = book.best_bid(), book.best_ask()
            assert best_bid is not None
            assert best_ask is not None
            assert (best_bid[0], best_ask[0]) == (Decimal(bid), Decimal(ask)), symbol
            assert book.depth == levels, symbol
            assert (state.gaps, state.tickers.checked, state.tickers.matched) == (0, checks, checks), symbol
        assert sum(s.applied for s in collector.service.books.books.values()) == 172
        assert sum(s.dropped for s in collector.service.books.books.values()) == 5
        assert collector.service.supervisors[0].connections == 1
    assert metric_value("collector_book_resyncs_total", reason="gap") == gaps
    assert await mongo_db.trades.count_documents({}) == 2
