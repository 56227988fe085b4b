"""Canonical JSON (RFC 8785, JCS) for ledger envelopes: the exact bytes that get hashed.

This module owns the serialisation of a ledger leaf. Invariants:

- Output is byte-for-byte what RFC 8785 prescribes for the values we accept: object members sorted
  by their keys' UTF-16 code units (not Python's code-point order, which differs once a key holds
  a character outside the BMP), no insignificant whitespace, strings escaped as ECMAScript's
  ``JSON.stringify`` does, UTF-8 encoded.
- Only values with one obvious canonical form get in: no floats (money is in fen), integers within
  ±(2**53 − 1) so every JSON reader sees the same number, ``str`` keys, and strings that are valid
  Unicode already in NFC, so two spellings of the same Chinese text cannot hash differently.
  Anything else raises ``CanonicalError`` naming the path (``payload.items[2].amount``).

The fast path validates in Python, then lets the C JSON encoder write the value; for accepted values
its escaping coincides with RFC 8785's. Validation first tries a walk over the plain built-in types
that keeps no path and copies nothing: when every key is text within the BMP, code-point order is
UTF-16 code-unit order, so the encoder's own ``sort_keys`` gives the canonical member order. Else a
second quick walk builds a copy whose dicts are in canonical key order (keys beyond the BMP), and
anything neither accepts at once (a subclass, a refusal) is walked again by the path-keeping
validator, which alone decides refusals and their messages, so all walks accept and produce exactly
the same values.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_KEY = re.compile(r"[^\W\d]\w*")
_SURROGATE_OR_ASTRAL = re.compile("[\ud800-\udfff\U00010000-\U0010ffff]")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_SORTED_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
)
# The scanner behind ``json.loads``: one whole JSON value from a str position, C-accelerated.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


class CanonicalError(ValueError):
    """A value with no canonical JSON form; the message names where it is."""


class _NotPlain(Exception):
    """The quick walk met a value it leaves to the path-keeping validator."""


def canonical_bytes(obj: object) -> bytes:
    """The RFC 8785 serialisation of ``obj`` as UTF-8 bytes."""
    try:
        _plain_check(obj)
    except _NotPlain:
        pass
    else:
        # Every key is BMP-only text: code-point order (sort_keys) is UTF-16 code-unit order.
        return _SORTED_ENCODER.encode(obj).encode("utf-8")
    try:
        copy = _plain_copy(obj)
    except _NotPlain:
        copy = _canonical_copy(obj, "")
    return _ENCODER.encode(copy).encode("utf-8")


def _plain_check(value: Any) -> None:
    """Accept, without copying, what ``_plain_copy`` accepts and whose keys are all in the BMP;
    else ``_NotPlain``. A value accepted here encodes with ``sort_keys`` to the same text as its
    canonical copy (the same values, every dict's keys in the same order)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or _plain_bmp_key(key)):
                raise _NotPlain
            kind = type(item)
            if kind is str:
                if not (item.isascii() or _plain_unicode(item)):
                    raise _NotPlain
            elif kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    raise _NotPlain
            elif not (item is None or kind is bool):
                _plain_check(item)
    elif kind is str:
        if not (value.isascii() or _plain_unicode(value)):
            raise _NotPlain
    elif kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _NotPlain
    elif kind is list or kind is tuple:
        for item in value:
            _plain_check(item)
    elif not (value is None or kind is bool):
        raise _NotPlain


def _plain_bmp_key(key: str) -> bool:
    return not _SURROGATE_OR_ASTRAL.search(key) and unicodedata.is_normalized("NFC", key)


def loads_json(data: str | bytes | bytearray) -> Any:
    """Exactly ``json.loads(data)``, value or exception, with less overhead per call.

    The fast path takes only text that starts with ``{`` (so ``json.loads`` would detect UTF-8 and
    skip no whitespace) and is one value followed by nothing but JSON whitespace; anything else,
    including every error, is left to ``json.loads`` itself.
    """
    try:
        if isinstance(data, str):
            text = data
        elif data[:1] == b"{":
            text = data.decode("utf-8", "surrogatepass")
        else:
            return json.loads(data)
        if text[:1] == "{":
            value, end = _SCAN(text, 0)
            if end == len(text) or not text[end:].strip(" \t\n\r"):  # json's whitespace
                return value
    except (ValueError, StopIteration):
        pass
    return json.loads(data)


def _plain_copy(value: object) -> Any:
    """``_canonical_copy`` for exact built-in types only, without paths; else ``_NotPlain``."""
    if type(value) is str:
        if value.isascii() or _plain_unicode(value):
            return value
        raise _NotPlain
    if type(value) is dict:
        return _plain_dict(value)
    if type(value) is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return value
        raise _NotPlain
    if value is None or type(value) is bool:
        return value
    if type(value) is list or type(value) is tuple:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


def _plain_dict(value: dict[Any, Any]) -> dict[str, Any]:
    keys = list(value)
    for key in keys:
        if type(key) is not str or not (key.isascii() or _plain_unicode(key)):
            raise _NotPlain
    # ASCII keys sort the same by code point as by UTF-16 code unit.
    if all(key.isascii() for key in keys):
        keys.sort()
    else:
        keys.sort(key=lambda k: k.encode("utf-16-be"))
    return {key: _plain_copy(value[key]) for key in keys}


def _plain_unicode(value: str) -> bool:
    return not _SURROGATE.search(value) and unicodedata.is_normalized("NFC", value)


def _canonical_copy(value: object, path: str) -> Any:
    """Validate ``value`` and return it with every dict rebuilt in canonical key order."""
    # bool before int: True is an int in Python, but JSON's true.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _checked_int(value, path)
    if isinstance(value, str):
        return _checked_str(value, path)
    if isinstance(value, list | tuple):
        return [_canonical_copy(item, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return _canonical_dict(value, path)
    if isinstance(value, float):
        raise CanonicalError(f"{_where(path)}: float {value!r} is refused; use integers (fen, ms)")
    raise CanonicalError(f"{_where(path)}: {type(value).__name__} has no canonical JSON form")


def _canonical_dict(value: dict[Any, Any], path: str) -> dict[str, Any]:
    keys = {}
    for key in value:
        if not isinstance(key, str):
            raise CanonicalError(f"{_where(path)}: key {key!r} is not a string")
        keys[_checked_str(key, _join(path, key))] = key
    # RFC 8785 §3.2.3: compare keys as UTF-16 code units; big-endian bytes sort the same way.
    ordered = sorted(keys, key=lambda k: k.encode("utf-16-be"))
    return {k: _canonical_copy(value[keys[k]], _join(path, k)) for k in ordered}


def _checked_int(value: int, path: str) -> int:
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise CanonicalError(f"{_where(path)}: integer {value} is outside ±(2**53 - 1)")
    # Subclasses (IntEnum …) may override __str__/__repr__; JCS wants the plain number.
    return int.__int__(value)


def _checked_str(value: str, path: str) -> str:
    plain = str.__str__(value)  # the characters themselves, whatever a subclass prints
    if plain.isascii():
        return plain
    if _SURROGATE.search(value):
        raise CanonicalError(f"{_where(path)}: string holds a lone surrogate (not valid Unicode)")
    if not unicodedata.is_normalized("NFC", value):
        raise CanonicalError(f"{_where(path)}: string is not NFC-normalised")
    return plain


def _join(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _where(path: str) -> str:
    return path or "the top-level value"
