"""Replay of a real Binance recording (cryptofeed format) instead of a simulated market.

``BINANCE.ws.1.0``: line 1 ``<combined-stream URL> <-> <time>``, then ``<time>: <envelope JSON>``.
``BINANCE.http.0.0``: ``<REST depth URL> -> <time>: <snapshot JSON>``, one per symbol.
Each step publishes the next recorded frame, byte for byte, on its stream; ``GET /api/v3/depth``
answers with the recorded snapshot of the symbol (cut to ``limit``). Klines and aggTrades over REST
are empty: the recording has no REST history for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import msgspec

from algo_common.binance.parse import decode_combined, stream_type
from algo_common.binance.schemas import BinanceDepthSnapshot, BinanceKlineRow
from exchange_sim.context import SymbolState
from exchange_sim.encoding import fixed8
from exchange_sim.hub import Publication
from exchange_sim.schemas import BinanceAggTradeRow
from exchange_sim.streams import symbol_of
from exchange_sim.symbols import SymbolSpec

WS_FILE = "BINANCE.ws.1.0"
HTTP_FILE = "BINANCE.http.0.0"

_snapshot = msgspec.json.Decoder(BinanceDepthSnapshot)


class _EventTime(msgspec.Struct):
    """Fields picked out of any replayed payload (absent ones keep defaults)."""

    E: int = 0  # event time, ms
    u: int = 0  # final update id (depth diffs)


class _TradeFields(msgspec.Struct):
    """Fields picked out of a replayed trade or aggTrade."""

    p: Decimal  # price
    a: int = 0  # aggregate trade id
    t: int = 0  # trade id


_event_time = msgspec.json.Decoder(_EventTime)
_trade_fields = msgspec.json.Decoder(_TradeFields)


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One recorded combined-stream message: stream name and the payload bytes as recorded."""

    received_s: float
    stream: str
    data: bytes


@dataclass(slots=True)
class _Counters:
    trades: int = 0
    last_trade_id: int | None = None
    first_trade_id: int | None = None
    last_update_id: int = 0
    last_price: Decimal | None = None


class ReplayVenue:
    """Serves recorded frames in order and recorded depth snapshots."""

    def __init__(self, frames: list[RecordedFrame], snapshots: dict[str, BinanceDepthSnapshot]) -> None:
        self.frames = frames
        self.snapshots = snapshots
        self._position = 0
        symbols = dict.fromkeys([*snapshots, *(symbol_of(f.stream) for f in frames)])
        self._specs = [SymbolSpec.derive(symbol, _reference_price(snapshots.get(symbol))) for symbol in symbols]
        self._counters = {symbol: _Counters() for symbol in symbols}
        self._now_ms = int(frames[0].received_s * 1000) if frames else 0

    @classmethod
    def load(cls, folder: Path) -> ReplayVenue:
        """Read ``BINANCE.ws.1.0`` and ``BINANCE.http.0.0`` from ``folder``."""
        return cls(read_ws_recording(folder / WS_FILE), read_depth_snapshots(folder / HTTP_FILE))

    @property
    def kline_interval(self) -> str:
        return "1m"

    @property
    def remaining(self) -> int:
        """Frames not replayed yet."""
        return len(self.frames) - self._position

    def now_ms(self) -> int:
        return self._now_ms

    def specs(self) -> Sequence[SymbolSpec]:
        return self._specs

    def step(self) -> list[Publication]:
        if self._position >= len(self.frames):
            return []
        frame = self.frames[self._position]
        self._position += 1
        self._account(frame)
        return [((frame.stream,), msgspec.Raw(frame.data))]

    def steps_done(self) -> int:
        return self._position

    def depth(self, symbol: str, limit: int) -> BinanceDepthSnapshot:
        snap = self.snapshots.get(symbol)
        if snap is None:
            return BinanceDepthSnapshot(lastUpdateId=0, bids=[], asks=[])
        return BinanceDepthSnapshot(
            lastUpdateId=snap.lastUpdateId,
            bids=[(fixed8(p), fixed8(q)) for p, q in snap.bids[:limit]],
            asks=[(fixed8(p), fixed8(q)) for p, q in snap.asks[:limit]],
        )

    def klines(
        self, symbol: str, interval: str, start: int | None, end: int | None, limit: int
    ) -> list[BinanceKlineRow]:
        return []

    def agg_trades(
        self, symbol: str, from_id: int | None, start: int | None, end: int | None, limit: int
    ) -> list[BinanceAggTradeRow]:
        return []

    def state(self) -> list[SymbolState]:
        return [
            SymbolState(
                symbol=spec.symbol,
                trades_sent=c.trades,
                first_trade_id=c.first_trade_id,
                last_trade_id=c.last_trade_id,
                last_update_id=c.last_update_id,
                closed_bars=0,
                last_price="" if c.last_price is None else format(fixed8(c.last_price), "f"),
                pending_path_bars=0,
                best_bid=None,
                best_ask=None,
            )
            for spec in self._specs
            for c in [self._counters[spec.symbol]]
        ]

    def request_skip(self, symbol: str, count: int) -> None:
        raise ValueError("skip-sequence is not available in replay mode")

    def append_path(self, symbol: str, closes: Sequence[Decimal]) -> int:
        raise ValueError("scripted paths are not available in replay mode")

    def _account(self, frame: RecordedFrame) -> None:
        kind = stream_type(frame.stream)
        counters = self._counters[symbol_of(frame.stream)]
        fields = _event_time.decode(frame.data)
        self._now_ms = max(self._now_ms, fields.E)
        if kind == "depth":
            counters.last_update_id = fields.u
        elif kind in ("trade", "aggTrade"):
            trade = _trade_fields.decode(frame.data)
            trade_id = trade.t or trade.a
            counters.trades += 1
            counters.first_trade_id = counters.first_trade_id or trade_id
            counters.last_trade_id = trade_id
            counters.last_price = trade.p


def read_ws_recording(path: Path) -> list[RecordedFrame]:
    """Frames of a ``BINANCE.ws.*`` recording, in recorded order."""
    frames = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line or " <-> " in line:  # blank or the connection header
            continue
        head, _, body = line.partition(": ")
        try:
            envelope = decode_combined(body.encode())
            frames.append(RecordedFrame(float(head), envelope.stream, bytes(envelope.data)))
        except ValueError as e:
            raise ValueError(f"{path}:{line_no}: not a recorded combined-stream frame") from e
    return frames


def read_depth_snapshots(path: Path) -> dict[str, BinanceDepthSnapshot]:
    """Depth snapshots of a ``BINANCE.http.*`` recording by upper-case symbol."""
    snapshots = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line:
            continue
        head, _, body = line.partition(": ")
        url = head.partition(" -> ")[0]
        symbols = parse_qs(urlsplit(url).query).get("symbol")
        if not symbols:
            raise ValueError(f"{path}:{line_no}: no symbol in {url}")
        try:
            snapshots[symbols[0].upper()] = _snapshot.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise ValueError(f"{path}:{line_no}: not a depth snapshot") from e
    return snapshots


def _reference_price(snapshot: BinanceDepthSnapshot | None) -> Decimal:
    if snapshot is not None and snapshot.bids:
        return snapshot.bids[0][0]
    return Decimal(1)
