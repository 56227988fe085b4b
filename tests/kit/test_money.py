"""Money's written forms and reading a typed amount: integer fen in, integer fen out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhifa.kit.money import parse_yuan, yuan, yuan_fixed, yuan_plain

FEN = st.integers(min_value=0, max_value=10**14)


class TestWrittenForms:
    @pytest.mark.parametrize(
        ("fen", "grouped", "fixed", "plain"),
        [
            (0, "0", "0.00", "0"),
            (1_500_000, "15,000", "15000.00", "15000"),
            (123_450, "1,234.50", "1234.50", "1234.5"),
            (5, "0.05", "0.05", "0.05"),
        ],
    )
    def test_each_form(self, fen: int, grouped: str, fixed: str, plain: str) -> None:
        assert (yuan(fen), yuan_fixed(fen), yuan_plain(fen)) == (grouped, fixed, plain)


class TestParsing:
    @given(FEN)
    def test_every_written_form_reads_back_to_the_same_fen(self, fen: int) -> None:
        assert parse_yuan(yuan(fen)) == fen
        assert parse_yuan(yuan_fixed(fen)) == fen
        assert parse_yuan(yuan_plain(fen)) == fen

    def test_full_width_digits_as_typed_on_a_chinese_keyboard_are_read(self) -> None:
        assert parse_yuan("１２.５") == 1250

    @pytest.mark.parametrize("text", ["-1", "1.234", "abc", "", "1e3", "NaN"])
    def test_anything_else_is_refused(self, text: str) -> None:
        with pytest.raises(ValueError, match="not an amount"):
            parse_yuan(text)
