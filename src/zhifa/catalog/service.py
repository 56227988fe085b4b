"""Rules for powers (权力事项), their discretion benchmarks (裁量基准) and the district's discretion
policy.

Invariants:
- A change is a new version with an effective date; nothing is overwritten (the version tables
  refuse UPDATE and DELETE). The same content already in force on that date records nothing.
- Citations are resolved against the law revision in force on the version's effective date; a
  citation that does not exist is refused, naming it.
- A benchmark belongs to a 行政处罚 power and gives a statutory range for every party type the power
  applies to on its effective date.
- Every recorded version is a ledger event in the caller's transaction (its state is in the entry).
Services never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.catalog import repository as repo
from zhifa.catalog import versions
from zhifa.catalog.laws import citations as cite
from zhifa.catalog.policy import DEFAULT_POLICY, PolicySpec
from zhifa.catalog.schemas import (
    BenchmarkVersionIn,
    PolicyRead,
    PolicyVersionIn,
    PowerCreate,
    PowerVersionIn,
)
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.models.catalog import (
    BenchmarkVersion,
    CitationRole,
    DiscretionPolicyVersion,
    Power,
    PowerKind,
    PowerVersion,
)
from zhifa.org.actor import Actor


@dataclass(frozen=True)
class Author:
    """Who records a change, in which district, through which channel (for the ledger)."""

    officer_id: int | None
    district_code: str
    via: str

    @classmethod
    def of(cls, actor: Actor) -> Author:
        return cls(actor.officer_id, actor.district_code, actor.via)


@dataclass(frozen=True)
class Written:
    code: str
    version: int
    effective_from: date
    created: bool


def _record(
    session: Session, author: Author, kind: str, row: object, payload: dict[str, Any]
) -> None:
    ledger.record(
        session,
        kind,
        row,  # type: ignore[arg-type]
        payload | {"via": author.via},
        actor_id=author.officer_id,
        district_code=author.district_code,
    )


@dataclass(frozen=True)
class Change:
    """A version to record: for ``catalog.<kind>.created`` / ``.versioned`` events, the code, the
    version's content columns, its effective date and its note."""

    kind: str
    code: str
    content: dict[str, Any]
    effective_from: date
    note: str


def record_version(
    session: Session,
    author: Author,
    change: Change,
    *,
    identity: Any,
    existing: Sequence[Any],
    new_identity: Callable[[], Any],
    version_model: type[Any],
    parent_key: str,
) -> Written:
    """Record ``change`` as the next version of ``identity`` (created when None), unless the same
    content is already in force on its date; each row written is a ledger event."""
    digest = versions.content_digest(change.content)
    same = versions.unchanged(existing, digest, change.effective_from)
    if same is not None:
        return Written(change.code, same.version, same.effective_from, created=False)
    need_note(change.note, len(existing))
    if identity is None:
        identity = new_identity()
        session.add(identity)
        session.flush()
        _record(session, author, f"catalog.{change.kind}.created", identity, {"code": change.code})
    row = version_model(
        version=len(existing) + 1,
        effective_from=change.effective_from,
        note=change.note,
        content_sha256=digest,
        recorded_by_id=author.officer_id,
        **{parent_key: identity.id},
        **change.content,
    )
    session.add(row)
    session.flush()
    payload = {"code": change.code, "version": row.version, "effective_from": change.effective_from}
    _record(session, author, f"catalog.{change.kind}.versioned", row, payload)
    return Written(change.code, row.version, row.effective_from, created=True)


def need_note(note: str, existing: int) -> None:
    if existing and not note.strip():
        raise InvalidInput(
            "Say why this version is recorded (the version note).", detail={"field": "note"}
        )


class PowerService:
    def get_power(self, session: Session, district_code: str, code: str) -> Power:
        row = repo.power(session, district_code, code)
        if row is None:
            raise NotFound(
                "Power {code} is not in the catalog of district {district}.",
                detail={"field": "code"},
                code=code,
                district=district_code,
            )
        return row

    def create(self, session: Session, actor: Actor, *, data: PowerCreate) -> Written:
        if repo.power(session, actor.district_code, data.code) is not None:
            raise Conflict(
                "Power {code} already exists; record a new version instead.", code=data.code
            )
        content = PowerVersionIn.model_validate(data.model_dump(exclude={"code"}))
        return self.put(session, Author.of(actor), code=data.code, data=content)

    def revise(self, session: Session, actor: Actor, *, code: str, data: PowerVersionIn) -> Written:
        self.get_power(session, actor.district_code, code)
        return self.put(session, Author.of(actor), code=code, data=data)

    def put(self, session: Session, author: Author, *, code: str, data: PowerVersionIn) -> Written:
        """Record ``data`` as the power's version from its effective date (creating the power)."""
        content = self._content(session, author.district_code, data)
        row = repo.power(session, author.district_code, code)
        return record_version(
            session,
            author,
            Change("power", code, content, data.effective_from, data.note),
            identity=row,
            existing=repo.power_versions(session, row.id) if row is not None else [],
            new_identity=lambda: Power(district_code=author.district_code, code=code),
            version_model=PowerVersion,
            parent_key="power_id",
        )

    def _content(
        self, session: Session, district_code: str, data: PowerVersionIn
    ) -> dict[str, Any]:
        department = repo.department_named(session, district_code, data.department)
        if department is None:
            raise InvalidInput(
                "Department {department} does not exist in this district.",
                detail={"field": "department"},
                department=data.department,
            )
        responsibility = data.responsibility.model_dump(mode="json")
        unit_code = data.responsibility.unit_code
        if unit_code and repo.unit_by_code(session, district_code, unit_code) is None:
            raise InvalidInput(
                "Unit {unit} does not exist in this district.",
                detail={"field": "responsibility.unit_code"},
                unit=unit_code,
            )
        if data.kind is PowerKind.PENALTY and not (data.violated.strip() and data.penalty.strip()):
            raise InvalidInput(
                "A penalty power needs both the provision violated and the penalty provision.",
                detail={"field": "penalty" if data.violated.strip() else "violated"},
            )
        cited = self._citations(session, data)
        return {
            "name": data.name.strip(),
            "kind": data.kind.value,
            "department_id": department.id,
            "party_types": [p.value for p in data.party_types],
            "penalty_text": data.penalty_text.strip(),
            "responsibility": responsibility,
            "status": data.status.value,
            "citations": cited,
        }

    def _citations(self, session: Session, data: PowerVersionIn) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for role, text, field in (
            (CitationRole.VIOLATED, data.violated, "violated"),
            (CitationRole.PENALTY, data.penalty, "penalty"),
        ):
            try:
                refs = cite.parse_citations(text)
                resolved = cite.resolve(session, refs, on=data.effective_from)
            except InvalidInput as exc:
                exc.detail = {"field": field}
                raise
            found += [
                {
                    "role": role.value,
                    "provision_id": r.provision.id,
                    "paragraph": r.ref.paragraph,
                    "item": r.ref.item,
                }
                for r in resolved
            ]
        return found


class BenchmarkService:
    def put(
        self, session: Session, author: Author, *, code: str, data: BenchmarkVersionIn
    ) -> Written:
        power = power_service.get_power(session, author.district_code, code)
        power_version = versions.in_force(
            repo.power_versions(session, power.id), data.effective_from
        )
        if power_version is None:
            raise InvalidInput(
                "Power {code} has no version in force on {date}; record the power first.",
                detail={"field": "effective_from"},
                code=code,
                date=data.effective_from.isoformat(),
            )
        self._check_fits(code, power_version, data.spec)
        spec = data.spec.model_dump(mode="json", exclude_none=True)
        digest = versions.content_digest(spec)
        existing = repo.benchmark_versions(session, power.id)
        same = versions.unchanged(existing, digest, data.effective_from)
        if same is not None:
            return Written(code, same.version, same.effective_from, created=False)
        need_note(data.note, len(existing))
        row = BenchmarkVersion(
            power_id=power.id,
            version=len(existing) + 1,
            effective_from=data.effective_from,
            note=data.note,
            content_sha256=digest,
            recorded_by_id=author.officer_id,
            spec=spec,
        )
        session.add(row)
        session.flush()
        _record(
            session,
            author,
            "catalog.benchmark.versioned",
            row,
            {"code": code, "version": row.version, "effective_from": data.effective_from},
        )
        return Written(code, row.version, row.effective_from, created=True)

    def revise(
        self, session: Session, actor: Actor, *, code: str, data: BenchmarkVersionIn
    ) -> Written:
        return self.put(session, Author.of(actor), code=code, data=data)

    def _check_fits(self, code: str, power_version: PowerVersion, spec: BenchmarkSpec) -> None:
        if power_version.kind != PowerKind.PENALTY:
            raise Conflict(
                "Power {code} is not an administrative penalty; it has no discretion benchmark.",
                code=code,
            )
        for party in power_version.party_types:
            if getattr(spec.statutory, party) is None:
                raise InvalidInput(
                    "Power {code} applies to {party}, but the benchmark gives no statutory range "
                    "for it.",
                    detail={"field": f"spec.statutory.{party}"},
                    code=code,
                    party=party,
                )


class PolicyService:
    def current(self, session: Session, district_code: str, on: date) -> PolicyRead:
        row = versions.in_force(repo.policy_versions(session, district_code), on)
        if row is None:
            return PolicyRead(version=None, effective_from=None, note="", spec=DEFAULT_POLICY)
        return PolicyRead(
            version=row.version,
            effective_from=row.effective_from,
            note=row.note,
            spec=PolicySpec.model_validate(row.spec),
        )

    def revise(self, session: Session, actor: Actor, *, data: PolicyVersionIn) -> Written:
        author = Author.of(actor)
        spec = data.spec.model_dump(mode="json")
        digest = versions.content_digest(spec)
        existing = repo.policy_versions(session, author.district_code)
        same = versions.unchanged(existing, digest, data.effective_from)
        if same is not None:
            return Written("policy", same.version, same.effective_from, created=False)
        row = DiscretionPolicyVersion(
            district_code=author.district_code,
            version=len(existing) + 1,
            effective_from=data.effective_from,
            note=data.note,
            content_sha256=digest,
            recorded_by_id=author.officer_id,
            spec=spec,
        )
        session.add(row)
        session.flush()
        _record(
            session,
            author,
            "catalog.policy.versioned",
            row,
            {"version": row.version, "effective_from": data.effective_from},
        )
        return Written("policy", row.version, row.effective_from, created=True)


power_service = PowerService()
benchmark_service = BenchmarkService()
policy_service = PolicyService()
