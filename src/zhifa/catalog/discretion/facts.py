"""Rule 1 of the engine: check the input before anything is computed.

Every refusal is ``InvalidInput`` (422) naming the field: ``party_type``, ``facts.<key>``,
``circumstances``, ``act_date``, ``discovered_on``, ``continuing_until``, ``mitigation``.
Facts are read by the kind the benchmark declares: money in whole fen, counts as whole numbers,
quantities as decimals; none may be negative, NaN or infinite, and a key no benchmark in play
declares is refused (a typo must not silently change nothing).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from zhifa.catalog.discretion.model import Candidate
from zhifa.catalog.policy import CONTRADICTIONS, MANDATORY_MITIGATING, Circumstance
from zhifa.catalog.spec import BenchmarkSpec, FactKind, PartyType
from zhifa.errors import InvalidInput

# Upper bounds keep every product inside exact Decimal arithmetic (see amounts.py).
MAX_MONEY_FEN = 10**15
MAX_COUNT = 10**9
MAX_QUANTITY = Decimal(10) ** 12
MITIGATIONS = ("lighter", "reduced")


def check_dates(
    act_date: date,
    decision_date: date,
    discovered_on: date | None,
    continuing_until: date | None,
) -> None:
    if act_date > decision_date:
        raise InvalidInput(
            "The act date cannot be after the decision date.", detail={"field": "act_date"}
        )
    if discovered_on is not None and discovered_on < act_date:
        raise InvalidInput(
            "The act cannot have been discovered before it took place.",
            detail={"field": "discovered_on"},
        )
    if continuing_until is not None and continuing_until < act_date:
        raise InvalidInput(
            "A continuing act cannot end before it began.", detail={"field": "continuing_until"}
        )


def party_type(value: str) -> PartyType:
    try:
        return PartyType(value)
    except ValueError:
        raise InvalidInput(
            "Unknown party type: {value}. Use person or organisation.",
            detail={"field": "party_type"},
            value=value,
        ) from None


def applies_to(candidate: Candidate, party: PartyType) -> bool:
    """The power version lists the party type and its benchmark has a statutory range for it."""
    listed = str(party) in candidate.power.party_types
    return listed and candidate.spec.statutory.formula(party) is not None


def require_party(candidate: Candidate, party: PartyType) -> None:
    if not applies_to(candidate, party):
        raise InvalidInput(
            "The power {code} does not apply to this party type ({party_type}).",
            detail={"field": "party_type"},
            code=candidate.power.code,
            party_type=str(party),
        )


def circumstances(values: Iterable[str]) -> frozenset[Circumstance]:
    found: set[Circumstance] = set()
    for value in values:
        try:
            found.add(Circumstance(value))
        except ValueError:
            raise InvalidInput(
                "Unknown circumstance: {value}.",
                detail={"field": "circumstances", "value": value},
                value=value,
            ) from None
    for first, second in CONTRADICTIONS:
        if first in found and second in found:
            raise InvalidInput(
                "The circumstances {first} and {second} cannot both be true of one act.",
                detail={"field": "circumstances", "values": [str(first), str(second)]},
                first=str(first),
                second=str(second),
            )
    return frozenset(found)


def mitigation(value: str | None, found: frozenset[Circumstance]) -> str | None:
    """None, "lighter" or "reduced" (减轻, only with a circumstance that requires mitigation)."""
    if value and value not in MITIGATIONS:
        raise InvalidInput(
            "Unknown mitigation choice: {value}. Use lighter or reduced.",
            detail={"field": "mitigation"},
            value=value,
        )
    if value == "reduced" and not found & MANDATORY_MITIGATING:
        raise InvalidInput(
            "A reduced penalty (减轻) needs a circumstance for which the law requires mitigation "
            "(aged 14 to 18, coerced, confessed …).",
            detail={"field": "mitigation"},
        )
    return value or None


def read_facts(
    raw: Mapping[str, object], specs: Iterable[tuple[BenchmarkSpec, PartyType, str]]
) -> dict[str, Decimal]:
    """The facts as Decimals, checked against every benchmark in play.

    ``specs`` are (benchmark, party, power code): each must find every fact its party's formulas
    and its bands read; a key that no benchmark declares is refused."""
    specs = list(specs)
    kinds: dict[str, set[FactKind]] = {}
    for spec, _party, _code in specs:
        for fact in spec.facts:
            kinds.setdefault(fact.key, set()).add(fact.kind)
    values: dict[str, Decimal] = {}
    for key, value in raw.items():
        if key not in kinds:
            raise InvalidInput(
                "Unknown fact: {fact}. The benchmark does not use it.",
                detail={"field": _field(key)},
                fact=key,
            )
        for kind in sorted(kinds[key]):
            values[key] = _value(key, kind, value)
    for spec, party, code in specs:
        for key in sorted(needed(spec, party)):
            if key not in values:
                raise InvalidInput(
                    "The fact {fact} is needed to compute the fine of {code} but was not given.",
                    detail={"field": _field(key)},
                    fact=key,
                    code=code,
                )
    return values


def needed(spec: BenchmarkSpec, party: PartyType) -> set[str]:
    """The facts the party's formulas (statutory and tiers) and the bands read."""
    formulas = [spec.statutory.formula(party), *(t.formula(party) for t in spec.tiers)]
    keys = {f.fact for f in formulas if f is not None and f.fact is not None}
    return keys | {c.fact for band in spec.bands for c in band.when}


def _value(key: str, kind: FactKind, value: object) -> Decimal:
    if kind is FactKind.MONEY:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MONEY_FEN:
            raise InvalidInput(
                "The fact {fact} is an amount of money in fen: give a whole number, 0 or more.",
                detail={"field": _field(key)},
                fact=key,
            )
        return Decimal(value)
    if kind is FactKind.COUNT:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise InvalidInput(
                "The fact {fact} is a count: give a whole number, 0 or more.",
                detail={"field": _field(key)},
                fact=key,
            )
        return Decimal(value)
    number = _decimal(value)
    if number is None or not number.is_finite() or not 0 <= number <= MAX_QUANTITY:
        raise InvalidInput(
            "The fact {fact} is a quantity: give a number, 0 or more.",
            detail={"field": _field(key)},
            fact=key,
        )
    return number


def _field(key: str) -> str:
    return "facts." + key


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, float | str):
            return Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return None
