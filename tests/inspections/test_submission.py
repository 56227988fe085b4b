"""Submitting the checklist run: every item answered once, measures by the rules, evidence linked,
exactly once per client UUID, and every refusal leaving nothing behind."""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.field import DISTRICT, LICENCE, MINORS
from tests.inspections.helpers import (
    OnSite,
    actor,
    check_in,
    events,
    headers,
    new_uuid,
    replace,
    submission,
)
from zhifa.db import Database
from zhifa.errors import Conflict
from zhifa.inspections import runs
from zhifa.inspections.common import Reply
from zhifa.inspections.schemas import SubmissionIn
from zhifa.kit.clock import SHANGHAI, today_local
from zhifa.kit.events import broker
from zhifa.models.inspections import (
    Blob,
    CaseLead,
    Evidence,
    EvidenceKind,
    Inspection,
    InspectionAnswer,
    InspectionStatus,
    InspectionTask,
    SubmissionRecord,
    TaskKind,
    TaskStatus,
)
from zhifa.models.org import Officer


@pytest.fixture
def site(client: TestClient, session: Session) -> OnSite:
    return OnSite(client, session).arrive()


def today() -> str:
    return today_local().isoformat()


def penalty(**changes: Any) -> dict[str, Any]:
    return {"act_date": today(), "party_type": "organisation"} | changes


def fined(answers: list[dict[str, Any]], **penalty_changes: Any) -> list[dict[str, Any]]:
    return replace(
        answers,
        "WB-02",
        result="fail",
        reason="未悬挂《网络文化经营许可证》",
        measure="on_spot_penalty",
        power_code=LICENCE,
        penalty=penalty(**penalty_changes),
    )


def count(session: Session, model: Any) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def status_of(session: Session, task_id: int) -> TaskStatus:
    session.expire_all()
    task = session.get(InspectionTask, task_id)
    assert task is not None
    return TaskStatus(task.status)


def run_of(session: Session) -> Inspection:
    session.expire_all()
    return session.scalars(select(Inspection)).one()


def assert_nothing_submitted(session: Session, site: OnSite) -> None:
    assert run_of(session).status == InspectionStatus.DRAFT
    assert count(session, InspectionAnswer) == 0
    assert count(session, CaseLead) == 0
    assert status_of(session, site.task_id) == TaskStatus.IN_PROGRESS
    assert events(session, "inspection.submitted") == []


def add_evidence(session: Session, site: OnSite, officer: Officer, content: bytes) -> Evidence:
    sha = hashlib.sha256(content).hexdigest()
    if session.get(Blob, sha) is None:
        session.add(Blob(sha256=sha, sm3="0" * 64, size=len(content), media_type="image/jpeg"))
        session.flush()
    row = Evidence(
        district_code=DISTRICT,
        client_uuid=new_uuid(),
        task_id=site.task_id,
        item_code="WB-02",
        kind=EvidenceKind.PHOTO,
        sha256=sha,
        sm3="0" * 64,
        size=len(content),
        media_type="image/jpeg",
        uploaded_by_id=officer.id,
    )
    session.add(row)
    session.commit()
    return row


class TestSubmitted:
    def test_every_answer_is_stored_and_the_task_is_done(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        answers = replace(
            answers, "WB-03", result="not_applicable", reason="门前为消防通道，无堆放"
        )

        response = site.submit(submission(sha, answers))

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "submitted"
        assert [(a["item_code"], a["result"]) for a in body["answers"]] == [
            ("WB-01", "pass"),
            ("WB-02", "pass"),
            ("WB-03", "not_applicable"),
        ]
        assert body["answers"][2]["reason"] == "门前为消防通道，无堆放"
        assert body["answers"][0]["item_text"] == "是否接纳未成年人"
        assert body["summary"] == "现场检查情况正常"
        assert len(body["content_sha256"]) == 64
        assert status_of(session, site.task_id) == TaskStatus.SUBMITTED
        assert count(session, InspectionAnswer) == 3

    def test_the_submission_is_ledgered_with_counts_digest_and_evidence(
        self, session: Session, site: OnSite
    ) -> None:
        photo = add_evidence(session, site, site.w.officer, b"\xff\xd8 a photo of the door")
        sha, answers = site.answers()

        response = site.submit(submission(sha, fined(answers), evidence_uuids=[photo.client_uuid]))

        submitted = events(session, "inspection.submitted", "inspection")
        assert len(submitted) == 1
        payload = submitted[0].payload
        assert payload["content_sha256"] == response.json()["content_sha256"]
        assert payload["counts"]["pass"] == 2
        assert payload["counts"]["fail"] == 1
        assert payload["counts"]["on_spot_penalty"] == 1
        assert payload["counts"]["evidence"] == 1
        assert payload["state"]["status"] == "submitted"
        assert json.loads(bytes(submitted[0].body))["evidence"] == [photo.sha256]
        answer_events = events(session, "inspection.answer.recorded", "inspection_answer")
        assert len(answer_events) == 3

    def test_the_tasks_evidence_is_bound_to_the_submission(
        self, session: Session, site: OnSite
    ) -> None:
        photo = add_evidence(session, site, site.w.officer, b"\xff\xd8 photo one")
        unnamed = add_evidence(session, site, site.w.second, b"\xff\xd8 photo two")
        sha, answers = site.answers()

        body = site.submit(submission(sha, answers, evidence_uuids=[photo.client_uuid])).json()

        assert {e["id"] for e in body["evidence"]} == {photo.id, unnamed.id}
        assert body["evidence"][0]["url"] == f"/api/v1/evidence/{body['evidence'][0]['id']}/file"
        submitted = events(session, "inspection.submitted", "inspection")[0]
        assert json.loads(bytes(submitted.body))["evidence"] == sorted(
            [photo.sha256, unnamed.sha256]
        )
        assert submitted.payload["counts"]["evidence"] == 2

    def test_the_submission_is_announced_for_the_command_centre(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()

        async def listen() -> Any:
            topics = frozenset({"inspection.submitted"})
            async with broker.subscribe(frozenset({DISTRICT}), topics) as queue:
                await asyncio.to_thread(site.submit, submission(sha, answers))
                return await asyncio.wait_for(queue.get(), timeout=10)

        heard = asyncio.run(listen())

        assert heard.data["task_id"] == site.task_id
        assert heard.data["subject_name"] == site.w.cafe.name
        assert heard.data["counts"]["pass"] == 3


class TestMeasures:
    def test_an_on_the_spot_penalty_keeps_the_evaluation_as_decided(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()

        body = site.submit(submission(sha, fined(answers))).json()

        fine = body["answers"][1]["penalty"]
        assert fine["amount_fen"] == 200_000
        assert fine["amount_yuan"] == "2000.00"
        assert fine["recommended_fen"] == 200_000
        assert fine["deviation"] == "none"
        assert fine["party_type"] == "organisation"
        assert fine["power_name"].startswith("对互联网上网服务营业场所未悬挂")
        assert fine["simple_procedure_cap_fen"] == 300_000
        assert "第三十一条" in fine["citations"][0]["label"]
        stored = session.scalars(
            select(InspectionAnswer).where(InspectionAnswer.item_code == "WB-02")
        ).one()
        assert stored.penalty is not None
        assert stored.penalty["input"]["party_type"] == "organisation"

    def test_an_order_to_rectify_creates_the_re_inspection_on_the_deadline_day(
        self, session: Session, site: OnSite
    ) -> None:
        deadline = today_local() + timedelta(days=7)
        sha, answers = site.answers()
        answers = replace(
            answers,
            "WB-02",
            result="fail",
            reason="未悬挂许可证",
            measure="rectify",
            power_code=LICENCE,
            rectify_deadline=deadline.isoformat(),
        )

        body = site.submit(submission(sha, answers)).json()

        follow_up = session.get(InspectionTask, body["follow_up_task_id"])
        assert follow_up is not None
        assert follow_up.kind == TaskKind.FOLLOW_UP
        assert follow_up.origin_task_id == site.task_id
        assert follow_up.officer_ids == [site.w.officer.id, site.w.second.id]
        local_start = follow_up.window_start.astimezone(SHANGHAI)
        assert (local_start.date(), local_start.hour, local_start.minute) == (deadline, 0, 0)
        assert body["answers"][1]["rectify_deadline"] == deadline.isoformat()

    def test_a_case_recommendation_is_recorded_as_a_case_lead(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        answers = replace(
            answers,
            "WB-01",
            result="fail",
            reason="现场发现3名未成年人上网",
            measure="case_lead",
            power_code=MINORS,
        )

        body = site.submit(submission(sha, answers)).json()

        lead = session.scalars(select(CaseLead)).one()
        assert body["case_lead_ids"] == [lead.id]
        assert lead.facts == "现场发现3名未成年人上网"
        assert lead.power_code == MINORS
        assert len(events(session, "inspection.case_lead.created")) == 1
        listed = client.get("/api/v1/case-leads?status=open", headers=site.leader).json()
        assert [c["id"] for c in listed] == [lead.id]
        assert listed[0]["subject_name"] == site.w.cafe.name

    def test_a_non_compliant_item_may_take_no_measure(self, site: OnSite) -> None:
        sha, answers = site.answers()
        answers = replace(answers, "WB-03", result="fail", reason="门前堆放纸箱，已当场清理")

        assert site.submit(submission(sha, answers)).status_code == 201


class TestRefusals:
    def refused(
        self, session: Session, site: OnSite, body: dict[str, Any], status: int = 422
    ) -> dict[str, Any]:
        response = site.submit(body)
        assert response.status_code == status, response.text
        assert_nothing_submitted(session, site)
        error: dict[str, Any] = response.json()["error"]
        return error

    def test_an_unanswered_item(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()

        error = self.refused(session, site, submission(sha, answers[:2]))

        assert error["code"] == "unanswered_items"
        assert error["detail"]["missing"] == ["WB-03"]
        assert "WB-03" in error["message"]

    def test_not_applicable_without_a_reason(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()

        error = self.refused(
            session, site, submission(sha, replace(answers, "WB-03", result="not_applicable"))
        )

        assert error["detail"] == {"field": "answers[2].reason", "item_code": "WB-03"}
        assert "不适用" in error["message"]

    def test_non_compliant_without_a_finding(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()

        error = self.refused(
            session, site, submission(sha, replace(answers, "WB-01", result="fail"))
        )

        assert error["detail"]["field"] == "answers[0].reason"

    def test_a_measure_under_a_power_the_item_does_not_have(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        answers = replace(
            answers, "WB-01", result="fail", reason="接纳未成年人", measure="case_lead",
            power_code=LICENCE,
        )  # fmt: skip

        error = self.refused(session, site, submission(sha, answers))

        assert error["detail"]["field"] == "answers[0].power_code"

    def test_an_order_to_rectify_without_a_deadline(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()
        answers = replace(
            answers, "WB-02", result="fail", reason="未悬挂", measure="rectify", power_code=LICENCE
        )

        error = self.refused(session, site, submission(sha, answers))

        assert error["detail"]["field"] == "answers[1].rectify_deadline"

    def test_an_order_to_rectify_with_a_deadline_in_the_past(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        yesterday = (today_local() - timedelta(days=1)).isoformat()
        answers = replace(
            answers, "WB-02", result="fail", reason="未悬挂", measure="rectify",
            power_code=LICENCE, rectify_deadline=yesterday,
        )  # fmt: skip

        error = self.refused(session, site, submission(sha, answers))

        assert yesterday in error["message"]

    def test_a_simple_procedure_fine_above_its_cap(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()
        answers = replace(
            answers, "WB-01", result="fail", reason="接纳2名未成年人", measure="on_spot_penalty",
            power_code=MINORS, penalty=penalty(facts={"minors": 2}),
        )  # fmt: skip

        error = self.refused(session, site, submission(sha, answers))

        assert error["code"] == "simple_procedure_not_allowed"
        assert "第五十一条" in error["message"]
        assert "6,000" in error["message"]
        assert error["detail"]["cap_fen"] == 300_000

    def test_a_fine_outside_the_benchmark_tier(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()
        body = submission(sha, fined(answers, chosen_fen=100_000, reason="当事人经济困难"))

        error = self.refused(session, site, body)

        assert error["code"] == "ordinary_procedure_required"

    def test_a_fine_other_than_recommended_without_a_reason(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()

        error = self.refused(session, site, submission(sha, fined(answers, chosen_fen=150_000)))

        assert error["detail"] == {"field": "answers[1].penalty.reason", "item_code": "WB-02"}
        assert "理由" in error["message"]

    def test_a_party_type_other_than_the_subjects(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()

        error = self.refused(session, site, submission(sha, fined(answers, party_type="person")))

        assert error["detail"]["field"] == "answers[1].penalty.party_type"

    def test_a_checklist_that_changed(self, session: Session, site: OnSite) -> None:
        _, answers = site.answers()

        error = self.refused(session, site, submission("0" * 64, answers[:2]), status=409)

        assert error["code"] == "checklist_changed"
        assert error["detail"]["missing"] == ["WB-03"]
        assert error["detail"]["unknown"] == []

    def test_an_item_answered_twice(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()

        error = self.refused(session, site, submission(sha, [*answers, answers[0]]))

        assert error["detail"]["twice"] == ["WB-01"]

    def test_evidence_that_has_not_arrived(self, session: Session, site: OnSite) -> None:
        sha, answers = site.answers()
        missing = new_uuid()

        error = self.refused(
            session, site, submission(sha, answers, evidence_uuids=[missing]), status=409
        )

        assert error["code"] == "evidence_missing"
        assert error["detail"]["missing"] == [missing]


class TestPresence:
    def test_one_officer_only_on_site(self, client: TestClient, session: Session) -> None:
        site = OnSite(client, session)
        check_in(client, site.lead, site.task_id)
        sha, answers = site.answers()

        response = site.submit(submission(sha, answers))

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "too_few_officers"
        assert "第四十二条" in response.json()["error"]["message"]
        assert run_of(session).status == InspectionStatus.DRAFT

    def test_the_lead_not_checked_in(self, client: TestClient, session: Session) -> None:
        site = OnSite(client, session)
        check_in(client, site.second, site.task_id)
        data = site.bundle()

        response = site.submit(submission(data["checklist_sha256"], []), auth=site.second)

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "not_checked_in"
        assert count(session, Inspection) == 0


class TestTaskChangedMeanwhile:
    def test_a_cancelled_task_says_so_and_the_device_keeps_the_answers(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        client.post(
            f"/api/v1/tasks/{site.task_id}/cancel", json={"reason": "店铺关门"}, headers=site.leader
        )

        response = site.submit(submission(sha, answers))

        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "task_cancelled"
        assert "店铺关门" in error["message"]
        assert "保存在您的设备上" in error["message"]
        assert count(session, InspectionAnswer) == 0

    def test_a_task_reassigned_away_from_the_caller(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        client.post(
            f"/api/v1/tasks/{site.task_id}/reassign",
            json={"officer_ids": [site.w.second.id, site.w.leader.id]},
            headers=site.leader,
        )

        response = site.submit(submission(sha, answers))

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "task_reassigned"
        assert count(session, InspectionAnswer) == 0


class TestExactlyOnce:
    def test_a_repeat_gets_the_first_answer_and_nothing_twice(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        body = submission(sha, answers)

        first = site.submit(body)
        again = site.submit(body)

        assert again.status_code == first.status_code == 201
        assert again.json() == first.json()
        assert count(session, InspectionAnswer) == 3
        assert len(events(session, "inspection.submitted", "inspection")) == 1

    def test_the_same_uuid_with_other_content_is_refused(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        key = new_uuid()
        site.submit(submission(sha, answers, client_uuid=key))
        other = replace(answers, "WB-03", result="fail", reason="门前乱堆")

        response = site.submit(submission(sha, other, client_uuid=key))

        assert response.status_code == 409
        assert response.json()["error"]["detail"]["field"] == "client_uuid"
        results = session.scalars(select(InspectionAnswer.result).order_by(InspectionAnswer.id))
        assert list(results) == ["pass", "pass", "pass"]

    def test_a_second_submission_of_a_submitted_task_is_refused(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        site.submit(submission(sha, answers))

        response = site.submit(submission(sha, answers), auth=site.second)

        assert response.status_code == 409
        assert response.json()["error"]["code"] in ("already_submitted", "task_submitted")
        assert count(session, InspectionAnswer) == 3

    def test_concurrent_duplicates_apply_once(
        self, db: Database, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        data = SubmissionIn.model_validate(submission(sha, answers))
        barrier = threading.Barrier(2)
        replies: list[Reply] = []
        failures: list[BaseException] = []

        def submit() -> None:
            try:
                with db.unit_of_work() as s:
                    officer = s.get(Officer, site.w.officer.id)
                    assert officer is not None
                    who = actor(s, officer)
                    barrier.wait(10)
                    replies.append(
                        runs.submit(s, who, task_id=site.task_id, data=data, locale="zh_CN")
                    )
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=submit) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert failures == []
        assert [r.status_code for r in replies] == [201, 201]
        assert replies[0].body == replies[1].body
        assert count(session, Inspection) == 1
        assert count(session, InspectionAnswer) == 3
        assert count(session, SubmissionRecord) == 3  # two check-ins and one submission
        assert len(events(session, "inspection.submitted", "inspection")) == 1


class TestAnswersAreFinal:
    def test_changing_a_submitted_answer_row_is_refused(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        site.submit(submission(sha, answers))
        row = session.scalars(select(InspectionAnswer).order_by(InspectionAnswer.id)).first()
        assert row is not None

        row.result = "fail"  # type: ignore[assignment]
        with pytest.raises(Conflict) as refused:
            session.flush()

        assert refused.value.status_code == 409
        assert refused.value.code == "answer_frozen"
        session.rollback()
        session.expire_all()
        assert session.get(InspectionAnswer, row.id).result == "pass"  # type: ignore[union-attr]

    def test_deleting_a_submitted_answer_row_is_refused(
        self, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        site.submit(submission(sha, answers))
        row = session.scalars(select(InspectionAnswer)).first()

        session.delete(row)
        with pytest.raises(Conflict):
            session.flush()
        session.rollback()
        assert count(session, InspectionAnswer) == 3


class TestScope:
    def test_an_officer_of_another_squad_cannot_submit(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()

        response = site.submit(submission(sha, answers), auth=headers(session, site.w.outsider))

        assert response.status_code == 404
        assert_nothing_submitted(session, site)

    def test_a_squad_leader_reads_the_inspection_but_another_squad_does_not(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        sha, answers = site.answers()
        inspection_id = site.submit(submission(sha, answers)).json()["id"]

        ok = client.get(f"/api/v1/inspections/{inspection_id}", headers=site.leader)
        hidden = client.get(
            f"/api/v1/inspections/{inspection_id}", headers=headers(session, site.w.outsider)
        )

        assert ok.status_code == 200
        assert ok.json()["id"] == inspection_id
        assert hidden.status_code == 404
