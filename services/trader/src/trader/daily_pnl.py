"""Daily P&L for the max-daily-loss limit. Pure: the ledger stores it, risk reads it.

Definition: the day is the UTC calendar day of a fill's execution time; the day's P&L is the
realized P&L of the fills executed that day minus their fees (quote asset; a commission paid in
the base asset is in the cost basis, so it counts on the day the coins are sold; one paid in a
third asset such as BNB is not counted, see :mod:`trader.position`). Unrealized P&L is
NOT counted: the trader has no mark price for every symbol it holds (it sees a price only when
a signal arrives), and a limit that moved with whichever symbol signalled last would be
neither exact nor reproducible. The loss limit therefore stops a strategy that keeps closing
losing trades; an open position's drawdown is bounded by the position limit instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from algo_common.domain.models import Fill
from trader.position import Position, apply_fill

ZERO = Decimal(0)


def utc_day(ts_ms: int) -> str:
    """``YYYY-MM-DD`` of an epoch-millisecond time, in UTC."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def daily_pnl_id(venue: str, symbol: str, day: str) -> str:
    """``_id`` of a ``daily_pnl`` document: ``<venue>:<SYMBOL>:<YYYY-MM-DD>``.

    One document per symbol (the day's total is their sum), so replicas trading different
    symbols never write the same document: no transaction conflicts beyond the position's own.
    """
    return f"{venue}:{symbol}:{day}"


@dataclass(frozen=True, slots=True)
class DayChange:
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO


def day_changes(position: Position, fills: Iterable[Fill], quote_asset: str) -> dict[str, DayChange]:
    """Realized P&L and fees each UTC day gains from ``fills`` applied to ``position`` in order."""
    changes: dict[str, DayChange] = {}
    for fill in fills:
        after = apply_fill(position, fill, quote_asset)
        day = utc_day(fill.ts)
        seen = changes.get(day, DayChange())
        changes[day] = DayChange(
            seen.realized_pnl + after.realized_pnl - position.realized_pnl, seen.fees + after.fees - position.fees
        )
        position = after
    return changes
