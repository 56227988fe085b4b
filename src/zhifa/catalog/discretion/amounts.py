"""Formula arithmetic: a benchmark formula and the facts give a concrete range of fen.

Everything is ``Decimal``; what comes out is whole fen. A range's low end is rounded up and its
high end down (so a rounded range never leaves the exact one); a recommendation is rounded half-up
to the fen, then to whole yuan when the policy asks for it and the yuan figure stays in the range.

- FIXED ``[min, max]``; UP_TO ``[0, max]``;
- PER_UNIT ``units × [min, max]``, MULTIPLE ``base × [min, max]``,
  PERCENT ``base × [min, max] / 100``, each then capped at ``cap_fen`` when the formula has a cap;
- NONE: no amount (``concrete`` returns ``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from zhifa.catalog.spec import Formula, FormulaKind

# Facts are bounded (see ``facts.py``), so 60 digits never round a product.
_CONTEXT = Context(prec=60)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class FenRange:
    lo: int
    hi: int

    def __contains__(self, fen: object) -> bool:
        return isinstance(fen, int) and self.lo <= fen <= self.hi


@dataclass(frozen=True)
class Computation:
    """A formula applied to the facts: the range, and what it was computed from."""

    formula: Formula
    range: FenRange
    base: Decimal | None = None  # units (PER_UNIT) or fen (MULTIPLE, PERCENT)
    uncapped: FenRange | None = None  # the range before the cap, when the cap changed it


def concrete(formula: Formula, facts: Mapping[str, Decimal]) -> Computation | None:
    """The formula's range in fen for these facts; ``None`` for a formula without a fine."""
    if formula.kind is FormulaKind.NONE:
        return None
    with localcontext(_CONTEXT):
        base = facts[formula.fact] if formula.fact is not None else None
        lo, hi = _exact(formula, base)
        uncapped = _rounded(lo, hi)
        if formula.cap_fen is not None:
            cap = Decimal(formula.cap_fen)
            lo, hi = min(lo, cap), min(hi, cap)
        rounded = _rounded(lo, hi)
    changed = uncapped if rounded != uncapped else None
    return Computation(formula, rounded, base, changed)


def _exact(formula: Formula, base: Decimal | None) -> tuple[Decimal, Decimal]:
    low, high = formula.bounds()
    assert low is not None
    assert high is not None
    if formula.kind in (FormulaKind.FIXED, FormulaKind.UP_TO):
        return low, high
    assert base is not None  # the spec guarantees a fact for these kinds
    if formula.kind is FormulaKind.PERCENT:
        return base * low / _HUNDRED, base * high / _HUNDRED
    return base * low, base * high


def _rounded(lo: Decimal, hi: Decimal) -> FenRange:
    low = int(lo.to_integral_value(rounding=ROUND_CEILING))
    high = int(hi.to_integral_value(rounding=ROUND_FLOOR))
    # lo == hi with a fraction of a fen: never above the exact maximum.
    return FenRange(min(low, high), high)


def clamp(inner: FenRange, outer: FenRange) -> FenRange:
    """``inner`` moved inside ``outer`` (a range wholly outside collapses onto the nearer end)."""
    lo = min(max(inner.lo, outer.lo), outer.hi)
    hi = max(min(inner.hi, outer.hi), outer.lo)
    return FenRange(lo, hi)


def recommend(span: FenRange, position: Decimal, *, round_to_yuan: bool) -> int:
    """``lo + (hi − lo) × position``, half-up to the fen, then to the yuan if it stays inside."""
    with localcontext(_CONTEXT):
        exact = Decimal(span.lo) + (Decimal(span.hi) - Decimal(span.lo)) * position
        fen = int(exact.to_integral_value(rounding=ROUND_HALF_UP))
        if round_to_yuan:
            yuan = (Decimal(fen) / _HUNDRED).quantize(_ONE, rounding=ROUND_HALF_UP)
            whole = int(yuan * _HUNDRED)
            if whole in span:
                return whole
    return fen
