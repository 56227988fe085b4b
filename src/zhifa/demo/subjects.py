"""Demo subjects of the demo district: fifteen fictional parties and sites spread over the six demo
grids, each registered through the registry's own rules (``subjects.service.register``, so each
has its grid, squad and ``subject.created`` ledger event, ``via: demo``).

Grid WG01 (squad ZD01, the squad of the demo ``officer`` account) holds what a first inspection
needs: a construction site with a polygon fence of about 150 m × 120 m (the sample catalog's
17-item joint checklist), an internet café, a restaurant, a street-vendor site with a radius fence
and a person with a (checksum-valid, fictional) ID card number.

Loading is idempotent: a subject is found by its name in the district and only missing ones are
created. A subject whose type is missing from the district's catalog is skipped (the sample
catalog is loaded first by ``zhifa demo load``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from zhifa.config import Settings, get_settings
from zhifa.models.catalog import SubjectType
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.subjects.idcard import keys_for
from zhifa.subjects.location import METRES_PER_DEGREE
from zhifa.subjects.schemas import SubjectIn
from zhifa.subjects.service import register

# The construction site other tests and the demo tasks look for (grid WG01, squad ZD01).
DEMO_SITE_NAME = "崇州市（演示）蜀城花园二期建设工地"
DEMO_SITE_LON, DEMO_SITE_LAT = 103.6500, 30.6390
DEMO_SITE_WIDTH_M, DEMO_SITE_HEIGHT_M = 150.0, 120.0


def _uscc(prefix: str, n: int) -> str:
    """A fictional 统一社会信用代码 with a valid check character (92…: 个体工商户, 91…: 企业)."""
    body = f"{prefix}510184MA6D{n:04d}Y"
    return body + uscc.calc_check_digit(body)


DEMO_SITE_USCC = _uscc("91", 1)


def _id_card(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")  # stdnum ignores the last character


def rectangle(lon: float, lat: float, width_m: float, height_m: float) -> dict[str, Any]:
    """A closed counter-clockwise GeoJSON Polygon of about ``width_m`` × ``height_m`` metres."""
    dlat = height_m / 2 / METRES_PER_DEGREE
    dlon = width_m / 2 / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    ring = [
        [round(lon - dlon, 7), round(lat - dlat, 7)],
        [round(lon + dlon, 7), round(lat - dlat, 7)],
        [round(lon + dlon, 7), round(lat + dlat, 7)],
        [round(lon - dlon, 7), round(lat + dlat, 7)],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@dataclass(frozen=True)
class DemoSubject:
    name: str
    kind: SubjectKind
    subject_type: str
    lon: float
    lat: float
    address: str
    uscc: str | None = None
    id_card: str | None = None
    representative: str = ""
    phone: str = ""
    risk: RiskLevel = RiskLevel.LOW
    radius_m: float | None = None
    polygon: dict[str, Any] | None = None
    licences: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    def as_input(self) -> SubjectIn:
        return SubjectIn.model_validate(
            {
                "kind": self.kind,
                "name": self.name,
                "uscc": self.uscc,
                "id_card": self.id_card,
                "representative": self.representative,
                "phone": self.phone,
                "address": self.address,
                "subject_type": self.subject_type,
                "risk_level": self.risk,
                "lon": self.lon,
                "lat": self.lat,
                "geofence": self.polygon,
                "geofence_radius_m": self.radius_m,
                "licences": self.licences,
                "note": self.note,
            }
        )


E, IB, P, S = (
    SubjectKind.ENTERPRISE,
    SubjectKind.INDIVIDUAL_BUSINESS,
    SubjectKind.PERSON,
    SubjectKind.SITE,
)
SUBJECTS: list[DemoSubject] = [
    # grid WG01, squad ZD01 (the demo officer's): everything a first inspection needs
    DemoSubject(
        DEMO_SITE_NAME,
        E,
        "construction_site",
        DEMO_SITE_LON,
        DEMO_SITE_LAT,
        "崇州市崇阳街道演示大道 168 号",
        uscc=DEMO_SITE_USCC,
        representative="张建国",
        phone="13800001001",
        risk=RiskLevel.HIGH,
        polygon=rectangle(DEMO_SITE_LON, DEMO_SITE_LAT, DEMO_SITE_WIDTH_M, DEMO_SITE_HEIGHT_M),
        licences=[
            {
                "name": "建筑工程施工许可证",
                "number": "DEMO-510184-2026-0001",
                "issuer": "崇州市（演示）住房和城乡建设局",
                "valid_until": "2027-12-31",
            }
        ],
        note="演示数据：施工总承包单位为演示建设集团有限公司",
    ),
    DemoSubject(
        "崇州市（演示）星河网络会所",
        E,
        "internet_cafe",
        103.6445,
        30.6420,
        "崇州市崇阳街道演示路 12 号",
        uscc=_uscc("91", 2),
        representative="李晓东",
        phone="13800001002",
        risk=RiskLevel.MEDIUM,
        radius_m=40,
        licences=[
            {
                "name": "网络文化经营许可证",
                "number": "DEMO-川网文-0002",
                "issuer": "崇州市（演示）文化广电旅游局",
                "valid_until": "2027-06-30",
            }
        ],
    ),
    DemoSubject(
        "崇州市（演示）老街坊川菜馆",
        IB,
        "restaurant",
        103.6538,
        30.6335,
        "崇州市崇阳街道演示路 56 号",
        uscc=_uscc("92", 3),
        representative="王淑华",
        phone="13800001003",
        radius_m=35,
        licences=[
            {
                "name": "食品经营许可证",
                "number": "DEMO-JY-0003",
                "issuer": "崇州市（演示）市场监督管理局",
                "valid_until": "2028-03-31",
            }
        ],
    ),
    DemoSubject(
        "崇州市（演示）文庙街流动摊点",
        S,
        "street_vendor",
        103.6480,
        30.6345,
        "崇州市崇阳街道文庙街（演示）",
        risk=RiskLevel.MEDIUM,
        radius_m=60,
        note="早晚高峰流动摊贩聚集点位",
    ),
    DemoSubject(
        "刘某（演示）",
        P,
        "street_vendor",
        103.6562,
        30.6440,
        "崇州市崇阳街道演示巷 3 号",
        id_card=_id_card("51018419760315888"),
        phone="13800001005",
        radius_m=30,
        note="流动经营水果",
    ),
    DemoSubject(
        "崇州市（演示）排水管网维护站",
        SubjectKind.ORGANISATION,
        "drainage_user",
        103.6425,
        30.6322,
        "崇州市崇阳街道演示路 99 号",
        uscc=_uscc("12", 6),
        representative="周立平",
        radius_m=50,
    ),
    # the other five grids
    DemoSubject(
        "崇州市（演示）金色年华KTV",
        E,
        "entertainment_venue",
        103.6690,
        30.6400,
        "崇州市崇阳街道演示中路 20 号",
        uscc=_uscc("91", 7),
        representative="赵明亮",
        risk=RiskLevel.MEDIUM,
        radius_m=40,
    ),
    DemoSubject(
        "崇州市（演示）蜀州面馆",
        IB,
        "restaurant",
        103.6720,
        30.6370,
        "崇州市崇阳街道演示中路 66 号",
        uscc=_uscc("92", 8),
        representative="陈桂兰",
        radius_m=30,
    ),
    DemoSubject(
        "崇州市（演示）清源食品厂",
        E,
        "drainage_user",
        103.6880,
        30.6400,
        "崇州市崇阳街道演示东路 8 号",
        uscc=_uscc("91", 9),
        representative="黄志强",
        risk=RiskLevel.HIGH,
        radius_m=80,
    ),
    DemoSubject(
        "崇州市（演示）东城公寓建设工地",
        E,
        "construction_site",
        103.6920,
        30.6380,
        "崇州市崇阳街道演示东路 88 号",
        uscc=_uscc("91", 10),
        representative="孙建军",
        risk=RiskLevel.MEDIUM,
        polygon=rectangle(103.6920, 30.6380, 120, 100),
    ),
    DemoSubject(
        "崇州市（演示）西门商业广告牌",
        E,
        "outdoor_ad",
        103.6480,
        30.6200,
        "崇州市崇阳街道演示西路 2 号",
        uscc=_uscc("91", 11),
        representative="郑凯",
        radius_m=20,
    ),
    DemoSubject(
        "崇州市（演示）顺达渣土运输有限公司",
        E,
        "muck_truck",
        103.6700,
        30.6200,
        "崇州市崇阳街道演示南路 18 号",
        uscc=_uscc("91", 12),
        representative="冯大勇",
        risk=RiskLevel.HIGH,
        radius_m=100,
    ),
    DemoSubject(
        "崇州市（演示）西江河城区段",
        S,
        "river",
        103.6650,
        30.6160,
        "西江河演示段（南桥至西桥）",
        risk=RiskLevel.MEDIUM,
        radius_m=500,
        note="河道巡查点位",
    ),
    DemoSubject(
        "崇州市（演示）白果村村民自建房",
        S,
        "rural_building",
        103.6900,
        30.6200,
        "崇州市（演示）白果村 5 组",
        radius_m=40,
    ),
    DemoSubject(
        "崇州市（演示）南门网络会所",
        E,
        "internet_cafe",
        103.6950,
        30.6160,
        "崇州市崇阳街道演示南路 120 号",
        uscc=_uscc("91", 15),
        representative="何丽",
        radius_m=40,
    ),
]


def load(
    session: Session, district_code: str, *, today: date, settings: Settings | None = None
) -> int:
    """Create the demo subjects that are missing; return how many were created. Idempotent."""
    existing = set(
        session.scalars(select(Subject.name).where(Subject.district_code == district_code))
    )
    types = set(
        session.scalars(
            select(SubjectType.code).where(
                SubjectType.district_code == district_code, SubjectType.active.is_(True)
            )
        )
    )
    keys = keys_for((settings or get_settings()).secret())
    created = 0
    for spec in SUBJECTS:
        if spec.name in existing or spec.subject_type not in types:
            continue
        register(
            session,
            district_code=district_code,
            scope=None,
            actor_id=None,
            data=spec.as_input(),
            keys=keys,
            via="demo",
        )
        created += 1
    return created
