"""Sheet and column names of the catalog exchange format (docs/catalog-format.md), and the
vocabularies that turn cell text into values.

Invariant: the layout here is the one the document describes; a change to one is a change to both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from zhifa.catalog.spec import FactKind, FormulaKind, Level, Measure, PartyType
from zhifa.models.catalog import PowerKind, PowerStatus


class SheetKind(StrEnum):
    POWERS = "权力事项"
    BENCHMARKS = "裁量基准"
    CHECK_ITEMS = "检查事项"
    CHECKLISTS = "巡查清单"


@dataclass(frozen=True)
class Layout:
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


VERSION_COLUMNS = ("生效日期",)
LAYOUTS: dict[SheetKind, Layout] = {
    SheetKind.POWERS: Layout(
        required=("事项编码", "事项名称", "事项类别", "实施部门", "适用对象", *VERSION_COLUMNS),
        optional=(
            "序号",
            "违法依据",
            "处罚依据",
            "处罚种类和幅度",
            "责任单位",
            "责任岗位",
            "办理时限（日）",
            "责任事项",
            "状态",
            "版本说明",
        ),
    ),
    SheetKind.BENCHMARKS: Layout(
        required=("事项编码", "行类型", *VERSION_COLUMNS),
        optional=(
            "序号",
            "版本说明",
            "对象",
            "裁量等级",
            "违法程度",
            "裁量情形",
            "程度条件",
            "计算方式",
            "下限",
            "上限",
            "计量事实",
            "事实名称",
            "计量单位",
            "事实类型",
            "封顶（元）",
            "处罚措施",
            "首违不罚",
            "涉及安全",
        ),
    ),
    SheetKind.CHECK_ITEMS: Layout(
        required=("检查项编码", "检查内容", "责任部门", *VERSION_COLUMNS),
        optional=("序号", "检查指引", "所需证据", "关联事项编码", "版本说明"),
    ),
    SheetKind.CHECKLISTS: Layout(
        required=(
            "清单编码",
            "清单名称",
            "对象类型编码",
            "对象类型名称",
            "顺序",
            "检查项编码",
            *VERSION_COLUMNS,
        ),
        optional=("序号", "版本说明"),
    ),
}


class RowType(StrEnum):
    STATUTORY = "法定幅度"
    FACT = "计量事实"
    BAND = "违法程度"
    TIER = "裁量阶次"


POWER_KINDS: dict[str, PowerKind] = {
    "行政处罚": PowerKind.PENALTY,
    "行政强制": PowerKind.COERCION,
    "行政检查": PowerKind.INSPECTION,
    "行政许可": PowerKind.LICENSING,
    "行政征收": PowerKind.COLLECTION,
    "其他": PowerKind.OTHER,
}
POWER_STATUSES: dict[str, PowerStatus] = {
    "在用": PowerStatus.ACTIVE,
    "暂停": PowerStatus.SUSPENDED,
    "废止": PowerStatus.REPEALED,
}
PARTY_TYPES: dict[str, PartyType] = {"个人": PartyType.PERSON, "单位": PartyType.ORGANISATION}
LEVELS: dict[str, Level] = {
    "不予处罚": Level.NO_PENALTY,
    "减轻": Level.REDUCED,
    "从轻": Level.LIGHTER,
    "一般": Level.ORDINARY,
    "从重": Level.HEAVIER,
}
FORMULA_KINDS: dict[str, FormulaKind] = {
    "固定幅度": FormulaKind.FIXED,
    "限额": FormulaKind.UP_TO,
    "按单位": FormulaKind.PER_UNIT,
    "倍数": FormulaKind.MULTIPLE,
    "比例": FormulaKind.PERCENT,
    "无罚款": FormulaKind.NONE,
}
FACT_KINDS: dict[str, FactKind] = {
    "金额": FactKind.MONEY,
    "计数": FactKind.COUNT,
    "数量": FactKind.QUANTITY,
}
MEASURES: dict[str, Measure] = {
    "警告": Measure.WARNING,
    "通报批评": Measure.CRITICISM,
    "批评教育": Measure.EDUCATION,
    "责令改正": Measure.ORDER_CORRECTION,
    "没收违法所得": Measure.CONFISCATE_INCOME,
    "没收非法财物": Measure.CONFISCATE_PROPERTY,
    "责令停止建设": Measure.STOP_CONSTRUCTION,
    "限期拆除": Measure.DEMOLISH,
    "恢复原状": Measure.RESTORE,
    "责令停产停业": Measure.SUSPEND_BUSINESS,
    "责令关闭": Measure.CLOSE,
    "暂扣许可证件": Measure.SUSPEND_LICENCE,
    "吊销许可证件": Measure.REVOKE_LICENCE,
    "限制开展生产经营活动": Measure.RESTRICT,
}
EVIDENCE: dict[str, str] = {"照片": "photo", "视频": "video", "录音": "audio", "文书": "document"}
YES_NO: dict[str, bool] = {"是": True, "否": False}


K = TypeVar("K")
V = TypeVar("V")


def reverse(mapping: dict[K, V]) -> dict[V, K]:
    return {value: key for key, value in mapping.items()}
