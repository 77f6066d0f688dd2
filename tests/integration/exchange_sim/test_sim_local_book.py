"""A client following Binance's local order book procedure ends with the simulator's true book."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from algo_common.binance import parse
from algo_common.domain.book import BookGap, OrderBook
from algo_common.domain.models import BookDelta
from exchange_sim import RunningSimulator
from tests.integration.exchange_sim.sim_helpers import (
    DEADLINE_S,
    StartSim,
    control,
    open_ws,
    sim_state,
)
from tests.support import eventually


class LocalBook:
    """Binance's procedure: buffer diffs, snapshot, drop ``u <= lastUpdateId``, apply; resync on a gap."""

    def __init__(self, http: httpx.AsyncClient, sim: RunningSimulator, ws: ClientConnection) -> None:
        self.http, self.sim, self.ws = http, sim, ws
        self.diffs: asyncio.Queue[BookDelta] = asyncio.Queue()
        self.book: OrderBook | None = None
        self.gaps = 0
        self.snapshots = 0

    async def read(self) -> None:
        async for frame in self.ws:
            message = parse.decode_combined(frame if isinstance(frame, bytes) else frame.encode())
            if parse.stream_type(message.stream) == "depth":
                await self.diffs.put(parse.to_book_delta(parse.decode_depth_update(message.data), ts_recv=0))

    async def sync(self, first: BookDelta | None = None) -> None:
        """Steps 1-5: take the first buffered diff, fetch snapshots until fresh enough, apply the buffer."""
        if first is None:
            first = await asyncio.wait_for(self.diffs.get(), DEADLINE_S)
        while True:
            response = await self.http.get(
                f"{self.sim.rest_url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000}
            )
            self.snapshots += 1
            snapshot = parse.parse_depth_snapshot("BTCUSDT", response.content)
            if snapshot.last_update_id >= first.first_update_id:
                break
        self.book = OrderBook(snapshot)
        pending = [first]
        while not self.diffs.empty():
            pending.append(self.diffs.get_nowait())
        for delta in pending:
            self.apply(delta)

    def apply(self, delta: BookDelta) -> None:
        assert self.book is not None
        self.book.apply(delta)  # stale diffs (u <= book id) are ignored by OrderBook

    async def follow_until(self, update_id: int) -> None:
        """Apply live diffs until the book is at ``update_id``; resync from a new snapshot on a gap."""
        while self.book is None or self.book.update_id < update_id:
            delta = await asyncio.wait_for(self.diffs.get(), DEADLINE_S)
            try:
                self.apply(delta)
            except BookGap:
                self.gaps += 1
                self.book = None
                await self.sync(first=delta)  # the diff after the gap starts the new buffer


async def true_book(http: httpx.AsyncClient, sim: RunningSimulator) -> dict[str, Any]:
    response = await http.get(f"{sim.rest_url}/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5000})
    return response.json()  # type: ignore[no-any-return]


def as_lists(levels: list[tuple[Any, Any]]) -> list[list[str]]:
    return [[f"{price:.8f}", f"{qty:.8f}"] for price, qty in levels]


async def run_client(
    start_sim: StartSim, http: httpx.AsyncClient, *, skip_after_sync: bool
) -> tuple[LocalBook, dict[str, Any]]:
    # arrange: a market running by itself, and a client buffering its diffs
    sim = await start_sim(rate=200, steps_per_bar=5, levels_per_side=40)
    ws = await open_ws(http, sim, "/stream?streams=btcusdt@depth@100ms")
    client = LocalBook(http, sim, ws)
    reader = asyncio.create_task(client.read())
    try:
        # act
        await client.sync()
        if skip_after_sync:
            await control(http, sim, "skip-sequence", symbol="BTCUSDT", count=2)
        target = (await sim_state(http, sim))["symbols"][0]["last_update_id"] + 200
        await client.follow_until(target)
        await control(http, sim, "pause")
        final_id = (await sim_state(http, sim))["symbols"][0]["last_update_id"]
        await client.follow_until(final_id)
        expected = await true_book(http, sim)
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await ws.close()
    return client, expected


async def test_local_book_procedure_ends_with_the_true_book(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    client, expected = await run_client(start_sim, http, skip_after_sync=False)
    # assert
    assert client.book is not None
    assert client.book.update_id == expected["lastUpdateId"]
    assert as_lists(client.book.bids()) == expected["bids"]
    assert as_lists(client.book.asks()) == expected["asks"]
    assert client.gaps == 0


async def test_a_skipped_sequence_is_detected_and_a_resync_ends_with_the_true_book(
    start_sim: StartSim, http: httpx.AsyncClient
) -> None:
    client, expected = await run_client(start_sim, http, skip_after_sync=True)
    # assert
    assert client.gaps == 1
    assert client.snapshots >= 2
    assert client.book is not None
    assert client.book.update_id == expected["lastUpdateId"]
    assert as_lists(client.book.bids()) == expected["bids"]
    assert as_lists(client.book.asks()) == expected["asks"]


async def test_book_ticker_matches_the_local_book(start_sim: StartSim, http: httpx.AsyncClient) -> None:
    # arrange
    sim = await start_sim()
    ws = await open_ws(http, sim, "/stream?streams=btcusdt@depth/btcusdt@bookTicker")
    snapshot = parse.parse_depth_snapshot(
        "BTCUSDT", (await http.get(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT")).content
    )
    book = OrderBook(snapshot)
    # act
    await control(http, sim, "step", n=20)
    # assert
    checked = 0
    while checked < 20:
        message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE_S))
        data = message["data"]
        if message["stream"] == "btcusdt@depth":
            book.apply(parse.to_book_delta(parse.decode_depth_update(json.dumps(data).encode()), ts_recv=0))
        else:
            assert data["u"] == book.update_id
            best_bid, best_ask = book.best_bid(), book.best_ask()
            assert best_bid is not None
            assert best_ask is not None
            assert [data["b"], data["B"], data["a"], data["A"]] == [f"{v:.8f}" for v in (*best_bid, *best_ask)]
            checked += 1
    await ws.close()

    async def closed() -> bool:
        return (await sim_state(http, sim))["connections_active"] == 0  # type: ignore[no-any-return]

    await eventually(closed, "the connection to end", timeout_s=DEADLINE_S)
