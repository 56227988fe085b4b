"""Concurrent uploads: the same client UUID sent twice at once ends as one evidence row (the other
request answers the first body), and the same bytes under two UUIDs at once are two rows over one
stored file. Both requests have received their whole body before either claims its UUID."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.blobs import media
from tests.field import FieldWorld, field_world
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.inspections.evidence import Answer, Upload, evidence_service
from zhifa.models.inspections import Blob, Evidence
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for


@pytest.fixture
def world(session: Session) -> FieldWorld:
    built = field_world(session)
    session.commit()
    return built


@pytest.fixture
def store_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        secret_key=SecretStr("test-secret-not-for-production"),
    )


def actor_of(db: Database, officer_id: int) -> Actor:
    with db.sessionmaker() as s:
        officer = s.get(Officer, officer_id)
        assert officer is not None
        return actor_for(s, officer, via="token")


def upload_at_once(
    db: Database, settings: Settings, jobs: list[tuple[Actor, int, str, bytes]]
) -> list[Answer]:
    """Run the uploads in threads; each body ends only when every request has received its own."""
    arrived = threading.Barrier(len(jobs), timeout=30)
    answers: list[Answer | BaseException] = [RuntimeError("not run")] * len(jobs)

    def body(data: bytes) -> Iterator[bytes]:
        yield data[: len(data) // 2]
        yield data[len(data) // 2 :]
        arrived.wait()

    def run(index: int, actor: Actor, task_id: int, client_uuid: str, data: bytes) -> None:
        try:
            with db.unit_of_work() as s:
                answers[index] = evidence_service.add(
                    s,
                    actor,
                    settings=settings,
                    task_id=task_id,
                    client_uuid=client_uuid,
                    upload=Upload(kind="photo", caption="同时上传"),
                    chunks=body(data),
                )
        except BaseException as exc:  # reported below, in the test's thread
            answers[index] = exc

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return [a for a in answers if isinstance(a, Answer)]


def count(session: Session, model: type[Evidence] | type[Blob]) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def added_events(session: Session) -> int:
    stmt = select(func.count()).where(LedgerEvent.kind == "inspection.evidence.added")
    return int(session.scalar(stmt) or 0)


class TestConcurrentDuplicates:
    def test_the_same_uuid_twice_at_once_is_one_row_and_both_answers_carry_its_body(
        self, db: Database, session: Session, world: FieldWorld, store_settings: Settings
    ) -> None:
        actor = actor_of(db, world.officer.id)
        client_uuid, data = str(uuid.uuid4()), media.jpeg()

        answers = upload_at_once(
            db, store_settings, [(actor, world.task.id, client_uuid, data)] * 2
        )

        assert sorted(a.status_code for a in answers) == [200, 201]
        assert answers[0].body == answers[1].body
        assert count(session, Evidence) == 1
        assert added_events(session) == 1
        assert count(session, Blob) == 1

    def test_the_same_bytes_under_two_uuids_at_once_are_two_rows_over_one_file(
        self, db: Database, session: Session, world: FieldWorld, store_settings: Settings
    ) -> None:
        lead, second = actor_of(db, world.officer.id), actor_of(db, world.second.id)
        data = media.jpeg(colour=(9, 9, 9))

        answers = upload_at_once(
            db,
            store_settings,
            [
                (lead, world.task.id, str(uuid.uuid4()), data),
                (second, world.task.id, str(uuid.uuid4()), data),
            ],
        )

        assert [a.status_code for a in answers] == [201, 201]
        assert answers[0].body["sha256"] == answers[1].body["sha256"]
        assert count(session, Evidence) == 2
        assert added_events(session) == 2
        assert count(session, Blob) == 1
        blob_dir = store_settings.blob_dir
        files = [p for p in blob_dir.rglob("*") if p.is_file()]
        assert [p.name for p in files] == [answers[0].body["sha256"]]
