"""The demo district's complaint set-up: deadline profiles, district settings and about fifteen
categories — the 数字城管 event classes people report most and the 12345 types — mapped to the demo
departments and to powers of the sample catalog.

Loaded after the sample catalog (``demo.field``): a power code the district's catalog lacks is
left out rather than failing. Idempotent: rows are found by their natural keys (profile code and
priority, category code, one settings row per district) and only missing ones are created, each
with its ledger event (``actor_id`` None, ``via: demo``); nothing existing is changed.

Values marked [M] are local practice chosen for the demo, not statute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.models.catalog import Power
from zhifa.models.complaints import (
    ComplaintCategory,
    ComplaintSettings,
    HotlineType,
    Priority,
    SlaProfile,
)
from zhifa.models.org import Department, Unit, UnitKind

# Deadline profiles: (code, name, priority, limits). [M] The seed's half hour for street problems
# (dispatch 10, arrival 20, handling 30 minutes, the answer within two hours; urgent ones twice as
# fast); 12345 practice for the others: 咨询 answered within 3 working days, 投诉举报 dispatched
# within 1, handled within 10 and answered within 13 working days (law-and-procedure §8).
PROFILES: list[tuple[str, str, Priority, dict[str, Any]]] = [
    (
        "street",
        "街面即时处置",
        Priority.NORMAL,
        {
            "dispatch": {"minutes": 10},
            "arrive": {"minutes": 20},
            "handle": {"minutes": 30},
            "feedback": {"minutes": 120},
        },
    ),
    (
        "street",
        "街面即时处置（紧急）",
        Priority.URGENT,
        {
            "dispatch": {"minutes": 5},
            "arrive": {"minutes": 10},
            "handle": {"minutes": 20},
            "feedback": {"minutes": 60},
        },
    ),
    ("consult", "咨询求助", Priority.NORMAL, {"feedback": {"workdays": 3}}),
    (
        "complaint",
        "投诉举报",
        Priority.NORMAL,
        {"dispatch": {"workdays": 1}, "handle": {"workdays": 10}, "feedback": {"workdays": 13}},
    ),
]
WARN_RATIO = 0.8  # [M] amber at 80 % of the allowed time

# [M] A box around the demo grids (103.640–103.700 E × 30.612–30.648 N) with room to spare: a
# pin inside it but in no grid goes to the bureau; outside it the complaint is transferred.
BOUNDARY = {
    "type": "Polygon",
    "coordinates": [
        [[103.60, 30.58], [103.74, 30.58], [103.74, 30.68], [103.60, 30.68], [103.60, 30.58]]
    ],
}
MARKET_REGULATOR = "崇州市市场监督管理局"  # fictional demo agency name


def _yes_no(code: str, question: str, *, required: bool = True) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "variable": True,
        "order": 1,
        "description": question,
        "datatype_description": "",
        "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
    }


def _choice(
    code: str, question: str, values: list[tuple[str, str]], order: int = 1
) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "singlevaluelist",
        "required": True,
        "variable": True,
        "order": order,
        "description": question,
        "datatype_description": "",
        "values": [{"key": k, "name": n} for k, n in values],
    }


def _count(code: str, question: str, order: int) -> dict[str, Any]:
    return {
        "code": code,
        "datatype": "number",
        "required": False,
        "variable": True,
        "order": order,
        "description": question,
        "datatype_description": "填写整数",
        "values": [],
    }


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    group: str  # 数字城管 event class (or 部件 class for components)
    description: str
    department: str | None  # demo department code; None: transferred
    powers: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    hotline_type: HotlineType = HotlineType.COMPLAINT
    sla_profile: str = "street"
    priority: Priority = Priority.NORMAL
    auto_dispatch: bool = False
    attributes: list[dict[str, Any]] = field(default_factory=list)
    transfer_to: str = ""


CATEGORIES: list[CategorySpec] = [
    CategorySpec(
        "JMZX-ZDJY",
        "占道经营",
        "街面秩序",
        "在道路、桥梁、广场等公共场所摆摊设点、占道经营",
        "chengguan",
        ["CF-CG-022", "QZ-CG-002"],
        ["摊贩", "占道", "摆摊"],
        attributes=[_yes_no("blocking", "是否阻碍通行"), _count("stall_count", "摊位数量", 2)],
    ),
    CategorySpec(
        "JMZX-LDTF",
        "流动摊贩",
        "街面秩序",
        "流动摊点、推车叫卖",
        "chengguan",
        ["CF-CG-022"],
        ["流动摊贩", "叫卖"],
    ),
    CategorySpec(
        "JMZX-DWJY",
        "店外经营",
        "街面秩序",
        "临街门店超出门窗外墙摆卖、经营",
        "chengguan",
        ["CF-CG-021"],
        ["出店经营", "店外"],
    ),
    CategorySpec(
        "SRHJ-BLLJ",
        "暴露垃圾",
        "市容环境",
        "垃圾随意倾倒、堆放，未及时清运",
        "chengguan",
        ["CF-CG-002"],
        ["垃圾", "乱倒"],
    ),
    CategorySpec(
        "SRHJ-LDWL",
        "乱堆物料",
        "市容环境",
        "在道路、人行道及其他公共场所堆物堆料",
        "chengguan",
        ["CF-CG-023"],
        ["堆物", "堆料"],
    ),
    CategorySpec(
        "XCGG-HWGG",
        "违规户外广告",
        "宣传广告",
        "未经批准设置户外广告，或广告破损、污损",
        "chengguan",
        ["CF-CG-025", "CF-CG-032"],
        ["广告牌", "招牌"],
        sla_profile="complaint",
    ),
    CategorySpec(
        "XCGG-XGG",
        "非法小广告",
        "宣传广告",
        "乱张贴、乱涂写、乱刻画小广告",
        "chengguan",
        ["CF-CG-024"],
        ["小广告", "牛皮癣", "张贴"],
    ),
    CategorySpec(
        "SGGL-SGRM",
        "施工扰民",
        "施工管理",
        "夜间或超标准施工噪声影响居民休息",
        "shengtai",
        ["CF-ST-002"],
        ["施工噪声", "夜间施工"],
        attributes=[
            _choice("period", "噪声发生时段", [("day", "白天"), ("night", "夜间（22时至次日6时）")])
        ],
    ),
    CategorySpec(
        "SGGL-GDYC",
        "工地扬尘",
        "施工管理",
        "施工工地未围挡、未覆盖、未洒水造成扬尘",
        "shengtai",
        ["CF-ST-001"],
        ["扬尘", "工地"],
    ),
    CategorySpec(
        "SGGL-ZTSL",
        "渣土撒漏",
        "施工管理",
        "运输渣土、砂石的车辆沿途撒漏",
        "chengguan",
        ["CF-CG-001", "CF-ST-003"],
        ["渣土车", "撒漏"],
    ),
    CategorySpec(
        "SRHJ-WFJS",
        "违法建设",
        "市容环境",
        "未取得建设工程规划许可证进行建设（私搭乱建）",
        "guihua",
        ["CF-GH-001", "QZ-GH-002"],
        ["违建", "私搭乱建", "加建"],
        sla_profile="complaint",
        attributes=[_choice("stage", "建设进度", [("building", "正在施工"), ("built", "已建成")])],
    ),
    CategorySpec(
        "QTSJ-ZSRM",
        "噪声扰民（社会生活）",
        "其他事件",
        "商业经营、广场舞等使用音响器材产生过大音量",
        "chengguan",
        ["CF-CG-037", "CF-ST-012"],
        ["噪音", "广场舞", "高音喇叭"],
    ),
    CategorySpec(
        "GYSS-JGQS",
        "井盖缺失",
        "公用设施",
        "窨井盖缺失、破损或移位（部件），危及行人车辆安全",
        "chengguan",
        ["CF-CG-018"],
        ["井盖", "窨井"],
        priority=Priority.URGENT,
        auto_dispatch=True,  # [M] the one category dispatched without waiting for a dispatcher
        attributes=[
            _choice(
                "cover_state",
                "井盖情况",
                [("missing", "缺失"), ("broken", "破损"), ("moved", "移位")],
            )
        ],
    ),
    CategorySpec(
        "ZX-ZCZX",
        "政策咨询",
        "其他事件",
        "城市管理、行政执法相关政策咨询",
        "chengguan",
        keywords=["咨询", "政策"],
        hotline_type=HotlineType.CONSULT,
        sla_profile="consult",
    ),
    CategorySpec(
        "YJJY",
        "意见建议",
        "其他事件",
        "对城市管理和执法工作的意见、建议",
        "chengguan",
        keywords=["建议", "意见"],
        hotline_type=HotlineType.SUGGESTION,
        sla_profile="complaint",  # [M] answered within 13 working days
    ),
    CategorySpec(
        "SC-SPAQ",
        "食品安全",
        "其他事件",
        "食品安全问题（不属于本局职权，转市场监管部门）",
        None,
        keywords=["食品", "过期", "变质"],
        sla_profile="complaint",
        transfer_to=MARKET_REGULATOR,
    ),
]


class _Load:
    def __init__(self, session: Session, district_code: str) -> None:
        self.session = session
        self.district_code = district_code
        self.created = 0

    def add(self, row: Any, kind: str, payload: dict[str, Any]) -> None:
        self.session.add(row)
        self.session.flush()
        ledger.record(
            self.session,
            kind,
            row,
            {"via": "demo", **payload},
            actor_id=None,
            district_code=self.district_code,
        )
        self.created += 1


def _ensure_profiles(load: _Load) -> None:
    stmt = select(SlaProfile.code, SlaProfile.priority).where(
        SlaProfile.district_code == load.district_code
    )
    existing = {(code, str(priority)) for code, priority in load.session.execute(stmt)}
    for code, name, priority, limits in PROFILES:
        if (code, str(priority)) in existing:
            continue
        row = SlaProfile(
            district_code=load.district_code,
            code=code,
            name=name,
            priority=priority,
            limits=limits,
            warn_ratio=WARN_RATIO,
        )
        load.add(row, "complaint.sla_profile.saved", {"code": code, "priority": str(priority)})


def _ensure_settings(load: _Load) -> None:
    stmt = select(ComplaintSettings.id).where(ComplaintSettings.district_code == load.district_code)
    if load.session.scalar(stmt) is not None:
        return
    bureau = load.session.scalar(
        select(Unit.id)
        .where(Unit.district_code == load.district_code, Unit.kind == UnitKind.BUREAU)
        .order_by(Unit.id)
    )
    row = ComplaintSettings(
        district_code=load.district_code,
        duplicate_radius_m=100.0,  # [M] the example
        duplicate_window_hours=48,  # [M]
        position_stale_seconds=300,  # [M]
        boundary=BOUNDARY,
        default_unit_id=bureau,
        tracking_prefix="TS",
    )
    load.add(row, "complaint.settings.changed", {"default_unit_id": bureau})


def _ensure_categories(load: _Load) -> None:
    district = load.district_code
    existing = set(
        load.session.scalars(
            select(ComplaintCategory.code).where(ComplaintCategory.district_code == district)
        )
    )
    departments = dict(
        load.session.execute(
            select(Department.code, Department.id).where(Department.district_code == district)
        ).all()
    )
    powers = set(load.session.scalars(select(Power.code).where(Power.district_code == district)))
    for order, spec in enumerate(CATEGORIES, start=1):
        if spec.code in existing:
            continue
        department_id = departments.get(spec.department) if spec.department else None
        row = ComplaintCategory(
            district_code=district,
            code=spec.code,
            name=spec.name,
            description=spec.description,
            group=spec.group,
            keywords=list(spec.keywords),
            hotline_type=spec.hotline_type,
            department_id=department_id,
            power_codes=[p for p in spec.powers if p in powers],
            transfer_to=spec.transfer_to
            if department_id is None and spec.department is None
            else "",
            sla_profile=spec.sla_profile,
            priority=spec.priority,
            auto_dispatch=spec.auto_dispatch,
            attributes=[dict(a) for a in spec.attributes],
            sort_order=order,
        )
        if department_id is None and not row.transfer_to:
            continue  # the demo department is missing: such a category could not be routed
        load.add(row, "complaint.category.created", {"code": spec.code, "name": spec.name})


def load_complaint_demo(session: Session, district_code: str) -> int:
    """Create the missing deadline profiles, settings and categories; return how many rows were
    created. The caller commits."""
    load = _Load(session, district_code)
    _ensure_profiles(load)
    _ensure_settings(load)
    _ensure_categories(load)
    return load.created
