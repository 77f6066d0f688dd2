"""Warm-up's pure rules: which history to trust and where a first start puts its checkpoint."""

from __future__ import annotations

from processor.warmup import first_checkpoint, history_limit, history_start

MINUTE = 60_000
HOUR = 3_600_000
T0 = 1_623_196_800_000  # a UTC midnight


def test_history_limit_holds_the_warmup_bars_in_minutes() -> None:
    assert history_limit(201, "1d") == 201 * 1440
    assert history_limit(5, "1m") == 5


def test_history_cut_inside_a_bar_starts_at_the_next_bar() -> None:
    # act: the window's oldest kline is minute 30 of an hour
    start = history_start(T0 + 30 * MINUTE, "1h")
    # assert
    assert start == T0 + HOUR


def test_history_starting_on_a_bar_or_shorter_than_the_limit_is_fed_whole() -> None:
    assert history_start(T0 + HOUR, "1h") == T0 + HOUR
    assert history_start(T0 + 30 * MINUTE, "1m") == T0 + 30 * MINUTE
    assert history_start(None, "1h") is None


def test_first_checkpoint_is_the_last_bar_closed_by_now() -> None:
    # arrange: last kline at 10:15 of a day
    last_open = T0 + 10 * HOUR + 15 * MINUTE
    # act
    hour_in_progress = first_checkpoint(last_open, "1h", now_ms=T0 + 10 * HOUR + 16 * MINUTE)
    hour_over = first_checkpoint(last_open, "1h", now_ms=T0 + 11 * HOUR + 1)
    one_minute = first_checkpoint(last_open, "1m", now_ms=last_open + MINUTE)
    # assert
    assert hour_in_progress == T0 + 10 * HOUR - 1
    assert hour_over == T0 + 11 * HOUR - 1
    assert one_minute == last_open + MINUTE - 1
