"""A small real catalog for tests: the demo district's departments and units, statutes imported
from the shipped sample texts, and input builders for powers, benchmarks and checklists."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests import factories
from zhifa.catalog.laws.schemas import LawMeta
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.schemas import (
    BenchmarkVersionIn,
    CheckItemVersionIn,
    ChecklistVersionIn,
    PowerVersionIn,
)
from zhifa.catalog.service import Author
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.models.catalog import LegalDocument
from zhifa.models.org import Officer, UnitKind
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role

SAMPLE_LAWS = Path(__file__).resolve().parents[2] / "src" / "zhifa" / "catalog" / "sample" / "laws"
CAFE = "互联网上网服务营业场所管理条例(2022-03-29).md"
PLANNING = "城乡规划法(2019-04-23).md"
AIR = "大气污染防治法(2018-10-26).md"
DEPARTMENTS = [
    ("chengguan", "城市管理"),
    ("guihua", "城乡规划"),
    ("wenhua", "文化市场"),
    ("shengtai", "生态环境"),
]


@lru_cache
def _manifest() -> dict[str, dict[str, Any]]:
    entries = json.loads((SAMPLE_LAWS / "laws.json").read_text(encoding="utf-8"))
    return {e["file"]: e for e in entries}


def load_law(session: Session, file_name: str) -> LegalDocument:
    meta = {k: v for k, v in _manifest()[file_name].items() if k != "file"}
    result = law_service.import_markdown(
        session,
        actor_id=None,
        text=(SAMPLE_LAWS / file_name).read_text(encoding="utf-8"),
        source_name=file_name,
        meta=LawMeta.model_validate(meta),
    )
    return result.document


def world(session: Session, code: str = "510184", *laws: str) -> Author:
    """A district with departments, a bureau unit and the named statutes; its catalog author."""
    factories.district(session, code)
    for dept_code, name in DEPARTMENTS:
        factories.department(session, code, dept_code, name)
    factories.unit(session, code, UnitKind.BUREAU, "综合行政执法局", "JU")
    for file_name in laws or (CAFE, PLANNING, AIR):
        if session.query(LegalDocument).filter_by(source_name=file_name).first() is None:
            load_law(session, file_name)
    session.flush()
    return Author(officer_id=None, district_code=code, via="test")


def cafe_power(**changes: Any) -> PowerVersionIn:
    """互联网上网服务营业场所管理条例 art. 21 (violated) / art. 31 (penalty): minors admitted."""
    data: dict[str, Any] = {
        "name": "对互联网上网服务营业场所接纳未成年人进入的处罚",
        "kind": "penalty",
        "department": "wenhua",
        "party_types": ["organisation"],
        "violated": "《互联网上网服务营业场所管理条例》第二十一条",
        "penalty": "《互联网上网服务营业场所管理条例》第三十一条第（二）项",
        "penalty_text": "警告，可以并处15000元以下的罚款",
        "responsibility": {"unit_code": "JU", "role": "officer", "act_within_days": 90},
        "effective_from": date(2022, 5, 1),
    }
    return PowerVersionIn.model_validate(data | changes)


def per_minor_spec(per_minor_yuan: int = 3000) -> BenchmarkSpec:
    fen = per_minor_yuan * 100
    return BenchmarkSpec.model_validate(
        {
            "facts": [{"key": "minors", "label": "未成年人人数", "unit": "人", "kind": "count"}],
            "statutory": {"organisation": {"kind": "up_to", "max_fen": 1_500_000}},
            "measures": ["warning"],
            "tiers": [
                {
                    "level": "ordinary",
                    "organisation": {
                        "kind": "per_unit",
                        "fact": "minors",
                        "min_fen": fen,
                        "max_fen": fen,
                    },
                }
            ],
            "first_offence_exemption": False,
        }
    )


def benchmark_in(spec: BenchmarkSpec, effective_from: date, note: str = "") -> BenchmarkVersionIn:
    return BenchmarkVersionIn(spec=spec, effective_from=effective_from, note=note)


def check_item(text: str, department: str, *power_codes: str, **changes: Any) -> CheckItemVersionIn:
    data = {
        "text": text,
        "department": department,
        "power_codes": list(power_codes),
        "evidence": ["photo"],
        "effective_from": date(2024, 1, 1),
    }
    return CheckItemVersionIn.model_validate(data | changes)


def checklist(name: str, subject_type: str, *item_codes: str, **changes: Any) -> ChecklistVersionIn:
    data = {
        "name": name,
        "subject_type": subject_type,
        "item_codes": list(item_codes),
        "effective_from": date(2024, 1, 1),
    }
    return ChecklistVersionIn.model_validate(data | changes)


def actor_of(session: Session, district_code: str, role: Role = Role.CATALOG_ADMIN) -> Actor:
    """A real officer of the district with ``role``, as the actor a request would build."""
    username = f"{role.value}-{district_code}"
    row = session.query(Officer).filter_by(username=username).one_or_none()
    row = row or factories.officer(session, district_code, username, [role])
    return actor_for(session, row, via="session")
