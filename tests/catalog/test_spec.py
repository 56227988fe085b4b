"""A discretion benchmark is checked once, when saved: every refusal names where it is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from zhifa.catalog.spec import BenchmarkSpec, parse_benchmark
from zhifa.errors import InvalidInput


def fen(lo: int, hi: int) -> dict[str, Any]:
    return {"kind": "fixed", "min_fen": lo, "max_fen": hi}


def spec(*tiers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"statutory": {"organisation": fen(50_000, 2_000_000)}, "tiers": list(tiers)} | extra


def tier(level: str, formula: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"level": level, "organisation": formula} | extra


def refusal(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        BenchmarkSpec.model_validate(data)
    return str(caught.value.errors()[0]["msg"])


class TestAcceptedBenchmarks:
    def test_three_ordered_tiers_inside_the_statutory_range(self) -> None:
        data = spec(
            tier("lighter", fen(50_000, 620_000)),
            tier("ordinary", fen(620_000, 1_430_000)),
            tier("heavier", fen(1_430_000, 2_000_000)),
        )
        assert len(BenchmarkSpec.model_validate(data).tiers) == 3

    def test_a_per_head_tier_may_exceed_a_total_maximum_it_is_clamped_later(self) -> None:
        data = {
            "facts": [{"key": "minors", "label": "未成年人人数", "kind": "count"}],
            "statutory": {"organisation": {"kind": "up_to", "max_fen": 1_500_000}},
            "tiers": [
                tier(
                    "ordinary",
                    {"kind": "per_unit", "fact": "minors", "min_fen": 300_000, "max_fen": 300_000},
                )
            ],
        }
        assert BenchmarkSpec.model_validate(data).tiers[0].organisation is not None

    def test_a_fixed_and_an_up_to_tier_are_one_kind(self) -> None:
        data = {
            "statutory": {"organisation": {"kind": "up_to", "max_fen": 1_000_000}},
            "tiers": [
                tier("lighter", {"kind": "up_to", "max_fen": 200_000}),
                tier("ordinary", fen(400_000, 600_000)),
            ],
        }
        assert len(BenchmarkSpec.model_validate(data).tiers) == 2


class TestRefusedBenchmarks:
    def test_a_tier_leaving_the_statutory_range(self) -> None:
        assert "leaves the statutory range" in refusal(spec(tier("ordinary", fen(0, 100_000))))

    def test_a_reduced_tier_above_the_statutory_minimum(self) -> None:
        data = spec(tier("reduced", fen(10_000, 60_000)), tier("ordinary", fen(50_000, 100_000)))
        assert "below the statutory minimum" in refusal(data)

    def test_a_reduced_tier_where_the_statute_has_no_minimum(self) -> None:
        data = {
            "statutory": {"organisation": {"kind": "up_to", "max_fen": 100_000}},
            "tiers": [tier("reduced", fen(0, 0)), tier("ordinary", fen(40_000, 60_000))],
        }
        assert "no minimum" in refusal(data)

    def test_a_higher_level_below_a_lower_one(self) -> None:
        data = spec(tier("ordinary", fen(600_000, 900_000)), tier("heavier", fen(500_000, 800_000)))
        assert "heavier tier lies below the ordinary tier" in refusal(data)

    def test_tiers_of_different_kinds_in_one_band(self) -> None:
        data = spec(
            tier("ordinary", fen(600_000, 900_000)),
            tier(
                "heavier",
                {"kind": "per_unit", "fact": "days", "min_fen": 60_000, "max_fen": 90_000},
            ),
            facts=[{"key": "days", "label": "天数", "kind": "count"}],
        )
        assert "different kinds of formula" in refusal(data)

    def test_a_band_without_an_ordinary_tier(self) -> None:
        data = spec(
            tier("ordinary", fen(600_000, 900_000), band="small"),
            tier("heavier", fen(900_000, 1_000_000), band="large"),
            facts=[{"key": "area_m2", "label": "面积", "kind": "quantity"}],
            bands=[
                {
                    "key": "small",
                    "label": "小",
                    "when": [{"fact": "area_m2", "op": "le", "value": 5}],
                },
                {"key": "large", "label": "大"},
            ],
        )
        assert "band 'large' has no 一般" in refusal(data)

    def test_a_formula_reading_an_undeclared_fact(self) -> None:
        formula = {"kind": "per_unit", "fact": "minors", "min_fen": 1, "max_fen": 2}
        data = {"statutory": {"organisation": fen(0, 10)}, "tiers": [tier("ordinary", formula)]}
        assert "not declared" in refusal(data)

    def test_the_api_error_names_the_field(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_benchmark(spec(tier("ordinary", fen(0, 100_000))))
        assert caught.value.detail == {"field": "spec"}
