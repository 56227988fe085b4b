"""A small real world for field-inspection tests (subjects, tasks, check-in, runs, documents).

District 510184 with a bureau → brigade → squad, a square grid owned by the squad, two field
officers and a squad leader of that squad, a catalog with the internet-café statute and a subject
type ``internet_cafe`` whose checklist has three items:

- ``WB-01`` 是否接纳未成年人 — power ``WB-MINORS`` (per minor: needs the fact ``minors``);
- ``WB-02`` 是否悬挂营业执照 — power ``WB-LICENCE`` (fixed 2,000 yuan for an organisation: no facts,
  inside the art. 51 cap of 3,000, so it can be fined on the spot);
- ``WB-03`` 门前是否乱堆乱放 — no power.

A café (enterprise, valid 统一社会信用代码) sits inside the grid with a square fence of about
100 m around ``CAFE_LON, CAFE_LAT``, and a planned task for today (00:00–23:59 local) is assigned
to both officers. Rows are written through the ORM as the services would, without ledger events
(the builders are not the thing under test).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.helpers import cafe_power, check_item, checklist, per_minor_spec, world
from tests.org.helpers import grid
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.schemas import BenchmarkVersionIn, SubjectTypeIn
from zhifa.catalog.service import Author, benchmark_service, power_service
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.kit.clock import SHANGHAI, today_local
from zhifa.models.inspections import InspectionTask, TaskKind
from zhifa.models.org import Grid, Officer, Unit, UnitKind
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.org.roles import Role

DISTRICT = "510184"
# The grid's south-west corner; the grid is 0.01° square (about 960 m × 1,110 m here).
GRID_LON, GRID_LAT = 103.60, 30.60
CAFE_LON, CAFE_LAT = 103.605, 30.605
# Half the side of the café's square fence, in degrees (about 48 m east-west, 55 m north-south).
FENCE_HALF = 0.0005
# A valid 统一社会信用代码 (check digit computed by python-stdnum's cn.uscc).
CAFE_USCC = "91510184MA6CXXXX00"
MINORS, LICENCE = "WB-MINORS", "WB-LICENCE"
ITEMS = ("WB-01", "WB-02", "WB-03")


@dataclass
class FieldWorld:
    author: Author
    bureau: Unit
    brigade: Unit
    squad: Unit
    other_squad: Unit
    grid: Grid
    officer: Officer  # the lead
    second: Officer  # the second officer (art. 42)
    leader: Officer  # squad leader of the same squad
    outsider: Officer  # an officer of another squad
    cafe: Subject
    task: InspectionTask


def fence(lon: float, lat: float, half: float = FENCE_HALF) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def fixed_spec(yuan: int = 2000) -> BenchmarkSpec:
    fen = yuan * 100
    return BenchmarkSpec.model_validate(
        {
            "facts": [],
            "statutory": {"organisation": {"kind": "up_to", "max_fen": 1_500_000}},
            "measures": ["warning"],
            "tiers": [
                {
                    "level": "ordinary",
                    "organisation": {"kind": "fixed", "min_fen": fen, "max_fen": fen},
                }
            ],
            "first_offence_exemption": False,
        }
    )


def cafe_catalog(session: Session) -> Author:
    """The café statute, two powers with benchmarks, three check items and one template."""
    author = world(session)
    power_service.put(session, author, code=MINORS, data=cafe_power())
    power_service.put(
        session,
        author,
        code=LICENCE,
        data=cafe_power(
            name="对互联网上网服务营业场所未悬挂《网络文化经营许可证》的处罚",
            violated="《互联网上网服务营业场所管理条例》第三十一条第（五）项",
            penalty="《互联网上网服务营业场所管理条例》第三十一条第（五）项",
        ),
    )
    start = date(2024, 1, 1)
    benchmark_service.put(
        session,
        author,
        code=MINORS,
        data=BenchmarkVersionIn(spec=per_minor_spec(), effective_from=start, note=""),
    )
    benchmark_service.put(
        session,
        author,
        code=LICENCE,
        data=BenchmarkVersionIn(spec=fixed_spec(), effective_from=start, note=""),
    )
    subject_type_service.ensure(
        session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
    )
    check_item_service.put(
        session, author, code="WB-01", data=check_item("是否接纳未成年人", "wenhua", MINORS)
    )
    check_item_service.put(
        session, author, code="WB-02", data=check_item("是否悬挂经营许可证", "wenhua", LICENCE)
    )
    check_item_service.put(
        session, author, code="WB-03", data=check_item("门前是否乱堆乱放", "chengguan")
    )
    checklist_service.put(
        session, author, code="QD-WB", data=checklist("网吧检查清单", "internet_cafe", *ITEMS)
    )
    return author


def local_day(on: date) -> tuple[datetime, datetime]:
    """The whole local day ``on`` as a UTC window."""
    start = datetime.combine(on, time(0, 0), SHANGHAI)
    return start, start + timedelta(days=1) - timedelta(seconds=1)


def field_world(session: Session) -> FieldWorld:
    author = cafe_catalog(session)
    bureau = session.query(Unit).filter_by(district_code=DISTRICT, code="JU").one()
    brigade = factories.unit(session, DISTRICT, UnitKind.BRIGADE, "一大队", "DD01", bureau)
    squad = factories.unit(session, DISTRICT, UnitKind.SQUAD, "一中队", "ZD01", brigade)
    other = factories.unit(session, DISTRICT, UnitKind.SQUAD, "二中队", "ZD02", brigade)
    squad_grid = grid(session, squad, "WG01", GRID_LON, GRID_LAT)
    grid(session, other, "WG02", GRID_LON + 0.02, GRID_LAT)
    lead = factories.officer(
        session,
        DISTRICT,
        "li.ming",
        [Role.OFFICER],
        unit=squad,
        cert_no="51018400001",
        name="李明",
    )
    second = factories.officer(
        session,
        DISTRICT,
        "wang.fang",
        [Role.OFFICER],
        unit=squad,
        cert_no="51018400002",
        name="王芳",
    )
    leader = factories.officer(
        session,
        DISTRICT,
        "zhao.gang",
        [Role.SQUAD_LEADER],
        unit=squad,
        cert_no="51018400003",
        name="赵刚",
    )
    outsider = factories.officer(
        session,
        DISTRICT,
        "sun.li",
        [Role.OFFICER],
        unit=other,
        cert_no="51018400004",
        name="孙丽",
    )
    cafe = Subject(
        district_code=DISTRICT,
        kind=SubjectKind.ENTERPRISE,
        name="崇州市星际网络会所有限公司",
        uscc=CAFE_USCC,
        representative="陈强",
        phone="028-82000000",
        address="崇州市崇阳街道蜀州中路 88 号",
        subject_type_code="internet_cafe",
        risk_level=RiskLevel.MEDIUM,
        lon=CAFE_LON,
        lat=CAFE_LAT,
        geofence=fence(CAFE_LON, CAFE_LAT),
        grid_id=squad_grid.id,
        unit_id=squad.id,
    )
    session.add(cafe)
    session.flush()
    start, end = local_day(today_local())
    task = InspectionTask(
        district_code=DISTRICT,
        kind=TaskKind.PLANNED,
        subject_id=cafe.id,
        title="网吧日常检查",
        window_start=start,
        window_end=end,
        unit_id=squad.id,
        lead_officer_id=lead.id,
        officer_ids=[lead.id, second.id],
        created_by_id=leader.id,
    )
    session.add(task)
    session.flush()
    return FieldWorld(
        author,
        bureau,
        brigade,
        squad,
        other,
        squad_grid,
        lead,
        second,
        leader,
        outsider,
        cafe,
        task,
    )
