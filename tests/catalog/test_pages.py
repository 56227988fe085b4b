"""Catalog pages: the power list with search, a power with its legal texts and benchmark, the legal
library, checklists, the fine calculator, the editing forms, import/export and the published
benchmarks. Real database, real services, real app; the catalog is built through the services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import web_login
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.exchange.columns import LAYOUTS, SheetKind
from zhifa.catalog.laws.schemas import LawMeta
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.schemas import (
    BenchmarkVersionIn,
    CheckItemVersionIn,
    ChecklistVersionIn,
    PowerVersionIn,
    SubjectTypeIn,
)
from zhifa.catalog.service import Author, benchmark_service, power_service
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.kit.clock import today_local
from zhifa.models.catalog import BenchmarkVersion, CheckItem, Checklist, Power, PowerVersion
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District, Officer, UnitKind
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role

HOME = "510184"
CODE = "CF-WH-001"
STATUTE = """# 测试网吧管理条例

2022年3月29日 测试机关公布

<!-- INFO END -->

## 第一章 总则

第一条 为了规范网吧经营活动，制定本条例。

## 第二章 法律责任

第二条 网吧经营单位不得接纳未成年人进入营业场所。

网吧经营单位应当在营业场所入口处的显著位置悬挂未成年人禁入标志。

第三条 网吧经营单位违反本条例的规定，有下列行为之一的，由文化行政部门给予警告，{fine}：

（一）在规定的营业时间以外营业的；

（二）接纳未成年人进入营业场所的。
""".format(fine="可以并处15000元以下的罚款")
META = LawMeta(
    kind="administrative_regulation",
    issuing_body="测试机关",
    revision_date=date(2022, 3, 29),
    effective_on=date(2022, 4, 1),
)


def cafe_power(**changes: object) -> PowerVersionIn:
    data: dict[str, object] = {
        "name": "对网吧接纳未成年人进入的处罚",
        "kind": "penalty",
        "department": "wenhua",
        "party_types": ["organisation"],
        "violated": "《测试网吧管理条例》第二条第一款",
        "penalty": "《测试网吧管理条例》第三条第（二）项",
        "penalty_text": "警告，可以并处15000元以下的罚款",
        "responsibility": {"unit_code": "JU", "act_within_days": 90, "duties": "查处接纳未成年人"},
        "effective_from": date(2022, 5, 1),
    }
    return PowerVersionIn.model_validate(data | changes)


def per_minor_spec(per_minor_fen: int = 300_000) -> dict[str, object]:
    return {
        "facts": [{"key": "minors", "label": "未成年人人数", "unit": "人", "kind": "count"}],
        "statutory": {"organisation": {"kind": "up_to", "max_fen": 1_500_000}},
        "measures": ["warning"],
        "tiers": [
            {
                "level": "ordinary",
                "situation": "接纳未成年人",
                "organisation": {
                    "kind": "per_unit",
                    "fact": "minors",
                    "min_fen": per_minor_fen,
                    "max_fen": per_minor_fen,
                    "cap_fen": 1_500_000,
                },
            }
        ],
        "first_offence_exemption": False,
    }


def add_catalog(session: Session, author: Author, *, power: PowerVersionIn) -> int:
    """The tiny statute, the 网吧 power with its per-minor benchmark, a check item and a checklist
    for 网吧, in the author's district. Returns the statute's document id."""
    law = law_service.import_markdown(
        session, actor_id=None, text=STATUTE, source_name="test.md", meta=META
    )
    power_service.put(session, author, code=CODE, data=power)
    spec = BenchmarkSpec.model_validate(per_minor_spec())
    benchmark_service.put(
        session,
        author,
        code=CODE,
        data=BenchmarkVersionIn(spec=spec, effective_from=date(2022, 5, 1)),
    )
    subject_type_service.create(
        session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
    )
    check_item_service.put(
        session,
        author,
        code="JC-WH-001",
        data=CheckItemVersionIn(
            text="是否接纳未成年人进入",
            department="wenhua",
            power_codes=[CODE],
            evidence=["photo", "video"],
            effective_from=date(2022, 5, 1),
        ),
    )
    checklist_service.put(
        session,
        author,
        code="QD-WB",
        data=ChecklistVersionIn(
            name="网吧检查清单",
            subject_type="internet_cafe",
            item_codes=["JC-WH-001"],
            effective_from=date(2022, 5, 1),
        ),
    )
    return law.document.id


@dataclass
class World:
    admin: Officer
    officer: Officer
    document_id: int


def build(session: Session, *, fictional: bool = True, note: str = "") -> World:
    """A district with a department, a unit, a tiny statute, one penalty power with a per-minor
    benchmark, a check item and a checklist for 网吧."""
    factories.district(session, HOME)
    session.get_one(District, HOME).fictional = fictional
    factories.department(session, HOME, "wenhua", "文化市场")
    factories.unit(session, HOME, UnitKind.BUREAU, "综合行政执法局", "JU")
    admin = factories.officer(session, HOME, "catalog-admin", [Role.CATALOG_ADMIN], name="王清单")
    officer = factories.officer(session, HOME, "field-officer", [Role.OFFICER], name="李队员")
    author = Author(officer_id=admin.id, district_code=HOME, via="test")
    document_id = add_catalog(session, author, power=cafe_power(note=note))
    session.commit()
    return World(admin, officer, document_id)


def login(client: TestClient, session: Session, who: Officer) -> str:
    return web_login(client, session, who)


def main(html: str) -> str:
    return html.split("<main", 1)[1].split("</main>", 1)[0]


def versions_of(session: Session, model: type[PowerVersion] | type[BenchmarkVersion]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


HX = {"HX-Request": "true"}


class TestThePowerList:
    def test_it_lists_code_name_department_kind_party_and_benchmark(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        page = client.get("/catalog")

        assert page.status_code == 200
        row = page.text.split(f'data-power="{CODE}"', 1)[1].split("</tr>", 1)[0]
        for text in (CODE, "对网吧接纳未成年人进入的处罚", "文化市场", "行政处罚", "单位", "是"):
            assert text in row, text
        assert 'data-total="1"' in page.text
        assert 'href="/catalog/laws"' in page.text
        assert 'href="/catalog/checklists"' in page.text

    def test_the_search_keeps_matching_powers_and_htmx_gets_only_the_results(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        found = client.get(
            "/catalog", params={"q": "未成年人"}, headers=HX | {"HX-Target": "power-results"}
        )
        missed = client.get("/catalog", params={"q": "占道经营"})

        assert found.status_code == 200
        assert "<html" not in found.text
        assert f'data-power="{CODE}"' in found.text
        assert f'data-power="{CODE}"' not in missed.text
        assert 'data-total="0"' in missed.text

    def test_filters_by_department_and_kind(self, client: TestClient, session: Session) -> None:
        world = build(session)
        login(client, session, world.officer)

        by_department = client.get("/catalog", params={"department": "wenhua", "kind": "penalty"})
        other_kind = client.get("/catalog", params={"kind": "inspection"})

        assert f'data-power="{CODE}"' in by_department.text
        assert f'data-power="{CODE}"' not in other_kind.text


class TestTheSampleDataBanner:
    BANNER = "示例数据：须按本地规定核实"

    def test_a_fictional_district_shows_it(self, client: TestClient, session: Session) -> None:
        world = build(session, fictional=True)
        login(client, session, world.officer)

        assert self.BANNER in client.get("/catalog").text

    def test_a_real_district_shows_it_only_when_a_version_note_says_sample(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session, fictional=False)
        login(client, session, world.officer)
        assert self.BANNER not in client.get("/catalog").text

        author = Author(officer_id=world.admin.id, district_code=HOME, via="test")
        power_service.put(
            session,
            author,
            code="CF-WH-002",
            data=cafe_power(
                name="示例事项", note="示例数据，须核实", effective_from=date(2023, 1, 1)
            ),
        )
        session.commit()

        assert self.BANNER in client.get("/catalog").text


class TestThePowerDetail:
    def test_it_shows_the_provision_texts_the_benchmark_and_the_history(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        page = client.get(f"/catalog/powers/{CODE}")

        assert page.status_code == 200
        text = page.text
        assert "网吧经营单位不得接纳未成年人进入营业场所。" in text  # 违法依据, paragraph 1
        assert "（二）接纳未成年人进入营业场所的。" in text  # 处罚依据, item (二)
        assert f'href="/catalog/laws/{world.document_id}#a2"' in text
        assert "每人3,000元（按未成年人人数计），最高15,000元" in text
        assert "15,000元以下" in text  # the statutory range
        assert "综合行政执法局" in text
        assert "90日" in text
        assert "王清单" in text  # recorded by
        sha = session.scalars(select(PowerVersion.content_sha256)).one()
        assert sha[:12] in text
        assert f'href="/catalog/calculator?power={CODE}"' in text

    def test_before_the_first_version_it_says_nothing_was_in_force(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        page = client.get(f"/catalog/powers/{CODE}", params={"on": "2021-01-01"})

        assert page.status_code == 200
        assert "2021-01-01" in page.text
        assert "网吧经营单位不得接纳未成年人" not in page.text

    def test_the_text_shown_is_the_one_in_force_on_the_date_asked_for(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        provision = next(
            p
            for p in law_service.provisions(session, document_id=world.document_id)
            if p.article == 2
        )
        actor = actor_for(session, world.admin, via="session")
        law_service.revise_provision(
            session,
            actor,
            provision_id=provision.id,
            text="网吧经营单位不得接纳未满十八周岁的人员进入营业场所。\n\n入口处应当悬挂禁入标志。",
            effective_on=date(2024, 1, 1),
            note="测试修订",
        )
        session.commit()
        login(client, session, world.officer)

        before = client.get(f"/catalog/powers/{CODE}", params={"on": "2023-06-01"}).text
        after = client.get(f"/catalog/powers/{CODE}", params={"on": "2024-06-01"}).text

        assert "不得接纳未成年人进入营业场所" in before
        assert "未满十八周岁的人员" not in before
        assert "未满十八周岁的人员" in after

    def test_a_badly_typed_date_is_refused_naming_it(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        assert client.get(f"/catalog/powers/{CODE}", params={"on": "yesterday"}).status_code == 422

    def test_an_unknown_power_is_not_found(self, client: TestClient, session: Session) -> None:
        world = build(session)
        login(client, session, world.officer)

        assert client.get("/catalog/powers/NO-SUCH").status_code == 404


class TestTheLegalLibrary:
    def test_the_list_searches_titles_and_article_texts(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        listed = client.get("/catalog/laws", params={"q": "网吧"})
        articles = client.get("/catalog/laws", params={"pq": "禁入标志"})

        assert f'data-document="{world.document_id}"' in listed.text
        assert f'href="/catalog/laws/{world.document_id}#a2"' in articles.text
        assert "悬挂未成年人禁入标志" in articles.text

    def test_a_document_shows_its_chapters_and_an_anchor_per_article(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        page = client.get(f"/catalog/laws/{world.document_id}", params={"q": "营业时间"})

        assert page.status_code == 200
        assert "第二章 法律责任" in page.text
        for anchor in ('id="a1"', 'id="a2"', 'id="a3"'):
            assert anchor in page.text
        assert 'href="#a3"' in page.text  # the search within the document


class TestChecklists:
    def test_check_items_checklists_and_the_merged_checklist_render(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        items = client.get("/catalog/check-items", params={"q": "未成年人"})
        lists = client.get("/catalog/checklists")
        one = client.get("/catalog/checklists/QD-WB")
        merged = client.get("/catalog/subject-types/internet_cafe")

        assert 'data-item="JC-WH-001"' in items.text
        assert "照片" in items.text
        assert 'data-checklist="QD-WB"' in lists.text
        assert "是否接纳未成年人进入" in one.text
        assert merged.status_code == 200
        assert "是否接纳未成年人进入" in merged.text
        assert "《测试网吧管理条例》第三条第（二）项" in merged.text
        assert "（二）接纳未成年人进入营业场所的。" in merged.text

    def test_an_unknown_subject_type_is_not_found(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        assert client.get("/catalog/subject-types/nothing").status_code == 404


ACT_DATE = (today_local() - timedelta(days=30)).isoformat()  # inside the 2-year limitation


def calculate(client: TestClient, csrf: str, **fields: str | list[str]) -> object:
    data: dict[str, str | list[str]] = {
        "power_code": CODE,
        "act_date": ACT_DATE,
        "party_type": "organisation",
    }
    return client.post(
        "/catalog/calculator",
        data=data | fields,
        headers=HX | {"HX-Target": "calculator", "X-CSRF-Token": csrf},
    )


class TestTheCalculator:
    def test_the_page_finds_the_power_and_asks_for_the_declared_facts(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.officer)

        search = client.get(
            "/catalog/calculator", params={"q": "网吧"}, headers=HX | {"HX-Target": "power-choices"}
        )
        form = client.get("/catalog/calculator", params={"power": CODE})

        assert f'data-choose-power="{CODE}"' in search.text
        assert "<html" not in search.text
        assert 'name="fact.minors"' in form.text
        assert "未成年人人数" in form.text
        assert 'value="organisation"' in form.text
        assert 'value="person"' not in form.text
        assert "不予处罚情形" in form.text

    def test_two_minors_cost_three_thousand_yuan_each(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = calculate(client, csrf, **{"fact.minors": "2"})

        assert response.status_code == 200  # type: ignore[attr-defined]
        text = response.text  # type: ignore[attr-defined]
        assert 'data-recommended-fen="600000"' in text
        assert "6,000" in text
        assert "<html" not in text
        assert 'data-step="' in text  # the explanation
        assert "《测试网吧管理条例》第三条第（二）项" in text

    def test_six_minors_are_capped_at_the_statutory_maximum(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = calculate(client, csrf, **{"fact.minors": "6"})

        assert 'data-recommended-fen="1500000"' in response.text  # type: ignore[attr-defined]
        assert "15,000" in response.text  # type: ignore[attr-defined]

    def test_a_missing_fact_is_refused_beside_its_field_in_chinese(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = calculate(client, csrf)

        assert response.status_code == 422  # type: ignore[attr-defined]
        text = response.text  # type: ignore[attr-defined]
        beside = text.split('id="f-fact-minors"', 1)[1].split("</fieldset>", 1)[0]
        assert 'id="err-facts-minors"' in beside
        message = re.search(r'id="err-facts-minors"[^>]*>([^<]+)<', text)
        assert message is not None
        assert re.search(r"[\u4e00-\u9fff]", message.group(1))  # Chinese
        assert f'name="act_date" type="date" value="{ACT_DATE}"' in text  # the form kept the input

    def test_a_chosen_amount_that_is_not_money_is_refused_at_that_field(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = calculate(client, csrf, **{"fact.minors": "2", "chosen_yuan": "-5"})

        assert response.status_code == 422  # type: ignore[attr-defined]
        assert 'id="err-chosen_fen"' in response.text  # type: ignore[attr-defined]

    def test_a_plain_post_gets_the_whole_page(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = client.post(
            "/catalog/calculator",
            data={
                "csrf_token": csrf,
                "power_code": CODE,
                "act_date": ACT_DATE,
                "party_type": "organisation",
                "fact.minors": "1",
            },
        )

        assert response.status_code == 200
        assert "<html" in response.text
        assert 'data-recommended-fen="300000"' in response.text


class TestEditingForms:
    def power_form(self, csrf: str, **changes: str | list[str]) -> dict[str, str | list[str]]:
        data: dict[str, str | list[str]] = {
            "csrf_token": csrf,
            "code": "CF-WH-009",
            "name": "对网吧未悬挂禁入标志的处罚",
            "kind": "penalty",
            "department": "wenhua",
            "party_types": ["organisation"],
            "violated": "《测试网吧管理条例》第二条第二款",
            "penalty": "《测试网吧管理条例》第三条",
            "role": "officer",
            "status": "active",
            "effective_from": "2023-01-01",
            "note": "",
        }
        return data | changes

    def test_the_admin_creates_a_power_and_it_is_ledgered(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        assert client.get("/catalog/powers/new").status_code == 200

        response = client.post(
            "/catalog/powers", data=self.power_form(csrf), follow_redirects=False
        )

        assert (response.status_code, response.headers["location"]) == (
            303,
            "/catalog/powers/CF-WH-009",
        )
        power = session.scalars(select(Power).where(Power.code == "CF-WH-009")).one()
        kinds = set(
            session.scalars(select(LedgerEvent.kind).where(LedgerEvent.subject_id == str(power.id)))
        )
        assert "catalog.power.created" in kinds

    def test_a_bad_citation_is_refused_beside_its_field_and_nothing_is_saved(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        before = versions_of(session, PowerVersion)

        response = client.post(
            "/catalog/powers",
            data=self.power_form(csrf, violated="《测试网吧管理条例》第九十九条"),
        )

        assert response.status_code == 422
        assert 'data-error-for="violated"' in response.text
        assert 'value="CF-WH-009"' in response.text  # what was typed is kept
        assert versions_of(session, PowerVersion) == before
        assert session.scalar(select(Power).where(Power.code == "CF-WH-009")) is None

    def test_a_new_version_needs_a_note(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        form = client.get(f"/catalog/powers/{CODE}/edit")
        assert "《测试网吧管理条例》第二条第一款" in form.text  # citations written out
        data = self.power_form(
            csrf,
            name="对网吧接纳未成年人进入的处罚（修订）",
            violated="《测试网吧管理条例》第二条第一款",
            penalty="《测试网吧管理条例》第三条第（二）项",
            effective_from="2024-01-01",
        )
        data.pop("code")

        refused = client.post(f"/catalog/powers/{CODE}/edit", data=data)
        saved = client.post(
            f"/catalog/powers/{CODE}/edit",
            data=data | {"note": "名称修订"},
            headers=HX | {"X-CSRF-Token": csrf},
        )

        assert refused.status_code == 422
        assert 'data-error-for="note"' in refused.text
        assert saved.headers["HX-Redirect"] == f"/catalog/powers/{CODE}"
        assert versions_of(session, PowerVersion) == 2

    def test_a_benchmark_version_is_validated_and_recorded(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        form = client.get(f"/catalog/powers/{CODE}/benchmark/edit")
        assert "minors" in form.text  # pre-filled with the current spec
        outside = per_minor_spec(per_minor_fen=2_000_000)  # 20,000 per minor > 15,000
        base = {"csrf_token": csrf, "effective_from": "2024-01-01", "note": "调整"}

        not_json = client.post(f"/catalog/powers/{CODE}/benchmark/edit", data=base | {"spec": "{"})
        out_of_range = client.post(
            f"/catalog/powers/{CODE}/benchmark/edit", data=base | {"spec": json.dumps(outside)}
        )
        assert versions_of(session, BenchmarkVersion) == 1
        saved = client.post(
            f"/catalog/powers/{CODE}/benchmark/edit",
            data=base | {"spec": json.dumps(per_minor_spec(per_minor_fen=200_000))},
            follow_redirects=False,
        )

        assert not_json.status_code == 422
        assert 'data-error-for="spec"' in not_json.text
        assert out_of_range.status_code == 422
        assert "tiers[0].organisation" in out_of_range.text  # the message names the field
        assert saved.status_code == 303
        assert versions_of(session, BenchmarkVersion) == 2

    def test_check_items_and_checklists_are_created_from_forms(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        assert client.get("/catalog/check-items/new").status_code == 200
        assert client.get("/catalog/checklists/new").status_code == 200

        item = client.post(
            "/catalog/check-items",
            data={
                "csrf_token": csrf,
                "code": "JC-WH-002",
                "text": "是否悬挂禁入标志",
                "evidence": ["photo"],
                "department": "wenhua",
                "power_codes": CODE,
                "effective_from": "2024-01-01",
            },
            follow_redirects=False,
        )
        checklist = client.post(
            "/catalog/checklists",
            data={
                "csrf_token": csrf,
                "code": "QD-WB2",
                "name": "网吧夜查清单",
                "subject_type": "internet_cafe",
                "item_codes": "JC-WH-001\nJC-WH-002",
                "active": "1",
                "effective_from": "2024-01-01",
            },
            follow_redirects=False,
        )
        duplicate = client.post(
            "/catalog/check-items",
            data={
                "csrf_token": csrf,
                "code": "JC-WH-002",
                "text": "重复",
                "department": "wenhua",
                "effective_from": "2024-01-01",
            },
        )

        assert item.status_code == 303
        assert checklist.status_code == 303
        assert session.scalar(select(CheckItem).where(CheckItem.code == "JC-WH-002")) is not None
        assert session.scalar(select(Checklist).where(Checklist.code == "QD-WB2")) is not None
        assert duplicate.status_code == 409
        assert 'data-error-for="code"' in duplicate.text

    @pytest.mark.parametrize(
        ("method", "url"),
        [
            ("get", "/catalog/powers/new"),
            ("post", "/catalog/powers"),
            ("get", f"/catalog/powers/{CODE}/edit"),
            ("post", f"/catalog/powers/{CODE}/benchmark/edit"),
            ("get", "/catalog/check-items/new"),
            ("post", "/catalog/checklists"),
            ("get", "/catalog/import"),
            ("post", "/catalog/import"),
        ],
    )
    def test_a_field_officer_is_refused(
        self, client: TestClient, session: Session, method: str, url: str
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = client.request(
            method, url, data={"csrf_token": csrf} if method == "post" else None
        )

        assert response.status_code == 403
        assert 'href="/catalog/powers/new"' not in main(client.get("/catalog").text)


POWERS_CSV = (
    "事项编码,事项名称,事项类别,实施部门,违法依据,处罚依据,适用对象,生效日期\n"
    "CF-WH-010,对网吧超时营业的处罚,行政处罚,wenhua,"
    "《测试网吧管理条例》第二条第二款,《测试网吧管理条例》第三条第（一）项,单位,2023-01-01\n"
)


class TestImportAndExport:
    def test_a_dry_run_checks_the_file_and_saves_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        assert client.get("/catalog/import").status_code == 200

        response = client.post(
            "/catalog/import",
            data={"csrf_token": csrf, "mode": "dry_run"},
            files={"files": ("powers.csv", POWERS_CSV.encode(), "text/csv")},
            headers=HX | {"X-CSRF-Token": csrf},
        )

        assert response.status_code == 200
        assert 'data-dry-run="true"' in response.text
        assert session.scalar(select(Power).where(Power.code == "CF-WH-010")) is None

    def test_an_import_saves_the_file(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)

        response = client.post(
            "/catalog/import",
            data={"csrf_token": csrf, "mode": "import"},
            files={"files": ("powers.csv", POWERS_CSV.encode(), "text/csv")},
        )

        assert response.status_code == 200
        assert 'data-dry-run="false"' in response.text
        assert session.scalar(select(Power).where(Power.code == "CF-WH-010")) is not None

    def test_a_refused_file_lists_its_problems_by_sheet_row_and_column(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        bad = POWERS_CSV.replace(",wenhua,", ",nowhere,")

        response = client.post(
            "/catalog/import",
            data={"csrf_token": csrf, "mode": "import"},
            files={"files": ("powers.csv", bad.encode(), "text/csv")},
            headers=HX | {"X-CSRF-Token": csrf},
        )

        assert response.status_code == 422
        assert 'id="import-problems"' in response.text
        assert 'data-problem-row="2"' in response.text
        assert "实施部门" in response.text
        assert session.scalar(select(Power).where(Power.code == "CF-WH-010")) is None

    def test_the_export_downloads_a_workbook(self, client: TestClient, session: Session) -> None:
        world = build(session)
        login(client, session, world.admin)

        response = client.get("/catalog/export.xlsx")

        assert response.status_code == 200
        assert response.content.startswith(b"PK\x03\x04")
        assert "attachment" in response.headers["content-disposition"]


class TestThePublishedBenchmarks:
    def test_anyone_can_read_them_without_logging_in(
        self, client: TestClient, session: Session
    ) -> None:
        build(session)

        page = client.get(f"/public/benchmarks/{HOME}")

        assert page.status_code == 200
        assert f'data-power="{CODE}"' in page.text
        assert "每人3,000元（按未成年人人数计），最高15,000元" in page.text
        assert "第三十四条" in page.text or "34" in page.text
        assert "王清单" not in page.text  # who recorded it is not published

    def test_an_unknown_district_is_not_found(self, client: TestClient, session: Session) -> None:
        build(session)

        assert client.get("/public/benchmarks/999999").status_code == 404
        assert client.get("/public/benchmarks/nothing").status_code == 404


class _FormFields(HTMLParser):
    """The values a browser would post for the benchmark table: inputs and selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._depth = 0  # inside <template> rows are not posted

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "template":
            self._depth += 1
        name = found.get("name", "")
        if self._depth or not name.startswith("rows-"):
            if tag == "option" and self._select and "selected" in found:
                self.fields[self._select] = found.get("value", "")
            return
        if tag == "input":
            self.fields[name] = found.get("value", "")
        elif tag == "select":
            self._select = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "template":
            self._depth -= 1
        elif tag == "select":
            self._select = None


def table_fields(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


EDITOR = f"/catalog/powers/{CODE}/benchmark/edit"
COLUMNS = [
    c
    for c in LAYOUTS[SheetKind.BENCHMARKS].columns
    if c not in ("序号", "事项编码", "生效日期", "版本说明")
]


class TestTheBenchmarkEditor:
    """The benchmark typed as rows of the 裁量基准 sheet. Row 1 is the statutory range (单位, up
    to 15,000 yuan), row 2 the fact 'minors', row 3 the 一般 tier (3,000 yuan per minor)."""

    def post(
        self, client: TestClient, csrf: str, fields: dict[str, str], **form: str
    ) -> httpx2.Response:
        data = {"csrf_token": csrf, "effective_from": today_local().isoformat(), "note": ""}
        return client.post(EDITOR, data=data | fields | form, follow_redirects=False)

    def test_the_form_is_prefilled_with_the_rows_of_the_benchmark_in_force(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        login(client, session, world.admin)

        fields = table_fields(client.get(EDITOR).text)

        assert fields["rows-1-行类型"] == "法定幅度"
        assert (fields["rows-1-对象"], fields["rows-1-计算方式"]) == ("单位", "限额")
        assert (fields["rows-1-上限"], fields["rows-1-处罚措施"]) == ("15000", "警告")
        assert (fields["rows-2-行类型"], fields["rows-2-计量事实"]) == ("计量事实", "minors")
        assert (fields["rows-2-事实名称"], fields["rows-2-事实类型"]) == ("未成年人人数", "计数")
        assert (fields["rows-3-裁量等级"], fields["rows-3-计算方式"]) == ("一般", "按单位")
        assert (fields["rows-3-下限"], fields["rows-3-上限"]) == ("3000", "3000")
        assert fields["rows-3-封顶（元）"] == "15000"
        assert all(fields[f"rows-{n}-行类型"] == "" for n in (4, 5, 6))  # three blank rows
        assert "rows-7-行类型" not in fields

    def test_a_power_without_a_benchmark_starts_with_its_statutory_rows_and_an_ordinary_tier(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        author = Author(officer_id=world.admin.id, district_code=HOME, via="test")
        power_service.put(session, author, code="CF-WH-009", data=cafe_power())
        session.commit()
        login(client, session, world.admin)

        fields = table_fields(client.get("/catalog/powers/CF-WH-009/benchmark/edit").text)

        assert (fields["rows-1-行类型"], fields["rows-1-对象"]) == ("法定幅度", "单位")
        assert (fields["rows-2-行类型"], fields["rows-2-裁量等级"]) == ("裁量阶次", "一般")
        assert fields["rows-3-行类型"] == ""

    def test_posting_the_rows_back_unchanged_records_nothing_and_says_so(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text)
        events = session.scalar(select(func.count()).select_from(LedgerEvent))

        response = self.post(client, csrf, fields)

        assert response.status_code == 200
        assert "data-notice" in response.text
        assert "未记录新版本" in response.text
        assert versions_of(session, BenchmarkVersion) == 1
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == events

    def test_a_long_table_is_read_whole(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text)
        blank = {f"rows-{n}-{column}": "" for n in range(7, 120) for column in COLUMNS}

        response = self.post(client, csrf, fields | blank)  # about 2,000 fields

        assert response.status_code == 200
        assert "未记录新版本" in response.text

    def test_changing_the_ordinary_tier_records_version_two_with_the_note(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text)
        fields |= {"rows-3-下限": "2000", "rows-3-上限": "2500"}

        response = self.post(client, csrf, fields, effective_from="2024-01-01", note="下调")

        assert response.status_code == 303
        assert response.headers["location"] == f"/catalog/powers/{CODE}"
        session.expire_all()
        latest = session.scalars(
            select(BenchmarkVersion).order_by(BenchmarkVersion.version.desc())
        ).first()
        assert latest is not None
        assert (latest.version, latest.note, latest.effective_from) == (
            2,
            "下调",
            date(2024, 1, 1),
        )
        tier = latest.spec["tiers"][0]["organisation"]
        assert (tier["min_fen"], tier["max_fen"]) == (200_000, 250_000)
        kinds = session.scalars(
            select(LedgerEvent.kind).where(LedgerEvent.subject_id == str(latest.id))
        )
        assert "catalog.benchmark.versioned" in set(kinds)

    def test_a_tier_outside_the_statutory_range_is_refused_at_its_bounds(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text) | {"rows-3-上限": "20000"}

        response = self.post(client, csrf, fields, effective_from="2024-01-01", note="调整")

        assert response.status_code == 422
        html = response.text
        assert 'data-error-cell="3-上限"' in html
        assert 'data-error-row="3" data-error-column="上限"' in html
        assert "exceeds the statutory maximum" in html
        assert table_fields(html)["rows-3-上限"] == "20000"  # what was typed is kept
        assert versions_of(session, BenchmarkVersion) == 1

    def test_a_bad_yuan_amount_is_refused_at_its_cell(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text) | {"rows-3-下限": "三千"}

        response = self.post(client, csrf, fields, effective_from="2024-01-01", note="调整")

        html = response.text
        assert response.status_code == 422
        assert 'data-error-cell="3-下限"' in html
        assert 'data-error-row="3" data-error-column="下限"' in html
        assert "三千" in html.split('data-error-column="下限"', 1)[1]  # the message names it
        assert "rows-1-上限" in table_fields(html)
        assert versions_of(session, BenchmarkVersion) == 1

    def test_blank_rows_anywhere_are_ignored(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        shown = table_fields(client.get(EDITOR).text)
        # The table with two blank rows before the tier and ten at the end.
        moved = {k.replace("rows-3-", "rows-9-"): v for k, v in shown.items() if "rows-3-" in k}
        blank = {f"rows-{n}-下限": "  " for n in (3, 4, *range(10, 20))}
        fields = {k: v for k, v in shown.items() if k.startswith(("rows-1-", "rows-2-"))}
        fields |= moved | blank | {"rows-9-上限": "3500", "rows-9-下限": "3500"}

        response = self.post(client, csrf, fields, effective_from="2024-01-01", note="上调")

        assert response.status_code == 303
        assert versions_of(session, BenchmarkVersion) == 2

    def test_without_the_script_rows_are_added_and_deleted_by_the_server(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text)

        added = self.post(client, csrf, fields, add_row="1")
        deleted = self.post(client, csrf, fields, remove_row="2")

        assert added.status_code == 200
        assert "rows-7-行类型" in table_fields(added.text)
        after = table_fields(deleted.text)
        assert (after["rows-2-行类型"], after["rows-2-裁量等级"]) == ("裁量阶次", "一般")
        assert versions_of(session, BenchmarkVersion) == 1

    def test_the_json_editor_still_records_a_version(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.admin)
        fields = table_fields(client.get(EDITOR).text)
        spec = json.dumps(per_minor_spec(per_minor_fen=250_000))

        response = self.post(
            client, csrf, fields, spec=spec, mode="json", effective_from="2024-01-01", note="JSON"
        )

        assert response.status_code == 303
        assert versions_of(session, BenchmarkVersion) == 2

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_field_officer_is_refused(
        self, client: TestClient, session: Session, method: str
    ) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        response = client.request(
            method, EDITOR, data={"csrf_token": csrf} if method == "post" else None
        )

        assert response.status_code == 403
        assert versions_of(session, BenchmarkVersion) == 1
