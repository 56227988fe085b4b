"""Exactly-once submissions: a client UUID is applied once; a retry gets the first answer."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from zhifa.db import Database
from zhifa.errors import Conflict, InvalidInput
from zhifa.kit import idempotency
from zhifa.models.inspections import SubmissionRecord
from zhifa.models.org import Officer
from zhifa.org.roles import Role

REQUEST = {"task_id": 7, "answers": [{"item_code": "WB-01", "result": "pass"}]}


@pytest.fixture
def officer(session: Session) -> Officer:
    factories.district(session, "510184")
    factories.district(session, "510104", "锦江区")
    row = factories.officer(session, "510184", "li.ming", [Role.OFFICER])
    session.commit()
    return row


def claim(session: Session, officer: Officer, key: str, request: dict[str, Any], **kw: Any) -> Any:
    return idempotency.claim(
        session,
        client_uuid=key,
        district_code=kw.get("district_code", officer.district_code),
        officer_id=officer.id,
        operation=kw.get("operation", "inspection.submit"),
        request=request,
    )


def apply_once(db: Database, officer: Officer, key: str, request: dict[str, Any]) -> Any:
    with db.unit_of_work() as s:
        prior = claim(s, officer, key, request)
        if prior is not None:
            return prior.response
        response = {"inspection_id": 1, "at": "2026-11-29T02:00:00Z", "distance_m": 12.5}
        idempotency.complete(s, client_uuid=key, status_code=201, response=response)
        return response


class TestFirstAndRepeated:
    def test_a_new_uuid_is_applied_and_its_answer_kept(
        self, db: Database, officer: Officer
    ) -> None:
        key = str(uuid.uuid4())
        first = apply_once(db, officer, key, REQUEST)
        with db.sessionmaker() as s:
            prior = claim(s, officer, key, REQUEST)
        assert prior is not None
        assert prior.status_code == 201
        assert prior.response == first  # floats stay numbers, text stays text

    def test_the_same_content_in_another_key_order_is_the_same_request(
        self, db: Database, officer: Officer
    ) -> None:
        key = str(uuid.uuid4())
        apply_once(db, officer, key, {"a": 1, "b": "二"})
        with db.sessionmaker() as s:
            assert claim(s, officer, key, {"b": "二", "a": 1}) is not None

    def test_other_content_under_a_used_uuid_is_a_conflict_and_changes_nothing(
        self, db: Database, officer: Officer, session: Session
    ) -> None:
        key = str(uuid.uuid4())
        apply_once(db, officer, key, REQUEST)
        with db.sessionmaker() as s, pytest.raises(Conflict) as refused:
            claim(s, officer, key, REQUEST | {"task_id": 8})
        assert refused.value.status_code == 409
        assert "different content" in refused.value.message
        record = session.get(SubmissionRecord, key)
        assert record is not None
        assert record.status_code == 201

    def test_the_same_uuid_for_another_operation_is_a_conflict(
        self, db: Database, officer: Officer
    ) -> None:
        key = str(uuid.uuid4())
        apply_once(db, officer, key, REQUEST)
        with db.sessionmaker() as s, pytest.raises(Conflict):
            claim(s, officer, key, REQUEST, operation="document.issue")

    def test_a_uuid_of_another_district_is_a_conflict_without_its_answer(
        self, db: Database, officer: Officer
    ) -> None:
        key = str(uuid.uuid4())
        apply_once(db, officer, key, REQUEST)
        with db.sessionmaker() as s, pytest.raises(Conflict) as refused:
            claim(s, officer, key, REQUEST, district_code="510104")
        assert refused.value.detail == {"field": "client_uuid"}

    def test_a_rolled_back_claim_leaves_the_uuid_free(
        self, db: Database, officer: Officer, session: Session
    ) -> None:
        key = str(uuid.uuid4())

        def refused_request() -> None:
            with db.unit_of_work() as s:
                assert claim(s, officer, key, REQUEST) is None
                raise RuntimeError("the service refused")

        with pytest.raises(RuntimeError):
            refused_request()
        assert session.get(SubmissionRecord, key) is None
        assert apply_once(db, officer, key, REQUEST)["inspection_id"] == 1


class TestBadKeys:
    @pytest.mark.parametrize("value", ["", "not-a-uuid", "1234", None])
    def test_a_key_that_is_not_a_uuid_is_refused(
        self, db: Database, officer: Officer, value: Any
    ) -> None:
        with db.sessionmaker() as s, pytest.raises(InvalidInput) as refused:
            claim(s, officer, value, REQUEST)
        assert refused.value.detail == {"field": "client_uuid"}

    def test_upper_case_and_braces_name_the_same_uuid(self, db: Database, officer: Officer) -> None:
        key = uuid.uuid4()
        apply_once(db, officer, str(key), REQUEST)
        with db.sessionmaker() as s:
            assert claim(s, officer, "{" + str(key).upper() + "}", REQUEST) is not None


class TestConcurrentDuplicates:
    def test_two_requests_racing_on_one_uuid_apply_once(
        self, db: Database, officer: Officer, session: Session
    ) -> None:
        key = str(uuid.uuid4())
        claimed = threading.Event()
        results: dict[str, Any] = {}

        def first() -> None:
            with db.unit_of_work() as s:
                assert claim(s, officer, key, REQUEST) is None
                claimed.set()
                # Hold the claim uncommitted while the second request arrives.
                threading.Event().wait(0.5)
                idempotency.complete(s, client_uuid=key, status_code=201, response={"n": 1})
            results["first"] = "applied"

        def second() -> None:
            claimed.wait(10)
            with db.unit_of_work() as s:
                prior = claim(s, officer, key, REQUEST)
                results["second"] = None if prior is None else prior.response

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert results == {"first": "applied", "second": {"n": 1}}
        count = session.scalar(select(func.count()).select_from(SubmissionRecord))
        assert count == 1
