"""The account's balances as Binance reports them, for the pre-trade balance check.

Loaded by ``GET /api/v3/account`` (start-up and every reconciliation round) and kept current by
the user data stream: ``outboundAccountPosition`` (free and locked of the assets that changed,
absolute) and ``balanceUpdate`` (a delta: deposit, withdrawal, transfer). Each change carries the
venue time of the account update, so a change older than what an asset already reflects is
skipped: a snapshot and the events around it may arrive in any order, none is counted twice.

Fail safe: :meth:`AccountBalances.free` answers None (the risk check refuses the order) until a
snapshot was taken while the stream was subscribed, whenever the stream is down (events may be
missed), and once the last such snapshot is older than ``max_age_ms`` (a stream that died
silently, a reconciliation that keeps failing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from algo_common.binance.trading_schemas import BinanceAccount, BinanceBalanceUpdate, BinanceOutboundAccountPosition
from trader.venues.binance.metrics import BinanceMetrics

ZERO = Decimal(0)


@dataclass(slots=True)
class _Held:
    free: Decimal
    locked: Decimal
    time: int
    """Venue time (ms) of the last account update this entry reflects."""


class AccountBalances:
    """Free and locked balance per asset, and whether they can be trusted now."""

    def __init__(self, clock: Callable[[], int], max_age_ms: int, metrics: BinanceMetrics | None = None) -> None:
        self._clock = clock
        self._max_age_ms = max_age_ms
        self._metrics = metrics
        self._held: dict[str, _Held] = {}
        self._stream_up = False
        self._generation = 0
        self._trusted_since: int | None = None
        """Local time the last snapshot taken under a live subscription was requested."""
        self.trusted = asyncio.Event()
        """Set by such a snapshot, cleared when the stream is lost (the service waits for it at start)."""

    # --- the user data stream -------------------------------------------------------------

    def stream_connected(self) -> None:
        """A subscription is live: events flow from now on (a snapshot must still cover the gap)."""
        self._stream_up = True
        self._generation += 1

    def stream_lost(self) -> None:
        """Events may be missed from now on: untrusted until a snapshot under a new subscription."""
        self._stream_up = False
        self._generation += 1
        self._trusted_since = None
        self.trusted.clear()

    def on_account_position(self, event: BinanceOutboundAccountPosition) -> None:
        for entry in event.B:
            self._set(entry.a, entry.f, entry.l, event.u, replace_same_time=True)

    def on_balance_update(self, event: BinanceBalanceUpdate) -> None:
        held = self._held.get(event.a)
        if held is not None and held.time >= event.T:
            return  # a snapshot or position event already reflects it
        current = held or _Held(ZERO, ZERO, 0)
        self._set(event.a, current.free + event.d, current.locked, event.T, replace_same_time=False)

    # --- snapshots --------------------------------------------------------------------------

    def snapshot_token(self) -> int:
        """Taken just before ``GET /api/v3/account``; hand it to :meth:`load` with the answer."""
        return self._generation

    def load(self, account: BinanceAccount, token: int, requested_at: int) -> None:
        """Apply a snapshot; it makes the balances trusted if the subscription lived throughout."""
        listed = {b.asset for b in account.balances}
        for b in account.balances:
            self._set(b.asset, b.free, b.locked, account.updateTime, replace_same_time=True)
        for asset in set(self._held) - listed:  # omitZeroBalances: not listed means none
            self._set(asset, ZERO, ZERO, account.updateTime, replace_same_time=True)
        if self._stream_up and token == self._generation:
            self._trusted_since = requested_at
            self.trusted.set()

    # --- reading ----------------------------------------------------------------------------

    def free(self, asset: str) -> Decimal | None:
        """Free balance of ``asset`` (0 when none is held), or None when it cannot be trusted now."""
        if self.untrusted_reason() is not None:
            return None
        held = self._held.get(asset)
        return held.free if held is not None else ZERO

    def total(self, asset: str) -> Decimal:
        """Free + locked as last reported, trusted or not (for logs and the balance check)."""
        held = self._held.get(asset)
        return held.free + held.locked if held is not None else ZERO

    def untrusted_reason(self) -> str | None:
        """Why :meth:`free` answers None now, or None when the balances are current."""
        if not self._stream_up:
            return "user data stream not subscribed"
        if self._trusted_since is None:
            return "no account snapshot since the stream subscribed"
        age = self._clock() - self._trusted_since
        if age > self._max_age_ms:
            return f"account snapshot {age} ms old"
        return None

    def _set(self, asset: str, free: Decimal, locked: Decimal, time: int, *, replace_same_time: bool) -> None:
        held = self._held.get(asset)
        if held is not None and (time < held.time or (time == held.time and not replace_same_time)):
            return
        self._held[asset] = _Held(free, locked, time)
        if self._metrics is not None:
            self._metrics.balance.set(float(free + locked), {"asset": asset})
