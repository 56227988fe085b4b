"""A small real world for complaint, dispatch and integration tests, on top of ``tests.field``.

District 510184 (field world: bureau → brigade → squads ZD01 and ZD02, grids WG01 and WG02
0.01° square side by side with a 0.01° gap, field officers 李明 and 王芳 and squad leader 赵刚 in
ZD01, 孙丽 in ZD02, the internet café in WG01) plus:

- a dispatcher 周敏 and a bureau leader 钱伟 (district scope), a third ZD01 officer 吴强;
- the district boundary: the square 103.55–103.70 E × 30.55–30.70 N (WG01 and WG02 inside it);
- SLA profiles: ``street`` (dispatch 10 min, arrival 20 min, handling 30 min, answer 120 min;
  urgent: 5 / 10 / 20 / 60 min), ``consult`` (answer in 3 working days), ``complaint`` (dispatch
  1 working day, handling 10 working days, answer 13 working days); warn at 80 %;
- categories (Open311 services):
  - ``JMZX-ZDJY`` 占道经营 (街面秩序, 投诉举报, 城管, street, auto-dispatch off, one attribute
    ``stall_count`` number and one ``blocking`` singlevaluelist yes/no);
  - ``SRHJ-BLLJ`` 暴露垃圾 (市容环境, 投诉举报, 城管, street);
  - ``ZX-ZCZX`` 政策咨询 (其他事件, 咨询, 城管, consult);
  - ``SC-SPAQ`` 食品安全 (其他事件, 投诉举报, no department → transfer to 市场监督管理局,
    complaint).

Rows are written through the ORM, without ledger events (the builders are not the thing under
test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tests import factories
from tests.field import DISTRICT, GRID_LAT, GRID_LON, FieldWorld, field_world
from zhifa.models.complaints import (
    ComplaintCategory,
    ComplaintSettings,
    HotlineType,
    Priority,
    SlaProfile,
)
from zhifa.models.org import Department, Officer
from zhifa.org.roles import Role

# Points: inside WG01 (ZD01), inside WG02 (ZD02), in the gap between them (inside the district,
# in no grid), and outside the district.
IN_WG01 = (GRID_LON + 0.004, GRID_LAT + 0.004)
IN_WG02 = (GRID_LON + 0.024, GRID_LAT + 0.004)
IN_NO_GRID = (GRID_LON + 0.015, GRID_LAT + 0.004)
OUTSIDE = (104.06, 30.66)  # Chengdu city centre, another district
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[103.55, 30.55], [103.70, 30.55], [103.70, 30.70], [103.55, 30.70], [103.55, 30.55]]
    ],
}

STREET_LIMITS = {
    "dispatch": {"minutes": 10},
    "arrive": {"minutes": 20},
    "handle": {"minutes": 30},
    "feedback": {"minutes": 120},
}
STREET_URGENT_LIMITS = {
    "dispatch": {"minutes": 5},
    "arrive": {"minutes": 10},
    "handle": {"minutes": 20},
    "feedback": {"minutes": 60},
}
CONSULT_LIMITS = {"feedback": {"workdays": 3}}
COMPLAINT_LIMITS = {
    "dispatch": {"workdays": 1},
    "handle": {"workdays": 10},
    "feedback": {"workdays": 13},
}

VENDING, GARBAGE, CONSULT, FOOD = "JMZX-ZDJY", "SRHJ-BLLJ", "ZX-ZCZX", "SC-SPAQ"


@dataclass
class ComplaintWorld:
    field: FieldWorld
    district_code: str
    dispatcher: Officer
    bureau_leader: Officer
    third: Officer  # a third ZD01 officer (a second pair with the squad leader)
    chengguan: Department
    categories: dict[str, ComplaintCategory]
    settings: ComplaintSettings

    @property
    def officer(self) -> Officer:
        return self.field.officer

    @property
    def second(self) -> Officer:
        return self.field.second


def _category(session: Session, department: Department | None, **values: Any) -> ComplaintCategory:
    row = ComplaintCategory(
        district_code=DISTRICT,
        department_id=department.id if department is not None else None,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def complaint_world(session: Session) -> ComplaintWorld:
    field = field_world(session)
    chengguan = session.query(Department).filter_by(district_code=DISTRICT, code="chengguan").one()
    dispatcher = factories.officer(
        session, DISTRICT, "zhou.min", [Role.DISPATCHER], unit=field.bureau, name="周敏"
    )
    bureau_leader = factories.officer(
        session, DISTRICT, "qian.wei", [Role.LEADER], unit=field.bureau, name="钱伟"
    )
    third = factories.officer(
        session,
        DISTRICT,
        "wu.qiang",
        [Role.OFFICER],
        unit=field.squad,
        cert_no="51018400005",
        name="吴强",
    )
    for code, name, priority, limits in (
        ("street", "街面即时处置", Priority.NORMAL, STREET_LIMITS),
        ("street", "街面即时处置（紧急）", Priority.URGENT, STREET_URGENT_LIMITS),
        ("consult", "咨询求助", Priority.NORMAL, CONSULT_LIMITS),
        ("complaint", "投诉举报", Priority.NORMAL, COMPLAINT_LIMITS),
    ):
        session.add(
            SlaProfile(
                district_code=DISTRICT,
                code=code,
                name=name,
                priority=priority,
                limits=limits,
                warn_ratio=0.8,
            )
        )
    categories = {
        VENDING: _category(
            session,
            chengguan,
            code=VENDING,
            name="占道经营",
            description="在道路、桥梁、广场等公共场所摆摊设点、占道经营",
            group="街面秩序",
            keywords=["摊贩", "占道", "流动摊点"],
            hotline_type=HotlineType.COMPLAINT,
            power_codes=[],
            sla_profile="street",
            attributes=[
                {
                    "code": "stall_count",
                    "datatype": "number",
                    "required": False,
                    "variable": True,
                    "order": 1,
                    "description": "摊位数量",
                    "datatype_description": "填写整数",
                    "values": [],
                },
                {
                    "code": "blocking",
                    "datatype": "singlevaluelist",
                    "required": True,
                    "variable": True,
                    "order": 2,
                    "description": "是否阻碍通行",
                    "datatype_description": "",
                    "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
                },
            ],
            sort_order=1,
        ),
        GARBAGE: _category(
            session,
            chengguan,
            code=GARBAGE,
            name="暴露垃圾",
            group="市容环境",
            keywords=["垃圾"],
            hotline_type=HotlineType.COMPLAINT,
            sla_profile="street",
            sort_order=2,
        ),
        CONSULT: _category(
            session,
            chengguan,
            code=CONSULT,
            name="政策咨询",
            group="其他事件",
            hotline_type=HotlineType.CONSULT,
            sla_profile="consult",
            sort_order=3,
        ),
        FOOD: _category(
            session,
            None,
            code=FOOD,
            name="食品安全",
            group="其他事件",
            hotline_type=HotlineType.COMPLAINT,
            transfer_to="崇州市市场监督管理局",
            sla_profile="complaint",
            sort_order=4,
        ),
    }
    settings = ComplaintSettings(
        district_code=DISTRICT,
        duplicate_radius_m=100.0,
        duplicate_window_hours=48,
        position_stale_seconds=300,
        boundary=BOUNDARY,
        default_unit_id=field.bureau.id,
        tracking_prefix="TS",
    )
    session.add(settings)
    session.flush()
    return ComplaintWorld(
        field=field,
        district_code=DISTRICT,
        dispatcher=dispatcher,
        bureau_leader=bureau_leader,
        third=third,
        chengguan=chengguan,
        categories=categories,
        settings=settings,
    )
