"""Photos of a complaint: streamed into the blob store (photo types only, size-limited), one row
per client UUID (a retry answers the first, other bytes are a 409), the step ``media_added`` with
the digest, and the bytes served back with their sniffed type — within the data scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.blobs.media import mp4
from tests.complaints.test_intake_helpers import (
    counts,
    events_of,
    headers,
    jpeg,
    ledger_events,
    new_uuid,
    png,
    take_in,
)
from tests.complaints.world import FOOD, IN_WG02, ComplaintWorld, complaint_world
from zhifa.complaints import media
from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, PayloadTooLarge, UnsupportedMediaType
from zhifa.models.complaints import Complaint, ComplaintMedia, MediaRole


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


@pytest.fixture
def complaint(session: Session, world: ComplaintWorld, settings: Settings) -> Complaint:
    row = take_in(session, world, settings).complaint
    session.commit()
    return row


def put(
    client: TestClient,
    auth: dict[str, str],
    complaint_id: int,
    client_uuid: str,
    data: bytes,
    role: str = "before",
) -> Response:
    return client.put(
        f"/api/v1/complaints/{complaint_id}/media/{client_uuid}",
        params={"role": role},
        content=data,
        headers={**auth, "Content-Type": "application/octet-stream"},
    )


def parts(settings: Settings) -> list[Path]:
    tmp = settings.blob_dir / "tmp"
    return list(tmp.glob("*.part")) if tmp.exists() else []


def stored(settings: Settings, sha256: str) -> Path:
    return settings.blob_dir / sha256[:2] / sha256[2:4] / sha256


class TestAddMedia:
    def test_a_citizens_photo_is_stored_with_the_step_and_its_digest(
        self, session: Session, complaint: Complaint, settings: Settings
    ) -> None:
        data = jpeg()

        row = media.add_media(
            session,
            complaint=complaint,
            role=MediaRole.REPORT,
            content=data,
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )
        session.commit()

        assert (row.role, row.media_type, row.size, row.officer_id) == (
            MediaRole.REPORT,
            "image/jpeg",
            len(data),
            None,
        )
        assert stored(settings, row.sha256).read_bytes() == data
        step = events_of(session, complaint)[-1]
        assert (step.kind, step.public, step.actor_id) == ("media_added", False, None)
        assert step.data == {"media_id": row.id, "role": "report", "media_sha256": [row.sha256]}
        entry = ledger_events(session)[-1]
        assert entry.kind == "complaint.media_added"
        assert f'"evidence":["{row.sha256}"]' in entry.body.decode()

    def test_a_citizens_photo_may_come_with_a_transferred_complaint(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings, category_code=FOOD, attributes={}).complaint

        added = media.add_media(
            session,
            complaint=row,
            role=MediaRole.REPORT,
            content=png(),
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )

        assert added.media_type == "image/png"

    def test_an_officer_cannot_use_the_citizens_role(
        self, session: Session, world: ComplaintWorld, complaint: Complaint, settings: Settings
    ) -> None:
        with pytest.raises(InvalidInput):
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.REPORT,
                content=jpeg(),
                officer_id=world.officer.id,
                client_uuid=new_uuid(),
                settings=settings,
            )

    def test_the_public_page_cannot_use_an_officers_role(
        self, session: Session, complaint: Complaint, settings: Settings
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.AFTER,
                content=jpeg(),
                officer_id=None,
                client_uuid=None,
                settings=settings,
            )

        assert caught.value.detail == {"field": "role"}

    def test_a_video_is_refused_and_nothing_is_left(
        self, session: Session, complaint: Complaint, settings: Settings
    ) -> None:
        before = counts(session)

        with pytest.raises(UnsupportedMediaType):
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.REPORT,
                content=mp4(),
                officer_id=None,
                client_uuid=None,
                settings=settings,
            )

        session.rollback()
        assert counts(session) == before
        assert parts(settings) == []

    def test_a_photo_over_the_limit_is_refused_at_the_first_chunk_past_it(
        self, session: Session, complaint: Complaint, settings: Settings
    ) -> None:
        limited = settings.model_copy(update={"complaint_photo_max_bytes": 1000})
        chunks_read: list[int] = []

        def chunks() -> Iterator[bytes]:
            for i in range(10):
                chunks_read.append(i)
                yield (jpeg() + b"\x00" * 600)[:600]

        with pytest.raises(PayloadTooLarge):
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.REPORT,
                content=chunks(),
                officer_id=None,
                client_uuid=None,
                settings=limited,
            )

        assert chunks_read == [0, 1]
        assert parts(settings) == []

    def test_at_most_the_configured_number_of_photos_per_role(
        self, session: Session, complaint: Complaint, settings: Settings
    ) -> None:
        limited = settings.model_copy(update={"complaint_photos_max": 2})
        for colour in ("red", "green"):
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.REPORT,
                content=jpeg(colour),
                officer_id=None,
                client_uuid=None,
                settings=limited,
            )
        session.commit()
        before = counts(session)

        with pytest.raises(Conflict) as caught:
            media.add_media(
                session,
                complaint=complaint,
                role=MediaRole.REPORT,
                content=jpeg("blue"),
                officer_id=None,
                client_uuid=None,
                settings=limited,
            )

        assert caught.value.code == "too_many_photos"
        session.rollback()
        assert counts(session) == before


class TestUploadOverHttp:
    def test_an_officers_photo_is_stored_once_and_a_retry_gets_the_same_row(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        auth = headers(session, world.officer)
        key, data = new_uuid(), jpeg()

        first = put(client, auth, complaint.id, key, data)
        again = put(client, auth, complaint.id, key, data)

        assert first.status_code == 201, first.text
        assert again.status_code == 200
        body = first.json()
        assert again.json() == body
        assert body["role"] == "before"
        assert body["role_label"] == "处置前"
        assert body["officer_id"] == world.officer.id
        assert body["client_uuid"] == key
        assert body["url"] == f"/api/v1/complaints/{complaint.id}/media/{body['id']}"
        assert len(session.scalars(select(ComplaintMedia)).all()) == 1
        assert [e.kind for e in events_of(session, complaint)].count("media_added") == 1

    def test_other_bytes_under_the_same_uuid_are_a_409_and_the_first_stands(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        auth = headers(session, world.officer)
        key = new_uuid()
        put(client, auth, complaint.id, key, jpeg("red"))
        before = counts(session)

        response = put(client, auth, complaint.id, key, jpeg("blue"))

        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "client_uuid_reused"
        assert "以第一次上传为准" in error["message"]
        session.expire_all()
        assert counts(session) == before
        assert parts(settings) == []

    def test_a_non_photo_is_415(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        auth = headers(session, world.officer)
        before = counts(session)

        response = put(client, auth, complaint.id, new_uuid(), b"%PDF-1.7 not a photo")

        assert response.status_code == 415
        assert counts(session) == before

    def test_a_declared_size_over_the_limit_is_413_before_reading(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        auth = headers(session, world.officer)
        data = jpeg() + b"\x00" * settings.complaint_photo_max_bytes

        response = put(client, auth, complaint.id, new_uuid(), data)

        assert response.status_code == 413
        assert counts(session)[2] == 0

    def test_a_form_upload_is_415(
        self, client: TestClient, session: Session, world: ComplaintWorld, complaint: Complaint
    ) -> None:
        auth = headers(session, world.officer)

        response = client.put(
            f"/api/v1/complaints/{complaint.id}/media/{new_uuid()}?role=after",
            files={"file": ("a.jpg", jpeg(), "image/jpeg")},
            headers=auth,
        )

        assert response.status_code == 415

    def test_a_citizens_role_is_422_for_an_officer(
        self, client: TestClient, session: Session, world: ComplaintWorld, complaint: Complaint
    ) -> None:
        auth = headers(session, world.officer)

        response = put(client, auth, complaint.id, new_uuid(), jpeg(), role="report")

        assert response.status_code == 422

    def test_a_bad_uuid_is_422(
        self, client: TestClient, session: Session, world: ComplaintWorld, complaint: Complaint
    ) -> None:
        auth = headers(session, world.officer)

        response = put(client, auth, complaint.id, "not-a-uuid", jpeg())

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "client_uuid"}

    def test_a_finished_complaint_takes_no_more_officer_photos(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        settings: Settings,
    ) -> None:
        row = take_in(session, world, settings, category_code=FOOD, attributes={}).complaint
        session.commit()
        auth = headers(session, world.officer)

        response = put(client, auth, row.id, new_uuid(), jpeg(), role="verify")

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "complaint_finished"

    def test_an_officer_of_another_squad_gets_404(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        auth = headers(session, world.field.outsider)

        response = put(client, auth, complaint.id, new_uuid(), jpeg())

        assert response.status_code == 404
        assert counts(session)[2] == 0

    def test_the_dispatcher_without_handle_permission_gets_403(
        self, client: TestClient, session: Session, world: ComplaintWorld, complaint: Complaint
    ) -> None:
        auth = headers(session, world.dispatcher)

        response = put(client, auth, complaint.id, new_uuid(), jpeg())

        assert response.status_code == 403


class TestReadingPhotos:
    def test_the_bytes_come_back_with_the_sniffed_type(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        data = png()
        row = media.add_media(
            session,
            complaint=complaint,
            role=MediaRole.REPORT,
            content=data,
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )
        session.commit()
        auth = headers(session, world.dispatcher)

        response = client.get(f"/api/v1/complaints/{complaint.id}/media/{row.id}", headers=auth)

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content == data

    def test_another_squads_officer_gets_404_for_the_photo(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        row = media.add_media(
            session,
            complaint=complaint,
            role=MediaRole.REPORT,
            content=jpeg(),
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )
        session.commit()
        auth = headers(session, world.field.outsider)

        response = client.get(f"/api/v1/complaints/{complaint.id}/media/{row.id}", headers=auth)

        assert response.status_code == 404

    def test_a_photo_of_another_complaint_is_404(
        self,
        client: TestClient,
        session: Session,
        world: ComplaintWorld,
        complaint: Complaint,
        settings: Settings,
    ) -> None:
        other = take_in(session, world, settings, lon=IN_WG02[0], lat=IN_WG02[1]).complaint
        row = media.add_media(
            session,
            complaint=other,
            role=MediaRole.REPORT,
            content=jpeg(),
            officer_id=None,
            client_uuid=None,
            settings=settings,
        )
        session.commit()
        auth = headers(session, world.dispatcher)

        response = client.get(f"/api/v1/complaints/{complaint.id}/media/{row.id}", headers=auth)

        assert response.status_code == 404
