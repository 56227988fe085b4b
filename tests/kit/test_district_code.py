import pytest
from hypothesis import given
from hypothesis import strategies as st

from zhifa.errors import InvalidInput
from zhifa.kit.district_code import city_code_of, is_district_code, validate_district_code


class TestValidDistrictCodes:
    @pytest.mark.parametrize("code", ["510184", "510104", "110105", "820001"])
    def test_real_county_level_codes_are_accepted(self, code: str) -> None:
        assert validate_district_code(code) == code

    def test_surrounding_blanks_are_trimmed(self) -> None:
        assert validate_district_code(" 510184 ") == "510184"

    def test_city_code_is_the_first_four_digits_and_00(self) -> None:
        assert city_code_of("510184") == "510100"


class TestInvalidDistrictCodes:
    @pytest.mark.parametrize(
        "code",
        ["", "51018", "5101840", "51018a", "510100", "990184", "００００００", "51 184"],
    )
    def test_is_refused_with_the_value_in_the_detail(self, code: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            validate_district_code(code)
        assert caught.value.detail == {"field": "district_code", "value": code.strip()}
        assert caught.value.status_code == 422

    @given(st.text(max_size=8))
    def test_anything_accepted_is_six_ascii_digits_not_ending_00(self, value: str) -> None:
        if is_district_code(value):
            assert len(value) == 6
            assert value.isascii()
            assert value.isdigit()
            assert not value.endswith("00")
