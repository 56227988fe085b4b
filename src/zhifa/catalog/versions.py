"""Choosing the version in force on a date, and the digest that recognises unchanged content.

The version in force on day D is the one with the latest ``effective_from`` on or before D; of two
with the same date, the higher ``version`` (a later correction of the same rule) wins. Provision
versions follow the same rule on ``effective_on``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol, TypeVar

from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import normalise


class Versioned(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def effective_from(self) -> date: ...


V = TypeVar("V", bound=Versioned)
T = TypeVar("T")


def in_force(versions: Iterable[V], on: date) -> V | None:
    return _latest_started(versions, on, "effective_from")


class ProvisionVersioned(Protocol):
    """A provision version: its start is ``effective_on`` (the statute's word)."""

    @property
    def version(self) -> int: ...

    @property
    def effective_on(self) -> date: ...


P = TypeVar("P", bound=ProvisionVersioned)


def provision_in_force(versions: Iterable[P], on: date) -> P | None:
    """The same rule for the versions of an article (条)."""
    return _latest_started(versions, on, "effective_on")


def _latest_started(rows: Iterable[T], on: date, start: str) -> T | None:
    best: T | None = None
    best_key: tuple[date, int] | None = None
    for row in rows:
        key = (getattr(row, start), getattr(row, "version"))  # noqa: B009 - T is any row
        if key[0] <= on and (best_key is None or key > best_key):
            best, best_key = row, key
    return best


def latest(versions: Iterable[V]) -> V | None:
    """The newest version recorded (which may not be in force yet)."""
    return max(versions, key=lambda v: (v.effective_from, v.version), default=None)


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of a version's content."""
    return hashlib.sha256(canonical_bytes(normalise(content))).hexdigest()


def unchanged(versions: Iterable[V], digest: str, effective_from: date) -> V | None:
    """The version that already says this (same content in force on ``effective_from``), if any.

    Importing a file twice, or saving a form without changes, therefore records nothing."""
    items = list(versions)
    current = in_force(items, effective_from)
    if current is not None and getattr(current, "content_sha256", None) == digest:
        return current
    return next(
        (
            v
            for v in items
            if v.effective_from == effective_from and getattr(v, "content_sha256", None) == digest
        ),
        None,
    )
