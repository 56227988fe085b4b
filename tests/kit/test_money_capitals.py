"""Amounts in Chinese capitals (大写) and figures, as decisions print them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhifa.kit.money import DIGITS, amount_in_capitals, amount_in_figures

UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def read_capitals(text: str) -> int:
    """Read a written amount back into fen (an independent reading of the rules)."""
    assert text.startswith("零元整") or not text.startswith("零")
    body = text.removesuffix("整")
    yuan_text, _, rest = body.partition("元") if "元" in body else ("", "", body)
    fen = 0
    for char, value in (("角", 10), ("分", 1)):
        if char in rest:
            head, _, rest = rest.partition(char)
            fen += DIGITS.index(head[-1]) * value
    return _integer(yuan_text) * 100 + fen


def _integer(text: str) -> int:
    total, section, digit = 0, 0, 0
    for char in text:
        if char in DIGITS:
            digit = DIGITS.index(char)
        elif char in UNITS:
            section += digit * UNITS[char]
            digit = 0
        elif char == "万":
            total, section, digit = total + (section + digit) * 10_000, 0, 0
        elif char == "亿":
            total, section, digit = (total + section + digit) * 100_000_000, 0, 0
    return total + section + digit


class TestWorkedExamples:
    @pytest.mark.parametrize(
        ("fen", "written"),
        [
            (0, "零元整"),
            (5, "伍分"),
            (50, "伍角整"),
            (100, "壹元整"),
            (1_000, "壹拾元整"),
            (1_005, "壹拾元零伍分"),
            (12_345, "壹佰贰拾叁元肆角伍分"),
            (20_000, "贰佰元整"),
            (200_000, "贰仟元整"),
            (300_000, "叁仟元整"),
            (1_500_000, "壹万伍仟元整"),
            (10_700_053, "壹拾万柒仟元伍角叁分"),
            (100_000_100, "壹佰万零壹元整"),
            (10_000_010_000, "壹亿零壹佰元整"),
        ],
    )
    def test_the_amount_is_written_as_payment_rules_require(self, fen: int, written: str) -> None:
        assert amount_in_capitals(fen) == written

    def test_figures_carry_the_yuan_sign_thousands_and_two_decimals(self) -> None:
        assert amount_in_figures(200_000) == "¥2,000.00"
        assert amount_in_figures(1_234_505) == "¥12,345.05"

    @pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
    def test_anything_but_whole_fen_is_refused(self, bad: object) -> None:
        with pytest.raises(ValueError, match="not an amount in fen"):
            amount_in_capitals(bad)  # type: ignore[arg-type]


class TestProperties:
    @given(st.integers(min_value=0, max_value=10**13))
    def test_every_amount_reads_back_to_itself(self, fen: int) -> None:
        assert read_capitals(amount_in_capitals(fen)) == fen

    @given(st.integers(min_value=1, max_value=10**13))
    def test_whole_or_jiao_amounts_end_in_zheng_and_fen_amounts_do_not(self, fen: int) -> None:
        written = amount_in_capitals(fen)
        assert written.endswith("整") == (fen % 10 == 0)
        assert "零零" not in written
