"""Replay of the real recording reproduces the reference local-book results (fixtures PROVENANCE.md)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from algo_common.binance import parse
from algo_common.domain.book import OrderBook
from exchange_sim.encoding import encode
from exchange_sim.replay import ReplayVenue

RECORDING = Path(__file__).parents[2] / "fixtures" / "binance" / "recording"

# symbol: (snapshot lastUpdateId, applied diffs, last applied u, best bid, best ask, bid levels, ask levels)
REFERENCE = {
    "NKNUSDT": (499869752, 149, 499870179, "0.35270000", "0.35310000", 614, 994),
    "LRCBTC": (259345543, 13, 259345563, "0.00000637", "0.00000638", 176, 1000),
    "BLZETH": (281916627, 9, 281916638, "0.00006547", "0.00006560", 173, 999),
    "RUNEEUR": (15602511, 1, 15602513, "6.25100000", "6.26900000", 222, 468),
}


@pytest.fixture
def venue() -> ReplayVenue:
    return ReplayVenue.load(RECORDING)


def test_replay_publishes_every_recorded_frame_in_order(venue: ReplayVenue) -> None:
    frames = []
    while publications := venue.step():
        frames.extend(publications)
    assert len(frames) == 265
    assert venue.remaining == 0
    lines = [line for line in (RECORDING / "BINANCE.ws.1.0").read_text().splitlines() if ": {" in line]
    for (names, payload), line in zip(frames, lines, strict=True):
        recorded = parse.decode_combined(line.partition(": ")[2].encode())
        assert names == (recorded.stream,)
        assert isinstance(payload, msgspec.Raw)
        assert bytes(payload) == bytes(recorded.data)  # byte for byte


def test_local_book_procedure_over_the_replay_matches_the_reference(venue: ReplayVenue) -> None:
    # arrange: books from the served snapshots (full depth)
    books = {
        symbol: OrderBook(parse.parse_depth_snapshot(symbol, encode(venue.depth(symbol, 5000)))) for symbol in REFERENCE
    }
    applied = dict.fromkeys(REFERENCE, 0)
    # act
    while publications := venue.step():
        for (stream,), payload in publications:
            if parse.stream_type(stream) != "depth":
                continue
            delta = parse.to_book_delta(parse.decode_depth_update(bytes(payload)), ts_recv=0)  # type: ignore[call-overload]
            applied[delta.symbol] += books[delta.symbol].apply(delta)
    # assert
    for symbol, (last_id, count, last_u, bid, ask, bid_levels, ask_levels) in REFERENCE.items():
        book = books[symbol]
        assert venue.snapshots[symbol].lastUpdateId == last_id
        assert applied[symbol] == count
        assert book.update_id == last_u
        best_bid, best_ask = book.best_bid(), book.best_ask()
        assert best_bid is not None
        assert best_ask is not None
        assert (f"{best_bid[0]:.8f}", f"{best_ask[0]:.8f}") == (bid, ask)
        assert book.depth == (bid_levels, ask_levels)


def test_depth_limit_cuts_the_recorded_snapshot(venue: ReplayVenue) -> None:
    snap = venue.depth("NKNUSDT", 5)
    assert snap.lastUpdateId == 499869752
    assert len(snap.bids) == len(snap.asks) == 5
    assert encode(snap).startswith(b'{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"]')


def test_state_reports_replay_progress(venue: ReplayVenue) -> None:
    while venue.step():
        pass
    state = {s.symbol: s for s in venue.state()}
    assert state["NKNUSDT"].last_update_id == 499870179
    assert state["NKNUSDT"].trades_sent == 1
    assert venue.now_ms() >= 1633998512068


def test_faults_that_need_a_simulated_book_are_refused(venue: ReplayVenue) -> None:
    with pytest.raises(ValueError, match="replay"):
        venue.request_skip("NKNUSDT", 1)
    with pytest.raises(ValueError, match="replay"):
        venue.append_path("NKNUSDT", [])
