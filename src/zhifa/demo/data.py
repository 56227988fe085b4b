"""The demo district's facts: district, source departments, unit tree, grids and officers.

All fictional. The grids tile a box of about 5.8 km × 4 km around the real town centre of Chongzhou
(≈103.67 E, 30.63 N) in a 3 × 2 lattice whose inner corners are nudged so the squares look drawn by
hand; neighbours share their corner points exactly, so the six polygons never overlap.
Coordinates are WGS-84 ``[lon, lat]``; rings are closed and counter-clockwise (RFC 7946).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from zhifa.demo.accounts import DEMO_ACCOUNTS
from zhifa.models.org import UnitKind
from zhifa.org.roles import DEFAULT_SCOPE, Role, ScopeLevel

DISTRICT_CODE = "510184"
DISTRICT_NAME = "崇州市（演示）"
CITY_CODE = "510100"
BUREAU_NAME = "崇州市（演示）综合行政执法局"
CENTER_LON = 103.67
CENTER_LAT = 30.63

# Source departments whose enforcement powers the bureau took over: (code, name).
DEPARTMENTS: list[tuple[str, str]] = [
    ("chengguan", "城市管理"),
    ("guihua", "城乡规划"),
    ("zhujian", "住房和城乡建设"),
    ("ziranziyuan", "自然资源（国土）"),
    ("shuiwu", "水务"),
    ("shengtai", "生态环境"),
    ("wenhua", "文化市场"),
]


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: UnitKind
    parent_code: str | None = None


BUREAU_CODE = "JU"
UNITS: list[UnitSpec] = [
    UnitSpec(BUREAU_CODE, BUREAU_NAME, UnitKind.BUREAU),
    UnitSpec("DD01", "第一大队（城北）", UnitKind.BRIGADE, BUREAU_CODE),
    UnitSpec("DD02", "第二大队（城南）", UnitKind.BRIGADE, BUREAU_CODE),
    UnitSpec("ZD01", "第一中队", UnitKind.SQUAD, "DD01"),
    UnitSpec("ZD02", "第二中队", UnitKind.SQUAD, "DD01"),
    UnitSpec("ZD03", "第三中队", UnitKind.SQUAD, "DD01"),
    UnitSpec("ZD04", "第四中队", UnitKind.SQUAD, "DD02"),
    UnitSpec("ZD05", "第五中队", UnitKind.SQUAD, "DD02"),
    UnitSpec("ZD06", "第六中队", UnitKind.SQUAD, "DD02"),
]
SQUAD_CODES = [u.code for u in UNITS if u.kind is UnitKind.SQUAD]

# Lattice corners, LATTICE[row][column] = (lon, lat); row 0 is the southern edge.
LATTICE: list[list[tuple[float, float]]] = [
    [(103.640, 30.612), (103.6585, 30.612), (103.6812, 30.612), (103.700, 30.612)],
    [(103.640, 30.6290), (103.6603, 30.6311), (103.6789, 30.6296), (103.700, 30.6304)],
    [(103.640, 30.648), (103.6614, 30.648), (103.6796, 30.648), (103.700, 30.648)],
]


@dataclass(frozen=True)
class GridSpec:
    code: str
    name: str
    unit_code: str
    row: int
    column: int

    def geometry(self) -> dict[str, Any]:
        """The cell as a GeoJSON Polygon: SW, SE, NE, NW, back to SW (counter-clockwise)."""
        r, c = self.row, self.column
        corners = [LATTICE[r][c], LATTICE[r][c + 1], LATTICE[r + 1][c + 1], LATTICE[r + 1][c]]
        ring = [[lon, lat] for lon, lat in [*corners, corners[0]]]
        return {"type": "Polygon", "coordinates": [ring]}


# The first brigade works the northern row, the second the southern row, west to east.
GRIDS: list[GridSpec] = [
    GridSpec("WG01", "西北片区网格", "ZD01", 1, 0),
    GridSpec("WG02", "中北片区网格", "ZD02", 1, 1),
    GridSpec("WG03", "东北片区网格", "ZD03", 1, 2),
    GridSpec("WG04", "西南片区网格", "ZD04", 0, 0),
    GridSpec("WG05", "中南片区网格", "ZD05", 0, 1),
    GridSpec("WG06", "东南片区网格", "ZD06", 0, 2),
]

# Fictional names, one per demo account, in the order of DEMO_ACCOUNTS.
OFFICER_NAMES = [
    "张明远",
    "李建华",
    "王志刚",
    "刘淑芬",
    "陈国强",
    "杨丽娟",
    "赵文斌",
    "黄春梅",
    "周德胜",
    "吴晓燕",
    "徐永康",
    "孙秀英",
    "马俊杰",
    "朱红霞",
    "胡立新",
    "郭海燕",
    "何家乐",
    "林玉兰",
    "罗振宇",
    "高翠萍",
    "郑宏伟",
    "梁桂芳",
    "谢长青",
    "宋晓梅",
    "唐文军",
    "韩素琴",
    "冯建平",
    "邓丽萍",
    "曹德明",
    "彭小红",
    "曾志勇",
    "萧雅琴",
    "田永红",
    "董建军",
    "袁静怡",
    "潘国庆",
    "蒋春燕",
    "蔡卫东",
    "余秀兰",
    "杜明辉",
]

BUREAU_ROLES = frozenset(
    {Role.LEADER, Role.DISPATCHER, Role.LEGAL_REVIEWER, Role.CATALOG_ADMIN, Role.AUDITOR,
     Role.SYSTEM_ADMIN}
)  # fmt: skip
# Certificate validity offsets (days from today) that give the UI something to warn about.
CERT_EXCEPTIONS = {"officer04": 12, "officer09": -20, "officer20": 25}


@dataclass(frozen=True)
class OfficerSpec:
    username: str
    name: str
    role: Role
    scope: ScopeLevel
    unit_code: str
    cert_no: str
    phone: str
    cert_valid_from: date
    cert_valid_until: date


def _squad_of(position: int, squad_members: int) -> str:
    """Spread squad members over the six squads in order: 6, 6, 6, 6, 5, 5 for 34 people."""
    base, extra = divmod(squad_members, len(SQUAD_CODES))
    start = 0
    for index, code in enumerate(SQUAD_CODES):
        size = base + (1 if index < extra else 0)
        if position < start + size:
            return code
        start += size
    return SQUAD_CODES[-1]


def _unit_codes() -> dict[str, str]:
    """username → unit code: bureau roles sit in the bureau, everyone else in a squad."""
    in_squads = [u for r, u in DEMO_ACCOUNTS if Role(r) not in BUREAU_ROLES]
    # The squad leader and the first field officer share the first squad.
    in_squads.sort(key=lambda u: (u != "squadleader", u != "officer"))
    codes = {u: _squad_of(i, len(in_squads)) for i, u in enumerate(in_squads)}
    codes.update({u: BUREAU_CODE for r, u in DEMO_ACCOUNTS if Role(r) in BUREAU_ROLES})
    return codes


def _scope(role: Role) -> ScopeLevel:
    return ScopeLevel.CITY if role is Role.SYSTEM_ADMIN else DEFAULT_SCOPE[role]


def officer_specs(today: date) -> list[OfficerSpec]:
    """The 40 demo officers; certificate dates are relative to ``today`` (the first load)."""
    units = _unit_codes()
    specs = []
    for n, ((role_value, username), name) in enumerate(
        zip(DEMO_ACCOUNTS, OFFICER_NAMES, strict=True), start=1
    ):
        role = Role(role_value)
        until = today + timedelta(days=CERT_EXCEPTIONS.get(username, 200 + 37 * n))
        specs.append(
            OfficerSpec(
                username=username,
                name=name,
                role=role,
                scope=_scope(role),
                unit_code=units[username],
                cert_no=f"DEMO-{DISTRICT_CODE}-{n:04d}",
                phone=f"1380000{n:04d}",
                cert_valid_from=until - timedelta(days=3 * 365),
                cert_valid_until=until,
            )
        )
    return specs
