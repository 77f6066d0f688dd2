"""Bars from CSV: the reference file loads exactly; its spacing decides the interval; bad files name the problem."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from processor.backtest.csv_source import read_csv

CSV = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"
HEADER = "open_time_ms,open,high,low,close,volume\n"


def test_the_reference_file_loads_as_exact_hourly_bars_with_its_gaps() -> None:
    # act
    series = read_csv(CSV, "btcusdt")
    # assert
    assert (series.symbol, series.interval, len(series), series.scale) == ("BTCUSDT", "1h", 7477, 8)
    first = series.klines[0]
    assert (first.open_time, first.close_time, first.open, first.close) == (
        1596322800000,
        1596326399999,
        Decimal("11783.31000000"),
        Decimal("11801.17000000"),
    )
    assert series.klines[-1].close == Decimal("37388.05")
    assert int(series.close_units[-1]) == 3738805000000
    assert (series.open_time[1:] - series.open_time[:-1] > 3_600_000).sum() == 7  # the 7 documented gaps


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "interval", "message"),
    [
        ("time,open,high,low,close,volume\n1,1,1,1,1,1\n", None, "header"),
        (HEADER + "0,1,1,1,1,1\n", None, "at least 2 bars"),
        (HEADER + "0,1,1,1,1,1\n60000,1,1,1,1,1\n", "1h", "bars are 1m apart, not 1h"),
        (HEADER + "0,1,1,1,1,1\n60000,1,x,1,1,1\n", None, "not a decimal"),
        (HEADER + "0,1,1,1,1,1\n60000,1,1,1,-2,1\n", None, "not a price"),
        (HEADER + "0,1,1,1,1,1\nlater,1,1,1,1,1\n", None, "not an integer"),
        (HEADER + "0,1,1,1,1,1\n60000,1,1,1,1\n", None, "expected 6 columns"),
        (HEADER + "0,1,1,1,1,1\n7000,1,1,1,1,1\n", None, "match no supported interval"),
        (HEADER + "60000,1,1,1,1,1\n0,1,1,1,1,1\n120000,1,1,1,1,1\n180000,1,1,1,1,1\n", None, "not after"),
    ],
)
def test_a_bad_file_is_refused_naming_the_problem(
    tmp_path: Path, text: str, interval: str | None, message: str
) -> None:
    # arrange
    path = write(tmp_path, text)
    # act / assert
    with pytest.raises(ValueError, match=message):
        read_csv(path, "BTCUSDT", interval)
