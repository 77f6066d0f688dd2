"""docs/configuration.md is generated from the settings classes and must stay current."""

from __future__ import annotations

from pathlib import Path

from algo_trade.config_reference import render

DOC = Path(__file__).parents[3] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    assert DOC.read_text() == render(), (
        "regenerate: uv run python -m algo_trade.config_reference > docs/configuration.md"
    )


def test_every_variable_is_documented() -> None:
    undocumented = [line for line in render().splitlines() if line.startswith("| `") and line.endswith("|  |")]
    assert undocumented == []
