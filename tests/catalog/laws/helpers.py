"""Builders for the legal-library tests: a small hand-written statute, its later revision, and the
sample statutes (imported through the real service)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from zhifa.catalog.laws.schemas import LawMeta
from zhifa.catalog.laws.service import SAMPLE_DIR, LawImportResult, law_service
from zhifa.models.catalog import LawKind
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District, Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role

HOME = "510184"
TITLE = "中华人民共和国测试法"
SHORT = "测试法"

# Four articles in two chapters; art. 2 has two paragraphs, the second with two items; art. 3 has
# two paragraphs.
SMALL = """---
bookHidden: true
---

# 中华人民共和国测试法

2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过

<!-- INFO END -->

## 第一章 总则

第一条 为了测试，制定本法。

第二条 本法适用于测试。

前款规定的测试包括：

（一）单元测试；

（二）集成测试。

## 第二章 法律责任

第三条 违反本法规定的，处一千元以上一万元以下的罚款。

情节严重的，处一万元以上十万元以下的罚款。

第四条 本法自2020年7月1日起施行。
"""

# The 2022 revision: art. 3 ¶1 raises the fine; the other articles are unchanged.
REVISED = SMALL.replace("处一千元以上一万元以下", "处二千元以上二万元以下").replace(
    "2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过",
    "2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过\n\n"
    "2022年1月1日 第十三届全国人民代表大会常务委员会第三十次会议修正",
)

FIRST = date(2020, 1, 1)
FIRST_EFFECTIVE = date(2020, 7, 1)
SECOND = date(2022, 1, 1)
SECOND_EFFECTIVE = date(2022, 3, 1)

AIR = "大气污染防治法(2018-10-26).md"
PENALTIES = "行政处罚法(2021-01-22).md"


def meta(**changes: Any) -> LawMeta:
    values: dict[str, Any] = {
        "kind": LawKind.LAW,
        "issuing_body": "全国人民代表大会常务委员会",
        "revision_date": FIRST,
        "effective_on": FIRST_EFFECTIVE,
        "promulgated_on": FIRST,
    }
    return LawMeta(**(values | changes))


def import_small(
    session: Session, text: str = SMALL, *, actor_id: int | None = None, **changes: Any
) -> LawImportResult:
    return law_service.import_markdown(
        session, actor_id=actor_id, text=text, source_name="测试法.md", meta=meta(**changes)
    )


def import_both_revisions(session: Session) -> tuple[LawImportResult, LawImportResult]:
    first = import_small(session)
    second = import_small(session, REVISED, revision_date=SECOND, effective_on=SECOND_EFFECTIVE)
    return first, second


def sample_text(name: str) -> str:
    return (SAMPLE_DIR / name).read_text(encoding="utf-8")


def import_sample(session: Session, name: str, **changes: Any) -> LawImportResult:
    revision = date.fromisoformat(name.rsplit("(", 1)[1][:10])
    values = {"revision_date": revision, "effective_on": revision, "promulgated_on": None}
    return law_service.import_markdown(
        session,
        actor_id=None,
        text=sample_text(name),
        source_name=name,
        meta=meta(**(values | changes)),
    )


def events(session: Session, kind: str) -> list[LedgerEvent]:
    session.expire_all()
    stmt = select(LedgerEvent).where(LedgerEvent.kind == kind).order_by(LedgerEvent.seq)
    return list(session.scalars(stmt))


def catalog_admin(session: Session, username: str = "catalog") -> tuple[Officer, Actor]:
    """A catalog admin (清单管理员) of the demo district, as a row and as the actor it acts as."""
    if session.get(District, HOME) is None:
        factories.district(session, HOME)
    row = factories.officer(session, HOME, username, [Role.CATALOG_ADMIN])
    return row, actor_for(session, row, via="session")
