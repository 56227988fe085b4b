"""The evidence API: the streamed PUT (type by content, size limits, exactly once per client UUID,
EXIF, digests, one ledger event), the task's list and the file, each refusal with its status, its
message and nothing changed."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.blobs import media
from tests.field import DISTRICT, FieldWorld, field_world
from tests.org.helpers import web_login
from zhifa.config import Settings
from zhifa.kit.clock import today_local, utcnow
from zhifa.models.inspections import (
    Blob,
    Evidence,
    Inspection,
    InspectionStatus,
    InspectionTask,
    SubmissionRecord,
    TaskStatus,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.org.roles import Permission, Role

PHOTO_LIMIT, AUDIO_LIMIT, VIDEO_LIMIT = 200_000, 300_000, 400_000
ADDED = "inspection.evidence.added"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        secret_key=SecretStr("test-secret-not-for-production"),
        cookie_secure=True,
        evidence_max_photo_bytes=PHOTO_LIMIT,
        evidence_max_audio_bytes=AUDIO_LIMIT,
        evidence_max_video_bytes=VIDEO_LIMIT,
    )


@dataclass
class Field:
    world: FieldWorld
    lead: dict[str, str]
    second: dict[str, str]
    leader: dict[str, str]
    outsider: dict[str, str]
    root: Path

    @property
    def task_id(self) -> int:
        return self.world.task.id


@pytest.fixture
def field(session: Session, settings: Settings) -> Field:
    world = field_world(session)
    tokens = [factories.bearer(session, o) for o in (world.officer, world.second)]
    others = [factories.bearer(session, o) for o in (world.leader, world.outsider)]
    session.commit()
    return Field(world, *tokens, *others, root=settings.blob_dir)


def put(
    client: TestClient,
    task_id: int,
    client_uuid: str,
    content: bytes | Iterator[bytes],
    headers: dict[str, str],
    **params: Any,
) -> Response:
    query = {"kind": "photo"} | params
    return client.put(
        f"/api/v1/tasks/{task_id}/evidence/{client_uuid}",
        content=content,
        params=query,
        headers=headers,
    )


def new_uuid() -> str:
    return str(uuid.uuid4())


def sm3(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def rows(session: Session) -> list[Evidence]:
    session.expire_all()
    return list(session.scalars(select(Evidence).order_by(Evidence.id)))


def events(session: Session) -> list[LedgerEvent]:
    session.expire_all()
    return list(session.scalars(select(LedgerEvent).where(LedgerEvent.kind == ADDED)))


def blob_count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Blob)) or 0)


def stored_files(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] != "tmp"]


def parts(root: Path) -> list[Path]:
    return list((root / "tmp").glob("*.part")) if (root / "tmp").exists() else []


def assert_nothing_stored(session: Session, field: Field) -> None:
    assert rows(session) == []
    assert events(session) == []
    assert blob_count(session) == 0
    assert stored_files(field.root) == []
    assert parts(field.root) == []
    assert session.scalar(select(func.count()).select_from(SubmissionRecord)) == 0


def error(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


class TestAddingAPhoto:
    def test_the_photo_is_stored_with_its_digests_exif_and_times(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data = media.jpeg(taken="2026:03:14 09:26:53", offset="+08:00")
        client_uuid = new_uuid()
        before = utcnow()

        response = put(
            client,
            field.task_id,
            client_uuid,
            data,
            field.lead,
            caption="营业执照未悬挂",
            device_time="2026-03-14T09:27:00+08:00",
            name="IMG_0001.jpg",
        )

        assert response.status_code == 201, response.text
        body = response.json()
        sha = hashlib.sha256(data).hexdigest()
        assert body["client_uuid"] == client_uuid
        assert body["kind"] == "photo"
        assert body["sha256"] == sha
        assert body["sm3"] == sm3(data)
        assert body["size"] == len(data)
        assert body["media_type"] == "image/jpeg"
        assert body["item_code"] is None
        assert body["caption"] == "营业执照未悬挂"
        assert body["name"] == "IMG_0001.jpg"
        assert body["exif_time"] == "2026-03-14T01:26:53Z"
        assert body["exif_lon"] == pytest.approx(103.605)
        assert body["exif_lat"] == pytest.approx(30.605)
        assert body["device_time"] == "2026-03-14T01:27:00Z"
        assert before <= datetime.fromisoformat(body["received_at"]) <= utcnow()
        assert body["url"] == f"/api/v1/evidence/{body['id']}/file"
        assert body["uploaded_by_id"] == field.world.officer.id
        [row] = rows(session)
        assert (row.task_id, row.sha256, row.district_code) == (field.task_id, sha, DISTRICT)
        assert row.inspection_id is None
        assert (field.root / sha[:2] / sha[2:4] / sha).read_bytes() == data
        assert parts(field.root) == []

    def test_one_ledger_event_carries_the_digests(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data = media.jpeg()

        body = put(client, field.task_id, new_uuid(), data, field.lead).json()

        [event] = events(session)
        assert event.subject_type == "evidence"
        assert event.subject_id == str(body["id"])
        assert event.actor_id == field.world.officer.id
        assert event.district_code == DISTRICT
        assert event.payload["sha256"] == body["sha256"]
        assert event.payload["sm3"] == body["sm3"]
        assert event.payload["task_id"] == field.task_id
        assert event.payload["state"]["client_uuid"] == body["client_uuid"]
        assert json.loads(event.body)["evidence"] == [body["sha256"]]

    def test_a_photo_may_belong_to_a_checklist_item(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(
            client, field.task_id, new_uuid(), media.jpeg(), field.lead, item_code="WB-02"
        )

        assert response.status_code == 201, response.text
        assert response.json()["item_code"] == "WB-02"
        assert rows(session)[0].item_code == "WB-02"

    def test_the_second_officer_adds_evidence_from_their_own_device(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.png(), field.second)

        assert response.status_code == 201, response.text
        assert rows(session)[0].uploaded_by_id == field.world.second.id

    def test_a_device_time_without_an_offset_is_local_time(
        self, client: TestClient, field: Field
    ) -> None:
        response = put(
            client,
            field.task_id,
            new_uuid(),
            media.png(),
            field.lead,
            device_time="2026-03-14T09:27:00",
        )

        assert response.json()["device_time"] == "2026-03-14T01:27:00Z"

    def test_a_photo_without_exif_has_none_and_is_accepted(
        self, client: TestClient, field: Field
    ) -> None:
        body = put(client, field.task_id, new_uuid(), media.plain_jpeg(), field.lead).json()

        assert (body["exif_time"], body["exif_lon"], body["exif_lat"]) == (None, None, None)

    def test_a_chunked_body_of_unknown_length_is_streamed_in(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data = media.jpeg(size=(400, 300))

        response = put(
            client, field.task_id, new_uuid(), iter([data[:5000], data[5000:]]), field.lead
        )

        assert response.status_code == 201, response.text
        assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()

    def test_evidence_added_once_the_checklist_started_belongs_to_the_inspection(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        inspection = start_inspection(session, field)

        response = put(
            client, field.task_id, new_uuid(), media.jpeg(), field.lead, item_code="WB-09"
        )

        assert response.status_code == 201, response.text
        assert rows(session)[0].inspection_id == inspection.id

    def test_the_web_app_uploads_with_its_session_and_csrf_token(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        csrf = web_login(client, session, field.world.officer)

        response = put(client, field.task_id, new_uuid(), media.jpeg(), {"X-CSRF-Token": csrf})

        assert response.status_code == 201, response.text


class TestVideoAndAudio:
    def test_an_mp4_is_a_video(self, client: TestClient, field: Field) -> None:
        response = put(
            client, field.task_id, new_uuid(), media.mp4(350_000), field.lead, kind="video"
        )

        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["media_type"]) == ("video", "video/mp4")

    def test_a_browser_recording_in_webm_is_accepted_as_audio(
        self, client: TestClient, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.webm(), field.lead, kind="audio")

        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["media_type"]) == ("audio", "video/webm")

    def test_an_m4a_recording_is_audio(self, client: TestClient, field: Field) -> None:
        data = media.mp4(head=media.FTYP_M4A)

        response = put(client, field.task_id, new_uuid(), data, field.lead, kind="audio")

        assert response.status_code == 201, response.text
        assert response.json()["media_type"] == "audio/mp4"

    def test_exif_is_read_from_photos_only(self, client: TestClient, field: Field) -> None:
        body = put(client, field.task_id, new_uuid(), media.webm(), field.lead, kind="video").json()

        assert (body["exif_time"], body["exif_lon"]) == (None, None)


class TestRetries:
    def test_the_same_uuid_and_bytes_answer_200_with_the_first_body(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data, client_uuid = media.jpeg(), new_uuid()
        first = put(client, field.task_id, client_uuid, data, field.lead, caption="门头")

        second = put(client, field.task_id, client_uuid, data, field.lead, caption="门头")
        third = put(client, field.task_id, client_uuid, data, field.lead, caption="门头")

        assert first.status_code == 201
        assert (second.status_code, third.status_code) == (200, 200)
        assert second.json() == first.json() == third.json()
        assert len(rows(session)) == 1
        assert len(events(session)) == 1
        assert len(stored_files(field.root)) == 1
        assert parts(field.root) == []

    def test_the_same_uuid_with_other_bytes_is_refused_and_the_first_stands(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        client_uuid = new_uuid()
        first = put(client, field.task_id, client_uuid, media.jpeg(), field.lead)

        response = put(client, field.task_id, client_uuid, media.png(), field.lead)

        assert response.status_code == 409
        assert error(response)["code"] == "conflict"
        assert client_uuid in error(response)["message"]
        assert error(response)["message"] == (
            f"提交编号 {client_uuid} 已用于另一份内容，以第一次提交为准。新的提交请生成新的编号。"
        )
        [row] = rows(session)
        assert row.sha256 == first.json()["sha256"]
        assert len(events(session)) == 1
        assert len(stored_files(field.root)) == 1  # the other bytes were not kept
        assert blob_count(session) == 1
        assert parts(field.root) == []

    def test_the_same_uuid_and_bytes_with_other_metadata_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data, client_uuid = media.jpeg(), new_uuid()
        put(client, field.task_id, client_uuid, data, field.lead, item_code="WB-01")

        response = put(client, field.task_id, client_uuid, data, field.lead, item_code="WB-02")

        assert response.status_code == 409
        assert [r.item_code for r in rows(session)] == ["WB-01"]

    def test_a_retry_after_the_inspection_was_submitted_still_gets_its_answer(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data, client_uuid = media.jpeg(), new_uuid()
        first = put(client, field.task_id, client_uuid, data, field.lead)
        submit_inspection(session, field)

        retry = put(client, field.task_id, client_uuid, data, field.lead)

        assert retry.status_code == 200, retry.text
        assert retry.json() == first.json()

    def test_a_retry_after_being_taken_off_the_task_still_gets_its_answer(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        data, client_uuid = media.jpeg(), new_uuid()
        first = put(client, field.task_id, client_uuid, data, field.second)
        task = session.get(InspectionTask, field.task_id)
        assert task is not None
        task.officer_ids = [field.world.officer.id, field.world.leader.id]
        session.commit()

        retry = put(client, field.task_id, client_uuid, data, field.second)

        assert retry.status_code == 200, retry.text
        assert retry.json() == first.json()

    def test_a_uuid_used_by_another_submission_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        client_uuid = new_uuid()
        put(client, field.task_id, client_uuid, media.jpeg(), field.lead)

        response = put(client, field.task_id, client_uuid, media.jpeg(), field.lead, kind="video")

        assert response.status_code == 415  # judged by content before the UUID is looked up
        assert len(rows(session)) == 1

    def test_a_client_uuid_that_is_no_uuid_is_refused_before_the_body_is_read(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, "not-a-uuid", media.jpeg(), field.lead)

        assert response.status_code == 422
        assert error(response)["detail"] == {"field": "client_uuid"}
        assert_nothing_stored(session, field)


class TestTypeByContent:
    def test_a_png_named_mp4_sent_as_video_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(
            client,
            field.task_id,
            new_uuid(),
            media.png(),
            field.lead,
            kind="video",
            name="clip.mp4",
        )

        assert response.status_code == 415
        assert error(response)["code"] == "unsupported_media_type"
        assert error(response)["detail"] == {"field": "file", "media_type": "image/png"}
        assert "image/png" in error(response)["message"]
        assert_nothing_stored(session, field)

    def test_a_text_file_named_photo_jpg_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(
            client,
            field.task_id,
            new_uuid(),
            "现场情况说明\n".encode() * 50,
            {**field.lead, "Content-Type": "image/jpeg"},
            name="photo.jpg",
        )

        assert response.status_code == 415
        assert error(response)["detail"]["media_type"] == "application/octet-stream"
        assert_nothing_stored(session, field)

    def test_a_photo_sent_as_audio_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.jpeg(), field.lead, kind="audio")

        assert response.status_code == 415
        assert_nothing_stored(session, field)

    def test_an_empty_body_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), b"", field.lead)

        assert response.status_code == 415
        assert error(response)["message"] == "文件是空的。"
        assert_nothing_stored(session, field)

    def test_a_multipart_form_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = client.put(
            f"/api/v1/tasks/{field.task_id}/evidence/{new_uuid()}",
            params={"kind": "photo"},
            files={"file": ("a.jpg", media.jpeg(), "image/jpeg")},
            headers=field.lead,
        )

        assert response.status_code == 415
        assert error(response)["message"] == "请将文件内容直接作为请求正文发送，不要使用表单。"
        assert_nothing_stored(session, field)

    def test_a_kind_other_than_photo_video_or_audio_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.png(), field.lead, kind="signature")

        assert response.status_code == 422
        assert_nothing_stored(session, field)


class TestTooLarge:
    def test_a_declared_length_above_the_limit_is_refused_without_reading_the_body(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        # The body itself is a small, valid photo: only the declared length can refuse it.
        headers = {**field.lead, "Content-Length": str(PHOTO_LIMIT + 1)}

        response = put(client, field.task_id, new_uuid(), media.jpeg(), headers)

        assert response.status_code == 413
        assert error(response)["code"] == "payload_too_large"
        assert error(response)["detail"] == {"field": "file", "limit_bytes": PHOTO_LIMIT}
        assert error(response)["message"] == "文件超过 0.2 MB，请发送较短的录音录像或较小的照片。"
        assert_nothing_stored(session, field)

    def test_a_streamed_body_growing_past_the_limit_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        def body() -> Iterator[bytes]:
            yield media.jpeg()
            for _ in range(30):
                yield b"\x00" * 10_000

        response = put(client, field.task_id, new_uuid(), body(), field.lead)

        assert response.status_code == 413
        assert_nothing_stored(session, field)

    def test_each_kind_has_its_own_limit(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        video = media.mp4(PHOTO_LIMIT + 50_000)

        as_video = put(client, field.task_id, new_uuid(), video, field.lead, kind="video")
        as_audio = put(
            client, field.task_id, new_uuid(), media.webm(AUDIO_LIMIT + 1), field.lead, kind="audio"
        )

        assert as_video.status_code == 201, as_video.text
        assert as_audio.status_code == 413
        assert len(rows(session)) == 1


class TestStateRefusals:
    def test_an_officer_not_on_the_task_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.jpeg(), field.leader)

        assert response.status_code == 409
        assert error(response)["code"] == "not_assigned"
        assert error(response)["message"] == (
            f"您不是任务{field.task_id}的执法人员，不能为其添加证据。请联系中队长。"
        )
        assert_nothing_stored(session, field)

    def test_a_cancelled_task_takes_no_evidence(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        task = session.get(InspectionTask, field.task_id)
        assert task is not None
        task.status = TaskStatus.CANCELLED
        session.commit()

        response = put(client, field.task_id, new_uuid(), media.jpeg(), field.lead)

        assert response.status_code == 409
        assert error(response)["code"] == "task_cancelled"
        assert error(response)["message"] == f"任务{field.task_id}已取消，不能再添加证据。"
        assert_nothing_stored(session, field)

    def test_a_submitted_inspection_takes_no_evidence(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        submit_inspection(session, field)

        response = put(client, field.task_id, new_uuid(), media.jpeg(), field.lead)

        assert response.status_code == 409
        assert error(response)["code"] == "inspection_submitted"
        assert error(response)["message"] == (
            f"任务{field.task_id}的检查结果已提交，不能再添加证据。"
        )
        assert_nothing_stored(session, field)

    def test_an_item_not_on_the_checklist_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(
            client, field.task_id, new_uuid(), media.jpeg(), field.lead, item_code="JZGD-01"
        )

        assert response.status_code == 422
        assert error(response)["detail"] == {"field": "item_code"}
        assert error(response)["message"] == (
            f"检查事项JZGD-01不在任务{field.task_id}的检查清单中。"
        )
        assert_nothing_stored(session, field)

    def test_once_started_the_frozen_checklist_decides_which_items_exist(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        start_inspection(session, field)  # frozen with WB-01 and WB-09 only

        response = put(
            client, field.task_id, new_uuid(), media.jpeg(), field.lead, item_code="WB-02"
        )

        assert response.status_code == 422
        assert_nothing_stored(session, field)

    def test_an_unknown_task_is_not_found(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, 999_999, new_uuid(), media.jpeg(), field.lead)

        assert response.status_code == 404
        assert (
            error(response)["message"] == "该证据所属的任务999999不存在，或不在您的数据权限范围内。"
        )
        assert_nothing_stored(session, field)

    def test_a_task_of_another_squad_does_not_exist_for_its_officers(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        response = put(client, field.task_id, new_uuid(), media.jpeg(), field.outsider)

        assert response.status_code == 404
        assert_nothing_stored(session, field)

    def test_a_task_of_another_district_does_not_exist(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        factories.district(session, "510104", "锦江区（测试）")
        stranger = factories.officer(
            session, "510104", "jin.jiang", [Role.OFFICER], scope="district"
        )
        headers = factories.bearer(session, stranger)
        session.commit()

        response = put(client, field.task_id, new_uuid(), media.jpeg(), headers)

        assert response.status_code == 404
        assert_nothing_stored(session, field)

    def test_a_role_that_does_not_inspect_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        reviewer = factories.officer(
            session, DISTRICT, "fa.zhi", [Role.LEGAL_REVIEWER], scope="district"
        )
        headers = factories.bearer(session, reviewer)
        session.commit()

        response = put(client, field.task_id, new_uuid(), media.jpeg(), headers)

        assert response.status_code == 403
        assert error(response)["detail"] == {"permission": "inspections:inspect"}
        assert_nothing_stored(session, field)

    def test_a_token_without_the_inspect_scope_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        headers = factories.bearer(session, field.world.officer, [Permission.INSPECTIONS_READ])
        session.commit()

        response = put(client, field.task_id, new_uuid(), media.jpeg(), headers)

        assert response.status_code == 403
        assert_nothing_stored(session, field)

    def test_a_session_without_the_csrf_token_is_refused(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        web_login(client, session, field.world.officer)

        response = put(client, field.task_id, new_uuid(), media.jpeg(), {})

        assert response.status_code == 403
        assert error(response)["code"] == "csrf_failed"
        assert_nothing_stored(session, field)


class TestListingATasksEvidence:
    def test_the_list_shows_every_piece_oldest_first(
        self, client: TestClient, field: Field
    ) -> None:
        first = put(client, field.task_id, new_uuid(), media.jpeg(), field.lead).json()
        second = put(
            client, field.task_id, new_uuid(), media.webm(), field.second, kind="audio"
        ).json()

        response = client.get(f"/api/v1/tasks/{field.task_id}/evidence", headers=field.leader)

        assert response.status_code == 200
        assert response.json() == [first, second]

    def test_an_empty_task_lists_nothing(self, client: TestClient, field: Field) -> None:
        response = client.get(f"/api/v1/tasks/{field.task_id}/evidence", headers=field.lead)

        assert (response.status_code, response.json()) == (200, [])

    def test_the_list_of_a_task_outside_the_scope_is_not_found(
        self, client: TestClient, field: Field
    ) -> None:
        put(client, field.task_id, new_uuid(), media.jpeg(), field.lead)

        response = client.get(f"/api/v1/tasks/{field.task_id}/evidence", headers=field.outsider)

        assert response.status_code == 404

    def test_a_district_scoped_reader_sees_the_list(
        self, client: TestClient, session: Session, field: Field
    ) -> None:
        put(client, field.task_id, new_uuid(), media.jpeg(), field.lead)
        dispatcher = factories.officer(session, DISTRICT, "dispatch", [Role.DISPATCHER])
        headers = factories.bearer(session, dispatcher)
        session.commit()

        response = client.get(f"/api/v1/tasks/{field.task_id}/evidence", headers=headers)

        assert response.status_code == 200
        assert len(response.json()) == 1


class TestServingTheFile:
    def test_the_file_comes_back_inline_with_its_sniffed_type(
        self, client: TestClient, field: Field
    ) -> None:
        data = media.png()
        body = put(client, field.task_id, new_uuid(), data, field.lead, name="现场.jpg").json()

        response = client.get(body["url"], headers=field.leader)

        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "image/png"
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.headers["x-content-type-options"] == "nosniff"

    def test_the_file_outside_the_scope_is_not_found(
        self, client: TestClient, field: Field
    ) -> None:
        body = put(client, field.task_id, new_uuid(), media.png(), field.lead).json()

        response = client.get(body["url"], headers=field.outsider)

        assert response.status_code == 404
        assert error(response)["message"] == (f"证据{body['id']}不存在，或不在您的数据权限范围内。")

    def test_an_unknown_evidence_id_is_not_found(self, client: TestClient, field: Field) -> None:
        assert client.get("/api/v1/evidence/4242/file", headers=field.lead).status_code == 404


def start_inspection(session: Session, field: Field) -> Inspection:
    """A draft checklist run frozen with two items (WB-09 is not in today's catalog)."""
    items = [{"code": "WB-01"}, {"code": "WB-09"}]
    inspection = Inspection(
        district_code=DISTRICT,
        task_id=field.task_id,
        subject_id=field.world.cafe.id,
        checklist={"items": items},
        checklist_on=today_local(),
        checklist_sha256="0" * 64,
        started_by_id=field.world.officer.id,
    )
    session.add(inspection)
    task = session.get(InspectionTask, field.task_id)
    assert task is not None
    task.status = TaskStatus.IN_PROGRESS
    session.commit()
    return inspection


def submit_inspection(session: Session, field: Field) -> None:
    inspection = start_inspection(session, field)
    inspection.status = InspectionStatus.SUBMITTED
    inspection.submitted_at = datetime.now(UTC)
    task = session.get(InspectionTask, field.task_id)
    assert task is not None
    task.status = TaskStatus.SUBMITTED
    session.commit()
