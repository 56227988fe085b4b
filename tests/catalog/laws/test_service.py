"""The legal-library service: importing statutes (idempotent, conflicts, ledger), the sample, and
provision revisions (new rows; the old stay readable; the database refuses edits)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import rfc8785
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.catalog.laws.helpers import (
    FIRST,
    FIRST_EFFECTIVE,
    PENALTIES,
    REVISED,
    SHORT,
    SMALL,
    TITLE,
    catalog_admin,
    events,
    import_sample,
    import_small,
    meta,
)
from tests.catalog.laws.test_markdown import ARTICLES
from zhifa.catalog.laws.service import law_service
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.models.catalog import LegalDocument, Provision
from zhifa.models.ledger import LedgerEvent


def count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def provisions(session: Session, document_id: int) -> list[Provision]:
    stmt = select(Provision).where(Provision.document_id == document_id).order_by(Provision.id)
    return list(session.scalars(stmt))


class TestImport:
    def test_the_document_and_one_provision_per_article_are_created(self, session: Session) -> None:
        result = import_small(session)
        document = result.document
        assert (result.created, result.provisions) == (True, 4)
        assert (document.title, document.short_title) == (TITLE, SHORT)
        assert (document.revision_date, document.effective_on, document.promulgated_on) == (
            FIRST,
            FIRST_EFFECTIVE,
            FIRST,
        )
        assert document.history == "2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过"
        assert (document.jurisdiction, document.source_name) == ("national", "测试法.md")
        rows = provisions(session, document.id)
        assert [(p.article, p.label, p.version, p.effective_on) for p in rows] == [
            (n, label, 1, FIRST_EFFECTIVE)
            for n, label in enumerate(("第一条", "第二条", "第三条", "第四条"), start=1)
        ]
        assert rows[2].chapter == "第二章 法律责任"
        assert rows[2].text == (
            "违反本法规定的，处一千元以上一万元以下的罚款。\n\n"
            "情节严重的，处一万元以上十万元以下的罚款。"
        )
        assert all(p.supersedes_id is None and p.note == "" for p in rows)

    def test_the_content_hash_is_sha256_of_the_rfc8785_articles(self, session: Session) -> None:
        document = import_small(session).document
        content = [[p.article, p.chapter, p.text] for p in provisions(session, document.id)]
        expected = hashlib.sha256(rfc8785.dumps(content)).hexdigest()
        assert document.content_sha256 == expected

    def test_a_title_given_in_the_metadata_overrides_the_files(self, session: Session) -> None:
        document = import_small(session, title="测试法（试行）").document
        assert (document.title, document.short_title) == ("测试法（试行）", "测试法（试行）")

    def test_a_file_that_cannot_be_read_is_refused_naming_the_line(self, session: Session) -> None:
        bad = SMALL.replace("第三条 违反", "第五条 违反")
        with pytest.raises(InvalidInput) as caught:
            import_small(session, bad)
        assert caught.value.detail["field"] == "text"
        assert caught.value.params["problem"].startswith("line 25: 第五条 after 第二条")
        assert count(session, LegalDocument) == 0

    def test_metadata_dates_out_of_order_are_refused(self) -> None:
        with pytest.raises(ValueError, match="effective_on is before revision_date"):
            meta(effective_on=date(2019, 12, 31))


class TestIdempotentImport:
    def test_the_same_revision_and_text_again_changes_nothing(self, session: Session) -> None:
        first = import_small(session)
        session.commit()
        before = (count(session, LegalDocument), count(session, Provision))
        events_before = count(session, LedgerEvent)
        again = import_small(session)
        session.commit()
        assert (again.created, again.provisions, again.document.id) == (
            False,
            4,
            first.document.id,
        )
        assert (count(session, LegalDocument), count(session, Provision)) == before
        assert count(session, LedgerEvent) == events_before

    def test_the_same_revision_with_a_changed_text_is_a_conflict(self, session: Session) -> None:
        first = import_small(session)
        session.commit()
        with pytest.raises(Conflict) as caught:
            import_small(session, REVISED)
        assert caught.value.params == {"title": TITLE, "revision_date": "2020-01-01"}
        assert caught.value.detail == {"field": "text", "document_id": first.document.id}
        session.rollback()
        assert (count(session, LegalDocument), count(session, Provision)) == (1, 4)

    def test_a_later_revision_is_a_new_document(self, session: Session) -> None:
        first = import_small(session)
        second = import_small(
            session, REVISED, revision_date=date(2022, 1, 1), effective_on=date(2022, 3, 1)
        )
        assert second.created
        assert second.document.id != first.document.id
        assert count(session, Provision) == 8


class TestImportLedger:
    def test_one_law_event_and_one_event_per_provision_with_their_state(
        self, session: Session
    ) -> None:
        document = import_small(session, actor_id=None).document
        session.commit()
        (law,) = events(session, "catalog.law.imported")
        assert (law.subject_type, law.subject_id, law.district_code, law.actor_id) == (
            "legal_document",
            str(document.id),
            None,
            None,
        )
        assert {k: law.payload[k] for k in law.payload if k != "state"} == {
            "title": TITLE,
            "revision_date": "2020-01-01",
            "provisions": 4,
            "content_sha256": document.content_sha256,
            "source_name": "测试法.md",
        }
        assert law.payload["state"]["effective_on"] == "2020-07-01"
        imported = events(session, "catalog.provision.imported")
        rows = provisions(session, document.id)
        assert [(e.subject_type, e.subject_id) for e in imported] == [
            ("provision", str(p.id)) for p in rows
        ]
        assert [e.payload["state"]["text"] for e in imported] == [p.text for p in rows]
        assert imported[0].payload["article"] == 1


class TestLoadSample:
    def test_every_sample_statute_is_imported_once(self, session: Session) -> None:
        assert law_service.load_sample(session) == len(ARTICLES)
        session.commit()
        assert count(session, LegalDocument) == len(ARTICLES)
        assert count(session, Provision) == sum(ARTICLES.values())
        assert law_service.load_sample(session) == 0
        session.commit()
        assert count(session, Provision) == sum(ARTICLES.values())
        penalties = session.scalars(
            select(LegalDocument).where(LegalDocument.short_title == "行政处罚法")
        ).one()
        assert (penalties.effective_on, penalties.issuing_body) == (
            date(2021, 7, 15),
            "全国人民代表大会常务委员会",
        )
        beijing = session.scalars(
            select(LegalDocument).where(LegalDocument.title == "北京市市容环境卫生条例")
        ).one()
        assert (beijing.kind, beijing.jurisdiction) == ("local_regulation", "北京市")
        assert len(events(session, "catalog.law.imported")) == len(ARTICLES)


class TestReviseProvision:
    def test_a_revision_is_a_new_row_and_the_old_one_stays_readable(self, session: Session) -> None:
        officer, actor = catalog_admin(session)
        document = import_small(session).document
        old = provisions(session, document.id)[2]
        old_text = old.text
        new = law_service.revise_provision(
            session,
            actor,
            provision_id=old.id,
            text="违反本法规定的，处二千元以上二万元以下的罚款。\n\n情节严重的，处二万元以上。",
            effective_on=date(2023, 1, 1),
            note="按修正案更新罚款数额",
        )
        session.commit()
        session.expire_all()
        assert new.id != old.id
        assert (new.document_id, new.article, new.label, new.chapter) == (
            old.document_id,
            3,
            "第三条",
            "第二章 法律责任",
        )
        assert (new.version, new.supersedes_id, new.effective_on, new.note) == (
            2,
            old.id,
            date(2023, 1, 1),
            "按修正案更新罚款数额",
        )
        assert session.get(Provision, old.id).text == old_text  # type: ignore[union-attr]
        history = law_service.versions(session, provision=new)
        assert [p.version for p in history] == [1, 2]
        (revised,) = events(session, "catalog.provision.revised")
        assert (revised.subject_id, revised.actor_id, revised.district_code) == (
            str(new.id),
            officer.id,
            None,
        )
        assert revised.payload["supersedes_id"] == old.id
        assert revised.payload["state"]["version"] == 2

    def test_revising_through_an_old_versions_id_supersedes_the_latest(
        self, session: Session
    ) -> None:
        _, actor = catalog_admin(session)
        first = provisions(session, import_small(session).document.id)[0]
        second = law_service.revise_provision(
            session,
            actor,
            provision_id=first.id,
            text="二版。",
            effective_on=date(2021, 1, 1),
            note="一",
        )
        third = law_service.revise_provision(
            session,
            actor,
            provision_id=first.id,
            text="三版。",
            effective_on=date(2021, 1, 1),
            note="二",
        )
        assert (third.version, third.supersedes_id) == (3, second.id)

    def test_the_text_is_tidied_and_a_pasted_label_is_dropped(self, session: Session) -> None:
        _, actor = catalog_admin(session)
        first = provisions(session, import_small(session).document.id)[1]
        row = law_service.revise_provision(
            session,
            actor,
            provision_id=first.id,
            text="第二条 本法适用于测试。\r\n\r\n\r\n  前款规定的测试包括：\n（一）单元测试。  \n",
            effective_on=date(2021, 1, 1),
            note="删去第（二）项",
        )
        assert row.text == "本法适用于测试。\n\n前款规定的测试包括：\n（一）单元测试。"

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"note": "  "}, "note"),
            ({"text": "为了测试，制定本法。"}, "text"),
            ({"text": " \n "}, "text"),
            ({"effective_on": date(2020, 6, 30)}, "effective_on"),
        ],
    )
    def test_bad_revisions_are_refused_naming_the_field(
        self, session: Session, changes: dict[str, object], field: str
    ) -> None:
        _, actor = catalog_admin(session)
        first = provisions(session, import_small(session).document.id)[0]
        values: dict[str, object] = {
            "text": "新文本。",
            "effective_on": date(2021, 1, 1),
            "note": "说明",
        }
        with pytest.raises(InvalidInput) as caught:
            law_service.revise_provision(
                session,
                actor,
                provision_id=first.id,
                **(values | changes),  # type: ignore[arg-type]
            )
        assert caught.value.detail == {"field": field}
        assert count(session, Provision) == 4

    def test_an_unknown_provision_is_not_found(self, session: Session) -> None:
        _, actor = catalog_admin(session)
        with pytest.raises(NotFound):
            law_service.revise_provision(
                session, actor, provision_id=424242, text="x", effective_on=FIRST, note="x"
            )


class TestTheDatabaseRefusesEdits:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE provision SET text = '处二千元' WHERE id = :id",
            "DELETE FROM provision WHERE id = :id",
        ],
    )
    def test_a_direct_update_or_delete_of_a_provision_is_refused(
        self, session: Session, statement: str
    ) -> None:
        row = import_sample(session, PENALTIES).document
        session.commit()
        target = provisions(session, row.id)[0]
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement), {"id": target.id})
        session.rollback()
        assert session.get(Provision, target.id).text.startswith("为了规范行政处罚")  # type: ignore[union-attr]
