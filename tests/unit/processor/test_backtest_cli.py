"""``algo-trade backtest`` on the reference file: summary, exact files, the plot, the progress path, errors."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from typer.testing import CliRunner

from algo_trade import backtest_command
from algo_trade.cli import app

CSV = Path(__file__).parents[2] / "fixtures" / "btcusdt-1h.csv"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def backtest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["backtest", "--data", str(CSV), *args])
    return result.exit_code, result.output


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("engine", ["event", "vector"])
def test_backtest_prints_the_reference_summary_and_writes_exact_files(tmp_path: Path, engine: str) -> None:
    # act
    code, output = backtest("--fast", "10", "--slow", "30", "--fee", "0", "--engine", engine, "--out", str(tmp_path))
    # assert: the summary table
    assert code == 0, output
    assert "1,020,688.98" in output
    assert "16,171.70" in output
    # trades.csv: 157 closed round trips and the open one
    trades = rows(tmp_path / "trades.csv")
    assert len(trades) == 158
    assert (trades[0]["entry_bar"], trades[0]["entry_price"], trades[0]["exit_price"]) == (
        "37",
        "11231.15000000",
        "11220.59000000",
    )
    assert trades[-1]["exit_time"] == "open"
    assert sum(Decimal(t["pnl"]) for t in trades[:-1]) == Decimal("16171.70")
    # equity.csv: one exact row per bar
    equity = rows(tmp_path / "equity.csv")
    assert len(equity) == 7477
    assert (equity[-1]["time"], equity[-1]["equity"]) == ("2021-06-10 00:00:00", "1020688.98000000")
    # summary.json and the plot
    summary = msgspec.json.decode((tmp_path / "summary.json").read_bytes())
    assert summary["summary"]["final_equity"] == "1020688.98000000"
    assert summary["summary"]["closed_trades"] == 157
    png = (tmp_path / "equity.png").read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 20_000


def test_backtest_with_fees_slippage_and_close_fills_changes_the_money(tmp_path: Path) -> None:
    # act
    code, output = backtest(
        "--fast", "50", "--slow", "200", "--fee", "0.001", "--slippage", "0.0005", "--fill", "close",
        "--quantity", "0.5", "--out", str(tmp_path),
    )  # fmt: skip
    # assert
    assert code == 0, output
    summary = msgspec.json.decode((tmp_path / "summary.json").read_bytes())
    assert summary["config"] == {
        "cash": "1000000",
        "quantity": "0.5",
        "fee_rate": "0.001",
        "slippage": "0.0005",
        "fill": "close",
    }
    assert Decimal(summary["summary"]["fees"]) > 0
    trades = rows(tmp_path / "trades.csv")
    assert all(Decimal(t["quantity"]) == Decimal("0.5") for t in trades)


def test_ema_rsi_runs_through_the_event_driven_engine_with_a_progress_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # arrange: show the progress bar even for this short file
    monkeypatch.setattr(backtest_command, "PROGRESS_MIN_BARS", 100)
    # act
    code, output = backtest("--strategy", "ema-rsi", "--fast", "12", "--slow", "26", "--out", str(tmp_path))
    # assert
    assert code == 0, output
    assert "ema_rsi" in output
    assert "overbought=70" in output
    assert len(rows(tmp_path / "trades.csv")) > 10


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--strategy", "ema-rsi", "--engine", "vector"], 1, "runs sma-cross only"),
        (["--fast", "200", "--slow", "50"], 1, "need 1 <= fast < slow"),
        (["--fee", "lots"], 2, "not a decimal number"),
        (["--interval", "1d"], 1, "not 1d"),
        (["--cash", "0"], 1, "must be > 0"),
        (["--strategy", "macd"], 2, "macd"),
    ],
)
def test_bad_options_fail_with_a_message(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    # act
    exit_code, output = backtest(*args, "--out", str(tmp_path))
    # assert
    assert exit_code == code
    assert message in " ".join(output.split())
    assert not (tmp_path / "trades.csv").exists()
