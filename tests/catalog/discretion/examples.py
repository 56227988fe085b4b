"""Benchmarks of the worked examples, each from a statute in ``catalog/sample/laws`` (the table in
law-and-procedure.md §4.2). Statutory ranges are the statute's; the tiers are illustrative local
benchmarks of the usual shape (从轻 < 一般 < 从重 inside the statutory range).
"""

from __future__ import annotations

from tests.catalog.discretion.builders import (
    fixed,
    multiple,
    no_fine,
    per_unit,
    percent,
    spec,
    up_to,
)
from zhifa.catalog.spec import BenchmarkSpec

MINORS = {"key": "minors", "label": "未成年人人数", "unit": "人", "kind": "count"}
AREA = {"key": "area_m2", "label": "占用面积", "unit": "㎡", "kind": "quantity"}
COST = {"key": "project_cost", "label": "建设工程造价", "unit": "元", "kind": "money"}
FEE = {"key": "fee_due", "label": "应缴水资源费", "unit": "元", "kind": "money"}


def internet_cafe() -> BenchmarkSpec:
    """互联网上网服务营业场所管理条例 art. 31: 警告，可以并处15000元以下的罚款 (an 经营单位: 单位
    only). Local rule (Chongzhou, reported): 3,000 yuan per minor admitted."""
    return internet_cafe_at(3000)


def internet_cafe_at(per_minor_yuan: int) -> BenchmarkSpec:
    return spec(
        facts=[MINORS],
        statutory={"organisation": up_to(15_000)},
        measures=["warning"],
        tiers=[
            {
                "level": "ordinary",
                "organisation": per_unit("minors", per_minor_yuan, per_minor_yuan),
            }
        ],
        first_offence_exemption=False,
    )


def minors_protection() -> BenchmarkSpec:
    """未成年人保护法 art. 123 (the same act under another norm): 警告，没收违法所得，
    可以并处五万元以下罚款."""
    return spec(
        statutory={"organisation": up_to(50_000)},
        measures=["warning", "confiscate_income"],
        tiers=[
            {"level": "lighter", "organisation": fixed(0, 10_000)},
            {"level": "ordinary", "organisation": fixed(10_000, 30_000)},
            {"level": "heavier", "organisation": fixed(30_000, 50_000)},
        ],
    )


def illegal_construction() -> BenchmarkSpec:
    """城乡规划法 art. 64: 责令停止建设 … 处建设工程造价百分之五以上百分之十以下的罚款."""
    return spec(
        facts=[COST],
        statutory={
            "person": percent("project_cost", "5", "10"),
            "organisation": percent("project_cost", "5", "10"),
        },
        measures=["stop_construction"],
        tiers=[
            {
                "level": level,
                "person": percent("project_cost", lo, hi),
                "organisation": percent("project_cost", lo, hi),
            }
            for level, lo, hi in (
                ("lighter", "5", "6"),
                ("ordinary", "6", "8"),
                ("heavier", "8", "10"),
            )
        ],
    )


def rural_construction() -> BenchmarkSpec:
    """城乡规划法 art. 65: 责令停止建设、限期改正；逾期不改正的，可以拆除 (no fine)."""
    return spec(
        statutory={"person": no_fine(), "organisation": no_fine()},
        measures=["stop_construction"],
        tiers=[
            {"level": "ordinary", "person": no_fine(), "organisation": no_fine()},
            {
                "level": "heavier",
                "situation": "逾期不改正",
                "person": no_fine(),
                "organisation": no_fine(),
                "measures": ["demolish"],
            },
        ],
    )


def land_occupation() -> BenchmarkSpec:
    """土地管理法实施条例 art. 57: 非法占用土地每平方米100元以上1000元以下."""
    tiers = [("lighter", 100, 300), ("ordinary", 300, 600), ("heavier", 600, 1000)]
    return spec(
        facts=[AREA],
        statutory={
            "person": per_unit("area_m2", 100, 1000),
            "organisation": per_unit("area_m2", 100, 1000),
        },
        measures=["restore", "confiscate_property"],
        tiers=[
            {
                "level": level,
                "person": per_unit("area_m2", lo, hi),
                "organisation": per_unit("area_m2", lo, hi),
            }
            for level, lo, hi in tiers
        ],
    )


def water_fee() -> BenchmarkSpec:
    """水法 art. 70: 并处应缴或者补缴水资源费一倍以上五倍以下的罚款."""
    tiers = [("lighter", "1", "2"), ("ordinary", "2", "3.5"), ("heavier", "3.5", "5")]
    return spec(
        facts=[FEE],
        statutory={
            "person": multiple("fee_due", "1", "5"),
            "organisation": multiple("fee_due", "1", "5"),
        },
        tiers=[
            {
                "level": level,
                "person": multiple("fee_due", lo, hi),
                "organisation": multiple("fee_due", lo, hi),
            }
            for level, lo, hi in tiers
        ],
    )


def open_air_barbecue(**extra: object) -> BenchmarkSpec:
    """大气污染防治法 art. 118 ¶3: 没收烧烤工具和违法所得，并处五百元以上二万元以下的罚款."""
    tiers = [("lighter", 500, 5000), ("ordinary", 5000, 12_000), ("heavier", 12_000, 20_000)]
    data: dict[str, object] = {
        "statutory": {"person": fixed(500, 20_000), "organisation": fixed(500, 20_000)},
        "measures": ["confiscate_property", "confiscate_income"],
        "tiers": [
            {"level": level, "person": fixed(lo, hi), "organisation": fixed(lo, hi)}
            for level, lo, hi in tiers
        ],
    }
    return spec(**(data | extra))


def street_stall_bands() -> BenchmarkSpec:
    """Jiaxing-style bands by occupied area (浙江省市容条例 art. 13 as in law-and-procedure.md
    §4.1): 单位 500–3,000, 个人 200–1,000."""
    bands = [
        ("a1", "占用面积5平方米以下", [{"fact": "area_m2", "op": "le", "value": "5"}]),
        ("a2", "占用面积5至10平方米", [{"fact": "area_m2", "op": "le", "value": "10"}]),
        ("a3", "占用面积10平方米以上", []),
    ]
    ranges = {"a1": ((500, 1500), (200, 500)), "a2": ((1500, 2000), (500, 600))}
    ranges["a3"] = ((2000, 3000), (600, 1000))
    return spec(
        facts=[AREA],
        statutory={"person": fixed(200, 1000), "organisation": fixed(500, 3000)},
        bands=[{"key": k, "label": label, "when": when} for k, label, when in bands],
        tiers=[
            {
                "level": "ordinary",
                "band": key,
                "organisation": fixed(*ranges[key][0]),
                "person": fixed(*ranges[key][1]),
            }
            for key in ("a1", "a2", "a3")
        ],
    )


def spitting() -> BenchmarkSpec:
    """北京市市容环境卫生条例 art. 52 (随地吐痰): 50 yuan (a fixed, one-figure fine)."""
    return spec(
        statutory={"person": fixed(50, 50)},
        tiers=[{"level": "ordinary", "person": fixed(50, 50)}],
    )
