"""The whole complaint loop through the HTTP API with bearer tokens, as the hotline operator, the
dispatcher, the two officers' phones, a verifying officer and the citizen's status page play it:
受理 → 立案 → 派遣 → 接单 → 到场 → 处置 → 反馈 → 核查 → 结案 → 回访, with the rework path, merged
duplicates answered at closing, a consultation answered directly and device steps replayed.

Checked: the step times in order, the timeline (public steps marked), the ledger kinds in order,
the officers' duty status as ledgered by ``dispatch.live``, and what the bus announced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_handling_helpers import jpeg, new_uuid
from tests.complaints.world import CONSULT, IN_WG01, VENDING, ComplaintWorld, complaint_world
from zhifa.complaints import public_guard
from zhifa.config import Settings
from zhifa.kit import events
from zhifa.kit.clock import as_utc, utcnow
from zhifa.kit.events import BusEvent
from zhifa.models.complaints import Complaint, ComplaintEvent
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer

PUBLIC_STEPS = ["received", "filed", "dispatched", "arrived", "fed_back", "closed", "rated"]
LOOP_STEPS = [
    "received",
    "filed",
    "dispatched",
    "taken",
    "arrived",
    "media_added",
    "disposed",
    "fed_back",
    "verified",
    "closed",
    "rated",
]


@dataclass
class Loop:
    client: TestClient
    session: Session
    world: ComplaintWorld
    settings: Settings
    bus: list[BusEvent]
    tokens: dict[int, dict[str, str]] = field(default_factory=dict)

    def headers(self, who: Officer) -> dict[str, str]:
        if who.id not in self.tokens:
            self.tokens[who.id] = factories.bearer(self.session, who)
            self.session.commit()
        return self.tokens[who.id]

    def call(self, method: str, path: str, who: Officer, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body, headers=self.headers(who))
        assert response.status_code in (200, 201), response.text
        return response.json()

    def step(self, who: Officer, complaint_id: int, step: str, body: Any = None) -> Any:
        return self.call("POST", f"/api/v1/complaints/{complaint_id}/{step}", who, body)

    def file_in(self, category: str = VENDING, description: str = "") -> dict[str, Any]:
        body = {
            "category_code": category,
            "description": description or "蜀州中路人行道被流动摊贩占满，行人走到机动车道上",
            "lon": IN_WG01[0],
            "lat": IN_WG01[1],
            "address": "崇州市蜀州中路 88 号门前",
            "attributes": {"blocking": "yes"} if category == VENDING else {},
        }
        created: dict[str, Any] = self.call(
            "POST", "/api/v1/complaints", self.world.dispatcher, body
        )
        return created

    def on_duty(self, *officers: Officer) -> None:
        for officer in officers:
            self.call("PUT", "/api/v1/me/status", officer, {"status": "available"})

    def after_photo(self, who: Officer, complaint_id: int) -> int:
        response = self.client.put(
            f"/api/v1/complaints/{complaint_id}/media/{new_uuid()}?role=after",
            content=jpeg(),
            headers=self.headers(who) | {"Content-Type": "image/jpeg"},
        )
        assert response.status_code == 201, response.text
        media_id: int = response.json()["id"]
        return media_id

    def handle_on_site(self, complaint_id: int) -> None:
        """接单, 到场, 处置 (劝离 with an after-photo) and 反馈 by the lead officer."""
        lead = self.world.officer
        self.step(lead, complaint_id, "take", {"client_uuid": new_uuid()})
        self.step(lead, complaint_id, "arrive", arrival())
        photo_id = self.after_photo(lead, complaint_id)
        self.step(
            lead,
            complaint_id,
            "dispose",
            {"client_uuid": new_uuid(), "measure": "persuaded", "media_ids": [photo_id]},
        )
        self.step(
            lead,
            complaint_id,
            "feedback",
            {"client_uuid": new_uuid(), "result": "现场三处摊贩已劝离，人行道恢复通行"},
        )

    def rate(self, tracking_no: str, rating: int, comment: str) -> None:
        form = {
            public_guard.TOKEN_FIELD: public_guard.issue_token(self.settings),
            public_guard.HONEYPOT_FIELD: "",
            "rating": str(rating),
            "comment": comment,
        }
        response = self.client.post(f"/c/t/{tracking_no}/rate", data=form, follow_redirects=False)
        assert response.status_code == 303, response.text

    def complaint(self, complaint_id: int) -> Complaint:
        self.session.expire_all()
        row = self.session.get(Complaint, complaint_id)
        assert row is not None
        return row

    def timeline(self, complaint_id: int) -> list[ComplaintEvent]:
        self.session.expire_all()
        return list(
            self.session.scalars(
                select(ComplaintEvent)
                .where(ComplaintEvent.complaint_id == complaint_id)
                .order_by(ComplaintEvent.id)
            )
        )

    def ledger(self, kind_prefix: str) -> list[LedgerEvent]:
        self.session.expire_all()
        return [
            e
            for e in self.session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq))
            if e.kind.startswith(kind_prefix)
        ]

    def duty_changes(self, officer: Officer) -> list[tuple[str, str, int | None]]:
        return [
            (e.payload["from"], e.payload["to"], e.payload["complaint_id"])
            for e in self.ledger("dispatch.status.changed")
            if e.payload["officer_id"] == officer.id
        ]

    def bus_steps(self, complaint_id: int) -> list[str]:
        return [
            e.data["step"]
            for e in self.bus
            if e.topic == "complaint" and e.data["complaint_id"] == complaint_id
        ]


def arrival(**override: Any) -> dict[str, Any]:
    body = {
        "client_uuid": new_uuid(),
        "lon": IN_WG01[0] + 0.0003,
        "lat": IN_WG01[1],
        "accuracy_m": 12.0,
        "device_time": utcnow().isoformat(),
    }
    return body | override


@pytest.fixture
def loop(
    client: TestClient, session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Loop:
    """The world, and a record of every event the bus delivers (after the original delivery)."""
    heard: list[BusEvent] = []
    deliver = events.broker.publish

    def publish(item: BusEvent) -> None:
        heard.append(item)
        deliver(item)

    monkeypatch.setattr(events.broker, "publish", publish)
    world = complaint_world(session)
    session.commit()
    return Loop(client, session, world, settings, heard)


def _times(row: Complaint, *columns: str) -> list[datetime]:
    values = [getattr(row, c) for c in columns]
    assert None not in values, dict(zip(columns, values, strict=True))
    return [as_utc(v) for v in values]


class TestTheWholeLoop:
    def test_a_street_complaint_travels_from_the_hotline_to_the_citizens_rating(
        self, loop: Loop
    ) -> None:
        w = loop.world
        created = loop.file_in()
        complaint_id, tracking_no = created["id"], created["tracking_no"]
        assert created["status"] == "received"
        loop.on_duty(w.officer, w.second)

        dispatched = loop.step(
            w.dispatcher, complaint_id, "dispatch", {"officer_ids": [w.officer.id, w.second.id]}
        )
        assert (dispatched["status"], dispatched["notice"]) == ("dispatched", "")
        [job] = loop.call("GET", "/api/v1/me/complaints", w.second)
        assert (job["tracking_no"], job["other_officers"]) == (tracking_no, ["李明"])
        loop.handle_on_site(complaint_id)
        assert loop.call("GET", "/api/v1/me/complaints", w.second) == []
        verified = loop.step(
            w.third, complaint_id, "verify", {"passed": True, "note": "复核现场无摊贩"}
        )
        assert verified["step"] == "verified"
        closed = loop.step(
            w.dispatcher,
            complaint_id,
            "close",
            {"answer": "经现场处置，占道摊贩已劝离，感谢您的监督。"},
        )
        assert (closed["status"], closed["public"]) == ("closed", True)
        loop.rate(tracking_no, 5, "处理很快")

        row = loop.complaint(complaint_id)
        assert (row.status, row.rating, row.rating_comment) == ("closed", 5, "处理很快")
        assert row.answer == "经现场处置，占道摊贩已劝离，感谢您的监督。"
        times = _times(
            row,
            "received_at",
            "filed_at",
            "dispatched_at",
            "taken_at",
            "arrived_at",
            "disposed_at",
            "fed_back_at",
            "verified_at",
            "closed_at",
            "rated_at",
        )
        assert times == sorted(times)
        timeline = loop.timeline(complaint_id)
        assert [e.kind for e in timeline] == LOOP_STEPS
        assert [e.kind for e in timeline if e.public] == PUBLIC_STEPS
        assert [e.note for e in timeline if e.kind in ("fed_back", "closed")] == [
            "已处置：现场三处摊贩已劝离，人行道恢复通行",
            "经现场处置，占道摊贩已劝离，感谢您的监督。",
        ]
        assert [e.kind for e in loop.ledger("complaint.")] == [f"complaint.{k}" for k in LOOP_STEPS]
        assert loop.bus_steps(complaint_id) == LOOP_STEPS
        for officer in (w.officer, w.second):
            assert loop.duty_changes(officer) == [
                ("off_duty", "available", None),
                ("available", "available", complaint_id),
                ("available", "en_route", complaint_id),
                ("en_route", "on_scene", complaint_id),
                ("on_scene", "handling", complaint_id),
                ("handling", "available", None),
            ]

    def test_a_failed_check_sends_it_back_to_the_same_officers_for_rework(self, loop: Loop) -> None:
        w = loop.world
        complaint_id = loop.file_in()["id"]
        loop.on_duty(w.officer, w.second)
        loop.step(w.dispatcher, complaint_id, "file")
        loop.step(
            w.dispatcher, complaint_id, "dispatch", {"officer_ids": [w.officer.id, w.second.id]}
        )
        loop.handle_on_site(complaint_id)

        rework = loop.step(
            w.dispatcher, complaint_id, "verify", {"passed": False, "note": "复核时摊贩又回来了"}
        )

        assert (rework["step"], rework["status"], rework["public"]) == (
            "rework",
            "dispatched",
            True,
        )
        assert rework["officer_ids"] == [w.officer.id, w.second.id]
        row = loop.complaint(complaint_id)
        assert (row.rework_count, row.taken_at, row.fed_back_at) == (1, None, None)
        [job] = loop.call("GET", "/api/v1/me/complaints", w.officer)
        assert job["status"] == "dispatched"

        loop.handle_on_site(complaint_id)
        loop.step(w.dispatcher, complaint_id, "verify", {"passed": True})
        loop.step(w.dispatcher, complaint_id, "close", {"answer": "已再次劝离并安排巡查。"})

        kinds = [e.kind for e in loop.timeline(complaint_id)]
        assert kinds.count("rework") == 1
        assert kinds.count("taken") == 2
        assert kinds[-1] == "closed"
        row = loop.complaint(complaint_id)
        assert row.taken_at is not None
        assert row.fed_back_at is not None
        # Feedback released them; the rework committed them again; the second round followed.
        assert loop.duty_changes(w.officer)[-6:] == [
            ("handling", "available", None),
            ("available", "available", complaint_id),
            ("available", "en_route", complaint_id),
            ("en_route", "on_scene", complaint_id),
            ("on_scene", "handling", complaint_id),
            ("handling", "available", None),
        ]

    def test_the_reporters_of_merged_duplicates_get_the_answer_at_closing(self, loop: Loop) -> None:
        w = loop.world
        main = loop.file_in()
        duplicate = loop.file_in(description="蜀州中路 88 号门口有人摆水果摊占道")
        assert main["id"] in [d["id"] for d in duplicate["duplicates"]]
        loop.step(w.dispatcher, duplicate["id"], "merge", {"into_id": main["id"]})
        loop.on_duty(w.officer, w.second)
        loop.step(
            w.dispatcher, main["id"], "dispatch", {"officer_ids": [w.officer.id, w.second.id]}
        )
        loop.handle_on_site(main["id"])
        loop.step(w.third, main["id"], "verify", {"passed": True})

        loop.step(w.dispatcher, main["id"], "close", {"answer": "占道摊贩已劝离。"})

        row = loop.complaint(duplicate["id"])
        assert (row.status, row.answer) == ("merged", "占道摊贩已劝离。")
        last = loop.timeline(duplicate["id"])[-1]
        assert (last.kind, last.public, last.note) == ("note", True, "占道摊贩已劝离。")
        page = loop.client.get(f"/c/t/{duplicate['tracking_no']}")
        assert "占道摊贩已劝离。" in page.text

    def test_a_consultation_is_answered_directly(self, loop: Loop) -> None:
        w = loop.world
        created = loop.file_in(CONSULT, "请问在自家门前临时摆放桌椅需要报备吗？")

        answered = loop.step(
            w.dispatcher, created["id"], "answer", {"answer": "需向所在街道城管中队报备。"}
        )

        assert (answered["status"], answered["step"]) == ("closed", "closed")
        row = loop.complaint(created["id"])
        assert row.answer == "需向所在街道城管中队报备。"
        assert [e.kind for e in loop.timeline(created["id"])] == ["received", "closed"]
        assert loop.bus_steps(created["id"]) == ["received", "closed"]


class TestReplays:
    def test_every_device_step_sent_twice_happens_once_with_the_same_answer(
        self, loop: Loop
    ) -> None:
        w = loop.world
        complaint_id = loop.file_in()["id"]
        loop.step(
            w.dispatcher, complaint_id, "dispatch", {"officer_ids": [w.officer.id, w.second.id]}
        )
        photo_id = loop.after_photo(w.officer, complaint_id)
        bodies = [
            ("take", {"client_uuid": new_uuid()}),
            ("arrive", arrival()),
            ("dispose", {"client_uuid": new_uuid(), "measure": "cleared", "media_ids": [photo_id]}),
            ("feedback", {"client_uuid": new_uuid(), "result": "已清理"}),
        ]

        for step, body in bodies:
            first = loop.step(w.officer, complaint_id, step, body)
            count = len(loop.timeline(complaint_id))
            again = loop.step(w.officer, complaint_id, step, body)
            assert again == first
            assert len(loop.timeline(complaint_id)) == count

        kinds = [e.kind for e in loop.timeline(complaint_id)]
        assert [k for k in kinds if k in ("taken", "arrived", "disposed", "fed_back")] == [
            "taken",
            "arrived",
            "disposed",
            "fed_back",
        ]
