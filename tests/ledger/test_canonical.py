"""Canonical JSON: the fast path equals the rfc8785 reference and refuses what has no one form."""

from __future__ import annotations

import json
import unicodedata
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from zhifa.ledger.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_bytes

ENVELOPES: list[Any] = [
    {
        "v": 1,
        "kind": "case.penalty.decided",
        "time_ms": 1_732_838_400_123,
        "district": "510184",
        "actor": {"id": 7, "name": "张三", "unit": "崇州市综合行政执法局"},
        "subject": {"type": "case", "id": "崇综执罚〔2024〕第0012号"},
        "payload": {"amount_fen": 500_000, "reason": "占道经营，责令改正后拒不改正", "final": True},
        "evidence": [
            {"sha256": "ab" * 32, "sm3": "cd" * 32, "size": 1_048_576},
            {"sha256": "ef" * 32, "sm3": "01" * 32, "size": 0},
        ],
        "prev": None,
    },
    {"\U0001f600": "emoji key", "\uff61": "halfwidth ideographic full stop", "a": 0, "€": 1},
    {"\U00020000": "𠀀 CJK Ext. B", "\uffe5": "fullwidth yen", "\ud7ff": "last before surrogates"},
    {"controls": "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f \u2028\u2029", "quote": '"\\/'},
    {"nested": [[[], {}], [1, [2, [3, {"z": [None, False, True]}]]], -MAX_SAFE_INTEGER]},
    {"10": 1, "1": 2, "": 3, "A": 4, "a": 5, "_": 6, "~": 7, "é": 8},
    ["top", "level", "array", MAX_SAFE_INTEGER, -0],
    "执法",
    0,
    None,
    True,
]


class TestMatchesTheReferenceImplementation:
    @pytest.mark.parametrize("value", ENVELOPES)
    def test_sample_envelopes_serialise_exactly_as_rfc8785_does(self, value: Any) -> None:
        assert canonical_bytes(value) == rfc8785.dumps(value)

    def test_keys_sort_by_utf16_code_units_not_by_code_points(self) -> None:
        # U+1F600 is D83D DE00 in UTF-16, which sorts before U+FF61; code points say the opposite.
        value = {"\uff61": 1, "\U0001f600": 2}
        assert canonical_bytes(value) == '{"\U0001f600":2,"\uff61":1}'.encode()
        assert sorted(value) == ["\uff61", "\U0001f600"]

    def test_output_is_compact_utf8_with_json_escapes_only_where_required(self) -> None:
        value = {"b": "中\u2028\x1f\n", "a": [1, True, None]}
        expected = '{"a":[1,true,null],"b":"中\u2028\\u001f\\n"}'.encode()
        assert canonical_bytes(value) == expected

    def test_tuples_are_arrays_and_enum_members_are_their_plain_values(self) -> None:
        class Level(IntEnum):
            HIGH = 3

        class State(StrEnum):
            OPEN = "open"

        value = {"t": (1, Level.HIGH), "s": State.OPEN}
        assert canonical_bytes(value) == b'{"s":"open","t":[1,3]}'


class TestRefusals:
    def test_a_float_is_refused_with_its_path(self) -> None:
        with pytest.raises(CanonicalError, match=r"^payload\.amount: float 12\.5 is refused"):
            canonical_bytes({"payload": {"amount": 12.5}})

    def test_even_a_whole_float_is_refused(self) -> None:
        with pytest.raises(CanonicalError, match=r"^items\[1\]: float 2\.0"):
            canonical_bytes({"items": [1, 2.0]})

    @pytest.mark.parametrize("number", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 10**30])
    def test_integers_beyond_2_to_the_53_are_refused(self, number: int) -> None:
        with pytest.raises(CanonicalError, match=rf"^payload\.n: integer {number} is outside"):
            canonical_bytes({"payload": {"n": number}})

    @pytest.mark.parametrize("key", [1, None, ("a",), b"a"])
    def test_keys_that_are_not_strings_are_refused(self, key: Any) -> None:
        with pytest.raises(CanonicalError, match=r"^payload: key .* is not a string"):
            canonical_bytes({"payload": {key: 1}})

    def test_a_string_that_is_not_nfc_is_refused_and_its_nfc_form_accepted(self) -> None:
        decomposed = "Cafe\u0301 法"
        with pytest.raises(CanonicalError, match=r"^subject\.name: string is not NFC-normalised"):
            canonical_bytes({"subject": {"name": decomposed}})
        composed = unicodedata.normalize("NFC", decomposed)
        assert canonical_bytes({"name": composed}) == rfc8785.dumps({"name": composed})

    def test_a_key_that_is_not_nfc_is_refused(self) -> None:
        with pytest.raises(CanonicalError, match=r"^payload\[\"e\u0301\"\]: string is not NFC"):
            canonical_bytes({"payload": {"e\u0301": 1}})

    def test_a_lone_surrogate_is_refused(self) -> None:
        with pytest.raises(CanonicalError, match=r"^note\[0\]: string holds a lone surrogate"):
            canonical_bytes({"note": ["\ud800 broken"]})

    @pytest.mark.parametrize("value", [b"bytes", {1, 2}, Decimal("1.5"), object()])
    def test_types_without_a_json_form_are_refused(self, value: object) -> None:
        with pytest.raises(CanonicalError, match=r"^a\.b: \w+ has no canonical JSON form"):
            canonical_bytes({"a": {"b": value}})

    def test_the_top_level_value_is_named_when_it_is_the_culprit(self) -> None:
        with pytest.raises(CanonicalError, match="^the top-level value: float"):
            canonical_bytes(1.5)

    def test_keys_that_are_no_identifiers_are_quoted_in_the_path(self) -> None:
        with pytest.raises(CanonicalError, match=r'^a\["x\.y"\]\["金 额"\]: float'):
            canonical_bytes({"a": {"x.y": {"金 额": 0.1}}})


NFC_TEXT = st.text().map(lambda s: unicodedata.normalize("NFC", s))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | NFC_TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(NFC_TEXT, children, max_size=5)
    ),
    max_leaves=30,
)


class TestProperties:
    @given(JSON_VALUES)
    def test_any_json_value_serialises_exactly_as_rfc8785_does(self, value: Any) -> None:
        assert canonical_bytes(value) == rfc8785.dumps(value)

    @given(JSON_VALUES)
    def test_the_bytes_parse_back_to_the_same_value(self, value: Any) -> None:
        assert json.loads(canonical_bytes(value)) == value

    @given(JSON_VALUES, st.floats(allow_nan=True, allow_infinity=True))
    def test_a_float_anywhere_is_refused(self, value: Any, number: float) -> None:
        with pytest.raises(CanonicalError, match="float"):
            canonical_bytes({"wrapper": [value, {"x": number}]})
