"""The audit page: who may see it, the checkpoint and witnesses, a record's chain in Chinese, the
verify button, and the data scope (another district's entries do not exist here)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.ledger.conftest import WITNESS
from tests.org.helpers import HOME, OTHER, officer, web_login
from tests.web import test_browser as tb
from zhifa import ledger
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.demo.accounts import DEMO_ACCOUNTS
from zhifa.demo.loader import load_demo
from zhifa.ledger import checkpoints, kinds, note, store
from zhifa.ledger.pages import readable_changes
from zhifa.ledger.schemas import b64
from zhifa.models.ledger import LedgerCheckpoint, LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.roles import Role

SRC = Path(__file__).resolve().parents[2] / "src" / "zhifa"
HX = {"HX-Request": "true"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def web(keyed_settings: Settings, db: Database) -> Iterator[TestClient]:
    """The app without its lifespan: checkpoints are signed only where a test signs them."""
    client = TestClient(create_app(keyed_settings, db), base_url="https://testserver")
    yield client
    client.close()


@dataclass
class World:
    auditor: Officer
    officer: Officer
    admin: Officer
    subject: Officer  # the record whose chain is searched


@pytest.fixture
def world(session: Session) -> World:
    """Two districts; in ours an auditor, a field officer, an admin and officer 张三 whose record
    was created and then changed by the admin; in the other one an event about the same id."""
    factories.district(session, HOME, "崇州市（演示）")
    factories.district(session, OTHER, "锦江区（演示）")
    auditor = officer(session, HOME, "auditor", [Role.AUDITOR], name="审计员")
    field = officer(session, HOME, "field", [Role.OFFICER], name="执法员")
    admin = officer(session, HOME, "admin", [Role.SYSTEM_ADMIN], name="管理员甲")
    subject = officer(session, HOME, "zhangsan", [Role.OFFICER], name="张三")
    record(session, "org.officer.created", subject, {"name": "张三", "roles": ["officer"]}, admin)
    session.commit()
    subject.phone = "13800000000"
    changes = {"phone": {"before": "", "after": "13800000000"}}
    record(session, "org.officer.updated", subject, {"changes": changes}, admin)
    ledger.record(session, "security.permission_denied", ("officer", subject.id),
                  {"path": "/secret-other"}, actor_id=None, district_code=OTHER)  # fmt: skip
    session.commit()
    return World(auditor, field, admin, subject)


def record(
    session: Session, kind: str, row: Officer, payload: dict[str, object], by: Officer
) -> None:
    ledger.record(session, kind, row, payload, actor_id=by.id, district_code=row.district_code)


def sign(db: Database, settings: Settings) -> int:
    keys = checkpoints.load_keys(settings)
    assert keys is not None
    with db.unit_of_work() as session:
        row = checkpoints.sign(session, keys)
        assert row is not None
        return row.size


def chain_of(session: Session, subject: Officer) -> list[LedgerEvent]:
    stmt = select(LedgerEvent).where(
        LedgerEvent.subject_type == "officer", LedgerEvent.subject_id == str(subject.id)
    )
    return list(session.scalars(stmt.order_by(LedgerEvent.seq)))


def search(web: TestClient, subject: Officer) -> str:
    page = web.get("/audit", params={"subject_type": "officer", "subject_id": subject.id})
    assert page.status_code == 200
    return page.text


class TestAccess:
    def test_an_auditor_sees_the_page_and_the_menu_entry(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = web.get("/audit")
        assert page.status_code == 200
        assert "<h1>审计</h1>" in page.text
        assert 'href="/audit"' in web.get("/").text

    def test_a_leader_sees_it_too(self, web: TestClient, session: Session, world: World) -> None:
        leader = officer(session, HOME, "leader", [Role.LEADER])
        web_login(web, session, leader)
        assert web.get("/audit").status_code == 200

    def test_a_field_officer_is_refused_and_has_no_menu_entry(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.officer)
        assert web.get("/audit").status_code == 403
        assert web.get("/audit/verify/0", headers=HX).status_code == 403
        assert 'href="/audit"' not in web.get("/").text

    def test_a_visitor_is_sent_to_log_in(self, web: TestClient, world: World) -> None:
        page = web.get("/audit", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")


class TestCheckpointAndWitnesses:
    def test_before_any_signing_the_page_says_so(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = web.get("/audit").text
        assert "尚未签署任何检查点。" in page
        assert f'data-witness="{WITNESS}"' in page
        assert "从未联署" in page

    def test_the_latest_checkpoint_shows_size_root_time_and_note(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        size = sign(db, keyed_settings)
        web_login(web, session, world.auditor)
        page = web.get("/audit").text
        row = session.scalars(select(LedgerCheckpoint)).one()
        assert f'data-checkpoint-size="{size}"' in page
        assert b64(bytes(row.root)) in page
        assert row.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") in page
        assert keyed_settings.ledger_origin in page  # the note's first line

    def test_a_witness_shows_when_it_last_cosigned(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        witness_keys: tuple[str, str],
        world: World,
    ) -> None:
        size = sign(db, keyed_settings)
        checkpoint = checkpoints.at_size(session, size)
        assert checkpoint is not None
        body, _ = note.parse_note(checkpoint.note)
        when = 1_760_000_000  # 2025-10-09 16:53:20 in Shanghai
        line = note.cosign(body, witness_keys[0], when)
        checkpoints.add_cosignature(session, keyed_settings, size=size, line=line)
        session.commit()
        web_login(web, session, world.auditor)
        page = web.get("/audit").text
        witness = page.split(f'data-witness="{WITNESS}"', 1)[1].split("</li>", 1)[0]
        assert "最近联署于 2025-10-09 16:53:20" in witness
        assert f"规模 {size}" in witness
        assert "从未联署" not in witness


class TestSubjectChain:
    def test_the_chain_is_shown_oldest_first_in_chinese(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = search(web, world.subject)
        created, updated = chain_of(session, world.subject)[:2]
        seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', page)]
        assert seqs == [created.seq, updated.seq]
        assert page.index("创建执法人员") < page.index("修改执法人员")
        assert "管理员甲" in page  # the actor's name
        shanghai = datetime.fromtimestamp(updated.time_ms / 1000, UTC).astimezone(SHANGHAI)
        assert shanghai.strftime("%Y-%m-%d %H:%M:%S") in page

    def test_a_change_reads_before_and_after(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = search(web, world.subject)
        change = page.split('data-field="phone"', 1)[1].split("</li>", 1)[0]
        assert "电话:" in change  # the field's label, not its column name
        assert '<span class="from">—</span> → <strong>13800000000</strong>' in change

    def test_another_districts_entries_are_not_shown(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = search(web, world.subject)
        other = chain_of(session, world.subject)[2]
        assert other.district_code == OTHER
        assert f'data-seq="{other.seq}"' not in page
        assert "/secret-other" not in page
        assert web.get(f"/audit/verify/{other.seq}", headers=HX).status_code == 404

    def test_a_record_without_events_in_scope_says_so(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        page = web.get("/audit", params={"subject_type": "grid", "subject_id": "999"}).text
        assert "您的数据范围内没有该记录的事件。" in page


class TestVerify:
    def test_an_entry_in_the_signed_log_verifies(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        size = sign(db, keyed_settings)
        web_login(web, session, world.auditor)
        entry = chain_of(session, world.subject)[1]
        fragment = web.get(f"/audit/verify/{entry.seq}", headers=HX).text
        assert 'data-verdict="ok"' in fragment
        assert f'data-size="{size}"' in fragment
        checkpoint = checkpoints.at_size(session, size)
        assert checkpoint is not None
        assert b64(bytes(checkpoint.root)) in fragment
        assert "<html" not in fragment  # a fragment for htmx

    def test_the_search_result_offers_the_verify_button(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        entry = chain_of(session, world.subject)[0]
        page = search(web, world.subject)
        assert f'hx-get="/audit/verify/{entry.seq}"' in page
        assert f'id="verdict-{entry.seq}"' in page

    def test_without_htmx_the_verdict_is_a_whole_page(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        sign(db, keyed_settings)
        web_login(web, session, world.auditor)
        page = web.get(f"/audit/verify/{chain_of(session, world.subject)[0].seq}").text
        assert "<html" in page
        assert 'data-verdict="ok"' in page

    def test_an_entry_newer_than_the_checkpoint_waits_for_the_next_one(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        sign(db, keyed_settings)
        record(session, "org.officer.updated", world.subject, {"changes": {}}, world.admin)
        session.commit()
        web_login(web, session, world.auditor)
        newest = chain_of(session, world.subject)[-1]
        fragment = web.get(f"/audit/verify/{newest.seq}", headers=HX).text
        assert 'data-verdict="pending"' in fragment
        assert "下一个检查点将覆盖它" in fragment

    def test_without_any_checkpoint_nothing_can_be_verified_yet(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        entry = chain_of(session, world.subject)[0]
        fragment = web.get(f"/audit/verify/{entry.seq}", headers=HX).text
        assert 'data-verdict="pending"' in fragment
        assert "尚未签署任何检查点。" in fragment

    def test_a_checkpoint_whose_root_is_not_the_tree_fails_with_the_reason(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        keys = checkpoints.load_keys(keyed_settings)
        assert keys is not None
        forged_root = bytes(32)
        size = store.size(session)
        body = note.Checkpoint(keyed_settings.ledger_origin, size, forged_root).to_body()
        session.add(
            LedgerCheckpoint(size=size, root=forged_root, note=note.sign(body, keys.signer))
        )
        session.commit()
        web_login(web, session, world.auditor)
        fragment = web.get(f"/audit/verify/{chain_of(session, world.subject)[0].seq}", headers=HX)
        assert 'data-verdict="failed"' in fragment.text
        assert "验证失败。" in fragment.text
        assert "the proof yields root" in fragment.text

    def test_a_checkpoint_signed_by_another_key_fails(
        self,
        web: TestClient,
        session: Session,
        db: Database,
        keyed_settings: Settings,
        world: World,
    ) -> None:
        impostor_key, _ = note.generate_signer(keyed_settings.ledger_origin)
        size = store.size(session)
        root = store.root(session, size)
        body = note.Checkpoint(keyed_settings.ledger_origin, size, root).to_body()
        session.add(LedgerCheckpoint(size=size, root=root, note=note.sign(body, impostor_key)))
        session.commit()
        web_login(web, session, world.auditor)
        fragment = web.get(f"/audit/verify/{chain_of(session, world.subject)[0].seq}", headers=HX)
        assert 'data-verdict="failed"' in fragment.text
        assert "no known key signed this note" in fragment.text

    def test_an_entry_that_does_not_exist_is_not_found(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        assert web.get("/audit/verify/9999", headers=HX).status_code == 404


class TestEventLabels:
    def test_every_kind_the_code_records_has_a_label(self) -> None:
        literal = re.compile(r'"((?:org|account|security)\.[a-z_]+(?:\.[a-z_]+)*)"')
        recorded: set[str] = set()
        for path in SRC.rglob("*.py"):
            if path.parent.name != "ledger" or path.name != "kinds.py":
                recorded |= set(literal.findall(path.read_text(encoding="utf-8")))
        recorded |= {f"org.{kind}.created" for kind in ("district", "department", "unit")}
        recorded |= {f"org.{kind}.created" for kind in ("grid", "officer")}  # the demo loader
        assert recorded - set(kinds.EVENT_LABELS) == set()

    def test_a_known_kind_reads_in_chinese_and_english(self) -> None:
        assert kinds.label("org.officer.updated") == "修改执法人员"
        assert kinds.label("org.officer.updated", "en") == "Officer changed"

    def test_an_unknown_kind_shows_its_group_and_raw_name(self) -> None:
        assert kinds.label("security.new_thing") == "安全事件：security.new_thing"
        assert kinds.label("cases.fine.lowered") == "其他事件：cases.fine.lowered"

    def test_the_home_page_shows_event_labels(
        self, web: TestClient, session: Session, world: World
    ) -> None:
        web_login(web, session, world.auditor)
        home = web.get("/").text
        assert "创建执法人员" in home
        assert 'title="org.officer.created"' in home


class TestReadableChanges:
    def test_changes_come_first_then_the_other_facts_without_the_state(self) -> None:
        payload = {
            "changes": {"roles": {"before": ["officer"], "after": ["officer", "auditor"]}},
            "via": "web",
            "state": {"name": "x"},
        }
        rows = [(c.field, c.before, c.after) for c in readable_changes(payload)]
        assert rows == [("roles", "officer", "officer、auditor"), ("via", None, "web")]


@pytest.mark.browser
class TestInABrowserOnAPhone:
    def test_the_auditor_verifies_a_record_with_the_button(
        self, keyed_settings: Settings, db: Database, session: Session, tmp_path: Path
    ) -> None:
        tb._require_chromium()
        load_demo(session)
        session.commit()
        subject = session.scalars(select(Officer).order_by(Officer.id)).first()
        assert subject is not None
        auditor = next(name for role, name in DEMO_ACCOUNTS if role == Role.AUDITOR)
        with _live(create_app(keyed_settings, db)) as url, tb.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(tb.CHROMIUM), headless=True, args=tb.CHROMIUM_ARGS
            )
            page = chromium.new_page(viewport=tb.PHONE, locale="zh-CN", is_mobile=True)
            tb._log_in(page, tb.LiveServer(url), auditor)
            page.wait_for_selector("h1[data-home-role]", timeout=15_000)
            page.goto(f"{url}/audit?subject_type=officer&subject_id={subject.id}")
            page.click("button[hx-get^='/audit/verify/']")
            verdict = page.wait_for_selector('[data-verdict="ok"]', timeout=15_000)
            assert verdict is not None
            assert "验证通过" in verdict.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= tb.PHONE["width"]
            page.screenshot(path=str(tmp_path / "audit-phone.png"), full_page=True)
            chromium.close()


@contextmanager
def _live(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on a free 127.0.0.1 port, with its lifespan (the scheduler)."""
    port = tb._free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):  # 20 s at most
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
