"""A world for the subject registry tests: the shared field world (district 510184, squad ZD01 with
grid WG01, squad ZD02 with WG02, officers, the café) plus more subject types, a district-scope
administrator and a district-scope leader, and builders for valid 统一社会信用代码 and 居民身份证号
numbers (check characters computed by python-stdnum, the numbers themselves fictional)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from tests import factories
from tests.field import DISTRICT, GRID_LAT, GRID_LON, FieldWorld, field_world
from zhifa.catalog.checklists import subject_type_service
from zhifa.catalog.schemas import SubjectTypeIn
from zhifa.kit.clock import SHANGHAI, today_local
from zhifa.models.documents import Document, DocumentType
from zhifa.models.inspections import (
    AnswerResult,
    Blob,
    CaseLead,
    Inspection,
    InspectionAmendment,
    InspectionAnswer,
    InspectionStatus,
    Measure,
    TaskStatus,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role
from zhifa.subjects.idcard import IdCardKeys, keys_for

SECRET = "test-secret-not-for-production"  # the `settings` fixture's secret
# Inside WG01 (squad ZD01) and WG02 (squad ZD02); outside every grid.
IN_OWN = (GRID_LON + 0.003, GRID_LAT + 0.004)
IN_OTHER = (GRID_LON + 0.023, GRID_LAT + 0.004)
OUTSIDE = (GRID_LON + 0.05, GRID_LAT + 0.05)


def make_uscc(n: int) -> str:
    """A valid fictional 统一社会信用代码: 9151018 4MA6C + five digits + the check character."""
    body = f"91510184MA6C{n:05d}"
    return body + uscc.calc_check_digit(body)


def make_ric(n: int, born: str = "19800101") -> str:
    """A valid fictional 居民身份证号 of 510184 (崇州)."""
    body = f"510184{born}{n:03d}"
    return body + ric.calc_check_digit(body + "0")  # it ignores the last character


@dataclass
class World:
    field: FieldWorld
    admin: Officer  # system admin, district scope: subjects:manage, no reveal
    leader: Officer  # bureau leader, district scope: reveal, no manage

    def actor(self, session: Session, officer: Officer) -> Actor:
        return actor_for(session, officer, via="session")

    @property
    def keys(self) -> IdCardKeys:
        return keys_for(SECRET)


def subjects_world(session: Session) -> World:
    field = field_world(session)
    for code, name in (
        ("restaurant", "餐饮店"),
        ("street_vendor", "流动摊贩"),
        ("construction_site", "建筑工地"),
    ):
        subject_type_service.ensure(session, field.author, data=SubjectTypeIn(code=code, name=name))
    subject_type_service.ensure(
        session, field.author, data=SubjectTypeIn(code="old_type", name="旧类型", active=False)
    )
    admin = factories.officer(
        session, DISTRICT, "admin.qian", [Role.SYSTEM_ADMIN], unit=field.bureau, name="钱管理"
    )
    leader = factories.officer(
        session, DISTRICT, "leader.zhou", [Role.LEADER], unit=field.bureau, name="周局长"
    )
    session.flush()
    return World(field, admin, leader)


def enterprise(n: int = 1, at: tuple[float, float] = IN_OWN, **changes: Any) -> dict[str, Any]:
    """A valid enterprise body for POST /api/v1/subjects (and ``SubjectIn``)."""
    lon, lat = at
    body: dict[str, Any] = {
        "kind": "enterprise",
        "name": f"崇州市示例餐饮有限公司{n}",
        "uscc": make_uscc(n).lower(),
        "representative": "王五",
        "phone": "028-82000001",
        "address": f"崇州市崇阳街道示例路{n}号",
        "subject_type": "restaurant",
        "risk_level": "medium",
        "lon": lon,
        "lat": lat,
        "geofence_radius_m": 50,
        "licences": [
            {"name": "食品经营许可证", "number": "JY15101840000001", "issuer": "崇州市市场监管局"}
        ],
    }
    return body | changes


def person(n: int = 1, at: tuple[float, float] = IN_OWN, **changes: Any) -> dict[str, Any]:
    lon, lat = at
    body: dict[str, Any] = {
        "kind": "person",
        "name": f"赵某{n}",
        "id_card": make_ric(n),
        "address": f"崇州市崇阳街道示例巷{n}号",
        "subject_type": "street_vendor",
        "lon": lon,
        "lat": lat,
        "geofence_radius_m": 30,
    }
    return body | changes


def events(session: Session, kind: str | None = None) -> list[LedgerEvent]:
    stmt = select(LedgerEvent).order_by(LedgerEvent.seq)
    if kind is not None:
        stmt = stmt.where(LedgerEvent.kind == kind)
    return list(session.scalars(stmt))


@dataclass
class Inspected:
    inspection: Inspection
    document: Document
    case_lead: CaseLead


def inspected_cafe(session: Session, world: World, *, day: date | None = None) -> Inspected:
    """A submitted inspection of the café: three 不合格 answers (建议立案; 当场处罚 of 2,000 yuan;
    责令改正, amended later), one 合格 and one 不适用, a document and a case lead, written through
    the ORM as the inspection and document services would."""
    f = world.field
    on = day or today_local()
    submitted = datetime.combine(on, time(10, 30), SHANGHAI)
    items = [
        {"code": "WB-01", "text": "是否接纳未成年人"},
        {"code": "WB-02", "text": "是否悬挂经营许可证"},
        {"code": "WB-03", "text": "门前是否乱堆乱放"},
        {"code": "WB-04", "text": "是否配置消防器材"},
        {"code": "WB-05", "text": "是否设置吸烟区"},
    ]
    inspection = Inspection(
        district_code=DISTRICT,
        task_id=f.task.id,
        subject_id=f.cafe.id,
        status=InspectionStatus.SUBMITTED,
        checklist={"items": items},
        checklist_on=on,
        checklist_sha256="0" * 64,
        started_by_id=f.officer.id,
        submitted_by_id=f.officer.id,
        submitted_at=submitted,
        summary="现场检查",
        content_sha256="1" * 64,
    )
    session.add(inspection)
    session.flush()
    f.task.status = TaskStatus.SUBMITTED
    answers = [
        ("WB-01", AnswerResult.FAIL, "接纳未成年人2名", Measure.CASE_LEAD, "WB-MINORS", None, None),
        (
            "WB-02",
            AnswerResult.FAIL,
            "未悬挂许可证",
            Measure.ON_SPOT_PENALTY,
            "WB-LICENCE",
            None,
            {"amount_fen": 200_000, "recommended_fen": 200_000, "deviation": "within_tier"},
        ),
        ("WB-03", AnswerResult.FAIL, "门前堆放杂物", Measure.RECTIFY, None, on, None),
        ("WB-04", AnswerResult.PASS, "", Measure.NONE, None, None, None),
        ("WB-05", AnswerResult.NOT_APPLICABLE, "场所全面禁烟", Measure.NONE, None, None, None),
    ]
    for code, result, reason, measure, power, deadline, penalty in answers:
        session.add(
            InspectionAnswer(
                district_code=DISTRICT,
                inspection_id=inspection.id,
                item_code=code,
                item_version=1,
                result=result,
                reason=reason,
                measure=measure,
                power_code=power,
                rectify_deadline=deadline,
                penalty=penalty,
                answered_by_id=f.officer.id,
            )
        )
    session.flush()
    # WB-03 was corrected afterwards: still 不合格, with the finding reworded and a later deadline.
    session.add(
        InspectionAmendment(
            district_code=DISTRICT,
            inspection_id=inspection.id,
            item_code="WB-03",
            previous={"result": "fail", "reason": "门前堆放杂物", "measure": "rectify"},
            amended={
                "result": "fail",
                "reason": "门前堆放杂物（已核实）",
                "measure": "rectify",
                "rectify_deadline": (on + timedelta(days=7)).isoformat(),
            },
            reason="期限写错",
            amended_by_id=f.officer.id,
        )
    )
    pdf = hashlib.sha256(b"%PDF-1.7 demo").hexdigest()
    session.add(Blob(sha256=pdf, sm3="2" * 64, size=12, media_type="application/pdf"))
    session.flush()
    document = Document(
        district_code=DISTRICT,
        public_id="a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
        doc_type=DocumentType.ON_SPOT_PENALTY,
        number_text="崇综执罚当字〔2026〕第7号",
        year=on.year,
        serial=7,
        task_id=f.task.id,
        inspection_id=inspection.id,
        subject_id=f.cafe.id,
        fields={},
        pdf_sha256=pdf,
        pdf_size=12,
        issued_at=submitted + timedelta(minutes=20),
        issued_by_id=f.officer.id,
    )
    lead = CaseLead(
        district_code=DISTRICT,
        inspection_id=inspection.id,
        subject_id=f.cafe.id,
        item_code="WB-01",
        power_code="WB-MINORS",
        facts="接纳未成年人2名",
        created_by_id=f.officer.id,
    )
    session.add_all([document, lead])
    session.flush()
    return Inspected(inspection, document, lead)
