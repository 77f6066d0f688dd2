"""Rebuild a symbol's state from MongoDB: silent history up to the checkpoint, then catch-up.

History (klines up to the checkpoint) only fills the strategy's windows: those bars were handled
before. Catch-up (klines after the checkpoint) is handled like live input, with signals, so a
processor that died after the collector stored a kline but before acting on it misses nothing.
On the very first start (no checkpoint) all history is silent: a fresh deploy never signals bars
that closed before it started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from algo_common.errors import FatalError, TransientError
from algo_common.logging import get_logger
from processor.backfill import Backfill
from processor.engine import SymbolState
from processor.intervals import bar_open_time, interval_minutes, interval_ms
from processor.pipeline import BarOutcome
from processor.store import ProcessorStore

log = get_logger(__name__)

OnOutcome = Callable[[SymbolState, BarOutcome], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WarmupReport:
    history_klines: int
    caught_up_bars: int
    checkpoint: int | None


def history_limit(warmup_bars: int, interval: str) -> int:
    """How many 1m klines hold ``warmup_bars`` bars of ``interval``."""
    return warmup_bars * interval_minutes(interval)


def history_start(nth_newest_open_time: int | None, interval: str) -> int | None:
    """First kline to feed: the window's oldest, moved up to the next bar if it starts mid-bar.

    A window cut at its limit may begin inside a bar whose first minutes lie outside it; that bar
    is skipped rather than fed incomplete. None (fewer klines than the limit): everything.
    """
    if nth_newest_open_time is None:
        return None
    bar_open = bar_open_time(nth_newest_open_time, interval)
    return bar_open if bar_open == nth_newest_open_time else bar_open + interval_ms(interval)


def first_checkpoint(last_open_time: int, interval: str, now_ms: int) -> int:
    """Checkpoint of a first start: the last bar that had closed by ``now_ms`` (nothing older is signalled)."""
    bar_open = bar_open_time(last_open_time, interval)
    close_time = bar_open + interval_ms(interval) - 1
    return close_time if close_time < now_ms else bar_open - 1


async def warm_up(
    state: SymbolState, store: ProcessorStore, on_outcome: OnOutcome, now_ms: int, backfill: Backfill | None = None
) -> WarmupReport:
    """Resume from the saved strategy state, or feed history silently; then catch up with signals.

    ``state`` must be fresh. A strategy state saved with the checkpoint (resumable strategies
    such as ``ema_rsi``) replaces the history: it is exactly the state the last owner had there.
    With ``backfill``, a history shorter than the warm-up is first completed from REST.
    """
    pipeline = state.pipeline
    resume = await store.load_resume_point(state.key)
    checkpoint = resume.bar_close_time
    saved = resume.strategy_state
    if checkpoint is not None and saved is not None and pipeline.resume(checkpoint, saved):
        return await _catch_up(state, checkpoint, store, on_outcome, fed=0)
    until = checkpoint if checkpoint is not None else await store.nth_newest_open_time(pipeline.symbol, 1)
    limit = history_limit(pipeline.strategy.warmup_bars, pipeline.interval)
    nth = await store.nth_newest_open_time(pipeline.symbol, limit, until)
    if nth is None and backfill is not None:
        await _backfill(backfill, pipeline.symbol, limit, until)
        until = checkpoint if checkpoint is not None else await store.nth_newest_open_time(pipeline.symbol, 1)
        nth = await store.nth_newest_open_time(pipeline.symbol, limit, until)
    if until is None:  # no history at all: the first live bar is the first bar
        return _report(state, 0, 0)
    start = history_start(nth, pipeline.interval)
    fed = 0
    last: BarOutcome | None = None
    async for kline in store.klines_between(pipeline.symbol, start, until):
        for outcome in pipeline.on_kline(kline):
            last = outcome
        fed += 1
    if checkpoint is None:
        state.checkpoint = first_checkpoint(until, pipeline.interval, now_ms)
        saved = last.state if last is not None and last.bar.close_time == state.checkpoint else None
        await store.save_checkpoint(state.key, state.checkpoint, now_ms, saved)
        return _report(state, fed, 0)
    return await _catch_up(state, checkpoint, store, on_outcome, fed)


async def _catch_up(
    state: SymbolState, checkpoint: int, store: ProcessorStore, on_outcome: OnOutcome, fed: int
) -> WarmupReport:
    """Klines stored after the checkpoint, handled like live input (with signals)."""
    state.checkpoint = checkpoint
    caught_up = 0
    async for kline in store.klines_between(state.pipeline.symbol, checkpoint + 1, None):
        for outcome in state.pipeline.on_kline(kline):
            await on_outcome(state, outcome)
            caught_up += 1
    return _report(state, fed, caught_up)


async def _backfill(backfill: Backfill, symbol: str, limit: int, until: int | None) -> None:
    try:
        await backfill.fill(symbol, limit, until)
    except (TransientError, FatalError) as e:
        log.warning("backfill failed; warming up with the stored history", symbol=symbol, error=str(e)[:300])


def _report(state: SymbolState, history: int, caught_up: int) -> WarmupReport:
    report = WarmupReport(history_klines=history, caught_up_bars=caught_up, checkpoint=state.checkpoint)
    log.info("warmed up", key=state.key, history_klines=history, caught_up_bars=caught_up, checkpoint=state.checkpoint)
    return report
