"""Chinese numerals as statutes write them: reading, writing, and refusing junk."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhifa.kit.cn_numerals import from_int, to_int


class TestReading:
    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ("一", 1),
            ("十", 10),
            ("十一", 11),
            ("二十", 20),
            ("一百", 100),
            ("一百零五", 105),
            ("一百一十", 110),
            ("一百一十八", 118),
            ("一千", 1000),
            ("一千零一", 1001),
            ("一千零一十", 1010),
            ("一千一百", 1100),
            ("九千九百九十九", 9999),
        ],
    )
    def test_the_statute_form_reads_as_its_value(self, text: str, value: int) -> None:
        assert to_int(text) == value

    @pytest.mark.parametrize(("text", "value"), [("1000", 1000), ("81", 81), ("１１８", 118)])
    def test_arabic_digits_are_accepted(self, text: str, value: int) -> None:
        assert to_int(text) == value

    def test_a_leading_yi_shi_and_a_ling_written_as_circle_are_accepted(self) -> None:
        assert (to_int("一十八"), to_int("一百〇五"), to_int(" 十八 ")) == (18, 105, 18)

    @pytest.mark.parametrize(
        "junk",
        [
            "",
            " ",
            "abc",
            "十十",
            "一一",
            "百",
            "零五",
            "一百五",
            "五零",
            "一万",
            "两百",
            "1十",
            "十-",
        ],
    )
    def test_junk_is_refused_with_a_value_error_quoting_it(self, junk: str) -> None:
        with pytest.raises(ValueError, match="not a") as caught:
            to_int(junk)
        assert repr(junk) in str(caught.value)


class TestWriting:
    @pytest.mark.parametrize(
        ("value", "text"),
        [
            (1, "一"),
            (10, "十"),
            (18, "十八"),
            (20, "二十"),
            (105, "一百零五"),
            (110, "一百一十"),
            (118, "一百一十八"),
            (1001, "一千零一"),
            (1010, "一千零一十"),
            (2020, "二千零二十"),
        ],
    )
    def test_values_are_written_as_statutes_number_articles(self, value: int, text: str) -> None:
        assert from_int(value) == text

    @pytest.mark.parametrize("value", [0, -1, 10000, True])
    def test_values_outside_one_to_9999_are_refused(self, value: int) -> None:
        with pytest.raises(ValueError, match="1 to 9999"):
            from_int(value)


class TestRoundTrip:
    @given(st.integers(min_value=1, max_value=9999))
    def test_every_value_reads_back_from_its_written_form(self, value: int) -> None:
        assert to_int(from_int(value)) == value

    @given(st.integers(min_value=1, max_value=9999))
    def test_every_value_reads_back_from_its_arabic_digits(self, value: int) -> None:
        assert to_int(str(value)) == value
