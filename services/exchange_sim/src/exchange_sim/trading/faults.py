"""Trading faults set through ``/_sim/trading/*``: lost or failed order responses, forced 429/418,
dropped user data events, a skewed server clock.

The market-data faults (stalls, cuts, sequence gaps) are in ``exchange_sim.faults``; these are the
ones a trader must survive: a 5xx whose order may or may not exist, a response lost after the
order executed, a rate limit, missed ``executionReport`` events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Target = Literal["new_order", "cancel", "query", "any"]
FailMode = Literal["before", "after"]
LostAs = Literal["error", "timeout", "close"]


@dataclass(frozen=True, slots=True)
class RequestFault:
    """What to do with the next matching trading request."""

    mode: FailMode  # before: not executed; after: executed, then the response is lost
    status: int  # HTTP status sent (5xx)
    lost_as: LostAs  # after: error = 5xx at once, timeout = held hold_s then 5xx, close = connection dropped
    hold_s: float


@dataclass(frozen=True, slots=True)
class ForcedLimit:
    status: int  # 429 | 418
    retry_after_s: int


class TradingFaults:
    """Pending faults; each ``take_*`` consumes one."""

    def __init__(self) -> None:
        self._request_faults: list[tuple[Target, RequestFault]] = []
        self._forced: list[ForcedLimit] = []
        self.drop_events = 0
        self.events_dropped = 0
        self.requests_failed = 0

    def fail_requests(self, target: Target, count: int, fault: RequestFault) -> None:
        self._request_faults.extend([(target, fault)] * count)

    def take_request_fault(self, kind: Target) -> RequestFault | None:
        for index, (target, fault) in enumerate(self._request_faults):
            if target in (kind, "any"):
                del self._request_faults[index]
                self.requests_failed += 1
                return fault
        return None

    def force_limit(self, count: int, limit: ForcedLimit) -> None:
        self._forced.extend([limit] * count)

    def take_forced_limit(self) -> ForcedLimit | None:
        return self._forced.pop(0) if self._forced else None

    def should_drop_event(self) -> bool:
        if self.drop_events <= 0:
            return False
        self.drop_events -= 1
        self.events_dropped += 1
        return True

    def pending(self) -> dict[str, int]:
        return {
            "request_faults": len(self._request_faults),
            "forced_limits": len(self._forced),
            "drop_events": self.drop_events,
        }

    def clear(self) -> None:
        self._request_faults.clear()
        self._forced.clear()
        self.drop_events = 0
