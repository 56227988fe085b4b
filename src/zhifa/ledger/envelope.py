"""The leaf format: a canonical JSON envelope (RFC 8785 data model), format version 1.

    {"v": 1, "kind": …, "time": <ms since epoch>, "district": <code|null>, "actor": <id|null>,
     "subject": {"type": …, "id": …}, "payload": {…}, "evidence": [<sha256 hex>…],
     "prev": <base64 leaf hash of the subject's previous entry | null>}

Payloads are normalised before they are hashed so they fit the canonical data model: no floats
(a float becomes its shortest round-trip decimal string; money is integer fen anyway), dates and
times as ISO 8601 strings (aware times in UTC), enums as their values, bytes as base64, strings NFC.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from zhifa.ledger.canonical import canonical_bytes

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Pending:
    """An event recorded in a transaction, waiting for its leaf index at commit."""

    kind: str
    time_ms: int
    district_code: str | None
    actor_id: int | None
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    evidence: tuple[str, ...] = ()
    # The ledgered row itself, whose state is taken at commit (not part of the envelope).
    row: object | None = field(default=None, compare=False)

    def with_state(self) -> Pending:
        """This event with the row's state at commit in its payload (if the row is ledgered)."""
        state = ledger_state(self.row) if self.row is not None else None
        if state is None:
            return self
        return Pending(**{**self.__dict__, "payload": {**self.payload, "state": state}})


def ledger_state(row: object) -> dict[str, Any] | None:
    """The ledgered fields of a row (``__ledger_fields__``), secrets only as SHA-256 digests."""
    fields: tuple[str, ...] | None = getattr(type(row), "__ledger_fields__", None)
    if fields is None:
        return None
    state = {name: normalise(getattr(row, name)) for name in fields}
    for name in getattr(type(row), "__ledger_digest_fields__", ()):
        value = getattr(row, name)
        state[f"{name}_sha256"] = hashlib.sha256(str(value).encode()).hexdigest()
    return state


def normalise(value: Any) -> Any:
    """Turn a payload value into the canonical JSON data model (see the module docstring)."""
    # The exact built-in types first, as the general rules below treat them.
    kind = type(value)
    if kind is str:
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {normalise(str(k)): normalise(v) for k, v in value.items()}
    if kind is list:
        return [normalise(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, float | Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        # An aware time is written in UTC, as the database hands it back: a row recorded with a
        # +08:00 time in memory must read the same when verified later.
        return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {normalise(str(k)): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [normalise(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"cannot put a {type(value).__name__} into a ledger payload")


def envelope(event: Pending, prev_hash: bytes | None) -> dict[str, Any]:
    return {
        "v": FORMAT_VERSION,
        "kind": event.kind,
        "time": event.time_ms,
        "district": event.district_code,
        "actor": event.actor_id,
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "payload": event.payload,
        "evidence": list(event.evidence),
        "prev": base64.b64encode(prev_hash).decode() if prev_hash is not None else None,
    }


def body_of(event: Pending, prev_hash: bytes | None) -> bytes:
    """The exact bytes that become the leaf."""
    return canonical_bytes(envelope(event, prev_hash))
