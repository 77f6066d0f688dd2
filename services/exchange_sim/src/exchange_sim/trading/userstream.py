"""User data stream subscriptions over the WebSocket API and fan-out of account events.

Each event is wrapped as ``{"subscriptionId": N, "event": {...}}`` for every subscription of its
account. A dropped-events fault swallows whole events (for every subscriber), as a client that
missed them would see it: its reconciliation must repair the gap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import msgspec

from algo_common.binance.trading_schemas import BinanceUserDataMessage
from exchange_sim.encoding import encode
from exchange_sim.trading.engine import UserEvent
from exchange_sim.trading.faults import TradingFaults


class EventSink(Protocol):
    """A WebSocket API connection, as far as the stream is concerned."""

    def offer(self, frame: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class Subscription:
    conn: EventSink
    subscription_id: int
    account: str


class UserStreams:
    """Active subscriptions by account."""

    def __init__(self, faults: TradingFaults) -> None:
        self.faults = faults
        self._subs: list[Subscription] = []
        self.events_sent = 0

    def add(self, sub: Subscription) -> None:
        self._subs.append(sub)

    def remove(self, conn: EventSink, subscription_id: int | None = None) -> list[Subscription]:
        """End ``conn``'s subscriptions (one or all); return those ended."""
        gone = [s for s in self._subs if s.conn is conn and subscription_id in (None, s.subscription_id)]
        self._subs = [s for s in self._subs if s not in gone]
        return gone

    def of(self, conn: EventSink) -> list[Subscription]:
        return [s for s in self._subs if s.conn is conn]

    def count(self) -> int:
        return len(self._subs)

    def publish(self, events: list[UserEvent]) -> None:
        for account, event in events:
            listeners = [s for s in self._subs if s.account == account]
            if self.faults.should_drop_event() or not listeners:
                continue
            raw = msgspec.Raw(encode(event))
            for sub in listeners:
                if sub.conn.offer(encode(BinanceUserDataMessage(event=raw, subscriptionId=sub.subscription_id))):
                    self.events_sent += 1


def frame(subscription_id: int, event: msgspec.Struct) -> bytes:
    return encode(BinanceUserDataMessage(event=msgspec.Raw(encode(event)), subscriptionId=subscription_id))
