"""The supervision page (/supervision): open alerts with an acknowledge button, overdue complaints
and by how much, extension requests with approve / refuse for those who may decide, paused
clocks — each within the viewer's scope — and the page's two forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_sla_helpers import (
    actor,
    events,
    minutes,
    new_complaint,
    sla_world,
    step,
    walk,
)
from tests.complaints.world import ComplaintWorld
from tests.org.helpers import web_login
from zhifa.complaints import escalation
from zhifa.complaints.clock import clock_service
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import (
    Complaint,
    ComplaintExtension,
    ExtensionStatus,
    SlaAlert,
    SlaStage,
)
from zhifa.org.roles import Role


class Scene:
    """An overdue complaint with its alerts, one with a pending extension, one paused."""

    def __init__(self, session: Session, world: ComplaintWorld) -> None:
        now = utcnow()
        self.late = new_complaint(session, world, at=now - minutes(75))  # dispatch 65 min late
        self.busy = new_complaint(session, world, at=now - minutes(3))
        walk(session, self.busy, ("filed", now - minutes(2)), ("dispatched", now - minutes(1)))
        self.extension = clock_service.request_extension(
            session,
            actor(session, world.officer),
            complaint_id=self.busy.id,
            stage=SlaStage.HANDLE,
            amount={"minutes": 30},
            reason="当事人正在联系货车",
        )
        self.paused = new_complaint(session, world, at=now - minutes(2))
        step(session, self.paused, "paused", now - minutes(1))
        self.paused.pause_reason = "等待当事人到场"
        escalation.sweep(session, now)
        session.commit()


def scene(session: Session) -> tuple[ComplaintWorld, Scene]:
    world = sla_world(session)
    return world, Scene(session, world)


class TestWhatTheBureauLeaderSees:
    def test_alerts_overdue_extensions_and_paused_clocks(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        web_login(client, session, world.bureau_leader)

        page = client.get("/supervision")

        assert page.status_code == 200
        alert_ids = session.scalars(select(SlaAlert.id).order_by(SlaAlert.id)).all()
        assert len(alert_ids) == 2
        for alert_id in alert_ids:
            assert f'data-alert-id="{alert_id}"' in page.text
        assert f'data-overdue="{s.late.id}"' in page.text
        assert re.search(r"已超时 1 小时 [56] 分钟", page.text)  # 65 minutes and the test's run
        assert f'data-extension-id="{s.extension.id}"' in page.text
        assert "当事人正在联系货车" in page.text
        assert "延长 30 分钟" in page.text
        assert "批准延期" in page.text
        assert f'data-paused="{s.paused.id}"' in page.text
        assert "等待当事人到场" in page.text


class TestScope:
    def test_a_squad_leader_sees_the_squads_alert_not_the_bureaus(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        web_login(client, session, world.field.leader)
        page = client.get("/supervision")
        squad_alert, bureau_alert = session.scalars(select(SlaAlert).order_by(SlaAlert.level))
        assert f'data-alert-id="{squad_alert.id}"' in page.text
        assert f'data-alert-id="{bureau_alert.id}"' not in page.text
        assert f'data-overdue="{s.late.id}"' in page.text

    def test_another_squads_leader_sees_none_of_it(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        other = factories.officer(
            session,
            world.district_code,
            "other.leader",
            [Role.SQUAD_LEADER],
            unit=world.field.other_squad,
        )
        session.commit()
        web_login(client, session, other)
        page = client.get("/supervision")
        assert page.status_code == 200
        for marker in ("data-alert-id", "data-overdue", "data-extension-id", "data-paused"):
            assert marker not in page.text

    def test_a_dispatcher_sees_the_requests_without_the_buttons_to_decide(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        web_login(client, session, world.dispatcher)
        page = client.get("/supervision")
        assert f'data-extension-id="{s.extension.id}"' in page.text
        assert "批准延期" not in page.text

    def test_a_field_officer_may_not_open_the_page(
        self, session: Session, client: TestClient
    ) -> None:
        world, _ = scene(session)
        web_login(client, session, world.officer)
        assert client.get("/supervision").status_code == 403


class TestForms:
    def test_acknowledging_an_alert(self, session: Session, client: TestClient) -> None:
        world, s = scene(session)
        csrf = web_login(client, session, world.field.leader)
        alert = session.scalars(select(SlaAlert).where(SlaAlert.level == 1)).one()

        answer = client.post(
            f"/supervision/alerts/{alert.id}/ack",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )

        assert answer.status_code == 303
        session.expire_all()
        assert alert.acknowledged_by_id == world.field.leader.id
        page = client.get("/supervision")
        assert f'data-alert-id="{alert.id}"' not in page.text

    def test_approving_an_extension_moves_the_deadline(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        due = s.busy.handle_due
        assert due is not None
        csrf = web_login(client, session, world.field.leader)

        answer = client.post(
            f"/supervision/extensions/{s.extension.id}/decision",
            data={"csrf_token": csrf, "approve": "1", "note": ""},
            follow_redirects=False,
        )

        assert answer.status_code == 303
        session.expire_all()
        row = session.get(ComplaintExtension, s.extension.id)
        assert row is not None
        assert row.status == ExtensionStatus.APPROVED
        busy = session.get(Complaint, s.busy.id)
        assert busy is not None
        assert busy.handle_due == due + minutes(30)

    def test_refusing_without_a_reason_is_refused(
        self, session: Session, client: TestClient
    ) -> None:
        world, s = scene(session)
        csrf = web_login(client, session, world.field.leader)
        answer = client.post(
            f"/supervision/extensions/{s.extension.id}/decision",
            data={"csrf_token": csrf, "approve": "0", "note": " "},
        )
        assert answer.status_code == 422
        session.expire_all()
        row = session.get(ComplaintExtension, s.extension.id)
        assert row is not None
        assert row.status == ExtensionStatus.PENDING
        assert events(session, s.busy, "extension_refused") == []

    def test_a_dispatcher_may_not_decide(self, session: Session, client: TestClient) -> None:
        world, s = scene(session)
        csrf = web_login(client, session, world.dispatcher)
        answer = client.post(
            f"/supervision/extensions/{s.extension.id}/decision",
            data={"csrf_token": csrf, "approve": "1"},
        )
        assert answer.status_code == 403
        session.expire_all()
        row = session.get(ComplaintExtension, s.extension.id)
        assert row is not None
        assert row.status == ExtensionStatus.PENDING
