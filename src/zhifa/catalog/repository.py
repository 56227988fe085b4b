"""Every query of the catalog's powers, benchmarks, subject types, check items, checklists and
policy. Rows are always looked up inside one district (the catalog is per district); laws and
provisions live in ``catalog.laws.repository``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.catalog import versions
from zhifa.models.catalog import (
    BenchmarkVersion,
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    DiscretionPolicyVersion,
    Power,
    PowerVersion,
    SubjectType,
)
from zhifa.models.org import Department, District, Officer, Unit


def power(session: Session, district_code: str, code: str) -> Power | None:
    stmt = select(Power).where(Power.district_code == district_code, Power.code == code)
    return session.scalars(stmt).one_or_none()


def powers_by_codes(session: Session, district_code: str, codes: Iterable[str]) -> dict[str, Power]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(Power).where(Power.district_code == district_code, Power.code.in_(wanted))
    return {row.code: row for row in session.scalars(stmt)}


def powers_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Power]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(Power).where(Power.id.in_(wanted)))}


def power_versions(session: Session, power_id: int) -> list[PowerVersion]:
    stmt = (
        select(PowerVersion)
        .where(PowerVersion.power_id == power_id)
        .order_by(PowerVersion.effective_from, PowerVersion.version)
    )
    return list(session.scalars(stmt))


def power_versions_in_force(
    session: Session, district_code: str, on: date
) -> list[tuple[Power, PowerVersion]]:
    """Every power of the district with its version in force on ``on`` (code order)."""
    stmt = (
        select(Power, PowerVersion)
        .join(PowerVersion, PowerVersion.power_id == Power.id)
        .where(Power.district_code == district_code, PowerVersion.effective_from <= on)
        .order_by(Power.code)
    )
    chosen: dict[int, tuple[Power, PowerVersion]] = {}
    for row, version in session.execute(stmt):
        best = chosen.get(row.id)
        if best is None or (version.effective_from, version.version) > (
            best[1].effective_from,
            best[1].version,
        ):
            chosen[row.id] = (row, version)
    return sorted(chosen.values(), key=lambda pair: pair[0].code)


def power_versions_of(
    session: Session, power_ids: Iterable[int], on: date
) -> dict[int, PowerVersion]:
    """The version in force on ``on`` of each power id that has one."""
    wanted = sorted(set(power_ids))
    if not wanted:
        return {}
    stmt = select(PowerVersion).where(
        PowerVersion.power_id.in_(wanted), PowerVersion.effective_from <= on
    )
    by_power: dict[int, list[PowerVersion]] = defaultdict(list)
    for row in session.scalars(stmt):
        by_power[row.power_id].append(row)
    found = {pid: versions.in_force(rows, on) for pid, rows in by_power.items()}
    return {pid: v for pid, v in found.items() if v is not None}


def benchmark_versions(session: Session, power_id: int) -> list[BenchmarkVersion]:
    stmt = (
        select(BenchmarkVersion)
        .where(BenchmarkVersion.power_id == power_id)
        .order_by(BenchmarkVersion.effective_from, BenchmarkVersion.version)
    )
    return list(session.scalars(stmt))


def powers_with_benchmark(session: Session, power_ids: Sequence[int]) -> set[int]:
    if not power_ids:
        return set()
    stmt = select(BenchmarkVersion.power_id).where(BenchmarkVersion.power_id.in_(power_ids))
    return set(session.scalars(stmt.distinct()))


def departments(session: Session, district_code: str) -> list[Department]:
    stmt = select(Department).where(Department.district_code == district_code)
    return list(session.scalars(stmt.order_by(Department.code)))


def department_named(session: Session, district_code: str, code_or_name: str) -> Department | None:
    """A department of the district by code, or else by exact name."""
    for row in departments(session, district_code):
        if code_or_name in (row.code, row.name):
            return row
    return None


def unit_by_code(session: Session, district_code: str, code: str) -> Unit | None:
    stmt = select(Unit).where(Unit.district_code == district_code, Unit.code == code)
    return session.scalars(stmt).one_or_none()


def subject_types(session: Session, district_code: str) -> list[SubjectType]:
    stmt = select(SubjectType).where(SubjectType.district_code == district_code)
    return list(session.scalars(stmt.order_by(SubjectType.code)))


def subject_type(session: Session, district_code: str, code: str) -> SubjectType | None:
    stmt = select(SubjectType).where(
        SubjectType.district_code == district_code, SubjectType.code == code
    )
    return session.scalars(stmt).one_or_none()


def check_item(session: Session, district_code: str, code: str) -> CheckItem | None:
    stmt = select(CheckItem).where(CheckItem.district_code == district_code, CheckItem.code == code)
    return session.scalars(stmt).one_or_none()


def check_items_by_codes(
    session: Session, district_code: str, codes: Iterable[str]
) -> dict[str, CheckItem]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(CheckItem).where(
        CheckItem.district_code == district_code, CheckItem.code.in_(wanted)
    )
    return {row.code: row for row in session.scalars(stmt)}


def check_items_by_ids(session: Session, ids: Iterable[int]) -> dict[int, CheckItem]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(CheckItem).where(CheckItem.id.in_(wanted))
    return {row.id: row for row in session.scalars(stmt)}


def check_item_versions(
    session: Session, item_ids: Iterable[int]
) -> dict[int, list[CheckItemVersion]]:
    wanted = sorted(set(item_ids))
    result: dict[int, list[CheckItemVersion]] = defaultdict(list)
    if not wanted:
        return result
    stmt = select(CheckItemVersion).where(CheckItemVersion.check_item_id.in_(wanted))
    for row in session.scalars(stmt.order_by(CheckItemVersion.version)):
        result[row.check_item_id].append(row)
    return result


def check_items(session: Session, district_code: str) -> list[CheckItem]:
    stmt = select(CheckItem).where(CheckItem.district_code == district_code)
    return list(session.scalars(stmt.order_by(CheckItem.code)))


def checklist(session: Session, district_code: str, code: str) -> Checklist | None:
    stmt = select(Checklist).where(Checklist.district_code == district_code, Checklist.code == code)
    return session.scalars(stmt).one_or_none()


def checklists(
    session: Session, district_code: str, *, subject_type_id: int | None = None
) -> list[Checklist]:
    stmt = select(Checklist).where(Checklist.district_code == district_code)
    if subject_type_id is not None:
        stmt = stmt.where(Checklist.subject_type_id == subject_type_id)
    return list(session.scalars(stmt.order_by(Checklist.code)))


def checklist_versions(
    session: Session, checklist_ids: Iterable[int]
) -> dict[int, list[ChecklistVersion]]:
    wanted = sorted(set(checklist_ids))
    result: dict[int, list[ChecklistVersion]] = defaultdict(list)
    if not wanted:
        return result
    stmt = select(ChecklistVersion).where(ChecklistVersion.checklist_id.in_(wanted))
    for row in session.scalars(stmt.order_by(ChecklistVersion.version)):
        result[row.checklist_id].append(row)
    return result


def policy_versions(session: Session, district_code: str) -> list[DiscretionPolicyVersion]:
    stmt = select(DiscretionPolicyVersion).where(
        DiscretionPolicyVersion.district_code == district_code
    )
    return list(session.scalars(stmt.order_by(DiscretionPolicyVersion.version)))


def benchmark_versions_of(
    session: Session, power_ids: Iterable[int]
) -> dict[int, list[BenchmarkVersion]]:
    """Every benchmark version of each power, in one query."""
    wanted = sorted(set(power_ids))
    result: dict[int, list[BenchmarkVersion]] = defaultdict(list)
    if not wanted:
        return result
    stmt = select(BenchmarkVersion).where(BenchmarkVersion.power_id.in_(wanted))
    for row in session.scalars(stmt.order_by(BenchmarkVersion.version)):
        result[row.power_id].append(row)
    return result


def any_power_note_contains(session: Session, district_code: str, mark: str) -> bool:
    stmt = (
        select(PowerVersion.id)
        .join(Power, Power.id == PowerVersion.power_id)
        .where(Power.district_code == district_code, PowerVersion.note.contains(mark))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def officer_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the officers who recorded versions (for version histories)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    stmt = select(Officer.id, Officer.name).where(Officer.id.in_(wanted))
    return {row.id: row.name for row in session.execute(stmt)}


def active_district(session: Session, code: str) -> District | None:
    row = session.get(District, code) if code.isdigit() else None
    return row if row is not None and row.active else None
