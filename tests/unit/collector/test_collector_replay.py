"""Replaying a real Binance recording through the feed and the book logic reproduces the reference numbers.

The recording (cryptofeed ``BINANCE.ws.1.0`` + ``BINANCE.http.0.0``, see its PROVENANCE.md) is replayed
in the order it was received: frames in file order, each REST snapshot handed over just before the
first frame received after it, exactly as the live collector sees them. The expected numbers are
those of ``shared/data/README.md`` section 2 (output of its ``replay_check.py``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from algo_common.binance.parse import parse_depth_snapshot
from algo_common.domain.models import BookTop, Kline, Trade
from collector.book_state import StepKind, SymbolBook
from collector.feed import Feed
from collector.level_book import DepthDiff

RECORDING = Path(__file__).parents[2] / "fixtures" / "binance" / "recording"
SYMBOLS = ("NKNUSDT", "LRCBTC", "BLZETH", "RUNEEUR")


@dataclass(frozen=True)
class Expected:
    last_update_id: int
    diffs: int
    dropped: int
    applied: int
    last_u: int
    best_bid: str
    best_ask: str
    levels: tuple[int, int]
    ticker_checks: int


EXPECTED = {
    "NKNUSDT": Expected(499869752, 150, 1, 149, 499870179, "0.35270000", "0.35310000", (614, 994), 19),
    "LRCBTC": Expected(259345543, 15, 2, 13, 259345563, "0.00000637", "0.00000638", (176, 1000), 6),
    "BLZETH": Expected(281916627, 10, 1, 9, 281916638, "0.00006547", "0.00006560", (173, 999), 1),
    "RUNEEUR": Expected(15602511, 2, 1, 1, 15602513, "6.25100000", "6.26900000", (222, 468), 0),
}


@dataclass
class Replay:
    books: dict[str, SymbolBook]
    kinds: Counter[str]
    diffs: Counter[str]
    steps: Counter[tuple[str, StepKind]]
    snapshot_ids: dict[str, int]


def _frames() -> list[tuple[float, bytes]]:
    frames = []
    for line in (RECORDING / "BINANCE.ws.1.0").read_bytes().splitlines()[1:]:
        if line.strip():
            ts, _, body = line.partition(b": ")
            frames.append((float(ts), body))
    return frames


def _snapshots() -> list[tuple[float, str, bytes]]:
    snapshots = []
    for line in (RECORDING / "BINANCE.http.0.0").read_bytes().splitlines():
        if line.strip():
            url, _, rest = line.partition(b" -> ")
            ts, _, body = rest.partition(b": ")
            symbol = url.split(b"symbol=")[1].split(b"&")[0].decode()
            snapshots.append((float(ts), symbol, body))
    return sorted(snapshots)


def _replay() -> Replay:
    feed = Feed(SYMBOLS)
    replay = Replay({s: SymbolBook(s) for s in SYMBOLS}, Counter(), Counter(), Counter(), {})
    snapshots = _snapshots()
    for ts, raw in _frames():
        while snapshots and snapshots[0][0] <= ts:
            snap_ts, symbol, body = snapshots.pop(0)
            snapshot = parse_depth_snapshot(symbol, body)
            replay.snapshot_ids[symbol] = snapshot.last_update_id
            step = replay.books[symbol].on_snapshot(snapshot, ts_recv=int(snap_ts * 1000))
            replay.steps[symbol, step.kind] += 1
        event = feed.decode(raw, ts_recv=int(ts * 1000))
        replay.kinds[type(event).__name__] += 1
        if isinstance(event, DepthDiff):
            replay.diffs[event.symbol] += 1
            replay.steps[event.symbol, replay.books[event.symbol].on_delta(event).kind] += 1
        elif isinstance(event, BookTop):
            assert replay.books[event.symbol].on_ticker(event) is None
    assert not snapshots
    return replay


@pytest.fixture(scope="module")
def replay() -> Replay:
    return _replay()


def test_every_recorded_frame_decodes(replay: Replay) -> None:
    # assert: depth 177, bookTicker 84, aggTrade 2, kline_1m 2 (total 265)
    assert replay.kinds == Counter({"DepthDiff": 177, "BookTop": 84, "Trade": 2, "Kline": 2})


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_book_replay_matches_the_reference(replay: Replay, symbol: str) -> None:
    # arrange
    expected = EXPECTED[symbol]
    book = replay.books[symbol]
    # assert
    assert replay.snapshot_ids[symbol] == expected.last_update_id
    assert replay.diffs[symbol] == expected.diffs
    assert (book.dropped, book.applied, book.gaps) == (expected.dropped, expected.applied, 0)
    assert replay.steps[symbol, StepKind.RESYNC] == 0
    assert replay.steps[symbol, StepKind.SYNCED] == 1
    assert book.book is not None
    assert book.book.update_id == expected.last_u
    best_bid, best_ask = book.book.best_bid(), book.book.best_ask()
    assert best_bid is not None
    assert best_ask is not None
    assert (best_bid[0], best_ask[0]) == (Decimal(expected.best_bid), Decimal(expected.best_ask))
    assert str(best_bid[0]) == expected.best_bid
    assert best_bid[0] < best_ask[0]
    assert book.book.depth == expected.levels
    assert (book.tickers.checked, book.tickers.matched) == (expected.ticker_checks, expected.ticker_checks)


def test_totals_match_the_reference(replay: Replay) -> None:
    # assert: 177 diffs, 5 dropped, 172 applied, 0 gaps, 26 bookTicker checks all matching
    books = replay.books.values()
    assert sum(replay.diffs.values()) == 177
    assert sum(b.dropped for b in books) == 5
    assert sum(b.applied for b in books) == 172
    assert sum(b.gaps for b in books) == 0
    assert sum(b.tickers.checked for b in books) == sum(b.tickers.matched for b in books) == 26


def test_recorded_trades_and_klines_are_valid_events() -> None:
    # arrange
    feed = Feed(SYMBOLS)
    # act
    events = [feed.decode(raw, 0) for _, raw in _frames() if b"@aggTrade" in raw[:40] or b"@kline" in raw[:40]]
    # assert
    assert sorted(type(e).__name__ for e in events) == ["Kline", "Kline", "Trade", "Trade"]
    assert all(isinstance(e, Trade | Kline) and e.symbol in SYMBOLS for e in events)
